import { Agent as HttpAgent, type IncomingMessage, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { pipeline, Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";

/**
 * Forwards `/api/{user_id}/tasks…`, `/api/{user_id}/tags…` and `/api/{user_id}/export` from the
 * web origin to the task API (BACKEND_URL, read at run time), so the browser talks to one origin
 * and needs no CORS; the task API checks the JWT itself.
 *
 * Only what the task API reads goes there (allow-list): not the session cookie (a 7-day
 * credential the API never uses), not the client's forwarding headers, Origin or Referer. Only
 * what the browser needs comes back: the backend's address never does. Bodies are streamed both
 * ways, never held whole; the task API enforces its own size limit (413) on what arrives.
 */

/** The request fields the task API reads (backend: `taskapi.api.deps`, `media`, `routes.tasks`,
 * `observability`): the token, the body's description, conditional requests, idempotency keys,
 * and the request id that ties a log line to a support question. */
const REQUEST_HEADERS = [
  "accept",
  "authorization",
  "content-encoding", // so the task API refuses a compressed body (415) instead of misreading it
  "content-length", // so an oversized body is refused before it is read
  "content-type",
  "idempotency-key",
  "if-match",
  "if-none-match",
  "x-request-id",
] as const;

/** The answer's fields a browser (or the API's own client) uses. */
const RESPONSE_HEADERS = [
  "accept-encoding",
  "accept-patch",
  "accept-post",
  "allow",
  "cache-control",
  "content-disposition", // the export's file name
  "content-length",
  "content-type",
  "etag",
  "idempotent-replayed",
  // Not Location: the task API sends none, and one it sent would name the backend's address.
  "retry-after",
  "www-authenticate",
  "x-request-id",
  "x-total-count",
] as const;

/** A Node.js request, not fetch: fetch adds fields of its own (User-Agent, Accept-Language,
 * Sec-Fetch-Mode; Next.js's wrapper, cache headers) and decodes bodies. Connections are reused. */
const agents = {
  "http:": new HttpAgent({ keepAlive: true }),
  "https:": new HttpsAgent({ keepAlive: true }),
};

type Lookup = (name: string) => string | string[] | null | undefined;

function pick(lookup: Lookup, names: readonly string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of names) {
    const value = lookup(name);
    if (value === null || value === undefined) continue;
    picked[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return picked;
}

/** Statuses whose answers have no body (RFC 9110 §15.3.5, §15.4.5; fetch's "null body status"). */
const NO_BODY = new Set([101, 103, 204, 205, 304]);

/** How long the task API has to begin its answer (status line and headers), in ms:
 * TASK_API_TIMEOUT_MS, default 30 s. Node's http.request has no such limit of its own. */
function answerTimeoutMs(): number {
  const setting = Number(process.env.TASK_API_TIMEOUT_MS);
  return Number.isInteger(setting) && setting > 0 ? setting : 30_000;
}

class AnswerTimeout extends Error {}

function send(
  target: URL,
  request: Request,
  headers: Record<string, string>,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const outgoing = (target.protocol === "https:" ? httpsRequest : httpRequest)(target, {
      method: request.method,
      headers,
      agent: agents[target.protocol === "https:" ? "https:" : "http:"],
      signal: request.signal,
    });
    // The connection is destroyed, not returned to the pool: its answer may still come.
    const timer = setTimeout(() => {
      reject(new AnswerTimeout());
      outgoing.destroy();
    }, answerTimeoutMs());
    outgoing.on("response", (response) => {
      clearTimeout(timer);
      resolve(response);
    });
    outgoing.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    const body = request.method === "GET" || request.method === "HEAD" ? null : request.body;
    if (body === null) {
      outgoing.end();
    } else {
      // Streamed as it arrives; an error on either side ends both.
      pipeline(Readable.fromWeb(body as WebReadableStream<Uint8Array>), outgoing, (error) => {
        if (error) reject(error);
      });
    }
  });
}

/**
 * The task API's answer to `request`, with the same method, path and query. 502 with a
 * `detail` when the task API cannot be reached; 504 with a `detail` when it has not begun to
 * answer within TASK_API_TIMEOUT_MS (RFC 9110 §15.6.5). Both `Cache-Control: no-store`.
 */
export async function forwardToTaskApi(request: Request): Promise<Response> {
  const { pathname, search } = new URL(request.url);
  const backend = process.env.BACKEND_URL ?? "http://127.0.0.1:8000";
  const target = new URL(`${pathname}${search}`, backend);
  const headers = pick((name) => request.headers.get(name), REQUEST_HEADERS);
  headers["accept-encoding"] = "identity"; // the body comes back as the API wrote it

  let upstream: IncomingMessage;
  try {
    upstream = await send(target, request, headers);
  } catch (error) {
    if (error instanceof AnswerTimeout) {
      return Response.json(
        { detail: "The task service did not answer in time. Try again in a moment." },
        { status: 504, headers: { "Cache-Control": "no-store", "Retry-After": "5" } },
      );
    }
    return Response.json(
      { detail: "The task service cannot be reached. Try again in a moment." },
      { status: 502, headers: { "Cache-Control": "no-store", "Retry-After": "5" } },
    );
  }
  const status = upstream.statusCode ?? 502;
  const bodiless = request.method === "HEAD" || NO_BODY.has(status);
  if (bodiless) upstream.resume(); // nothing to read: frees the connection for the next request
  return new Response(bodiless ? null : (Readable.toWeb(upstream) as ReadableStream<Uint8Array>), {
    status,
    statusText: upstream.statusMessage,
    headers: pick((name) => upstream.headers[name], RESPONSE_HEADERS),
  });
}
