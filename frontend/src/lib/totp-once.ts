import { createHmac, timingSafeEqual } from "node:crypto";

import type { BetterAuthPlugin } from "better-auth";
import { APIError, createAuthMiddleware, getSessionFromCtx } from "better-auth/api";
import { symmetricDecrypt } from "better-auth/crypto";

/** The refusal of a right code that has been accepted already (or one older than it): a code and
 * message of its own, not the plugin's INVALID_CODE for a wrong one, so that the page can say
 * to wait for the next code rather than to retype this one (src/lib/two-factor-messages.ts). */
export const TOTP_CODE_ALREADY_USED = {
  code: "TOTP_CODE_ALREADY_USED",
  message: "That code has just been used. Wait for the next one your app shows.",
} as const;

/** The table: per user, the time-step of the last TOTP code accepted (one row per user). */
const LAST_STEP = "totpLastStep";

/** The two-factor plugin's defaults, which auth.ts keeps: 6 digits, 30 s, one step either side. */
const DIGITS = 6;
const PERIOD_MS = 30_000;
const WINDOW = 1;
/** How far back a code is still recognised, to say "used" rather than "not right" of a code
 * that was accepted and has since left the plugin's window (10 steps: 5 minutes; a wrong code
 * then matches one of them once in 100,000 tries, and is only told to wait). */
const RECOGNISED = 10;

/** RFC 4226 §5.3 HOTP of `counter`, as Better Auth computes it (HMAC-SHA-1, the secret's UTF-8
 * bytes as the key: @better-auth/utils/otp). */
function hotp(key: Buffer, counter: number): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac("sha1", key).update(message).digest();
  const offset = mac.readUInt8(mac.length - 1) & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** DIGITS).padStart(DIGITS, "0");
}

/** The latest time-step `code` is the code of, from RECOGNISED steps before `now` to the last
 * the plugin accepts (`now` + WINDOW), or null. Compared in constant time, as the plugin
 * compares. */
function stepOf(secret: string, code: string, now: number): number | null {
  const given = Buffer.from(code);
  const key = Buffer.from(secret, "utf8");
  let found: number | null = null;
  for (let step = now - RECOGNISED; step <= now + WINDOW; step++) {
    const expected = Buffer.from(hotp(key, step));
    if (given.length === expected.length && timingSafeEqual(given, expected)) found = step;
  }
  return found;
}

/**
 * A TOTP code is accepted once (RFC 6238 §5.2: "the verifier MUST NOT accept the second attempt
 * of the OTP after the successful validation has been issued for the first OTP"). Better Auth's
 * two-factor plugin has no such check: it accepts a code as often as it likes while the code is
 * in its window (90 s).
 *
 * A `hooks.before` on POST /two-factor/verify-totp, the one endpoint that checks a TOTP code:
 * sign-in's second step, the set-up confirmation, and, through `auth.api.verifyTOTP`, the code
 * second-factor-guard.ts asks for (get-totp-uri, disable, generate-backup-codes, delete-user).
 * When the code is right (computed here as the plugin computes it), its time-step must be later
 * than the last one accepted for the account: the row is moved on to it in one conditional
 * UPDATE, so two requests with the same code cannot both pass. Otherwise the answer is 401
 * TOTP_CODE_ALREADY_USED (above), not the plugin's INVALID_CODE: the code is right, only spent,
 * and the person should wait for the next one. A wrong code is left to the plugin, which
 * counts the failure. An older step's code after a newer one is refused as well (as most
 * verifiers do): the steps only go forward. A spent code retyped after it has left the
 * plugin's window (up to RECOGNISED steps back) is still said to be used, not wrong.
 *
 * Secrets imported from elsewhere (stored as `base32:…`) are not decoded here: this app makes
 * its own, and none of its codes would match such a secret, so the plugin alone would decide.
 */
export function totpOnce() {
  return {
    id: "totp-once",
    schema: {
      [LAST_STEP]: {
        fields: {
          userId: {
            type: "string",
            required: true,
            unique: true,
            references: { model: "user", field: "id", onDelete: "cascade" },
          },
          step: { type: "number", required: true },
        },
      },
    },
    hooks: {
      before: [
        {
          matcher: (context) => context.path === "/two-factor/verify-totp",
          handler: createAuthMiddleware(async (ctx) => {
            const code: unknown = (ctx.body as { code?: unknown } | undefined)?.code;
            if (typeof code !== "string") return;
            const userId = await userOf(ctx);
            if (!userId) return; // the plugin answers 401 itself
            const row = await ctx.context.adapter.findOne<{ secret: string }>({
              model: "twoFactor",
              where: [{ field: "userId", value: userId }],
            });
            if (!row) return;
            const secret = await symmetricDecrypt({ key: ctx.context.secretConfig, data: row.secret });
            const now = Math.floor(Date.now() / PERIOD_MS);
            const step = stepOf(secret, code, now);
            if (step === null) return;
            if (step < now - WINDOW) {
              // Out of the plugin's window, so refused whatever happens here: as used when it
              // was (at or before the last step accepted: the person retyped a code that
              // worked a minute ago, and should wait for the next one), else by the plugin as
              // not right (an old code never used).
              const last = await ctx.context.adapter.findOne<{ step: number }>({
                model: LAST_STEP,
                where: [{ field: "userId", value: userId }],
              });
              if (last && last.step >= step) throw new APIError("UNAUTHORIZED", { ...TOTP_CODE_ALREADY_USED });
              return;
            }
            const moved = await ctx.context.adapter.updateMany({
              model: LAST_STEP,
              where: [
                { field: "userId", value: userId },
                { field: "step", operator: "lt", value: step },
              ],
              update: { step },
            });
            if (moved > 0) return;
            const last = await ctx.context.adapter.findOne({
              model: LAST_STEP,
              where: [{ field: "userId", value: userId }],
            });
            if (!last) {
              try {
                await ctx.context.adapter.create({ model: LAST_STEP, data: { userId, step } });
                return;
              } catch {
                // Another request made the row first (userId is unique): it used this code.
              }
            }
            throw new APIError("UNAUTHORIZED", { ...TOTP_CODE_ALREADY_USED });
          }),
        },
      ],
    },
  } satisfies BetterAuthPlugin;
}

type HookContext = Parameters<typeof getSessionFromCtx>[0];

/** Whose code it is: the signed-in person's (set-up, the guard), or, at sign-in, the user the
 * signed two-factor challenge cookie names (as the plugin finds it: verify-two-factor.ts). */
async function userOf(ctx: HookContext): Promise<string | null> {
  const session = await getSessionFromCtx(ctx);
  if (session) return session.user.id;
  const cookie = ctx.context.createAuthCookie("two_factor");
  const challenge = await ctx.getSignedCookie(cookie.name, ctx.context.secret);
  if (!challenge) return null;
  const value = await ctx.context.internalAdapter.findVerificationValue(challenge);
  return value?.value ?? null;
}
