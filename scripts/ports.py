"""Is a TCP port free, and who listens on it: what `make run` checks before and after starting.

`in_use` tries the bind the servers will make (with SO_REUSEADDR, as uvicorn and Node set it,
so a port in TIME_WAIT counts as free and a listening one does not). `listeners` reads the
kernel's socket tables (Linux: /proc/net/tcp and tcp6, proc(5)); elsewhere it knows nothing and
says so (None).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

PROC = Path("/proc")
LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp's `st` column


def in_use(host: str, port: int) -> OSError | None:
    """The error binding `host:port` gives (EADDRINUSE: another program listens there;
    EADDRNOTAVAIL: no interface has that address; EACCES: a privileged port), or None.
    A name (localhost) is resolved by bind itself, to its first address."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as error:  # EAFNOSUPPORT too: a machine without IPv6
        return error
    return None


def listeners(port: int) -> set[int] | None:
    """The inodes of the sockets listening on `port` (any address), or None where the kernel's
    tables cannot be read (not Linux)."""
    tables = [PROC / "net" / "tcp", PROC / "net" / "tcp6"]
    if not any(table.exists() for table in tables):
        return None
    found = set()
    for table in tables:
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], int(fields[9])
            if state == LISTEN and int(local.rsplit(":", 1)[1], 16) == port:
                found.add(inode)
    return found


def group_sockets(group: int) -> set[int]:
    """The inodes of the sockets held by the processes of process group `group` (ours: each
    server is started as the leader of a group of its own)."""
    inodes = set()
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # After the command name (in parentheses, which may hold anything): state, ppid, pgrp.
            pgrp = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2])
            if pgrp != group:
                continue
            for fd in (entry / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(int(target[len("socket:[") : -1]))
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile, or not ours to read
    return inodes


def who_listens(port: int, group: int) -> tuple[bool, bool] | None:
    """Whether process group `group` listens on `port`, and whether any other socket does:
    (ours, others). None where the kernel's tables cannot be read (not Linux)."""
    listening = listeners(port)
    if listening is None:
        return None
    ours = listening & group_sockets(group)
    return bool(ours), bool(listening - ours)
