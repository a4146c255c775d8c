"""HEAD through a real `taskapi serve` (uvicorn): the answer is framed as a HEAD answer, header
fields and no content, so the next request on the same connection is answered in step. (A
server that took HEAD for GET would send the body, or drop the connection when no body came.)"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from tests.keys import hs256


def read_head(connection: socket.socket, buffered: bytes) -> tuple[bytes, dict[str, str], bytes]:
    """The status line and header fields of the next answer, and the bytes read past them."""
    while b"\r\n\r\n" not in buffered:
        chunk = connection.recv(65536)
        assert chunk, "the server closed the connection"
        buffered += chunk
    head, rest = buffered.split(b"\r\n\r\n", 1)
    status, *lines = head.split(b"\r\n")
    fields = dict(line.decode("latin-1").lower().split(": ", 1) for line in lines)
    return status, fields, rest


def test_head_then_get_on_one_connection(live_api: str) -> None:
    address = urlsplit(live_api)
    token = hs256("wire", exp=2**31 - 1)
    request = (
        "{method} /api/wire/tasks HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\r\n"
    )
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(request.format(method="HEAD", host=address.netloc, token=token).encode())
        status, head_fields, rest = read_head(connection, b"")
        assert status == b"HTTP/1.1 200 OK"
        assert head_fields["x-total-count"] == "0"
        assert head_fields["content-length"] == "2"  # that of the GET body, `[]`
        assert rest == b""

        connection.sendall(request.format(method="GET", host=address.netloc, token=token).encode())
        status, get_fields, rest = read_head(connection, rest)
        assert status == b"HTTP/1.1 200 OK"
        while len(rest) < int(get_fields["content-length"]):
            rest += connection.recv(65536)
        assert rest == b"[]"
    ignored = {"date", "x-request-id"}
    assert {k: v for k, v in head_fields.items() if k not in ignored} == {
        k: v for k, v in get_fields.items() if k not in ignored
    }
