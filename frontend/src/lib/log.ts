import { format, inspect } from "node:util";

/**
 * The web app's log: one JSON object per line (`{"time", "level", "logger", "message", "args"?}`),
 * as the task API writes its own. Text a client sent (a rejected callbackURL, an e-mail address)
 * ends up in messages; inside a JSON string a newline is `\n` and an escape code `\u001b`, so no
 * value can start a line of its own or move a terminal's cursor (OWASP: log injection, CWE-117).
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

/** Writes one line: errors and warnings to stderr, the rest to stdout. */
export function writeLog(level: Level, logger: string, message: string, args: unknown[] = []): void {
  const entry: Record<string, unknown> = {
    time: new Date().toISOString(),
    level,
    logger,
    message: shortened(message),
  };
  if (args.length > 0) entry.args = args.map(plain);
  const line = `${JSON.stringify(entry)}\n`;
  (level === "error" || level === "warn" ? process.stderr : process.stdout).write(line);
}

/**
 * Better Auth's `logger` option (its own default writes messages as they came, in colour). No
 * `level`: Better Auth's default (warn) applies, and an explicit one would also make it log
 * every 4xx it answers through its built-in console logger.
 */
export const betterAuthLogger = {
  log(level: "debug" | "info" | "success" | "warn" | "error", message: string, ...args: unknown[]) {
    writeLog(level === "success" ? "info" : level, "better-auth", message, args);
  },
};

/**
 * Sends everything written through `console` (Next.js's own messages and errors included) to
 * `writeLog`, formatted as `console` would (util.format). Called once by the server at start.
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
    console[method] = (...args: unknown[]) => writeLog(level, logger, format(...args));
  }
}
