import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { join, resolve } from "node:path";

import nodemailer, { type Transporter } from "nodemailer";

import { writeLog } from "@/lib/log";

/**
 * The web app's e-mail: SMTP through nodemailer when `SMTP_URL` is set, else a local outbox.
 *
 * - `SMTP_URL`: `smtp://user:password@host:587` (STARTTLS when the server offers it) or
 *   `smtps://user:password@host:465` (TLS from the start); user and password percent-encoded.
 *   The URL form is nodemailer's own (https://nodemailer.com/smtp/#connection-url).
 * - `MAIL_FROM`: the From header, e.g. `Tasks <tasks@example.org>`; by default
 *   `Tasks <no-reply@HOST>`, HOST being BETTER_AUTH_URL's host name (see `mailFrom`).
 * - `MAIL_OUTBOX`: with no `SMTP_URL`, the folder each message is written to, one readable
 *   `.txt` file per message (default `mail-outbox`, under the folder the server runs in). The
 *   messages hold one-time sign-in links, so the folder is created 0700 and each file 0600.
 */

export type Mail = { to: string; subject: string; text: string; html?: string };

export type Delivery = { sent: true; messageId: string } | { sent: false; file: string };

/** Thrown when the SMTP server cannot be reached or refuses the message; the details are logged. */
export class MailNotSent extends Error {
  constructor() {
    super("The e-mail could not be sent. Try again later.");
    this.name = "MailNotSent";
  }
}

const LOGGER = "mail";
// A dead or silent server fails a request in seconds, not in nodemailer's default minutes.
const TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

function smtpUrl(): URL | null {
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
  return url;
}

/** The From header: `MAIL_FROM`, else `Tasks <no-reply@HOST>` (`localhost` when the site is
 * reached by IP address: an address literal in From is refused by many mail servers). */
export function mailFrom(): string {
  const configured = process.env.MAIL_FROM?.trim();
  if (configured) return configured;
  const host = new URL(process.env.BETTER_AUTH_URL ?? "http://localhost:3000").hostname;
  const named = isIP(host.replace(/^\[|\]$/g, "")) === 0;
  return `Tasks <no-reply@${named ? host : "localhost"}>`;
}

let transporter: Transporter | null = null;

function transport(url: URL): Transporter {
  transporter ??= nodemailer.createTransport({ url: url.href, ...TIMEOUTS });
  return transporter;
}

function outboxFolder(): string {
  return resolve(process.env.MAIL_OUTBOX?.trim() || "mail-outbox");
}

/** Writes `mail` to a new file of its own, 0600 from the open(2) that creates it ("wx"). */
function writeToOutbox(mail: Mail, from: string): string {
  const folder = outboxFolder();
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const file = join(folder, `${stamp}-${randomBytes(4).toString("hex")}.txt`);
  const text = [
    "NOT SENT: SMTP_URL is not set, so this message was written here instead (see README).",
    `From: ${from}`,
    `To: ${mail.to}`,
    `Date: ${new Date().toUTCString()}`,
    `Subject: ${mail.subject}`,
    "",
    mail.text,
    "",
  ].join("\n");
  writeFileSync(file, text, { mode: 0o600, flag: "wx" });
  return file;
}

/**
 * Sends `mail` over SMTP, or with no `SMTP_URL` writes it to the outbox and logs one line saying
 * it was not sent and where it is. Either way one JSON log line names the recipient and subject,
 * never the body (it holds one-time links).
 *
 * Throws `MailNotSent` when the SMTP server fails (its answer is logged), and what open(2)
 * throws when the outbox cannot be written.
 */
export async function sendMail(mail: Mail): Promise<Delivery> {
  const from = mailFrom();
  const url = smtpUrl();
  const about = { to: mail.to, subject: mail.subject };
  if (!url) {
    const file = writeToOutbox(mail, from);
    writeLog("warn", LOGGER, `E-mail NOT sent (SMTP_URL is not set); written to ${file}`, [
      { ...about, file },
    ]);
    return { sent: false, file };
  }
  try {
    const info = await transport(url).sendMail({ from, ...mail });
    writeLog("info", LOGGER, "E-mail sent", [{ ...about, messageId: info.messageId }]);
    return { sent: true, messageId: info.messageId };
  } catch (error) {
    // nodemailer's errors carry the server's reply and the stage (code, command), never the body.
    const { code, command, responseCode, message } = error as Record<string, unknown>;
    writeLog("error", LOGGER, "E-mail not sent: the SMTP server failed", [
      { ...about, server: url.host, code, command, responseCode, message },
    ]);
    throw new MailNotSent();
  }
}
