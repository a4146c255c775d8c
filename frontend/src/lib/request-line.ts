/**
 * What the web server refuses before Next.js sees a request (server.ts): Next.js answers both
 * with a bare 500 (no security headers, nothing logged, a stack for TRACE).
 */

/** The methods this app serves (RFC 9110 §9.3, PATCH: RFC 5789). */
export const ALLOWED_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

/** Methods RFC 9110 §9.3 defines that this app does not serve: 405 with Allow (§15.5.6). Any
 * other method the HTTP parser lets through (WebDAV's PROPFIND, …) is one this server does not
 * recognize: 501 (§15.6.2, §9.1). CONNECT never comes here (Node.js emits it as its own event). */
const KNOWN_METHODS = new Set(["TRACE", "CONNECT"]);

/** The headers every answer of the site carries (next.config.ts), and no caching. */
const HEADERS = {
  "Content-Type": "application/json",
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "strict-origin-when-cross-origin",
};

export type Refusal = { status: 400 | 405 | 501; headers: Record<string, string>; detail: string };

/** Origin-form (`/path?query`) or absolute-form (`http://host/path`), the two forms that name a
 * resource (RFC 9112 §3.2.1–2). The asterisk-form (`OPTIONS *`, §3.2.4) asks about the server,
 * not a page, and anything else is no target at all: Next.js throws on both (`Invalid URL`). */
function isResourceTarget(target: string): boolean {
  if (target.startsWith("/")) {
    return true;
  }
  try {
    return ["http:", "https:"].includes(new URL(target).protocol);
  } catch {
    return false;
  }
}

function pathDecodes(target: string): boolean {
  const query = target.indexOf("?");
  try {
    decodeURIComponent(query === -1 ? target : target.slice(0, query));
    return true;
  } catch {
    return false;
  }
}

/**
 * The refusal for a request line this app cannot serve, or null. `target` is the
 * request-target as sent (http.IncomingMessage.url). Order: the method first, then the path:
 * - a method outside ALLOWED_METHODS → 405 (a method RFC 9110 defines) or 501 (any other);
 * - a target that names no resource (`*`, or not a URL) → 400;
 * - a path with a percent sign not followed by two hex digits, or escapes that are not UTF-8
 *   (`%ff`), which decodeURIComponent refuses (RFC 3986 §2.1) → 400.
 */
export function refuseRequestLine(method: string, target: string): Refusal | null {
  if (!(ALLOWED_METHODS as readonly string[]).includes(method)) {
    if (KNOWN_METHODS.has(method)) {
      return {
        status: 405,
        headers: { ...HEADERS, Allow: ALLOWED_METHODS.join(", ") },
        detail: `The method ${method} is not allowed here.`,
      };
    }
    return { status: 501, headers: HEADERS, detail: `The method ${method} is not supported.` };
  }
  if (!isResourceTarget(target)) {
    return {
      status: 400,
      headers: HEADERS,
      detail: "The address must be a path on this site (such as /tasks) or a whole URL.",
    };
  }
  if (!pathDecodes(target)) {
    return {
      status: 400,
      headers: HEADERS,
      detail: "The address is malformed: a % must be followed by two hexadecimal digits that form UTF-8.",
    };
  }
  return null;
}
