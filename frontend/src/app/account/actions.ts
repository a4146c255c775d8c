"use server";

import { isAPIError } from "better-auth/api";
import { headers } from "next/headers";

import { auth } from "@/lib/auth";
import { TOKEN_MAX_LENGTH } from "@/lib/auth-limits";
import { writeLog } from "@/lib/log";

/** What a sessions action answers: `error` null on success, else an HTTP status and a message in
 * a person's words (the shape Better Auth's client gives, so the page shows both alike). */
export type SessionActionResult = { error: { status: number; message: string } | null };

const ALREADY_ENDED = "That session has already ended.";

/**
 * Ends one of the signed-in person's own sessions, named by its id (a Next.js server action:
 * https://nextjs.org/docs/app/guides/forms, POST with Next.js's own Origin check against Host).
 *
 * Why on the server: Better Auth names the session to revoke by its token (POST /revoke-session),
 * and a session token is the credential itself (it is what the HttpOnly cookie carries), so the
 * account page never sends tokens to the browser, only ids; the token is looked up here.
 *
 * `sessionId`: a session id as the account page lists it (a string; anything else, or longer than
 * TOKEN_MAX_LENGTH, is refused with 400). The id must be among the sessions of the person whose
 * cookie came with the request (auth.api.listSessions, which lists only unexpired sessions); an
 * id not found (already ended, expired, or someone else's) answers 404 "That session has already
 * ended.", the same for all three so that nothing is learnt about other accounts. No session
 * cookie, or an ended one: 401 from Better Auth.
 *
 * Rate: none of its own. Calling auth.api directly skips Better Auth's HTTP rate limiter (which
 * limits /revoke-session to 3 in 10 s because a token is a secret worth guessing); here nothing is
 * guessed: the action needs a valid session, an id only ever matches that person's own sessions,
 * and a call costs what loading the account page costs (one session check, one list), which is
 * not limited either.
 */
export async function revokeSessionById(sessionId: unknown): Promise<SessionActionResult> {
  if (typeof sessionId !== "string" || sessionId === "" || sessionId.length > TOKEN_MAX_LENGTH) {
    return { error: { status: 400, message: "That is not a session of this account." } };
  }
  const requestHeaders = await headers();
  try {
    const sessions = await auth.api.listSessions({ headers: requestHeaders });
    const session = sessions.find((candidate) => candidate.id === sessionId);
    if (!session) return { error: { status: 404, message: ALREADY_ENDED } };
    await auth.api.revokeSession({ headers: requestHeaders, body: { token: session.token } });
    return { error: null };
  } catch (error) {
    if (!isAPIError(error)) {
      writeLog("error", "account", "revoking a session failed", [error]);
      return { error: { status: 500, message: "Something went wrong. Try again." } };
    }
    const message = typeof error.body?.message === "string" ? error.body.message : "";
    return { error: { status: error.statusCode, message } };
  }
}
