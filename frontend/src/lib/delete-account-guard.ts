import type { BetterAuthPlugin } from "better-auth";
import { APIError, createAuthMiddleware, getSessionFromCtx, isAPIError } from "better-auth/api";

/** Checks a TOTP code for the signed-in person whose request headers these are; throws (any
 * error) when the code is not right. In auth.ts: Better Auth's two-factor plugin's own check,
 * `auth.api.verifyTOTP` (POST /two-factor/verify-totp with a session: same secret, digits,
 * period and clock skew as sign-in). */
export type TotpCheck = (code: string, headers: Headers) => Promise<void>;

function refuse(code: string, message: string): never {
  throw new APIError("BAD_REQUEST", { code, message });
}

/**
 * A plugin of this app's own, a `hooks.before` on POST /delete-user (Better Auth's "delete
 * user", enabled in auth.ts), run before the endpoint reads anything or erases anything:
 *
 * - the password is required. Better Auth itself deletes without one when the session is
 *   "fresh" (less than a day old); here a session cookie alone, stolen or left on a shared
 *   computer, never ends an account. The endpoint then checks that the password is right.
 * - when the account has two-factor sign-in on (`user.twoFactorEnabled`, read from the database,
 *   not from the session's copy), a current TOTP code (`code` in the body) is required too and
 *   checked on the server with `checkTotp`, so that a password alone cannot delete an account
 *   that needs two factors to sign in.
 *
 * Refusals are APIError 400 `{code, message}`, the message in a person's words:
 * `PASSWORD_REQUIRED`, `TWO_FACTOR_CODE_REQUIRED`, `INVALID_TWO_FACTOR_CODE`. Without a session
 * the hook does nothing and the endpoint answers 401 itself. The request rate of /delete-user is
 * sign-in's (auth-guards.ts), which bounds guessing the code here.
 */
export function deleteAccountGuard(checkTotp: TotpCheck): BetterAuthPlugin {
  return {
    id: "delete-account-guard",
    hooks: {
      before: [
        {
          matcher: (context) => context.path === "/delete-user",
          handler: createAuthMiddleware(async (ctx) => {
            const session = await getSessionFromCtx(ctx);
            if (!session) return;
            const body: Record<string, unknown> =
              ctx.body !== null && typeof ctx.body === "object" ? (ctx.body as Record<string, unknown>) : {};
            if (typeof body.password !== "string" || body.password === "") {
              refuse("PASSWORD_REQUIRED", "Type your password to delete your account.");
            }
            const user = await ctx.context.internalAdapter.findUserById(session.user.id);
            if (!user || (user as { twoFactorEnabled?: unknown }).twoFactorEnabled !== true) return;
            // People copy codes with the space authenticator apps show in the middle ("123 456").
            const code = typeof body.code === "string" ? body.code.replace(/\s/g, "") : "";
            if (code === "") {
              refuse(
                "TWO_FACTOR_CODE_REQUIRED",
                "Two-factor sign-in is on for this account: type the 6-digit code from your authenticator app too.",
              );
            }
            try {
              await checkTotp(code, ctx.headers ?? new Headers());
            } catch (error) {
              if (!isAPIError(error)) throw error;
              refuse(
                "INVALID_TWO_FACTOR_CODE",
                "That code is not right: type the 6 digits your authenticator app shows now.",
              );
            }
          }),
        },
      ],
    },
  };
}
