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

# 413 / 503
BODY_TOO_LARGE = "Request body too large: the limit is 1 MiB"
ISSUER_UNREACHABLE = "Cannot verify the token now: the issuer's keys are unreachable"
DATABASE_UNAVAILABLE = "The database is unavailable; try again shortly"

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
