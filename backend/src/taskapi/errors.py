"""Every message a client can read, in one place, so wording stays consistent and reviewable.

None of them repeats what the client sent: a token is never echoed back.
"""

# 401: authentication
MISSING_TOKEN = "Not authenticated: send Authorization: Bearer <token>"
MALFORMED_TOKEN = "Invalid token: not a signed JWT"
OVERSIZED_TOKEN = "Invalid token: too large"
UNSUPPORTED_ALGORITHM = "Invalid token: unsupported algorithm"
UNKNOWN_KEY = "Invalid token: signed with an unknown key"
HS256_NOT_CONFIGURED = "Invalid token: HS256 tokens are not accepted by this server"
JWKS_NOT_CONFIGURED = "Invalid token: asymmetric tokens are not accepted by this server"
BAD_SIGNATURE = "Invalid token: bad signature"
EXPIRED = "Invalid token: expired"
NOT_YET_VALID = "Invalid token: not yet valid"
WRONG_ISSUER = "Invalid token: wrong issuer"
WRONG_AUDIENCE = "Invalid token: wrong audience"
MISSING_CLAIM = "Invalid token: missing required claim"
INVALID_SUBJECT = "Invalid token: sub must be a non-empty string"
INVALID_TOKEN = "Invalid token"

# 403 / 404
FORBIDDEN_USER = "Forbidden: the token's user is not the user in the path"
TASK_NOT_FOUND = "Task not found"

# 412 / 422: preconditions and retries
VERSION_MISMATCH = "The task has changed since you read it: see `current`, then retry"
IDEMPOTENCY_KEY_REUSED = "This Idempotency-Key was already used for a different request"
IDEMPOTENT_TASK_DELETED = "The task this Idempotency-Key created has since been deleted"

# 400 / 413 / 503
BODY_BROKEN_OFF = (
    "The request's body broke off: the connection closed before all of it arrived; nothing was done"
)
BODY_TOO_LARGE = "Request body too large: the limit is 1 MiB"
ISSUER_UNREACHABLE = "Cannot verify the token now: the issuer's keys are unreachable"
DATABASE_UNAVAILABLE = "The database is unavailable; try again shortly"
WRITE_ROLLED_BACK = (
    "Another change to the same tasks was being made at the same moment, so nothing was"
    " changed; try again"
)

# --- HTTP semantics (fix/http): 405 and 415 --------------------------------------------------
METHOD_NOT_ALLOWED = "Method not allowed on this path: the Allow header lists the ones it has"
MISSING_MEDIA_TYPE = (
    "Missing Content-Type: send the body as JSON with Content-Type: application/json"
)
UNSUPPORTED_MEDIA_TYPE = (
    "Unsupported media type: send the body as JSON with Content-Type: application/json"
)
UNSUPPORTED_CONTENT_ENCODING = (
    "Unsupported Content-Encoding: send the body uncompressed (Content-Encoding: identity)"
)

# --- 401: the token's `sub` is not a user id (taskapi.auth.subject) ----------------------------
SUBJECT_TOO_LONG = "Invalid token: sub is longer than 64 characters"
SUBJECT_CHARACTERS = "Invalid token: sub may hold only ASCII letters, digits, '-' and '_'"

# ---- Costly requests and the task quota (fix/sqlite) ----
# 409: the person's list is full; deleting tasks resolves it (RFC 9110 §15.5.10)
TASK_QUOTA_REACHED = (
    "Task limit reached: you already have {quota} tasks, the most one person can keep. "
    "Delete some (or clear completed ones) to add more"
)
# 503: a read stopped at its time budget
STATEMENT_TIMEOUT = (
    "The database stopped this request after its time limit; try again shortly, "
    "or narrow the search or filters"
)
# 429: one person's long reads (searches, filtered lists, tag counts) already running
TOO_MANY_LONG_READS = (
    "You have too many searches running at once; wait for them to finish, then try again"
)

# --- 401: a token outlived by a security event (taskapi.auth.revocation) ----------------------
SESSION_ENDED = (
    "Invalid token: the session it was issued for has ended (signed out, or the password "
    "changed); sign in again"
)
ACCOUNT_DELETED = "Invalid token: the account it was issued for has been deleted"
TOKEN_TOO_OLD = "Invalid token: issued too long ago for a token of this lifetime; get a new one"
INVALID_SESSION_ID = "Invalid token: sid must be a session id (letters, digits, '-' and '_')"
SECURITY_EVENT_AS_TOKEN = "Invalid token: a security event token is not an access token"

# --- RFC 8935 push delivery of Security Event Tokens (POST /events) -------------------------
SET_MEDIA_TYPE = "Send the Security Event Token as Content-Type: application/secevent+jwt"
SET_MALFORMED = "The body is not a signed JWT"
SET_TOO_LARGE = "The Security Event Token is too large"
SET_WRONG_TYPE = "The JWT's typ header must be secevent+jwt (RFC 8417 §2.3)"
SET_ALGORITHM = "The Security Event Token is signed with an algorithm this server does not accept"
SET_UNKNOWN_KEY = "The Security Event Token is signed with a key this server does not know"
SET_NO_JWKS = (
    "This server checks HS256 tokens only (BETTER_AUTH_URL is not set), so it cannot verify "
    "a Security Event Token signed with the web app's key: set BETTER_AUTH_URL"
)
SET_BAD_SIGNATURE = "The Security Event Token's signature does not verify"
SET_WRONG_ISSUER = "The Security Event Token is not from the issuer this server trusts"
SET_WRONG_AUDIENCE = "The Security Event Token is not addressed to the task API"
SET_MISSING_CLAIM = "The Security Event Token lacks a required claim (iss, aud, iat, jti, events)"
SET_TOO_OLD = "The Security Event Token is too old: every token it concerns has expired"
SET_NOT_YET = "The Security Event Token is issued in the future"
SET_PURGE_TOO_LATE = (
    "The account-purged event was issued more than 10 seconds ago, so its sender has stopped"
    " waiting for the answer and kept the account; nothing was erased. Send a new event."
)
SET_ONE_EVENT = "The events claim must hold exactly one event"
SET_UNKNOWN_EVENT = "The event type is not one this server acts on"
SET_BAD_SUBJECT = (
    "The event's subject (sub_id) does not name a user (and, for a session, a session)"
)
SET_INVALID = "The Security Event Token is not valid"
