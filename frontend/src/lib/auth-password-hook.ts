import { APIError, getSessionFromCtx } from "better-auth/api";
import type { AuthContext } from "better-auth";

import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "@/lib/auth-limits";
import { type Person, passwordProblem } from "@/lib/password-rule";

type Body = Record<string, unknown>;

/** What the before hook hands in: the endpoint's path, its parsed body and query, and Better
 * Auth's context. */
type HookContext = Parameters<typeof getSessionFromCtx>[0] & {
  path: string;
  body?: unknown;
  query?: unknown;
  context: AuthContext;
};

/** The reset token where /reset-password reads it: `ctx.body.token || ctx.query?.token`
 * (better-auth/dist/api/routes/password.mjs, resetPassword), so the body's wins unless empty. */
function resetToken(ctx: HookContext, body: Body): unknown {
  if (body.token) return body.token;
  const query = ctx.query;
  return query !== null && typeof query === "object" ? (query as Body).token : undefined;
}

/** The person whose password a reset link changes: the link's token names them (Better Auth
 * stores it as `reset-password:{token}` → user id, better-auth/dist/api/routes/password). Null
 * for a token it does not know, which the endpoint then refuses itself (INVALID_TOKEN). */
async function personOfResetToken(ctx: HookContext, token: unknown): Promise<Person | null> {
  if (typeof token !== "string" || token === "") return null;
  const verification = await ctx.context.internalAdapter.findVerificationValue(`reset-password:${token}`);
  if (!verification || verification.expiresAt < new Date()) return null;
  return ctx.context.internalAdapter.findUserById(verification.value);
}

/** The new password a request sets, and whose it is; null when the request sets none, or its
 * owner is unknown (the endpoint refuses such a request on its own). Each input is read where
 * the endpoint reads it (better-auth/dist/api/routes): sign-up's fields from the body only
 * (sign-up.mjs), reset's new password from the body and its token from the body or the query
 * (password.mjs), change's new password from the body and its person from the session
 * (update-user.mjs). */
async function passwordBeingSet(ctx: HookContext, body: Body): Promise<[string, Person] | null> {
  switch (ctx.path) {
    case "/sign-up/email":
      return typeof body.password === "string"
        ? [body.password, { email: String(body.email ?? ""), name: String(body.name ?? "") }]
        : null;
    case "/reset-password": {
      if (typeof body.newPassword !== "string") return null;
      const person = await personOfResetToken(ctx, resetToken(ctx, body));
      return person ? [body.newPassword, person] : null;
    }
    case "/change-password": {
      if (typeof body.newPassword !== "string") return null;
      const session = await getSessionFromCtx(ctx);
      return session ? [body.newPassword, session.user] : null;
    }
    default:
      return null;
  }
}

/**
 * The password rule (password-rule.ts) on every endpoint that sets a password: sign-up, reset
 * (the e-mailed link) and change. Runs as part of Better Auth's `hooks.before`, after the input
 * checks, with `body` as they cleaned it. Throws APIError 400 `PASSWORD_TOO_WEAK` with the reason
 * in words; a refused reset does not spend its link (the endpoint never ran).
 *
 * A password outside the length limits is left to Better Auth, which answers with its own codes
 * (PASSWORD_TOO_SHORT, PASSWORD_TOO_LONG).
 */
export async function checkPasswordRule(ctx: HookContext, body: Body): Promise<void> {
  const found = await passwordBeingSet(ctx, body);
  if (!found) return;
  const [password, person] = found;
  if (password.length < PASSWORD_MIN_LENGTH || password.length > PASSWORD_MAX_LENGTH) return;
  const problem = passwordProblem(password, person);
  if (problem) throw new APIError("BAD_REQUEST", { code: "PASSWORD_TOO_WEAK", message: problem });
}

/**
 * A password change ends every other session: the app promises it (docs/design.md, the account
 * page), so the server insists rather than trusting the client. For `/change-password` the body
 * Better Auth reads gets `revokeOtherSessions: true` whatever was sent (false or left out, which
 * Better Auth takes as false: better-auth/dist/api/routes/update-user.mjs, changePassword).
 *
 * Overriding rather than refusing `false`: a client that leaves the field out (Better Auth's own
 * `authClient.changePassword({currentPassword, newPassword})`) gets the promised behaviour
 * instead of an error, and no request can change a password without ending the other sessions.
 *
 * Returns the body to use instead, or undefined when nothing changes (another endpoint, or the
 * field already true). Shape: the request's JSON object with the one field set.
 */
export function endOtherSessionsOnChange(path: string, body: Body): Body | undefined {
  if (path !== "/change-password" || body.revokeOtherSessions === true) return undefined;
  return { ...body, revokeOtherSessions: true };
}
