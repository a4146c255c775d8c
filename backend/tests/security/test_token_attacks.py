"""The token rules and the attacks of RFC 8725 and jwt_tool, through the real API: each refused
token is a 401 with `WWW-Authenticate: Bearer error="invalid_token"` and a detail that never
echoes it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from taskapi import errors
from tests.keys import (
    ISSUER,
    SECRET,
    JWKSServer,
    SigningKey,
    claims_for,
    hs256,
    new_private_key,
    public_jwk,
    serve_jwks,
)

pytestmark = pytest.mark.anyio


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A token assembled by hand, as an attacker would."""
    return ".".join(
        [b64(json.dumps(header).encode()), b64(json.dumps(claims).encode()), b64(signature)]
    )


async def call(client: httpx.AsyncClient, token: str, sub: str = "alice") -> httpx.Response:
    return await client.get(f"/api/{sub}/tasks", headers={"Authorization": f"Bearer {token}"})


async def assert_refused(
    client: httpx.AsyncClient, token: str, detail: str | None = None
) -> httpx.Response:
    response = await call(client, token)
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    body = response.json()
    if detail is not None:
        assert body["detail"] == detail
    assert token not in response.text
    for part in token.split("."):
        if len(part) > 8:
            assert part not in response.text
    return response


# --- what must be accepted ----------------------------------------------------------------


async def test_hs256_with_the_shared_secret(client: httpx.AsyncClient) -> None:
    response = await call(client, hs256())
    assert response.status_code == 200


@pytest.mark.parametrize("algorithm", ["EdDSA", "ES256", "ES512", "RS256", "PS256"])
async def test_each_asymmetric_algorithm_from_the_jwks(
    client: httpx.AsyncClient, jwks: JWKSServer, signing_keys: dict[str, SigningKey], algorithm: str
) -> None:
    token = jwks.sign(signing_keys[algorithm])
    response = await call(client, token)
    assert response.status_code == 200, response.text


async def test_audience_may_be_a_list_containing_the_issuer(
    client: httpx.AsyncClient, jwks: JWKSServer, signing_keys: dict[str, SigningKey]
) -> None:
    token = jwks.sign(signing_keys["EdDSA"], aud=["https://other.example", ISSUER])
    assert (await call(client, token)).status_code == 200


async def test_extra_claims_are_ignored(client: httpx.AsyncClient) -> None:
    token = hs256(email="alice@example.com", name="Alice", role="admin")
    assert (await call(client, token)).status_code == 200


# --- the algorithm is decided by the key --------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
async def test_alg_none_in_any_case(client: httpx.AsyncClient, alg: str) -> None:
    await assert_refused(client, forge({"alg": alg, "typ": "JWT"}, claims_for()))
    # ... and with a signature attached, which must not make it count.
    await assert_refused(client, forge({"alg": alg}, claims_for(), b"anything"))


@pytest.mark.parametrize("alg", ["HS384", "HS512", "RS384", "ES384", "PS512", "EdDSA25519", ""])
async def test_algorithms_outside_the_list(client: httpx.AsyncClient, alg: str) -> None:
    await assert_refused(client, forge({"alg": alg, "kid": "eddsa-0"}, claims_for(), b"sig"))


async def test_hs256_keyed_with_the_jwks_public_key(
    client: httpx.AsyncClient, signing_keys: dict[str, SigningKey]
) -> None:
    """Key confusion: sign HS256 with the public key the server would use for RS256/EdDSA."""
    for algorithm in ("RS256", "EdDSA", "ES256"):
        key = signing_keys[algorithm]
        public = key.private_key.public_key()
        pem = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        candidates = [pem, json.dumps(key.jwk).encode()]
        if algorithm == "EdDSA":
            candidates.append(
                public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            )
        for secret in candidates:
            header = {"alg": "HS256", "typ": "JWT", "kid": key.kid}
            signing_input = ".".join(
                [b64(json.dumps(header).encode()), b64(json.dumps(claims_for()).encode())]
            )
            signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
            await assert_refused(client, f"{signing_input}.{b64(signature)}", errors.BAD_SIGNATURE)


async def test_a_key_serves_only_its_own_algorithm(
    client: httpx.AsyncClient, jwks: JWKSServer, signing_keys: dict[str, SigningKey]
) -> None:
    """An RSA key published for RS256 must not verify a PS256 token, nor the reverse."""
    rs256, ps256 = signing_keys["RS256"], signing_keys["PS256"]
    as_ps256 = jwt.encode(
        claims_for(), rs256.private_key, algorithm="PS256", headers={"kid": rs256.kid}
    )
    as_rs256 = jwt.encode(
        claims_for(), ps256.private_key, algorithm="RS256", headers={"kid": ps256.kid}
    )
    await assert_refused(client, as_ps256, errors.UNKNOWN_KEY)
    await assert_refused(client, as_rs256, errors.UNKNOWN_KEY)


# --- signatures ---------------------------------------------------------------------------


async def test_stripped_signature(
    client: httpx.AsyncClient, jwks: JWKSServer, signing_keys: dict[str, SigningKey]
) -> None:
    for token in (hs256(), jwks.sign(signing_keys["EdDSA"])):
        head, body, _signature = token.split(".")
        await assert_refused(client, f"{head}.{body}.")
        await assert_refused(client, f"{head}.{body}")


async def test_truncated_signature(
    client: httpx.AsyncClient, jwks: JWKSServer, signing_keys: dict[str, SigningKey]
) -> None:
    for token in (hs256(), jwks.sign(signing_keys["ES256"])):
        await assert_refused(client, token[:-6])


@pytest.mark.parametrize(
    "secret",
    [
        "",
        "secret",
        "password",
        "changeme",
        "your-secret-key-here",  # the design note's placeholder
        "x" * 31,
        SECRET[:-1] + "!",
        SECRET.upper(),
    ],
)
async def test_wrong_or_empty_hs256_key(client: httpx.AsyncClient, secret: str) -> None:
    header = {"alg": "HS256", "typ": "JWT"}
    signing_input = ".".join(
        [b64(json.dumps(header).encode()), b64(json.dumps(claims_for()).encode())]
    )
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    await assert_refused(client, f"{signing_input}.{b64(signature)}", errors.BAD_SIGNATURE)


async def test_another_issuers_key_with_a_known_kid(
    client: httpx.AsyncClient, signing_keys: dict[str, SigningKey]
) -> None:
    impostor = new_private_key("EdDSA")
    token = jwt.encode(
        claims_for(), impostor, algorithm="EdDSA", headers={"kid": signing_keys["EdDSA"].kid}
    )
    await assert_refused(client, token, errors.BAD_SIGNATURE)


@pytest.mark.parametrize("claim", ["sub", "exp", "iss", "aud"])
async def test_tampered_claims_with_the_old_signature(
    client: httpx.AsyncClient, jwks: JWKSServer, signing_keys: dict[str, SigningKey], claim: str
) -> None:
    for token in (hs256("bob"), jwks.sign(signing_keys["RS256"], "bob")):
        head, _body, signature = token.split(".")
        tampered = claims_for("bob")
        tampered[claim] = {
            "sub": "alice",
            "exp": int(time.time()) + 10**6,
            "iss": ISSUER + "/",
            "aud": "x",
        }[claim]
        response = await call(
            client, f"{head}.{b64(json.dumps(tampered).encode())}.{signature}", sub="bob"
        )
        assert response.status_code == 401


# --- header tricks: keys never come from the token ----------------------------------------


async def test_embedded_jwk_is_never_trusted(client: httpx.AsyncClient, jwks: JWKSServer) -> None:
    attacker = new_private_key("EdDSA")
    token = jwt.encode(
        claims_for(),
        attacker,
        algorithm="EdDSA",
        headers={"kid": "attacker", "jwk": public_jwk("EdDSA", attacker, "attacker")},
    )
    await assert_refused(client, token, errors.UNKNOWN_KEY)


@pytest.fixture(scope="module")
def attacker_server() -> Iterator[JWKSServer]:
    """The attacker's own key server: any request that reaches it is a failure."""
    server = JWKSServer()
    with serve_jwks(server) as running:
        yield running


@pytest.mark.parametrize("header", ["jku", "x5u"])
@pytest.mark.parametrize("kid", ["attacker", "known"])
async def test_key_urls_in_the_header_are_never_fetched(
    client: httpx.AsyncClient,
    signing_keys: dict[str, SigningKey],
    attacker_server: JWKSServer,
    header: str,
    kid: str,
) -> None:
    attacker = attacker_server.add("EdDSA", kid="attacker")
    real_kid = signing_keys["EdDSA"].kid if kid == "known" else "attacker"
    before = attacker_server.requests
    token = jwt.encode(
        claims_for(),
        attacker.private_key,
        algorithm="EdDSA",
        headers={"kid": real_kid, header: attacker_server.url, "x5c": ["MIIB"]},
    )
    await assert_refused(client, token)
    assert attacker_server.requests == before  # no request left the server


@pytest.mark.parametrize(
    "kid",
    ["../../../../dev/null", "' OR '1'='1", "x; rm -rf /", "$(id)", "", 42, None, ["eddsa-0"]],
)
async def test_kid_tricks(client: httpx.AsyncClient, kid: Any) -> None:
    header = {"alg": "EdDSA", "kid": kid}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims_for()).encode())}"
    signature = new_private_key("EdDSA").sign(signing_input.encode())
    response = await assert_refused(client, f"{signing_input}.{b64(signature)}")
    assert response.json()["detail"] in (errors.UNKNOWN_KEY, errors.MALFORMED_TOKEN)


async def test_unknown_critical_header(
    client: httpx.AsyncClient, jwks: JWKSServer, signing_keys: dict[str, SigningKey]
) -> None:
    token = jwks.sign(signing_keys["EdDSA"], headers={"crit": ["exp-policy"], "exp-policy": 1})
    await assert_refused(client, token)


async def test_b64_false_unencoded_payload(
    client: httpx.AsyncClient, signing_keys: dict[str, SigningKey]
) -> None:
    """RFC 7797 detached/unencoded payloads are not JWTs: refused, signed correctly or not."""
    key = signing_keys["EdDSA"]
    header = {"alg": "EdDSA", "kid": key.kid, "b64": False, "crit": ["b64"]}
    payload = json.dumps(claims_for())
    signing_input = b64(json.dumps(header).encode()).encode() + b"." + payload.encode()
    signature = key.private_key.sign(signing_input)
    await assert_refused(client, f"{b64(json.dumps(header).encode())}.{payload}.{b64(signature)}")
    await assert_refused(client, f"{b64(json.dumps(header).encode())}..{b64(signature)}")


async def test_es256_psychic_signature(
    client: httpx.AsyncClient, signing_keys: dict[str, SigningKey]
) -> None:
    """CVE-2022-21449: r = s = 0 must never verify."""
    header = {"alg": "ES256", "kid": signing_keys["ES256"].kid}
    await assert_refused(client, forge(header, claims_for(), bytes(64)))


@pytest.mark.parametrize(
    "token",
    [
        "",
        "x",
        "a.b",
        "a.b.c",
        "a.b.c.d.e",  # five parts: a JWE, never accepted as a signed token
        "....",
        "eyJhbGciOiJIUzI1NiJ9.%%%.abc",
        "Bearer",
        "e30.e30.",  # {} . {} with no signature
    ],
)
async def test_malformed_tokens(client: httpx.AsyncClient, token: str) -> None:
    response = await call(client, token)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("size", [8 * 1024 + 1, 1024 * 1024])
async def test_an_oversized_token_is_refused_before_decoding(
    client: httpx.AsyncClient, size: int
) -> None:
    await assert_refused(client, "a" * size + ".b.c", errors.OVERSIZED_TOKEN)


# --- claims -------------------------------------------------------------------------------


async def test_expired(client: httpx.AsyncClient) -> None:
    now = int(time.time())
    await assert_refused(client, hs256(iat=now - 1000, exp=now - 1), errors.EXPIRED)


async def test_not_before_in_the_future(client: httpx.AsyncClient) -> None:
    await assert_refused(client, hs256(nbf=int(time.time()) + 120), errors.NOT_YET_VALID)


async def test_issued_in_the_future(client: httpx.AsyncClient) -> None:
    await assert_refused(client, hs256(iat=int(time.time()) + 120), errors.NOT_YET_VALID)


@pytest.mark.parametrize("claim", ["exp", "sub", "iss", "aud"])
async def test_missing_required_claim(client: httpx.AsyncClient, claim: str) -> None:
    claims = {name: value for name, value in claims_for().items() if name != claim}
    response = await assert_refused(client, jwt.encode(claims, SECRET, algorithm="HS256"))
    assert response.json()["detail"] in (errors.MISSING_CLAIM, errors.INVALID_SUBJECT)


# --- `sub` is a user id: 1 to 64 of [A-Za-z0-9_-] (taskapi.auth.subject) ------------------


def with_sub(sub: Any) -> str:
    """A token signed with the configured secret: only the rule can refuse it."""
    return jwt.encode({**claims_for(), "sub": sub}, SECRET, algorithm="HS256")


@pytest.mark.parametrize(
    "sub",
    [
        "a",
        "7",  # a database serial (advanced.database.generateId: "serial")
        "Zq3xY8bN1cV5mK2pL9wR4tH6jD0sF7gA",  # Better Auth's generateId: 32 of [A-Za-z0-9]
        "123e4567-e89b-12d3-a456-426614174000",  # generateId: "uuid"
        "V1StGXR8_Z5jdHi6B-myT",  # nanoid
        "x" * 64,
    ],
)
async def test_every_kind_of_better_auth_id_is_a_user_id(
    client: httpx.AsyncClient, sub: str
) -> None:
    response = await call(client, with_sub(sub), sub=sub)
    assert response.status_code == 200, response.text
    assert (await call(client, with_sub(sub), sub="alice")).status_code == 403


async def test_sub_must_not_be_empty(client: httpx.AsyncClient) -> None:
    await assert_refused(client, with_sub(""), errors.INVALID_SUBJECT)


async def test_sub_must_not_be_longer_than_64(client: httpx.AsyncClient) -> None:
    await assert_refused(client, with_sub("a" * 65), errors.SUBJECT_TOO_LONG)
    await assert_refused(client, with_sub("a" * 5000), errors.SUBJECT_TOO_LONG)


@pytest.mark.parametrize("algorithm", ["HS256", "EdDSA", "RS256"])
async def test_sub_must_not_hold_nul(
    client: httpx.AsyncClient, jwks: JWKSServer, signing_keys: dict[str, SigningKey], algorithm: str
) -> None:
    """The issue's example: PostgreSQL text cannot hold U+0000, and this was a 500 there."""
    claims = {**claims_for(), "sub": "a\u0000b"}
    if algorithm == "HS256":
        token = jwt.encode(claims, SECRET, algorithm="HS256")
    else:
        key = signing_keys[algorithm]
        token = jwt.encode(claims, key.private_key, algorithm=algorithm, headers={"kid": key.kid})
    await assert_refused(client, token, errors.SUBJECT_CHARACTERS)
    # ... also under the path that names that very user, which once reached the database.
    response = await call(client, token, sub="a%00b")
    assert response.status_code == 401
    assert response.json()["detail"] == errors.SUBJECT_CHARACTERS


@pytest.mark.parametrize("sub", ["a\x01b", "a\x1fb", "a\x7fb", "a\x85b", "alice\n", "\x1b[31m"])
async def test_sub_must_not_hold_control_characters(client: httpx.AsyncClient, sub: str) -> None:
    await assert_refused(client, with_sub(sub), errors.SUBJECT_CHARACTERS)


@pytest.mark.parametrize(
    "sub",
    [
        "ålice",
        "\u0430lice",  # a Cyrillic a: looks like "alice"
        "\uff41lice",  # a fullwidth a
        "a\u200bb",  # a zero-width space
        "alice\ufeff",
        "\U0001f600",
        "\ud800",  # a lone surrogate, as JSON allows it to be written
    ],
)
async def test_sub_must_be_ascii(client: httpx.AsyncClient, sub: str) -> None:
    await assert_refused(client, with_sub(sub), errors.SUBJECT_CHARACTERS)


@pytest.mark.parametrize("sub", [" ", " alice", "alice ", "al ice", "a\tb", "\u00a0alice"])
async def test_sub_must_not_hold_whitespace(client: httpx.AsyncClient, sub: str) -> None:
    await assert_refused(client, with_sub(sub), errors.SUBJECT_CHARACTERS)


@pytest.mark.parametrize(
    "sub", ["a/b", "../alice", "a%2Fb", "%00", ".", "..", "a.b", "a?b", "a#b", "a\\b", "a:b"]
)
async def test_sub_must_not_hold_path_characters(client: httpx.AsyncClient, sub: str) -> None:
    await assert_refused(client, with_sub(sub), errors.SUBJECT_CHARACTERS)


@pytest.mark.parametrize("sub", [42, 0, 1.5, True, ["alice"], {"id": "alice"}, None])
async def test_sub_must_be_a_string(client: httpx.AsyncClient, sub: Any) -> None:
    response = await assert_refused(client, with_sub(sub))
    # null is no sub at all to PyJWT
    assert response.json()["detail"] in (errors.INVALID_SUBJECT, errors.MISSING_CLAIM)


@pytest.mark.parametrize(
    "issuer",
    ["http://localhost:3001", "http://localhost", ISSUER + "/", "localhost:3000", "", "http"],
)
async def test_wrong_issuer_including_prefixes(client: httpx.AsyncClient, issuer: str) -> None:
    await assert_refused(client, hs256(iss=issuer), errors.WRONG_ISSUER)


@pytest.mark.parametrize(
    "audience", ["http://localhost:3001", "http://localhost", ISSUER + "/x", ["other"], []]
)
async def test_wrong_audience_including_prefixes(client: httpx.AsyncClient, audience: Any) -> None:
    response = await assert_refused(client, hs256(aud=audience))
    assert response.json()["detail"] in (errors.WRONG_AUDIENCE, errors.MISSING_CLAIM)


@pytest.mark.parametrize("exp", ["soon", "1e20", None])
async def test_non_numeric_exp(client: httpx.AsyncClient, exp: Any) -> None:
    token = jwt.encode({**claims_for(), "exp": exp}, SECRET, algorithm="HS256")
    await assert_refused(client, token)


async def test_token_in_the_query_string_is_ignored(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/api/alice/tasks?access_token={hs256()}&token={hs256()}")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("scheme", ["Basic", "Token", "JWT", ""])
async def test_other_schemes_are_not_a_bearer_token(client: httpx.AsyncClient, scheme: str) -> None:
    response = await client.get(
        "/api/alice/tasks", headers={"Authorization": f"{scheme} {hs256()}".strip()}
    )
    assert response.status_code == 401


async def test_bearer_scheme_is_case_insensitive(client: httpx.AsyncClient) -> None:
    # RFC 7235 §2.1: the scheme name is case-insensitive.
    response = await client.get("/api/alice/tasks", headers={"Authorization": f"bearer {hs256()}"})
    assert response.status_code == 200
