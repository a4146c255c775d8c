import type { GenericEndpointContext } from "@better-auth/core";
import { betterAuth } from "better-auth";
import { nextCookies } from "better-auth/next-js";
import { jwt } from "better-auth/plugins";
import type { JwtOptions } from "better-auth/plugins/jwt";

import { authDatabase } from "@/lib/auth-database";
import { checkAuthInputHook } from "@/lib/auth-input";
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "@/lib/auth-limits";
import { secretCheckRateLimits, sessionWithCappedClientFields } from "@/lib/auth-guards";
import { clientAddressHeaders } from "@/lib/client-address";
import { betterAuthLogger, writeLog } from "@/lib/log";
import { loopbackAliases } from "@/lib/loopback-origins";
import { resetPasswordMail } from "@/lib/mail-messages";
import { sendMail } from "@/lib/mail";
import {
  ACCOUNT_PURGED,
  enqueue,
  purgeOrRefuse,
  SESSION_REVOKED,
  securityEventOutbox,
  signEvent,
} from "@/lib/security-events";

const baseURL = process.env.BETTER_AUTH_URL ?? "http://localhost:3000";
// Better Auth writes the origin (no path, no trailing slash) into iss and aud; so do we.
const origin = new URL(baseURL).origin;

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
  // A session deleted, whatever deleted it, ends its tokens at the task API.
  databaseHooks: {
    session: {
      create: { before: sessionWithCappedClientFields },
      delete: { after: sessionEnded },
    },
  },
  // Deleting an account (POST /api/auth/delete-user with the password: src/lib/auth-input.ts)
  // first erases its tasks at the task API; if that fails, nothing is deleted. `beforeDelete`
  // rather than `databaseHooks.user.delete.before`: Better Auth deletes the sessions before the
  // user row, so a refusal there would leave the person signed out with the account still there.
  user: { deleteUser: { enabled: true, beforeDelete: eraseTasksOrRefuse } },
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
    nextCookies(), // last: lets server actions set cookies
  ],
});

export type Session = typeof auth.$Infer.Session;
