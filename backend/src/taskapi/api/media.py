"""Which request bodies this API can read: JSON, uncompressed. Anything else is a 415.

The rules, each from its source:
- `Content-Type` is `type "/" subtype *( OWS ";" OWS [ parameter ] )` and type and subtype are
  case-insensitive (RFC 9110 §8.3.1, §5.6.6). `application/json` (RFC 8259 §11) and any
  `application/<name>+json` (the structured syntax suffix, RFC 6839 §3.1) are JSON.
- Parameters are allowed and ignored: `charset` "has no effect on compliant recipients" of JSON,
  which is always UTF-8 (RFC 8259 §8.1, §11); a body that is not UTF-8 fails as invalid JSON (422).
- Content without a `Content-Type` is not assumed to be JSON: RFC 9110 §8.3 lets a recipient
  treat it as `application/octet-stream`, which this API does not read.
- A `Content-Encoding` other than `identity` (gzip, br, …) is not decoded here: 415 with
  `Accept-Encoding: identity` (RFC 9110 §15.5.16, RFC 7694 §3).
- The 415 says what would have been accepted: `Accept-Post` (W3C LDP §7.1) for POST,
  `Accept-Patch` (RFC 5789 §3.1) for PATCH, as RFC 9110 §15.5.16 suggests. PUT has no such field.
"""

from __future__ import annotations

import re

from taskapi import errors

JSON = "application/json"

_TCHARS = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
# Written so that each space can belong to one place only: with `OWS ";" OWS` on both sides of an
# optional parameter, "; ; ; …x" would take exponential time to refuse.
_PARAMETER = rf"[ \t]*;(?:[ \t]*{_TCHARS}=(?:{_TCHARS}|{_QUOTED}))?"
MEDIA_TYPE = re.compile(rf"[ \t]*(?P<type>{_TCHARS})/(?P<subtype>{_TCHARS})(?:{_PARAMETER})*[ \t]*")

# The request methods with a field that names the media types they take.
ACCEPT_FIELDS = {"POST": "Accept-Post", "PATCH": "Accept-Patch"}


def is_json(content_type: str) -> bool:
    """Whether a `Content-Type` value names JSON: `application/json` or `application/*+json`,
    in any case, with any parameters. A malformed value is not JSON."""
    parsed = MEDIA_TYPE.fullmatch(content_type)
    if parsed is None:
        return False
    subtype = parsed["subtype"].lower()
    return parsed["type"].lower() == "application" and (
        subtype == "json" or (subtype.endswith("+json") and len(subtype) > len("+json"))
    )


def is_identity(content_encoding: str) -> bool:
    """Whether a `Content-Encoding` value (a comma-separated list, RFC 9110 §8.4) leaves the
    content as it is: empty, or only `identity`."""
    codings = (coding.strip().lower() for coding in content_encoding.split(","))
    return all(coding in ("", "identity") for coding in codings)


def unreadable(content_type: str | None, content_encoding: str | None) -> str | None:
    """Why content sent with these header values (None: absent) cannot be read as JSON, as the
    detail of a 415 (from `errors`), or None when it can."""
    if content_encoding is not None and not is_identity(content_encoding):
        return errors.UNSUPPORTED_CONTENT_ENCODING
    if content_type is None or not content_type.strip():
        return errors.MISSING_MEDIA_TYPE
    if not is_json(content_type):
        return errors.UNSUPPORTED_MEDIA_TYPE
    return None


def hint_headers(method: str, detail: str) -> dict[str, str]:
    """The header fields a 415 carries: what the request's method accepts, and the coding."""
    headers = {ACCEPT_FIELDS[method]: JSON} if method in ACCEPT_FIELDS else {}
    if detail == errors.UNSUPPORTED_CONTENT_ENCODING:
        headers["Accept-Encoding"] = "identity"
    return headers
