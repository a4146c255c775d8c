import { getSessionCookie } from "better-auth/cookies";
import { type NextRequest, NextResponse } from "next/server";

const TASK_API = /^\/api\/[^/]+\/tasks(\/|$)/;

/**
 * Two jobs, both cheap and neither trusted for security:
 * - forward /api/{user_id}/tasks… to the task API (BACKEND_URL, read at run time), so the
 *   browser talks to one origin and needs no CORS; the backend checks the JWT itself;
 * - send people without a session cookie from /tasks to /login. This only looks at the cookie;
 *   the real check is auth.api.getSession in the page.
 */
export function proxy(request: NextRequest) {
  const { pathname, search } = request.nextUrl;
  if (TASK_API.test(pathname)) {
    const backend = process.env.BACKEND_URL ?? "http://127.0.0.1:8000";
    return NextResponse.rewrite(new URL(`${pathname}${search}`, backend));
  }
  if (!getSessionCookie(request)) {
    return NextResponse.redirect(new URL("/login", request.url));
  }
  return NextResponse.next();
}

export const config = {
  matcher: ["/tasks/:path*", "/api/:user_id/tasks/:path*"],
};
