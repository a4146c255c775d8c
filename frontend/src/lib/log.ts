import { format, inspect } from "node:util";

import { isClientAbort } from "./client-abort";

/**
 * The web app's log: one JSON object per line (`{"time", "level", "logger", "message", "args"?}`),
 * as the task API writes its own. Text a client sent (a rejected callbackURL, an e-mail address)
 * ends up in messages; inside a JSON string a newline is `\n` and an escape code `\u001b`, so no
 * value can start a line of its own or move a terminal's cursor (OWASP: log injection, CWE-117).
 * JSON.stringify leaves the C1 controls (U+0080–U+009F: U+0085 NEL ends a line for some readers,
 * U+009B CSI starts a terminal escape) and U+2028/U+2029 (line and paragraph separators) as they
 * are; they are written as `\uXXXX` too, as the task API's log does.
 */

export type Level = "debug" | "info" | "warn" | "error";

/** The longest message kept whole: a client can make Better Auth log what it sent (up to the
 * 16 KiB body limit); a line of that size helps no one reading the log. */
const MESSAGE_MAX_LENGTH = 4096;

function shortened(text: string): string {
  if (text.length <= MESSAGE_MAX_LENGTH) return text;
  const rest = text.length - MESSAGE_MAX_LENGTH;
  return `${text.slice(0, MESSAGE_MAX_LENGTH)}… (${rest} more characters)`;
}

/** A value as it can be written in JSON: errors keep their name, message and stack; what JSON
 * cannot hold (cycles, functions, bigints) is described by util.inspect. */
function plain(value: unknown): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message, stack: value.stack };
  }
  if (typeof value === "string") return shortened(value);
  try {
    return JSON.parse(JSON.stringify(value) ?? "null") as unknown;
  } catch {
    return inspect(value, { depth: 4, breakLength: Infinity });
  }
}

/** C1 controls and the Unicode line separators: they only ever occur inside JSON strings, where
 * `\uXXXX` means the same character (RFC 8259 §7). */
const UNSAFE_IN_LOG = /[\u0080-\u009f\u2028\u2029]/g;

/** `value` as one line of JSON with nothing a terminal or log reader could take as a control. */
export function logSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(
    UNSAFE_IN_LOG,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Writes one line: errors and warnings to stderr, the rest to stdout. */
export function writeLog(level: Level, logger: string, message: string, args: unknown[] = []): void {
  const entry: Record<string, unknown> = {
    time: new Date().toISOString(),
    level,
    logger,
    message: shortened(message),
  };
  if (args.length > 0) entry.args = args.map(plain);
  const line = `${logSafeJson(entry)}\n`;
  (level === "error" || level === "warn" ? process.stderr : process.stdout).write(line);
}

/**
 * What Better Auth logs at error level when it refuses a client's request as designed (a
 * disabled feature asked for, a callbackURL or Origin not trusted, a cross-site navigation):
 * the client got its 4xx, nothing failed here, so these are warnings
 * (better-auth/dist/api/routes, api/middlewares/origin-check).
 */
const EXPECTED_REFUSALS = [
  "Delete user is disabled",
  "Change email is disabled",
  "Verification email isn't enabled",
  "Reset password isn't enabled",
  "Email and password is not enabled",
  "Provider not found",
  "Provider does not support id token verification",
  "No callback URL found",
  "Invalid callbackURL",
  "Invalid redirectURL",
  "Invalid errorCallbackURL",
  "Invalid newUserCallbackURL",
  "Invalid origin",
  "Blocked cross-site navigation login attempt",
];

/**
 * Better Auth's `logger` option (its own default writes messages as they came, in colour). No
 * `level`: Better Auth's default (warn) applies, and an explicit one would also make it log
 * every 4xx it answers through its built-in console logger. Its expected refusals
 * (EXPECTED_REFUSALS) are written at warn, not error.
 */
export const betterAuthLogger = {
  log(level: "debug" | "info" | "success" | "warn" | "error", message: string, ...args: unknown[]) {
    let written: Level = level === "success" ? "info" : level;
    if (written === "error" && EXPECTED_REFUSALS.some((start) => message.startsWith(start))) {
      written = "warn";
    }
    writeLog(written, "better-auth", message, args);
  },
};

/**
 * Sends everything written through `console` (Next.js's own messages and errors included) to
 * `writeLog`, formatted as `console` would (util.format). Called once by the server at start.
 * An error that only says the client went away (client-abort.ts) is written at debug level.
 */
export function routeConsoleToLog(logger = "next"): void {
  const levels: Record<"debug" | "info" | "log" | "warn" | "error", Level> = {
    debug: "debug",
    info: "info",
    log: "info",
    warn: "warn",
    error: "error",
  };
  for (const [method, level] of Object.entries(levels) as [keyof typeof levels, Level][]) {
    console[method] = (...args: unknown[]) =>
      writeLog(args.some(isClientAbort) ? "debug" : level, logger, format(...args));
  }
}
