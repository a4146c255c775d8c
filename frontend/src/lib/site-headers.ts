/**
 * The headers every answer of the site carries: next.config.ts sets them on what Next.js serves,
 * and the task API's forwarder (src/lib/task-api-forward.ts) on what server.ts answers itself,
 * which Next.js never sees. The Content-Security-Policy, which needs a per-request nonce, is set
 * in src/proxy.ts (pages only).
 */
export const SITE_HEADERS: Readonly<Record<string, string>> = {
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "strict-origin-when-cross-origin",
  "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
};
