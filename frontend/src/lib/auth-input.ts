import { APIError, createAuthMiddleware } from "better-auth/api";

import {
  EMAIL_LOCAL_PART_MAX_LENGTH,
  EMAIL_MAX_LENGTH,
  NAME_MAX_LENGTH,
  PASSWORD_MAX_LENGTH,
  TEXT_MAX_LENGTH,
  TOKEN_MAX_LENGTH,
  TWO_FACTOR_CODE_MAX_LENGTH,
  URL_MAX_LENGTH,
} from "@/lib/auth-limits";
import { checkPasswordRule, endOtherSessionsOnChange } from "@/lib/auth-password-hook";

type Rule = {
  /** How the field is named to a person. */
  label: string;
  type: "string" | "boolean";
  /** For strings: the most characters (UTF-16 code units) accepted. */
  max?: number;
  /** `null` is accepted too (update-user clears the image with it). */
  nullable?: boolean;
  email?: boolean;
  /** A person's name: trimmed, and refused when blank, invisible or holding bidi controls. */
  personName?: boolean;
};

const text = (label: string, max: number, extra: Partial<Rule> = {}): Rule => ({
  label,
  type: "string",
  max,
  ...extra,
});
const flag = (label: string): Rule => ({ label, type: "boolean" });

/**
 * Every field a person can set through one of Better Auth's endpoints (the core ones and the JWT
 * and two-factor plugins'; `auth.api` lists them), by name: the same name has the same meaning on every endpoint.
 * Better Auth checks some types itself (zod) but no lengths, and `update-user` takes any JSON
 * value for `name` and `image` and hands it to the database, which answered 500 for an object.
 */
const FIELDS: Record<string, Rule> = {
  name: text("The name", NAME_MAX_LENGTH, { personName: true }),
  email: text("The e-mail address", EMAIL_MAX_LENGTH, { email: true }),
  newEmail: text("The new e-mail address", EMAIL_MAX_LENGTH, { email: true }),
  password: text("The password", PASSWORD_MAX_LENGTH),
  newPassword: text("The new password", PASSWORD_MAX_LENGTH),
  currentPassword: text("The current password", PASSWORD_MAX_LENGTH),
  image: text("The image address", URL_MAX_LENGTH, { nullable: true }),
  callbackURL: text("The callback address (callbackURL)", URL_MAX_LENGTH),
  newUserCallbackURL: text("The callback address (newUserCallbackURL)", URL_MAX_LENGTH),
  errorCallbackURL: text("The callback address (errorCallbackURL)", URL_MAX_LENGTH),
  redirectTo: text("The redirect address (redirectTo)", URL_MAX_LENGTH),
  token: text("The token", TOKEN_MAX_LENGTH),
  provider: text("The provider", TOKEN_MAX_LENGTH),
  providerId: text("The provider", TOKEN_MAX_LENGTH),
  accountId: text("The account id", TOKEN_MAX_LENGTH),
  userId: text("The user id", TOKEN_MAX_LENGTH),
  loginHint: text("The login hint", URL_MAX_LENGTH),
  // Two-factor (better-auth/plugins/two-factor): a TOTP or backup code on /two-factor/verify-*
  // and on the endpoints second-factor-guard.ts guards, the method and issuer on /two-factor/enable.
  code: text("The code", TWO_FACTOR_CODE_MAX_LENGTH),
  method: text("The two-factor method", TOKEN_MAX_LENGTH),
  issuer: text("The issuer", NAME_MAX_LENGTH),
  trustDevice: flag("trustDevice"),
  disableSession: flag("disableSession"),
  rememberMe: flag("rememberMe"),
  revokeOtherSessions: flag("revokeOtherSessions"),
  disableRedirect: flag("disableRedirect"),
  requestSignUp: flag("requestSignUp"),
};

function refuse(code: string, message: string): never {
  throw new APIError("BAD_REQUEST", { code, message });
}

function checkLength(label: string, value: string, max: number): void {
  if (value.length > max) {
    refuse("FIELD_TOO_LONG", `${label} can be at most ${max} characters.`);
  }
}

/** C0 controls and DEL (U+0000–U+001F, U+007F). No auth field needs one, and PostgreSQL cannot
 * store U+0000 in text at all (it answered 500: "invalid byte sequence … 0x00"). */
const CONTROL = /[\u0000-\u001f\u007f]/;

/** The explicit bidirectional embeddings, overrides and isolates (Unicode UAX #9 §2: U+202A–U+202E,
 * U+2066–U+2069): in a name they reorder the text around it wherever it is shown (CVE-2021-42574,
 * "Trojan Source"). */
const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069]/;

/** What shows nothing: white space, controls and default-ignorable code points (U+200B zero
 * width space, U+2060 word joiner, U+FEFF, U+3164 Hangul filler, …; Unicode §5.21). */
const INVISIBLE = /[\s\p{Cc}\p{Default_Ignorable_Code_Point}]/gu;

function checkText(label: string, value: string, max: number): void {
  checkLength(label, value, max);
  if (CONTROL.test(value)) {
    refuse("INVALID_CHARACTER", `${label} cannot contain control characters (such as a line break or NUL).`);
  }
  // A JSON "\ud800" escape parses to a lone surrogate: no character at all (Unicode §3.9 D91, a
  // well-formed UTF-16 string pairs every surrogate), and stored it becomes U+FFFD or an error.
  if (!value.isWellFormed()) {
    refuse(
      "INVALID_CHARACTER",
      `${label} contains a broken character (an unpaired UTF-16 surrogate, U+D800 to U+DFFF): send it as valid Unicode text.`,
    );
  }
}

/** A name trimmed (String.prototype.trim: white space and line terminators at both ends). */
function cleanName(label: string, value: string): string {
  const trimmed = value.trim();
  if (trimmed.replace(INVISIBLE, "") === "") {
    refuse("NAME_IS_BLANK", `${label} cannot be blank: type at least one visible character.`);
  }
  if (BIDI_CONTROL.test(trimmed)) {
    refuse("INVALID_CHARACTER", `${label} cannot contain bidirectional text controls (U+202A–U+202E, U+2066–U+2069).`);
  }
  return trimmed;
}

function checkField(value: unknown, rule: Rule): void {
  if (value === undefined || (value === null && rule.nullable)) return;
  if (rule.type === "boolean") {
    if (typeof value !== "boolean") refuse("INVALID_FIELD_TYPE", `${rule.label} must be true or false.`);
    return;
  }
  if (typeof value !== "string") refuse("INVALID_FIELD_TYPE", `${rule.label} must be text.`);
  checkText(rule.label, value, rule.max ?? TEXT_MAX_LENGTH);
  if (rule.email) {
    const at = value.lastIndexOf("@");
    if (at > EMAIL_LOCAL_PART_MAX_LENGTH) {
      refuse(
        "FIELD_TOO_LONG",
        `The part of ${rule.label.toLowerCase()} before @ can be at most ${EMAIL_LOCAL_PART_MAX_LENGTH} characters.`,
      );
    }
  }
}

/** Every string anywhere inside `value` within TEXT_MAX_LENGTH (walked without recursion: a
 * 16 KiB body can nest thousands deep). */
function checkNestedText(name: string, value: unknown): void {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === "string") checkText(`The field ${name}`, item, TEXT_MAX_LENGTH);
    else if (item !== null && typeof item === "object") pending.push(...Object.values(item));
  }
}

/**
 * Checks a parsed request body and query against the rules above, before any endpoint reads
 * them. Throws Better Auth's APIError 400 (`{code, message}`, the message in a person's words:
 * `INVALID_FIELD_TYPE`, `FIELD_TOO_LONG`, `INVALID_CHARACTER`, `NAME_IS_BLANK`,
 * `BODY_MUST_BE_AN_OBJECT`). Every string, at any depth, is refused with a C0 control or an
 * unpaired surrogate in it.
 * Query values are always text, so only their lengths and characters are checked.
 *
 * Returns the body to use instead when a field was cleaned (a name trimmed), else undefined.
 */
export function checkAuthInput(body: unknown, query: unknown): Record<string, unknown> | undefined {
  let cleaned: Record<string, unknown> | undefined;
  if (body !== undefined && body !== null) {
    if (typeof body !== "object" || Array.isArray(body)) {
      refuse("BODY_MUST_BE_AN_OBJECT", "The request body must be a JSON object.");
    }
    for (const [name, value] of Object.entries(body)) {
      const rule = Object.hasOwn(FIELDS, name) ? FIELDS[name] : undefined;
      if (rule) checkField(value, rule);
      else checkNestedText(name, value);
      if (rule?.personName && typeof value === "string") {
        const clean = cleanName(rule.label, value);
        if (clean !== value) cleaned = { ...(cleaned ?? body), [name]: clean };
      }
    }
  }
  if (query !== undefined && query !== null && typeof query === "object") {
    for (const [name, value] of Object.entries(query)) {
      const rule = Object.hasOwn(FIELDS, name) ? FIELDS[name] : undefined;
      for (const item of Array.isArray(value) ? value : [value]) {
        if (typeof item === "string") {
          checkText(rule?.label ?? `The field ${name}`, item, rule?.max ?? TEXT_MAX_LENGTH);
        }
      }
    }
  }
  return cleaned;
}

/** Better Auth's `hooks.before`: runs ahead of every endpoint, with the body already parsed; a
 * cleaned body replaces the one sent (a before hook's `{context}` is merged into the endpoint's,
 * its values winning: better-auth/dist/api/dispatch.mjs). Then the password rule, on the
 * endpoints that set a password, and a password change made to end the other sessions
 * (auth-password-hook.ts). */
export const checkAuthInputHook = createAuthMiddleware(async (ctx) => {
  let body = checkAuthInput(ctx.body, ctx.query);
  const final = body ?? ctx.body;
  if (final !== null && typeof final === "object") {
    await checkPasswordRule(ctx, final as Record<string, unknown>);
    body = endOtherSessionsOnChange(ctx.path, final as Record<string, unknown>) ?? body;
  }
  return body === undefined ? undefined : { context: { body } };
});
