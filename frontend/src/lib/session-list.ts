import { userAgentFromString } from "next/server";

/** One session as the account page shows it: no date objects, so it crosses to the browser as is.
 * No token: a session token is the credential itself (what the session cookie carries), so the
 * browser gets ids only, and app/account/actions.ts finds the token on the server to end one. */
export type SessionRow = {
  id: string;
  /** "Chrome 120 on Linux", or "Unknown browser" when the User-Agent says nothing usable. */
  device: string;
  ipAddress: string | null;
  /** ISO 8601: when the session was last renewed (Better Auth's `updatedAt`; at most
   * `session.updateAge`, an hour, behind real use) or created. */
  lastActive: string;
  current: boolean;
};

type StoredSession = {
  id: string;
  userAgent?: string | null;
  ipAddress?: string | null;
  updatedAt: Date;
  createdAt: Date;
};

/** The browser and system named in a User-Agent header, in words (Next.js's `userAgent` helper,
 * which parses with ua-parser-js: https://nextjs.org/docs/app/api-reference/functions/userAgent). */
export function describeUserAgent(header: string | null | undefined): string {
  const { browser, os } = userAgentFromString(header ?? "");
  const name = browser.name ? [browser.name, browser.major].filter(Boolean).join(" ") : "Unknown browser";
  return os.name ? `${name} on ${[os.name, os.version].filter(Boolean).join(" ")}` : name;
}

/** Better Auth's sessions (auth.api.listSessions) for the account page: the current one
 * (`currentId`) first, then the most recently active. */
export function sessionRows(sessions: StoredSession[], currentId: string): SessionRow[] {
  return sessions
    .map((session) => ({
      id: session.id,
      device: describeUserAgent(session.userAgent),
      ipAddress: session.ipAddress ?? null,
      lastActive: new Date(session.updatedAt ?? session.createdAt).toISOString(),
      current: session.id === currentId,
    }))
    .sort((a, b) => Number(b.current) - Number(a.current) || b.lastActive.localeCompare(a.lastActive));
}
