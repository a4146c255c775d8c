"""Signing keys and a JWKS server for the tests: the tests play Better Auth."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm, RSAPSSAlgorithm

SECRET = "test-secret-that-is-long-enough-0123456789"
ISSUER = "http://localhost:3000"
ASYMMETRIC = ("EdDSA", "ES256", "ES512", "RS256", "PS256")

PrivateKey = Any


def new_private_key(algorithm: str) -> PrivateKey:
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "ES512":
        return ec.generate_private_key(ec.SECP521R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(algorithm: str, private_key: PrivateKey, kid: str) -> dict[str, Any]:
    to_jwk: Any = {
        "EdDSA": OKPAlgorithm.to_jwk,
        "ES256": ECAlgorithm.to_jwk,
        "ES512": ECAlgorithm.to_jwk,
        "RS256": RSAAlgorithm.to_jwk,
        "PS256": RSAPSSAlgorithm.to_jwk,
    }[algorithm]
    jwk: dict[str, Any] = to_jwk(private_key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "alg": algorithm, "use": "sig"}


@dataclass
class SigningKey:
    algorithm: str
    kid: str
    private_key: PrivateKey

    @property
    def jwk(self) -> dict[str, Any]:
        return public_jwk(self.algorithm, self.private_key, self.kid)


def claims_for(sub: str = "alice", **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": sub,
        "iat": now,
        "exp": now + 900,
        "iss": ISSUER,
        "aud": ISSUER,
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def hs256(sub: str = "alice", *, secret: str = SECRET, **overrides: Any) -> str:
    return jwt.encode(claims_for(sub, **overrides), secret, algorithm="HS256")


def bearer(sub: str = "alice") -> dict[str, str]:
    """The Authorization header of an HS256 token for `sub`."""
    return {"Authorization": f"Bearer {hs256(sub)}"}


@dataclass
class JWKSServer:
    """A real HTTP server on localhost that publishes a JWKS and counts requests."""

    keys: dict[str, SigningKey] = field(default_factory=dict)
    requests: int = 0
    paths: list[str] = field(default_factory=list)
    up: bool = True
    url: str = ""

    def add(self, algorithm: str, kid: str | None = None) -> SigningKey:
        key = SigningKey(
            algorithm, kid or f"{algorithm.lower()}-{len(self.keys)}", new_private_key(algorithm)
        )
        self.keys[key.kid] = key
        return key

    def document(self) -> dict[str, Any]:
        return {"keys": [key.jwk for key in self.keys.values()]}

    def sign(
        self,
        key: SigningKey,
        sub: str = "alice",
        *,
        headers: dict[str, Any] | None = None,
        **overrides: Any,
    ) -> str:
        return jwt.encode(
            claims_for(sub, **overrides),
            key.private_key,
            algorithm=key.algorithm,
            headers={"kid": key.kid, **(headers or {})},
        )


@contextmanager
def serve_jwks(server: JWKSServer) -> Iterator[JWKSServer]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server.requests += 1
            server.paths.append(self.path)
            if not server.up:
                self.send_error(503)
                return
            body = json.dumps(server.document()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}/api/auth/jwks"
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
