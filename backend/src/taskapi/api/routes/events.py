"""`POST /events`: Security Event Tokens pushed by the web app (RFC 8935 §2).

No bearer token: the SET authenticates itself by its signature (taskapi.security_events). 202
with no body when it is applied, or was before (its `jti`); 400 `{"err", "description",
"detail"}` for a SET refused (RFC 8935 §2.3), 415 for a body that is not
`application/secevent+jwt`, 413 for one over 1 MiB, 503 when the keys or the database cannot be
reached (the web app tries again).
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse

from taskapi import errors, security_events
from taskapi.api.deps import DatabaseDep, read_capped_body
from taskapi.api.media import MEDIA_TYPE
from taskapi.auth.verifier import TokenVerifier, VerificationUnavailable
from taskapi.observability import user_hash

router = APIRouter(tags=["security events"])
log = logging.getLogger(__name__)


def _refused(status_code: int, err: str, description: str) -> JSONResponse:
    return JSONResponse(
        {"err": err, "description": description, "detail": description},
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )


def _is_set_media_type(content_type: str) -> bool:
    """RFC 9110 §8.3.1: type and subtype compare case-insensitively, parameters are ignored."""
    parsed = MEDIA_TYPE.fullmatch(content_type)
    if parsed is None:
        return False
    media = f"{parsed['type']}/{parsed['subtype']}".lower()
    return media == security_events.MEDIA_TYPE


@router.post(
    "/events",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Receive a Security Event Token (RFC 8935 push delivery)",
    include_in_schema=False,
)
async def receive(request: Request, database: DatabaseDep) -> Response:
    content_type = request.headers.getlist("content-type")
    if len(content_type) != 1 or not _is_set_media_type(content_type[0]):
        return _refused(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "invalid_request", errors.SET_MEDIA_TYPE
        )
    try:
        body = await read_capped_body(request)
    except HTTPException as refused:
        return _refused(refused.status_code, "invalid_request", str(refused.detail))
    try:
        token = body.decode("ascii").strip()
    except UnicodeDecodeError:
        return _refused(status.HTTP_400_BAD_REQUEST, "invalid_request", errors.SET_MALFORMED)
    verifier: TokenVerifier = request.app.state.verifier
    try:
        event = await security_events.verify(token, verifier)
    except security_events.RefusedEvent as refused:
        # What was wrong, never the SET itself (nor who it names: it may be forged).
        log.warning("security event refused", extra={"reason": refused.description})
        return _refused(status.HTTP_400_BAD_REQUEST, refused.err, refused.description)
    except VerificationUnavailable:
        return JSONResponse(
            {"detail": errors.ISSUER_UNREACHABLE},
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    try:
        applied = await security_events.apply(event, database, verifier.revocations)
    except security_events.RefusedEvent as refused:  # an account-purged SET arrived too late
        log.warning("security event refused", extra={"reason": refused.description})
        return _refused(status.HTTP_400_BAD_REQUEST, refused.err, refused.description)
    log.info(
        "security event %s: %s",
        "applied" if applied else "already applied",
        event.event_type.rsplit("/", 1)[-1],
        extra={"user_hash": user_hash(event.user_id)},
    )
    return Response(status_code=status.HTTP_202_ACCEPTED)
