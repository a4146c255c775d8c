/**
 * The limits on what a person sends to Better Auth, in one place: the sign-up and sign-in forms
 * read them for their `maxLength`, and the server enforces them on every `/api/auth/*` request
 * (`auth-input.ts`, `auth-route.ts`), so the two never drift apart.
 *
 * Lengths are JavaScript string lengths (UTF-16 code units), as both `maxLength` in the browser
 * and `String.length` on the server count them.
 */

/** A person's display name. */
export const NAME_MAX_LENGTH = 100;

/** A whole e-mail address: RFC 5321 §4.5.3.1.3 allows a 256-octet path, `<` and `>` included. */
export const EMAIL_MAX_LENGTH = 254;

/** The part before `@`: RFC 5321 §4.5.3.1.1. */
export const EMAIL_LOCAL_PART_MAX_LENGTH = 64;

/** Passwords: Better Auth's own `minPasswordLength` / `maxPasswordLength` are set from these. */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

/** The password rule in words, said under every field that sets one: the length above, and
 * password-rule.ts (checked by the server only). */
export const PASSWORD_RULE =
  `At least ${PASSWORD_MIN_LENGTH} characters (${PASSWORD_MAX_LENGTH} at most), not a common ` +
  "password, and not your e-mail address or name. A few unrelated words work well.";

/** `image`, `callbackURL` and the other addresses a client may name (the longest URL every browser keeps). */
export const URL_MAX_LENGTH = 2048;

/** Tokens, ids and provider names sent back to Better Auth (its own are 32 characters). */
export const TOKEN_MAX_LENGTH = 512;

/** A two-factor code: six digits from an authenticator app (RFC 6238), or a backup code
 * (this app's are 14 characters, `XXXX-XXXX-XXXX`: src/lib/backup-code.ts; Better Auth's default,
 * made before, 11: `xxxxx-xxxxx`); room to spare for spaces a person types. */
export const TWO_FACTOR_CODE_MAX_LENGTH = 32;

/** Any other text field a Better Auth endpoint accepts. */
export const TEXT_MAX_LENGTH = 1024;

/**
 * A whole request body to `/api/auth/*`: the largest legitimate one (a sign-up with every field
 * at its limit) is under 3 KiB, so 16 KiB leaves room and still refuses anything that could cost
 * memory or database space.
 */
export const AUTH_BODY_MAX_BYTES = 16 * 1024;

/** The part of a client's User-Agent stored with a session (the longest common ones are ~300). */
export const USER_AGENT_MAX_LENGTH = 512;

/** A client address as stored with a session: the longest IPv6 text form is 45 characters. */
export const IP_ADDRESS_MAX_LENGTH = 45;
