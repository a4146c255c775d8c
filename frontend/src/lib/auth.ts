import type { GenericEndpointContext } from "better-auth";
import { betterAuth } from "better-auth";
import { nextCookies } from "better-auth/next-js";
import { jwt } from "better-auth/plugins";
import { twoFactor } from "better-auth/plugins/two-factor";
import type { JwtOptions } from "better-auth/plugins/jwt";

import { authDatabase } from "@/lib/auth-database";
import { newBackupCodes } from "@/lib/backup-code";
import { checkAuthInputHook } from "@/lib/auth-input";
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "@/lib/auth-limits";
import { confirmedByChangeLink, secretCheckRateLimits, sessionWithCappedClientFields } from "@/lib/auth-guards";
import { clientAddressHeaders } from "@/lib/client-address";
import { secondFactorGuard } from "@/lib/second-factor-guard";
import { totpOnce } from "@/lib/totp-once";
import { betterAuthLogger } from "@/lib/log";
import { writeLog } from "@/lib/log";
import { loopbackAliases } from "@/lib/loopback-origins";
import { requireEmailVerification } from "@/lib/auth-settings";
import {
  alreadySignedUpMail,
  changeEmailMail,
  resetPasswordMail,
  verifyEmailMail,
} from "@/lib/mail-messages";
import { sendMail } from "@/lib/mail";
import {
  ACCOUNT_PURGED,
  enqueue,
  purgeOrRefuse,
  resumeOutbox,
  SESSION_REVOKED,
  securityEventOutbox,
  signEvent,
} from "@/lib/security-events";

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

const jwtOptions: JwtOptions = {
  // EdDSA (Ed25519) keys, the plugin's default, published at /api/auth/jwks.
  jwt: {
    issuer: origin,
    audience: origin,
    // The task API's JWT_MAX_LIFETIME_SECONDS must be at least this (it is, by default: 900).
    expirationTime: "15m",
    // The task API needs `sub` (added by the plugin) and `sid`, the session the token speaks for
    // (OpenID Front-Channel Logout 1.0 §3), so that signing out ends that session's tokens
    // (src/lib/security-events.ts). No e-mail or name in the token.
    definePayload: ({ session }) => ({ sid: session.id }),
  },
};

/** What signing a Security Event Token needs of Better Auth: its context (database, secret,
 * options), as an endpoint would hand it. Hooks run after the module is loaded, so `auth` is set. */
async function signingContext(): Promise<GenericEndpointContext> {
  return { context: await auth.$context } as unknown as GenericEndpointContext;
}

/** Delivers the security events a previous process of the web app left undelivered; called once
 * when the server starts (src/instrumentation.ts). Never throws. */
export async function resumeSecurityEvents(): Promise<void> {
  await resumeOutbox((await signingContext()).context);
}

/** Better Auth deleted a session row (sign-out, revoke-session(s), a password changed or reset,
 * an account deleted, an expired session swept): its tokens must stop working now. Never throws:
 * the deletion has happened; delivery is retried in the background (src/lib/security-events.ts). */
async function sessionEnded(session: { id: string; userId: string }): Promise<void> {
  try {
    const signing = await signingContext();
    const set = await signEvent(signing, jwtOptions, SESSION_REVOKED, {
      format: "complex",
      user: { format: "opaque", id: session.userId },
      session: { format: "opaque", id: session.id },
    }, { event_timestamp: Math.floor(Date.now() / 1000) });
    await enqueue(signing.context, set, "session-revoked");
  } catch (error) {
    writeLog("error", "security-events", "session-revoked: could not sign the event", [error]);
  }
}

/** Before Better Auth deletes an account (and before it deletes its sessions): the task API erases
 * the account's tasks, or the deletion is refused (src/lib/security-events.ts, purgeOrRefuse). */
async function eraseTasksOrRefuse(user: { id: string }): Promise<void> {
  const set = await signEvent(await signingContext(), jwtOptions, ACCOUNT_PURGED, {
    format: "opaque",
    id: user.id,
  });
  await purgeOrRefuse(set);
}

/** After Better Auth has deleted an account (user row, sessions): its pending two-factor sign-in
 * challenges go too. A sign-in that passed the password and waits for a code is a `verification`
 * row of the two-factor plugin, identifier `2fa-…` and value the user's id, with its attempt
 * counter (`2fa-attempts-2fa-…`); Better Auth does not delete them with the user, so they would
 * stay, naming a deleted account, until they expire (10 minutes). Identifiers as stored with
 * Better Auth's default `verification.storeIdentifier` (plain), which this file keeps. Never
 * throws: the account is deleted whatever happens here, and what is left expires on its own. */
async function forgetTwoFactorChallenges(user: { id: string }): Promise<void> {
  try {
    const { adapter } = await auth.$context;
    const challenges = await adapter.findMany<{ identifier: string }>({
      model: "verification",
      where: [
        { field: "value", value: user.id },
        { field: "identifier", operator: "starts_with", value: "2fa-" },
      ],
    });
    const identifiers = challenges.map(({ identifier }) => identifier);
    if (identifiers.length === 0) return;
    await adapter.deleteMany({
      model: "verification",
      where: [
        {
          field: "identifier",
          operator: "in",
          value: [...identifiers, ...identifiers.map((identifier) => `2fa-attempts-${identifier}`)],
        },
      ],
    });
  } catch (error) {
    writeLog("error", "account", "deleting a deleted account's two-factor challenges failed", [error]);
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
    // two-factor sign-in is on (src/lib/second-factor-guard.ts). Sessions go with the user row.
    // Deleting an account first erases its tasks at the task API; if that fails, nothing is
    // deleted. `beforeDelete` rather than `databaseHooks.user.delete.before`: Better Auth deletes
    // the sessions before the user row, so a refusal there would leave the person signed out
    // with the account still there. Afterwards, its pending two-factor sign-ins are removed
    // (forgetTwoFactorChallenges).
    deleteUser: {
      enabled: true,
      beforeDelete: eraseTasksOrRefuse,
      afterDelete: forgetTwoFactorChallenges,
    },
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
  // What a client's headers put into a session row is capped (User-Agent); a session deleted,
  // whatever deleted it, ends its tokens at the task API.
  databaseHooks: {
    session: {
      create: { before: sessionWithCappedClientFields },
      delete: { after: sessionEnded },
    },
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
    jwt(jwtOptions),
    securityEventOutbox(), // the table of SETs not yet delivered (src/lib/security-events.ts)
    // Two-factor sign-in (TOTP, RFC 6238: 6 digits, 30 s, the plugin's defaults) with ten
    // one-time backup codes, both stored encrypted with BETTER_AUTH_SECRET. Turned on only once
    // a first code is confirmed; sign-in with a password then answers `twoFactorRedirect` and
    // sets a 10-minute challenge cookie instead of a session (/login/two-factor completes it).
    // The issuer in the authenticator app is appName ("Tasks"). The backup codes are this app's
    // own (src/lib/backup-code.ts): one case, no look-alike characters, in groups, ≈ 57 bits.
    twoFactor({ backupCodeOptions: { customBackupCodesGenerate: newBackupCodes } }),
    // A TOTP code is accepted once, on every path that checks one (RFC 6238 §5.2): the plugin
    // alone takes the same code again while it is in its window (src/lib/totp-once.ts).
    totpOnce(),
    // With two-factor on, a current code as well as the session (and password) for deleting the
    // account, reading the TOTP secret, making backup codes and turning two-factor off.
    secondFactorGuard({
      totp: async (code: string, headers: Headers): Promise<void> => {
        await auth.api.verifyTOTP({ body: { code }, headers });
      },
      backupCode: async (code: string, headers: Headers): Promise<void> => {
        await auth.api.verifyBackupCode({ body: { code, disableSession: true }, headers });
      },
    }),
    nextCookies(), // last: lets server actions set cookies
  ],
});

export type Session = typeof auth.$Infer.Session;
