import { isIP } from "node:net";
import { resolve } from "node:path";

/**
 * The e-mail settings, read from the environment; the server checks them when it starts
 * (server.ts), so a mistyped SMTP_URL stops it with one line instead of failing each message.
 *
 * - `SMTP_URL`: `smtp://user:password@host:587` (STARTTLS when the server offers it) or
 *   `smtps://user:password@host:465` (TLS from the start); user and password percent-encoded.
 *   The URL form is nodemailer's own (https://nodemailer.com/smtp/#connection-url).
 * - `MAIL_FROM`: the From header, e.g. `Tasks <tasks@example.org>` (default: see `mailFrom`).
 * - `MAIL_OUTBOX`: with no `SMTP_URL`, the folder each message is written to (default
 *   `mail-outbox`, under the folder the server runs in).
 */

/** `SMTP_URL` parsed, or null when unset (or blank). Throws an Error that says what is wrong. */
export function smtpUrl(): URL | null {
  const value = process.env.SMTP_URL?.trim();
  if (!value) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error("SMTP_URL is not a URL: write smtp://user:password@host:587 or smtps://…:465");
  }
  if (url.protocol !== "smtp:" && url.protocol !== "smtps:") {
    throw new Error(`SMTP_URL must start with smtp:// or smtps://, not ${url.protocol}//`);
  }
  if (!url.hostname) throw new Error("SMTP_URL names no host: smtp://user:password@host:587");
  return url;
}

/** The From header: `MAIL_FROM`, else `Tasks <no-reply@HOST>`, HOST being BETTER_AUTH_URL's host
 * name (`localhost` when the site is reached by IP address: many mail servers refuse an address
 * literal in From). */
export function mailFrom(): string {
  const configured = process.env.MAIL_FROM?.trim();
  if (configured) return configured;
  const host = new URL(process.env.BETTER_AUTH_URL ?? "http://localhost:3000").hostname;
  const named = isIP(host.replace(/^\[|\]$/g, "")) === 0;
  return `Tasks <no-reply@${named ? host : "localhost"}>`;
}

/** The outbox folder, absolute. A folder chosen at run time: the comment tells Turbopack's
 * file tracing not to take every file of the project for one the server might read. */
export function outboxFolder(): string {
  return resolve(/* turbopackIgnore: true */ process.env.MAIL_OUTBOX?.trim() || "mail-outbox");
}

/** One line for the server's start-up log: where e-mail goes (never the password). Throws as
 * `smtpUrl` does. */
export function describeMail(): string {
  const url = smtpUrl();
  if (!url) return `not sent (SMTP_URL is not set): written to ${outboxFolder()}`;
  return `${url.protocol}//${url.host}`;
}
