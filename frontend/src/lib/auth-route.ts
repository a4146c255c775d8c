import { APIError } from "better-auth/api";

import { checkAuthInput } from "@/lib/auth-input";
import { AUTH_BODY_MAX_BYTES } from "@/lib/auth-limits";
import { isClientAbort } from "@/lib/client-abort";
import { writeLog } from "@/lib/log";

type Handler = (request: Request) => Promise<Response>;

const TOO_LARGE_MESSAGE = `The request is too large: at most ${AUTH_BODY_MAX_BYTES / 1024} KiB is accepted here.`;

/**
 * Wraps Better Auth's handler for `/api/auth/*`:
 * - a body over AUTH_BODY_MAX_BYTES is refused with 413 before it is read whole: at once when
 *   `Content-Length` says so, else as soon as the count of bytes received passes the limit
 *   (chunked bodies); nothing past the limit is kept in memory;
 * - every answer, errors and rate-limit refusals included, carries `Cache-Control: no-store`
 *   (RFC 9111 §5.2.2.5): they hold sessions, tokens and personal data (RFC 6749 §5.1 asks the
 *   same of token answers);
 * - a client that goes away before its body is whole is logged at debug level (it is normal
 *   client behaviour) and answered 400, which no one receives;
 * - the JSON body and the query are checked (auth-input.ts: types, lengths, control characters)
 *   before Better Auth's router, whose origin check (callbackURL, redirectTo) runs ahead of its
 *   `hooks.before` and would otherwise answer a NUL in a callbackURL with 403, not 400 in words;
 * - no JSON answer hands the page's script a session token (withoutSessionTokens).
 */
export function authRoute(handler: Handler): Handler {
  return async (request) => {
    let bounded: Request | Response;
    try {
      bounded = await boundedRequest(request, AUTH_BODY_MAX_BYTES);
    } catch (error) {
      if (!isClientAbort(error)) throw error;
      writeLog("debug", "auth", "the client went away before its request body was whole");
      bounded = Response.json(
        { code: "REQUEST_ABORTED", message: "The request was not received whole." },
        { status: 400 },
      );
    }
    if (!(bounded instanceof Response)) bounded = (await inputRefusal(bounded)) ?? bounded;
    const response = bounded instanceof Response ? bounded : await withoutSessionTokens(request, await handler(bounded));
    return withHeader(response, "Cache-Control", "no-store");
  };
}

/** Better Auth's one answer whose `token` is meant for the page: the JWT for the task API
 * (jwt plugin, `authClient.token()` in api-service.ts), short-lived and ended with its session. */
const BROWSER_TOKEN_PATHS = new Set(["/api/auth/token"]);

/**
 * `response` without the session tokens Better Auth puts into JSON answers: `session.token`
 * (get-session), each session's `token` (list-sessions), `token` at the top (sign-in, sign-up,
 * change-password, two-factor/verify-*; update-session's `session.token`). A session token is
 * the bearer credential itself, the session cookie's value before its signature: the cookie is
 * HttpOnly so that script, and so an XSS, cannot read it, and an answer in JSON would undo
 * that. Nothing in the page needs one (the account page ends a session by id, on the server:
 * app/account/actions.ts). Server code calling `auth.api.*` is not affected.
 *
 * Every other JSON answer of /api/auth/* goes through the same rule, so that an endpoint added
 * later is covered too; only BROWSER_TOKEN_PATHS keep their `token`. An answer with nothing to
 * take out, or that is not JSON, or is encoded (Better Auth sends none; Next.js compresses after
 * the route), is returned as it is; a rewritten one keeps its status and headers (Set-Cookie
 * included), Content-Length set to the new body's.
 */
export async function withoutSessionTokens(request: Request, response: Response): Promise<Response> {
  const type = response.headers.get("content-type") ?? "";
  if (
    response.body === null ||
    !/^application\/json\b/i.test(type) ||
    response.headers.has("content-encoding") ||
    BROWSER_TOKEN_PATHS.has(new URL(request.url).pathname)
  ) {
    return response;
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const stripped = body !== undefined && stripTokens(body);
  const payload = stripped ? JSON.stringify(body) : text;
  const headers = new Headers(response.headers);
  if (stripped || headers.has("content-length")) {
    headers.set("content-length", String(Buffer.byteLength(payload)));
  }
  return new Response(payload, { status: response.status, statusText: response.statusText, headers });
}

/** Deletes `token` from `value` (an object), from its `session`, and from each element when it
 * is an array; whether anything was deleted. */
function stripTokens(value: unknown): boolean {
  if (Array.isArray(value)) return value.map(stripTokens).some(Boolean);
  if (value === null || typeof value !== "object") return false;
  const record = value as Record<string, unknown>;
  const here = Object.hasOwn(record, "token");
  delete record.token;
  const session = record.session;
  const inSession = session !== null && typeof session === "object" && !Array.isArray(session) && stripTokens(session);
  return here || inSession;
}

/** checkAuthInput's refusal of the request's JSON body or query, as Better Auth would answer it
 * (`{code, message}`); null when they pass, or when the body is not JSON (Better Auth refuses it). */
async function inputRefusal(request: Request): Promise<Response | null> {
  let body: unknown;
  if (request.body !== null && (request.headers.get("content-type") ?? "").includes("json")) {
    try {
      body = JSON.parse(await request.clone().text());
    } catch {
      return null;
    }
  }
  const query: Record<string, string[]> = {};
  for (const [name, value] of new URL(request.url).searchParams) (query[name] ??= []).push(value);
  try {
    checkAuthInput(body, query);
    return null;
  } catch (error) {
    if (!(error instanceof APIError)) throw error;
    return Response.json(error.body, { status: error.statusCode });
  }
}

/** 413 with Better Auth's error shape (`{code, message}`), which its client shows as is. The
 * connection is closed after it, so the rest of an unread body is never received. */
function tooLarge(): Response {
  return Response.json(
    { code: "BODY_TOO_LARGE", message: TOO_LARGE_MESSAGE },
    { status: 413, headers: { Connection: "close" } },
  );
}

/**
 * `request` with its body read into memory when it is at most `maxBytes` long, or a 413 answer.
 * A request without a body is returned as it is.
 */
export async function boundedRequest(request: Request, maxBytes: number): Promise<Request | Response> {
  if (request.body === null) return request;
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) {
    await request.body.cancel();
    return tooLarge();
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return tooLarge();
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new Request(request.url, {
    method: request.method,
    headers: request.headers,
    body,
    signal: request.signal,
  });
}

/** `response` with one header set; a copy when its headers are immutable (Response.redirect). */
function withHeader(response: Response, name: string, value: string): Response {
  try {
    response.headers.set(name, value);
    return response;
  } catch {
    const headers = new Headers(response.headers);
    headers.set(name, value);
    return new Response(response.body, {
      status: response.status,
      statusText: response.statusText,
      headers,
    });
  }
}
