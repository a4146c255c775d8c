import { getSessionCookie } from "better-auth/cookies";
import { type NextRequest, NextResponse } from "next/server";

/**
 * Two jobs, both cheap, neither of them the security check itself (the task API is forwarded by
 * server.ts and route handlers, src/lib/task-api-forward.ts, never through here):
 * - send people without a session cookie from /tasks and /account to /login (only the cookie is looked at;
 *   the real check is auth.api.getSession in the page);
 * - give every page a fresh nonce and a Content-Security-Policy that allows only scripts
 *   carrying it, so an injected <script> does not run.
 */
export function proxy(request: NextRequest) {
  const { pathname } = request.nextUrl;
  if ((pathname.startsWith("/tasks") || pathname.startsWith("/account")) && !getSessionCookie(request)) {
    return NextResponse.redirect(new URL("/login", request.url));
  }

  const nonce = Buffer.from(crypto.randomUUID()).toString("base64");
  const csp = contentSecurityPolicy(nonce, request.nextUrl.protocol === "https:");
  const headers = new Headers(request.headers);
  headers.set("x-nonce", nonce);
  headers.set("Content-Security-Policy", csp); // Next.js reads it to put the nonce on its scripts
  const response = NextResponse.next({ request: { headers } });
  response.headers.set("Content-Security-Policy", csp);
  return response;
}

function contentSecurityPolicy(nonce: string, https: boolean): string {
  const development = process.env.NODE_ENV === "development"; // React's dev tools need eval
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${development ? " 'unsafe-eval'" : ""}`,
    // Style attributes cannot carry a nonce; styles cannot run code.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' blob: data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    ...(https ? ["upgrade-insecure-requests"] : []),
  ].join("; ");
}

export const config = {
  matcher: [
    {
      // Every page; not Better Auth's API, static files or prefetches.
      source: "/((?!api|_next/static|_next/image|favicon.ico).*)",
      missing: [
        { type: "header", key: "next-router-prefetch" },
        { type: "header", key: "purpose", value: "prefetch" },
      ],
    },
  ],
};
