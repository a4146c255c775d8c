import {
  Agent as HttpAgent,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  request as httpRequest,
  type ServerResponse,
} from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { pipeline, Readable, Transform } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { createDeflate, createGzip } from "node:zlib";

import Negotiator from "negotiator";

import { isClientAbort } from "./client-abort";
import { writeLog } from "./log";
import { SITE_HEADERS } from "./site-headers";

/**
 * Forwards `/api/{user_id}/tasks…`, `/api/{user_id}/tags…` and `/api/{user_id}/export` from the
 * web origin to the task API (BACKEND_URL, read at run time), so the browser talks to one origin
 * and needs no CORS; the task API checks the JWT itself.
 *
 * Only what the task API reads goes there (allow-list): not the session cookie (a 7-day
 * credential the API never uses), not the client's forwarding headers, Origin or Referer. Only
 * what the browser needs comes back: the backend's address never does. Bodies are streamed both
 * ways, never held whole; the task API enforces its own size limit (413) on what arrives.
 *
 * Two ways in, one set of rules: server.ts hands a request whose path is plainly one of these
 * (`forwardsDirectly`) to `forwardNodeRequest` before Next.js sees it, which cost more CPU than
 * the task API itself (docs/performance.md, "The web origin"); any other path under them (escapes,
 * dot segments, a trailing slash), and `next dev`, reach the route handlers, `forwardToTaskApi`.
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

/** The task API's address for the path and query `target` (as sent: `/api/…?…`). */
function taskApiUrl(target: string): URL {
  return new URL(target, process.env.BACKEND_URL ?? "http://127.0.0.1:8000");
}

function send(
  target: URL,
  method: string,
  headers: Record<string, string>,
  body: Readable | null,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const sent = framed(headers, body !== null);
    const outgoing = (target.protocol === "https:" ? httpsRequest : httpRequest)(target, {
      method,
      headers: sent,
      agent: agents[target.protocol === "https:" ? "https:" : "http:"],
      signal,
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
    if (body === null) {
      outgoing.end();
    } else {
      // Streamed as it arrives; an error on either side ends both, and the connection with it
      // (destroyed, never pooled): a body cut short must not leave the task API waiting for the
      // rest, which would be the next request on that connection.
      const declared = sent["content-length"];
      const source = declared === undefined ? [body] : [body, exactly(Number(declared))];
      pipeline([...source, outgoing], (error) => {
        if (error) reject(error);
      });
    }
  });
}

class BodyLengthMismatch extends Error {}

/** A pass-through that fails unless exactly `length` bytes go through it. */
function exactly(length: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      callback(seen > length ? new BodyLengthMismatch(`more than ${length} bytes`) : null, chunk);
    },
    flush(callback) {
      callback(seen === length ? null : new BodyLengthMismatch(`${seen} bytes of ${length}`));
    },
  });
}

/**
 * The request's fields with the framing (RFC 9112 §6) of the body actually sent: none when no
 * body is (a GET's or HEAD's Content-Length would make the task API read the next request on
 * the pooled connection as this one's body, whoever sent it), else the client's Content-Length
 * when it is a plain number, held to it by `exactly`, or Node.js's chunked coding. The client's
 * Transfer-Encoding is never passed on: Node.js frames what it writes itself.
 */
function framed(headers: Record<string, string>, withBody: boolean): Record<string, string> {
  const framedHeaders = { ...headers };
  delete framedHeaders["transfer-encoding"];
  const length = framedHeaders["content-length"];
  if (!withBody || (length !== undefined && !/^\d+$/.test(length))) {
    delete framedHeaders["content-length"];
  }
  return framedHeaders;
}

/** The answer when the task API gave none: 504 with a `detail` when it has not begun to answer
 * within TASK_API_TIMEOUT_MS (RFC 9110 §15.6.5), else 502 (it cannot be reached). */
function failure(error: unknown): { status: 502 | 504; detail: string } {
  return error instanceof AnswerTimeout
    ? { status: 504, detail: "The task service did not answer in time. Try again in a moment." }
    : { status: 502, detail: "The task service cannot be reached. Try again in a moment." };
}

const FAILURE_HEADERS = { "Cache-Control": "no-store", "Retry-After": "5" };

/**
 * The task API's answer to `request`, with the same method, path and query. 502 with a
 * `detail` when the task API cannot be reached; 504 with a `detail` when it has not begun to
 * answer within TASK_API_TIMEOUT_MS (RFC 9110 §15.6.5). Both `Cache-Control: no-store`.
 */
export async function forwardToTaskApi(request: Request): Promise<Response> {
  const { pathname, search } = new URL(request.url);
  const headers = pick((name) => request.headers.get(name), REQUEST_HEADERS);
  headers["accept-encoding"] = "identity"; // the body comes back as the API wrote it
  const body =
    request.method === "GET" || request.method === "HEAD" || request.body === null
      ? null
      : Readable.fromWeb(request.body as WebReadableStream<Uint8Array>);

  let upstream: IncomingMessage;
  try {
    upstream = await send(taskApiUrl(`${pathname}${search}`), request.method, headers, body, request.signal);
  } catch (error) {
    const { status, detail } = failure(error);
    return Response.json({ detail }, { status, headers: FAILURE_HEADERS });
  }
  const status = upstream.statusCode ?? 502;
  const bodiless = request.method === "HEAD" || NO_BODY.has(status);
  if (bodiless) upstream.resume(); // nothing to read: frees the connection for the next request
  return new Response(bodiless ? null : (Readable.toWeb(upstream) as ReadableStream<Uint8Array>), {
    status,
    statusText: upstream.statusMessage,
    // Next.js drops Content-Length and Content-Encoding from it (send-response.js), and its
    // `compress` leaves a HEAD's answer uncoded: a HEAD here cannot say the GET's coding.
    headers: pick((name) => upstream.headers[name], RESPONSE_HEADERS),
  });
}

/** A path segment taken as it is: unreserved characters only (RFC 3986 §2.3), no %-escape. */
const PLAIN_SEGMENT = /^[A-Za-z0-9._~-]+$/;

/**
 * Whether server.ts forwards the request-target `target` itself (`forwardNodeRequest`): a
 * path one of the route handlers above would take, written so that nothing could read it
 * differently: `/api/{user_id}/tasks[/…]`, `/api/{user_id}/tags[/…]` or `/api/{user_id}/export`,
 * each segment plain (no %-escape, not `.` or `..`, not empty: no trailing slash, which
 * Next.js would redirect), `{user_id}` not `auth` (Better Auth's routes). Any query. Every
 * other target goes to Next.js as before.
 */
export function forwardsDirectly(target: string): boolean {
  const query = target.indexOf("?");
  const segments = (query === -1 ? target : target.slice(0, query)).split("/");
  // "", "api", user_id, tasks|tags|export, ...
  if (segments.length < 4 || segments[0] !== "" || segments[1] !== "api") return false;
  const [, , user, collection, ...rest] = segments;
  if (user === undefined || user === "auth") return false;
  if (collection === "export" ? rest.length > 0 : collection !== "tasks" && collection !== "tags") {
    return false;
  }
  for (const segment of [user, ...rest]) {
    if (!PLAIN_SEGMENT.test(segment) || segment === "." || segment === "..") return false;
  }
  return true;
}

/** Answers worth compressing, as Next.js's own `compress` (the `compression` package) picks
 * them: text and JSON of 1 KiB or more, or of unknown length, unless `Cache-Control:
 * no-transform`. */
const COMPRESSIBLE = /^(?:text\/|application\/(?:[\w.+-]*\+)?json\b)/i;
const COMPRESS_FROM_BYTES = 1024;

type Coding = "gzip" | "deflate";

/** The content coding Next.js's `compress` (the `compression` package) would choose for a
 * client's Accept-Encoding, decided as it decides, by the same library (`negotiator`, RFC 9110
 * §12.5.3: a named coding's q before `*`'s, q=0 refuses): gzip or deflate, or none (identity);
 * a client that prefers deflate but takes gzip too gets gzip. */
function chooseCoding(header: string | undefined): Coding | null {
  const negotiator = new Negotiator({
    headers: header === undefined ? {} : { "accept-encoding": header },
  });
  let chosen = negotiator.encoding(["gzip", "deflate", "identity"]);
  if (chosen === "deflate" && negotiator.encoding(["gzip"]) !== undefined) {
    chosen = negotiator.encoding(["gzip", "identity"]);
  }
  return chosen === "gzip" || chosen === "deflate" ? chosen : null;
}

/**
 * How Next.js's `compress` would code an answer of `status` with the fields `answer`, for a
 * client's Accept-Encoding `accept`: whether it varies with Accept-Encoding (text or JSON
 * without `no-transform`), and the coding (none under 1 KiB). The same for a HEAD as for the
 * GET of the same resource (RFC 9110 §9.3.2: a HEAD's header fields are the GET's).
 */
function codingOf(
  status: number,
  answer: { contentType: unknown; cacheControl: unknown; contentLength: unknown },
  accept: string | undefined,
): { vary: boolean; coding: Coding | null } {
  const vary =
    !NO_BODY.has(status) &&
    COMPRESSIBLE.test(String(answer.contentType ?? "")) &&
    !/\bno-transform\b/i.test(String(answer.cacheControl ?? ""));
  const long = answer.contentLength === undefined || Number(answer.contentLength) >= COMPRESS_FROM_BYTES;
  return { vary, coding: vary && long ? chooseCoding(accept) : null };
}

/** A request that comes with a body (RFC 9112 §6.3: Content-Length or Transfer-Encoding). */
function hasBody(request: IncomingMessage): boolean {
  return request.headers["content-length"] !== undefined || request.headers["transfer-encoding"] !== undefined;
}

/**
 * `forwardToTaskApi` for server.ts, on Node.js's own request and response (no Web Request,
 * Response or streams between them): the same fields both ways, the same timeout, 502 and 504,
 * the same bodies streamed, the site's headers (SITE_HEADERS) and the gzip or deflate that
 * Next.js would have added.
 * The client going away aborts the request to the task API, as the route handler's signal does.
 */
export function forwardNodeRequest(request: IncomingMessage, response: ServerResponse): void {
  const method = request.method ?? "GET";
  const headers = pick((name) => request.headers[name], REQUEST_HEADERS);
  headers["accept-encoding"] = "identity";
  const aborted = new AbortController();
  response.once("close", () => {
    if (!response.writableFinished) aborted.abort();
  });
  const body = method === "GET" || method === "HEAD" || !hasBody(request) ? null : request;
  send(taskApiUrl(request.url ?? "/"), method, headers, body, aborted.signal).then(
    (upstream) => {
      const status = upstream.statusCode ?? 502;
      const answer: OutgoingHttpHeaders = {
        ...SITE_HEADERS,
        ...pick((name) => upstream.headers[name], RESPONSE_HEADERS),
      };
      const bodiless = method === "HEAD" || NO_BODY.has(status);
      // Compressed as Next.js compresses the route handlers' answers, so that a browser gets
      // the same bytes either way (the task API itself sends them uncompressed).
      const { vary, coding } = codingOf(
        status,
        {
          contentType: answer["content-type"],
          cacheControl: answer["cache-control"],
          contentLength: answer["content-length"],
        },
        request.headers["accept-encoding"],
      );
      if (vary) answer.vary = "Accept-Encoding";
      if (coding) {
        delete answer["content-length"];
        answer["content-encoding"] = coding;
      }
      response.writeHead(status, upstream.statusMessage, answer);
      if (bodiless) {
        upstream.resume(); // nothing to read: frees the connection for the next request
        response.end();
        return;
      }
      const done = (error: Error | null) => {
        if (error && !isClientAbort(error)) {
          writeLog("error", "task-api-forward", "the task API's answer broke off", [error]);
        }
      };
      if (coding) pipeline(upstream, coding === "gzip" ? createGzip() : createDeflate(), response, done);
      else pipeline(upstream, response, done);
    },
    (error: unknown) => {
      if (aborted.signal.aborted || response.destroyed) return; // the client left first
      const { status, detail } = failure(error);
      const text = JSON.stringify({ detail });
      response.writeHead(status, {
        ...SITE_HEADERS,
        ...FAILURE_HEADERS,
        "Content-Type": "application/json",
        "Content-Length": Buffer.byteLength(text),
      });
      response.end(text);
    },
  ).catch((error: unknown) => {
    // A fault here, not the task API's: logged, the connection closed rather than left open.
    writeLog("error", "task-api-forward", "forwarding failed", [error]);
    response.destroy();
  });
}
