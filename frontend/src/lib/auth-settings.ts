/**
 * Account settings read from the environment; the server checks them when it starts
 * (server.ts), so a mistyped value stops it with one line instead of being taken for "off".
 *
 * - `REQUIRE_EMAIL_VERIFICATION`: `true` (or `1`) and an account cannot sign in until its
 *   address is confirmed through the e-mailed link (Better Auth's
 *   `emailAndPassword.requireEmailVerification`); sign-up then no longer signs in at once, and
 *   answers the same for an address that already has an account. `false`, `0` or unset: off.
 */

const ON = new Set(["true", "1"]);
const OFF = new Set(["false", "0", ""]);

/** REQUIRE_EMAIL_VERIFICATION as a boolean. Throws an Error naming the setting when it is not
 * one of true, 1, false, 0 (any case) or unset. */
export function requireEmailVerification(): boolean {
  const value = (process.env.REQUIRE_EMAIL_VERIFICATION ?? "").trim().toLowerCase();
  if (ON.has(value)) return true;
  if (OFF.has(value)) return false;
  throw new Error(
    `REQUIRE_EMAIL_VERIFICATION: "${process.env.REQUIRE_EMAIL_VERIFICATION}" is not true or false`,
  );
}
