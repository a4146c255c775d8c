import type { BetterAuthPlugin } from "better-auth";
import { APIError, createAuthMiddleware, getSessionFromCtx, isAPIError } from "better-auth/api";

import { TOTP_CODE_ALREADY_USED } from "@/lib/totp-once";

/** Checks a code for the signed-in person whose request headers these are; throws (any error)
 * when the code is not right. In auth.ts, Better Auth's two-factor plugin's own checks with a
 * session: `auth.api.verifyTOTP` (POST /two-factor/verify-totp: same secret, digits, period and
 * clock skew as sign-in) and `auth.api.verifyBackupCode` (POST /two-factor/verify-backup-code,
 * which uses the backup code up). */
export type CodeCheck = (code: string, headers: Headers) => Promise<void>;

/** The two checks the guard is given: a TOTP code, and a one-time backup code. */
export interface SecondFactorChecks {
  totp: CodeCheck;
  backupCode: CodeCheck;
}

/**
 * What one guarded endpoint needs, besides what it checks itself:
 * - `passwordRequired`: the message when the body has no password (the endpoint then checks that
 *   it is right), or absent when the endpoint asks for one itself;
 * - `backupCodeAccepted`: whether a backup code will do instead of a TOTP code (turning two-factor
 *   off after the phone is lost);
 * - `what`: the action, in words, for the "type the code" message.
 */
interface GuardedEndpoint {
  passwordRequired?: string;
  backupCodeAccepted: boolean;
  what: string;
}

/**
 * The endpoints that, for an account with two-factor sign-in on, need a current code as well as
 * the session cookie and password: otherwise whoever has those two could read the TOTP secret
 * (get-totp-uri) and compute codes, turn two-factor off, make new backup codes, or delete the
 * account, so the second factor would protect nothing. Paths as Better Auth names them
 * (`ctx.path`: /delete-user is core's "delete user", the others better-auth/plugins/two-factor).
 */
export const GUARDED_ENDPOINTS: Readonly<Record<string, GuardedEndpoint>> = {
  "/delete-user": {
    // Better Auth itself deletes without a password when the session is "fresh" (less than a
    // day old); here a session cookie alone, stolen or left on a shared computer, never ends an
    // account.
    passwordRequired: "Type your password to delete your account.",
    backupCodeAccepted: false,
    what: "delete your account",
  },
  "/two-factor/get-totp-uri": { backupCodeAccepted: false, what: "see the authenticator key" },
  "/two-factor/generate-backup-codes": { backupCodeAccepted: false, what: "make new backup codes" },
  "/two-factor/disable": { backupCodeAccepted: true, what: "turn two-factor sign-in off" },
};

function refuse(code: string, message: string): never {
  throw new APIError("BAD_REQUEST", { code, message });
}

/** Six digits (RFC 6238 with the plugin's default `digits`): a TOTP code; anything else is
 * taken for a backup code where one is accepted. */
const TOTP_CODE = /^\d{6}$/;

/**
 * A plugin of this app's own, a `hooks.before` on each of GUARDED_ENDPOINTS, run before the
 * endpoint reads anything or changes anything:
 *
 * - where the endpoint's rule says so, the password is required (/delete-user);
 * - with two-factor on and a code given, the password is checked first (as the endpoint checks
 *   it), since a TOTP code accepted cannot be used again (src/lib/totp-once.ts);
 * - when the account has two-factor sign-in on (`user.twoFactorEnabled`, read from the database,
 *   not from the session's copy), a current TOTP code (`code` in the body; white space ignored)
 *   is required too and checked on the server with `checks.totp`; on /two-factor/disable a
 *   backup code will do instead (`checks.backupCode`, which uses it up). Accounts without
 *   two-factor on need no code (while it is being set up the secret is the person's to see).
 *
 * Refusals are APIError 400 `{code, message}`, the message in a person's words:
 * `PASSWORD_REQUIRED`, `TWO_FACTOR_CODE_REQUIRED`, `INVALID_TWO_FACTOR_CODE`,
 * `TOTP_CODE_ALREADY_USED` (a right code already accepted). Without a session
 * the hook does nothing and the endpoint answers 401 itself. Every guarded path is limited as
 * sign-in is (auth-guards.ts: 3 in 10 s per address), which bounds guessing the code here.
 */
export function secondFactorGuard(checks: SecondFactorChecks): BetterAuthPlugin {
  return {
    id: "second-factor-guard",
    hooks: {
      before: [
        {
          matcher: (context) => Object.hasOwn(GUARDED_ENDPOINTS, context.path ?? ""),
          handler: createAuthMiddleware(async (ctx) => {
            const rule = GUARDED_ENDPOINTS[ctx.path];
            if (!rule) return;
            const session = await getSessionFromCtx(ctx);
            if (!session) return;
            const body: Record<string, unknown> =
              ctx.body !== null && typeof ctx.body === "object" ? (ctx.body as Record<string, unknown>) : {};
            if (rule.passwordRequired && (typeof body.password !== "string" || body.password === "")) {
              refuse("PASSWORD_REQUIRED", rule.passwordRequired);
            }
            const user = await ctx.context.internalAdapter.findUserById(session.user.id);
            if (!user || (user as { twoFactorEnabled?: unknown }).twoFactorEnabled !== true) return;
            // People copy codes with the space authenticator apps show in the middle ("123 456").
            const code = typeof body.code === "string" ? body.code.replace(/\s/g, "") : "";
            if (code === "") {
              refuse(
                "TWO_FACTOR_CODE_REQUIRED",
                rule.backupCodeAccepted
                  ? `Two-factor sign-in is on for this account: to ${rule.what}, type the 6-digit code from your authenticator app, or one of your backup codes.`
                  : `Two-factor sign-in is on for this account: to ${rule.what}, type the 6-digit code from your authenticator app too.`,
              );
            }
            // The password before the code: a TOTP code is used up once accepted
            // (src/lib/totp-once.ts), so a mistyped password must not spend it. Every guarded
            // endpoint asks for the password; this is the check they make (INVALID_PASSWORD).
            await ctx.context.password.checkPassword(user.id, ctx);
            const backup = rule.backupCodeAccepted && !TOTP_CODE.test(code);
            try {
              await (backup ? checks.backupCode : checks.totp)(code, ctx.headers ?? new Headers());
            } catch (error) {
              if (!isAPIError(error)) throw error;
              // A right TOTP code already accepted (src/lib/totp-once.ts): said as such.
              if (!backup && error.body?.code === TOTP_CODE_ALREADY_USED.code) {
                refuse(TOTP_CODE_ALREADY_USED.code, TOTP_CODE_ALREADY_USED.message);
              }
              refuse(
                "INVALID_TWO_FACTOR_CODE",
                backup
                  ? "That backup code is not right, or it has been used already."
                  : "That code is not right: type the 6 digits your authenticator app shows now.",
              );
            }
          }),
        },
      ],
    },
  };
}
