import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import nodemailer, { type Transporter } from "nodemailer";

import { writeLog } from "@/lib/log";
import { mailFrom, outboxFolder, smtpUrl } from "@/lib/mail-settings";

/**
 * The web app's e-mail: SMTP through nodemailer when `SMTP_URL` is set, else a local outbox of
 * readable `.txt` files, one per message. The messages hold one-time links, so the outbox folder
 * is created 0700 and each file 0600. Settings: src/lib/mail-settings.ts.
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

let transporter: Transporter | null = null;

function transport(url: URL): Transporter {
  transporter ??= nodemailer.createTransport({ url: url.href, ...TIMEOUTS });
  return transporter;
}

/** Writes `mail` (its text part: the file is for reading) to a new file of its own, 0600 from
 * the open(2) that creates it ("wx"). */
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
