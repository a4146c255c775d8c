import { IP_ADDRESS_MAX_LENGTH, USER_AGENT_MAX_LENGTH } from "@/lib/auth-limits";

/** Sign-in's rate (Better Auth's own rule for /sign-in, /sign-up, /change-password, /change-email). */
const SIGN_IN_RATE = { window: 10, max: 3 };

/**
 * Better Auth's `rateLimit.customRules`: every route of this app (core, JWT and two-factor
 * plugins; `auth.api`)
 * that checks a password, a token sent by e-mail or another secret gets sign-in's rate per client
 * address, so none can be used to guess one at the general rate (100 in 10 s). Better Auth
 * matches these paths exactly, `*` as a wildcard (better-auth/dist/api/rate-limiter).
 * /request-password-reset and /send-verification-email are left out: Better Auth already limits
 * them to 3 a minute, stricter than this.
 */
export const secretCheckRateLimits: Record<string, { window: number; max: number }> = Object.fromEntries(
  [
    "/sign-in/*", // email, social (id token)
    "/sign-up/*",
    "/verify-password",
    "/change-password",
    "/change-email",
    "/reset-password",
    "/reset-password/*", // the link in the e-mail: GET /reset-password/{token}
    "/delete-user",
    "/delete-user/callback", // its token
    "/verify-email", // its token
    // Two-factor: the TOTP and backup codes (verify-totp, verify-backup-code) and the password
    // (enable, disable, get-totp-uri, generate-backup-codes). The plugin sets the same rate for
    // /two-factor/* itself; named here too so that this list is the whole story.
    "/two-factor/*",
    "/revoke-session", // names a session by its token
  ].map((path) => [path, SIGN_IN_RATE]),
);

type SessionRow = { ipAddress?: string | null; userAgent?: string | null } & Record<string, unknown>;

function capped(value: string | null | undefined, max: number): string | null | undefined {
  return typeof value === "string" && value.length > max ? value.slice(0, max) : value;
}

/**
 * Better Auth's `databaseHooks.session.create.before`: the client's User-Agent (up to the ~16 KB
 * Node.js allows for all headers) and address are stored with every session; only their first
 * USER_AGENT_MAX_LENGTH / IP_ADDRESS_MAX_LENGTH characters are kept, enough to tell devices apart
 * on a sessions page. Returns `{data}`, the row to store.
 */
export async function sessionWithCappedClientFields(session: SessionRow): Promise<{ data: SessionRow }> {
  return {
    data: {
      ...session,
      userAgent: capped(session.userAgent, USER_AGENT_MAX_LENGTH),
      ipAddress: capped(session.ipAddress, IP_ADDRESS_MAX_LENGTH),
    },
  };
}

/**
 * Better Auth's `databaseHooks.user.update.before`: when the link sent to a new address is
 * opened (GET /verify-email with a change-of-address token, the only update there that sets
 * `email`), the new address is confirmed by that very act, so it is stored as verified. Better
 * Auth itself keeps the old address's state, which left an unconfirmed account unconfirmed
 * after proving its new address. Returns `{data}`, the update to make.
 */
export async function confirmedByChangeLink(
  user: Record<string, unknown>,
  context: { path?: string } | null | undefined,
): Promise<{ data: Record<string, unknown> }> {
  const confirmed = context?.path === "/verify-email" && typeof user.email === "string";
  return { data: confirmed ? { ...user, emailVerified: true } : user };
}
