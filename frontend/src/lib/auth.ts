import { betterAuth } from "better-auth";
import { nextCookies } from "better-auth/next-js";
import { jwt } from "better-auth/plugins";

import { authDatabase } from "@/lib/auth-database";
import { loopbackAliases } from "@/lib/loopback-origins";

const baseURL = process.env.BETTER_AUTH_URL ?? "http://localhost:3000";
// Better Auth writes the origin (no path, no trailing slash) into iss and aud; so do we.
const origin = new URL(baseURL).origin;

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

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
  },
  // Sign-in and sign-up are limited per client address (3 in 10 s) in production. The address
  // comes from X-Forwarded-For, so run behind a proxy that sets it (see SECURITY.md).
  rateLimit: { enabled: process.env.NODE_ENV === "production", storage: "memory" },
  advanced: {
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
    nextCookies(), // last: lets server actions set cookies
  ],
});

export type Session = typeof auth.$Infer.Session;
