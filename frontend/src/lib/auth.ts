import { betterAuth } from "better-auth";
import { nextCookies } from "better-auth/next-js";
import { jwt } from "better-auth/plugins";
import { twoFactor } from "better-auth/plugins/two-factor";

import { authDatabase } from "@/lib/auth-database";
import { checkAuthInputHook } from "@/lib/auth-input";
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "@/lib/auth-limits";
import { confirmedByChangeLink, secretCheckRateLimits, sessionWithCappedClientFields } from "@/lib/auth-guards";
import { clientAddressHeaders } from "@/lib/client-address";
import { deleteAccountGuard } from "@/lib/delete-account-guard";
import { betterAuthLogger } from "@/lib/log";
import { loopbackAliases } from "@/lib/loopback-origins";
import { requireEmailVerification } from "@/lib/auth-settings";
import {
  alreadySignedUpMail,
  changeEmailMail,
  resetPasswordMail,
  verifyEmailMail,
} from "@/lib/mail-messages";
import { sendMail } from "@/lib/mail";

const baseURL = process.env.BETTER_AUTH_URL ?? "http://localhost:3000";
// Better Auth writes the origin (no path, no trailing slash) into iss and aud; so do we.
const origin = new URL(baseURL).origin;
const verificationRequired = requireEmailVerification();

/** Better Auth's e-mail verification links are HS256 JWTs it has just signed; the payload's
 * `requestType` is "change-email-verification" for the link that changes an address
 * (better-auth/dist/api/routes/update-user, changeEmail). Read, not verified: only the message
 * text depends on it. */
function changesEmail(token: string): boolean {
  try {
    const payload: unknown = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString());
    return (payload as { requestType?: unknown }).requestType === "change-email-verification";
  } catch {
    return false;
  }
}

export const auth = betterAuth({
  appName: "Tasks",
  baseURL,
  secret: process.env.BETTER_AUTH_SECRET,
  database: authDatabase(),
  // A local run signs in at 127.0.0.1 and [::1] as at localhost (same port): lib/loopback-origins.
  trustedOrigins: loopbackAliases(origin),
  emailAndPassword: {
    enabled: true,
    minPasswordLength: PASSWORD_MIN_LENGTH,
    maxPasswordLength: PASSWORD_MAX_LENGTH,
    autoSignIn: true,
    // Forgot password: a one-time link (Better Auth stores its token and deletes it on use),
    // valid for an hour; a reset ends every session of the account.
    sendResetPassword: async ({ user, url }) => {
      await sendMail(resetPasswordMail(user.email, url));
    },
    resetPasswordTokenExpiresIn: 60 * 60,
    revokeSessionsOnPasswordReset: true,
    // REQUIRE_EMAIL_VERIFICATION (lib/auth-settings.ts): no sign-in before the address is
    // confirmed. Better Auth then also skips sign-in on sign-up and answers a sign-up for a
    // taken address as for a new one (a made-up user, the password hashed all the same);
    // the owner of the taken address is told by mail instead.
    requireEmailVerification: verificationRequired,
    onExistingUserSignUp: async ({ user }) => {
      await sendMail(alreadySignedUpMail(user.email, `${origin}/login`, `${origin}/forgot-password`));
    },
  },
  // A link to confirm the address: on sign-up, on request ("send it again"), and to the new
  // address on a change of address, which takes effect only when it is opened. Valid a day.
  emailVerification: {
    sendOnSignUp: true,
    expiresIn: 24 * 60 * 60,
    sendVerificationEmail: async ({ user, url, token }) => {
      await sendMail(changesEmail(token) ? changeEmailMail(user.email, url) : verifyEmailMail(user.email, url));
    },
  },
  user: {
    // Better Auth's own flow with neither updateEmailWithoutVerification nor
    // sendChangeEmailConfirmation: the link goes to the new address only, and the address
    // changes when it is opened. A new address that has an account gets no mail, and the
    // answer is the same (Better Auth's changeEmail).
    changeEmail: { enabled: true },
    // "Delete my account" (POST /delete-user): the password always, and a current TOTP code when
    // two-factor sign-in is on (src/lib/delete-account-guard.ts). Sessions go with the user row.
    deleteUser: { enabled: true },
  },
  session: {
    // How often a session in use is renewed, and so its updatedAt ("last active" on the account
    // page) written: hourly rather than Better Auth's daily default.
    updateAge: 60 * 60,
  },
  // Every field's type and length, on every endpoint, before the endpoint reads it.
  hooks: { before: checkAuthInputHook },
  // JSON lines: what a client sent never starts a line of its own (src/lib/log.ts).
  logger: betterAuthLogger,
  // Every endpoint that checks a password, token or secret is limited per client address as
  // sign-in is (3 in 10 s) in production; the rest 100 in 10 s (src/lib/auth-guards.ts).
  rateLimit: {
    enabled: process.env.NODE_ENV === "production",
    storage: "memory",
    customRules: secretCheckRateLimits,
  },
  // What a client's headers put into a session row is capped (User-Agent).
  databaseHooks: {
    session: { create: { before: sessionWithCappedClientFields } },
    user: { update: { before: confirmedByChangeLink } },
  },
  advanced: {
    // Sending e-mail is not awaited: "send me a link" then takes as long for an address with no
    // account as for one with an account, so its timing does not tell them apart. sendMail logs
    // its own failures; Better Auth adds a catch that logs what else is thrown.
    backgroundTasks: { handler: (task) => void task },
    // The client's address (rate limit, sessions' ipAddress) is the one server.ts vouches for:
    // the TCP peer, or X-Forwarded-For from TRUSTED_PROXIES only (src/lib/client-address.ts).
    ipAddress: { ipAddressHeaders: clientAddressHeaders() },
    // Secure cookies whenever the site is served over HTTPS; always HttpOnly and SameSite=Lax.
    useSecureCookies: baseURL.startsWith("https://"),
    defaultCookieAttributes: { httpOnly: true, sameSite: "lax" },
  },
  plugins: [
    jwt({
      // EdDSA (Ed25519) keys, the plugin's default, published at /api/auth/jwks.
      jwt: {
        issuer: origin,
        audience: origin,
        expirationTime: "15m",
        // The task API needs only `sub` (added by the plugin): no e-mail or name in the token.
        definePayload: () => ({}),
      },
    }),
    // Two-factor sign-in (TOTP, RFC 6238: 6 digits, 30 s, the plugin's defaults) with ten
    // one-time backup codes, both stored encrypted with BETTER_AUTH_SECRET. Turned on only once
    // a first code is confirmed; sign-in with a password then answers `twoFactorRedirect` and
    // sets a 10-minute challenge cookie instead of a session (/login/two-factor completes it).
    // The issuer in the authenticator app is appName ("Tasks").
    twoFactor(),
    deleteAccountGuard(async (code: string, headers: Headers): Promise<void> => {
      await auth.api.verifyTOTP({ body: { code }, headers });
    }),
    nextCookies(), // last: lets server actions set cookies
  ],
});

export type Session = typeof auth.$Infer.Session;
