import { APIError, createAuthMiddleware } from "better-auth/api";

import {
  EMAIL_LOCAL_PART_MAX_LENGTH,
  EMAIL_MAX_LENGTH,
  NAME_MAX_LENGTH,
  PASSWORD_MAX_LENGTH,
  TEXT_MAX_LENGTH,
  TOKEN_MAX_LENGTH,
  URL_MAX_LENGTH,
} from "@/lib/auth-limits";

type Rule = {
  /** How the field is named to a person. */
  label: string;
  type: "string" | "boolean";
  /** For strings: the most characters (UTF-16 code units) accepted. */
  max?: number;
  /** `null` is accepted too (update-user clears the image with it). */
  nullable?: boolean;
  email?: boolean;
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
 * plugin's; `auth.api` lists them), by name: the same name has the same meaning on every endpoint.
 * Better Auth checks some types itself (zod) but no lengths, and `update-user` takes any JSON
 * value for `name` and `image` and hands it to the database, which answered 500 for an object.
 */
const FIELDS: Record<string, Rule> = {
  name: text("The name", NAME_MAX_LENGTH),
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

function checkField(value: unknown, rule: Rule): void {
  if (value === undefined || (value === null && rule.nullable)) return;
  if (rule.type === "boolean") {
    if (typeof value !== "boolean") refuse("INVALID_FIELD_TYPE", `${rule.label} must be true or false.`);
    return;
  }
  if (typeof value !== "string") refuse("INVALID_FIELD_TYPE", `${rule.label} must be text.`);
  checkLength(rule.label, value, rule.max ?? TEXT_MAX_LENGTH);
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
    if (typeof item === "string") checkLength(`The field ${name}`, item, TEXT_MAX_LENGTH);
    else if (item !== null && typeof item === "object") pending.push(...Object.values(item));
  }
}

/**
 * Checks a parsed request body and query against the rules above, before any endpoint reads
 * them. Throws Better Auth's APIError 400 (`{code, message}`, the message in a person's words:
 * `INVALID_FIELD_TYPE`, `FIELD_TOO_LONG`, `BODY_MUST_BE_AN_OBJECT`); returns nothing otherwise.
 * Query values are always text, so only their lengths are checked.
 */
export function checkAuthInput(body: unknown, query: unknown): void {
  if (body !== undefined && body !== null) {
    if (typeof body !== "object" || Array.isArray(body)) {
      refuse("BODY_MUST_BE_AN_OBJECT", "The request body must be a JSON object.");
    }
    for (const [name, value] of Object.entries(body)) {
      const rule = Object.hasOwn(FIELDS, name) ? FIELDS[name] : undefined;
      if (rule) checkField(value, rule);
      else checkNestedText(name, value);
    }
  }
  if (query !== undefined && query !== null && typeof query === "object") {
    for (const [name, value] of Object.entries(query)) {
      const rule = Object.hasOwn(FIELDS, name) ? FIELDS[name] : undefined;
      for (const item of Array.isArray(value) ? value : [value]) {
        if (typeof item === "string") {
          checkLength(rule?.label ?? `The field ${name}`, item, rule?.max ?? TEXT_MAX_LENGTH);
        }
      }
    }
  }
}

/** Better Auth's `hooks.before`: runs ahead of every endpoint, with the body already parsed. */
export const checkAuthInputHook = createAuthMiddleware(async (ctx) => {
  checkAuthInput(ctx.body, ctx.query);
});
