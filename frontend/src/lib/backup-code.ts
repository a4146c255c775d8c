/**
 * Backup codes that can be read off paper and typed back without fuss, and the one place where
 * what a person types into a code field is made into what the server checks (`typedCode`, used
 * by every form with a CodeField). No Node.js module: the forms run in the browser.
 *
 * Better Auth's own codes mix cases and look-alike characters ("lU7Jj-jJahZ": l, I, 1, J, j) and
 * are matched exactly. Ours (the two-factor plugin's `backupCodeOptions.customBackupCodesGenerate`,
 * src/lib/auth.ts) are upper case only, from an alphabet without look-alikes, in groups of four:
 * "7KQM-D4XR-HW9C".
 */

/** Crockford's base 32 letters (no I, L, O, U) and digits without 0 and 1 (read as O and I), less
 * B, S and Z (read as 8, 5 and 2): 27 characters, none mistaken for another in print or by hand. */
export const BACKUP_CODE_ALPHABET = "23456789ACDEFGHJKMNPQRTVWXY";

/** 12 characters of 27: 12 × log2(27) ≈ 57 bits per code. At least 50 bits, so as not to be
 * much weaker than Better Auth's default (10 of 62 characters, ≈ 60 bits): a backup code stands
 * in for the authenticator app, so guessing one must stay hopeless. Online, at 3 tries in 10 s
 * per address (src/lib/auth-guards.ts) against ten live codes, 2^57 / 10 tries is far beyond
 * reach; the length (three groups of four) is still quick to copy by hand. */
const GROUPS = 3;
const GROUP_LENGTH = 4;
const LENGTH = GROUPS * GROUP_LENGTH;

/** How many codes are made at a time (the plugin's default). */
export const BACKUP_CODE_AMOUNT = 10;

function grouped(characters: string): string {
  return characters.match(new RegExp(`.{${GROUP_LENGTH}}`, "g"))?.join("-") ?? characters;
}

/** One new code, from the platform's cryptographic random source (Web Crypto, as in Node.js
 * and browsers), without modulo bias: bytes at or above the largest multiple of the alphabet's
 * size are drawn again. */
function newBackupCode(): string {
  const limit = 256 - (256 % BACKUP_CODE_ALPHABET.length);
  let characters = "";
  while (characters.length < LENGTH) {
    for (const byte of crypto.getRandomValues(new Uint8Array(LENGTH * 2))) {
      if (byte < limit && characters.length < LENGTH) {
        characters += BACKUP_CODE_ALPHABET[byte % BACKUP_CODE_ALPHABET.length];
      }
    }
  }
  return grouped(characters);
}

/** A fresh set of backup codes, all different. */
export function newBackupCodes(): string[] {
  const codes = new Set<string>();
  while (codes.size < BACKUP_CODE_AMOUNT) codes.add(newBackupCode());
  return [...codes];
}

const SEPARATORS = /[\s\-‐‑‒–—_.]/g;
const OURS = new RegExp(`^[${BACKUP_CODE_ALPHABET}]{${LENGTH}}$`);

/**
 * What a code field's text is sent as: six digits from an authenticator app without the space
 * apps show ("123 456"); a backup code of ours however it was typed (lower case, spaces, with or
 * without its dashes) as it was made ("7KQM-D4XR-HW9C"), since the plugin matches exactly;
 * anything else trimmed and otherwise as typed, so that codes made by Better Auth's default
 * generator before ours (case-sensitive, 10 characters) keep working.
 */
export function typedCode(text: string): string {
  const bare = text.replace(SEPARATORS, "");
  if (/^\d{6}$/.test(bare)) return bare;
  const upper = bare.toUpperCase();
  if (OURS.test(upper)) return grouped(upper);
  return text.trim();
}
