import { AUTH_BODY_MAX_BYTES } from "@/lib/auth-limits";

type Handler = (request: Request) => Promise<Response>;

const TOO_LARGE_MESSAGE = `The request is too large: at most ${AUTH_BODY_MAX_BYTES / 1024} KiB is accepted here.`;

/**
 * Wraps Better Auth's handler for `/api/auth/*`:
 * - a body over AUTH_BODY_MAX_BYTES is refused with 413 before it is read whole: at once when
 *   `Content-Length` says so, else as soon as the count of bytes received passes the limit
 *   (chunked bodies); nothing past the limit is kept in memory;
 * - every answer, errors and rate-limit refusals included, carries `Cache-Control: no-store`
 *   (RFC 9111 §5.2.2.5): they hold sessions, tokens and personal data (RFC 6749 §5.1 asks the
 *   same of token answers).
 */
export function authRoute(handler: Handler): Handler {
  return async (request) => {
    const bounded = await boundedRequest(request, AUTH_BODY_MAX_BYTES);
    const response = bounded instanceof Response ? bounded : await handler(bounded);
    return withHeader(response, "Cache-Control", "no-store");
  };
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
