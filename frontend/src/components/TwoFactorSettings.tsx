"use client";

import { QRCodeSVG } from "qrcode.react";
import { type FormEvent, useState } from "react";

import { Section, primaryButton, secondaryButton, sectionNote } from "@/components/account/Section";
import { CodeField } from "@/components/CodeField";
import { Notice, TextField } from "@/components/ui";
import { authClient } from "@/lib/auth-client";
import { typedCode } from "@/lib/backup-code";
import { PASSWORD_MAX_LENGTH } from "@/lib/auth-limits";
import { twoFactorMessage } from "@/lib/two-factor-messages";

/**
 * What the section is doing: nothing; asking the password to begin; showing the QR code and
 * asking a first code (`otpauth://` URI and the backup codes from /two-factor/enable); showing
 * the backup codes once (just after turning on, or after making new ones); asking the password
 * and a current code to turn off, or to make new backup codes.
 */
type Step =
  | { kind: "idle" }
  | { kind: "password-to-enable" }
  | { kind: "confirm"; totpURI: string; backupCodes: string[] }
  | { kind: "backup-codes"; backupCodes: string[] }
  | { kind: "password-to-disable" }
  | { kind: "password-to-renew" };

/** The base32 secret inside an `otpauth://totp/…?secret=…` URI (Key Uri Format, as Google
 * Authenticator defines it), for typing into an app by hand. */
function secretOf(totpURI: string): string {
  return new URL(totpURI).searchParams.get("secret") ?? "";
}

/** "ABCDEFGHIJKL" as "ABCD EFGH IJKL": easier to copy by eye; apps ignore the spaces. */
function grouped(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, "$1 ");
}

/**
 * The "Two-factor sign-in" section of /account, on Better Auth's two-factor plugin:
 * - turning on: password → POST /two-factor/enable (a new TOTP secret, stored unconfirmed, and
 *   ten backup codes) → a QR code drawn here (qrcode.react, no remote service: the secret never
 *   leaves the page) and the secret as text → a first code → POST /two-factor/verify-totp, which
 *   turns it on → the backup codes, shown this once, to copy or download;
 * - new backup codes (the old ones used up or lost): password and a current code from the app →
 *   POST /two-factor/generate-backup-codes, which replaces every old code;
 * - turning off: password and a current code, or a backup code (the phone lost) → POST
 *   /two-factor/disable.
 * The code is checked by the server (src/lib/second-factor-guard.ts): with the session and the
 * password alone, none of these is possible.
 *
 * `initiallyEnabled` is the server's view when the page was made; the session, refetched after
 * every /two-factor/* call (twoFactorClient), is used once it has arrived.
 */
export function TwoFactorSettings({ initiallyEnabled }: { initiallyEnabled: boolean }) {
  const session = authClient.useSession();
  const sessionUser = session.data?.user as { twoFactorEnabled?: boolean | null } | undefined;
  const [override, setOverride] = useState<boolean | null>(null);
  const enabled = override ?? (sessionUser ? sessionUser.twoFactorEnabled === true : initiallyEnabled);

  const [step, setStep] = useState<Step>({ kind: "idle" });
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  function go(next: Step) {
    setStep(next);
    setPassword("");
    setCode("");
    setError(null);
  }

  async function run(action: () => Promise<void>) {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      await action();
    } catch {
      setError("Cannot reach the server. Check your connection.");
    } finally {
      setBusy(false);
    }
  }

  function begin(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    void run(async () => {
      const { data, error: failure } = await authClient.twoFactor.enable({ password });
      if (failure) return setError(twoFactorMessage(failure));
      if (!data || !("totpURI" in data) || !data.totpURI) {
        return setError("The server did not send a secret. Try again.");
      }
      go({ kind: "confirm", totpURI: data.totpURI, backupCodes: data.backupCodes ?? [] });
    });
  }

  function confirm(event: FormEvent<HTMLFormElement>, backupCodes: string[]) {
    event.preventDefault();
    void run(async () => {
      const { error: failure } = await authClient.twoFactor.verifyTotp({ code: typedCode(code) });
      if (failure) return setError(twoFactorMessage(failure));
      setOverride(true);
      go({ kind: "backup-codes", backupCodes });
    });
  }

  /** The password and the code, for the endpoints second-factor-guard.ts guards. A variable
   * rather than a literal: the client's types list only the plugin's own `password`, and
   * Better Auth passes the whole body to the hooks. */
  function withCode(): { password: string } {
    const body = { password, code: typedCode(code) };
    return body;
  }

  function renew(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    void run(async () => {
      const { data, error: failure } = await authClient.twoFactor.generateBackupCodes(withCode());
      if (failure) return setError(twoFactorMessage(failure));
      go({ kind: "backup-codes", backupCodes: data?.backupCodes ?? [] });
    });
  }

  function turnOff(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    void run(async () => {
      const { error: failure } = await authClient.twoFactor.disable(withCode());
      if (failure) return setError(twoFactorMessage(failure));
      setOverride(false);
      go({ kind: "idle" });
      setNotice("Two-factor sign-in is off. Signing in now needs only your password.");
    });
  }

  return (
    <Section title="Two-factor sign-in">
      <p className={sectionNote} data-testid="two-factor-status">
        {enabled
          ? "Two-factor sign-in is on: signing in asks for a code from your authenticator app after your password."
          : "Two-factor sign-in is off. Turn it on to ask for a code from an authenticator app (such as Google Authenticator, Aegis or 1Password) after your password."}
      </p>
      {notice && <Notice kind="info">{notice}</Notice>}
      {error && <Notice kind="error">{error}</Notice>}

      {step.kind === "idle" && (
        <div className="flex flex-wrap gap-2">
          <button
            type="button"
            className={secondaryButton}
            onClick={() => go({ kind: enabled ? "password-to-disable" : "password-to-enable" })}
          >
            {enabled ? "Turn off two-factor sign-in" : "Turn on two-factor sign-in"}
          </button>
          {enabled && (
            <button type="button" className={secondaryButton} onClick={() => go({ kind: "password-to-renew" })}>
              Make new backup codes
            </button>
          )}
        </div>
      )}

      {(step.kind === "password-to-enable" ||
        step.kind === "password-to-disable" ||
        step.kind === "password-to-renew") && (
        <form
          onSubmit={step.kind === "password-to-enable" ? begin : step.kind === "password-to-renew" ? renew : turnOff}
          className="space-y-3"
        >
          {step.kind === "password-to-renew" && (
            <p className="text-sm text-slate-600">New codes replace all the old ones, used or not.</p>
          )}
          <TextField
            label="Your password"
            type="password"
            name="password"
            autoComplete="current-password"
            required
            autoFocus
            maxLength={PASSWORD_MAX_LENGTH}
            value={password}
            onValue={setPassword}
          />
          {step.kind !== "password-to-enable" && (
            <CodeField
              {...(step.kind === "password-to-disable"
                ? { label: "Code from your authenticator app, or a backup code", digitsOnly: false }
                : {})}
              value={code}
              onValue={setCode}
            />
          )}
          <div className="flex gap-2">
            <button type="submit" disabled={busy} className={primaryButton}>
              {step.kind === "password-to-enable"
                ? "Continue"
                : step.kind === "password-to-renew"
                  ? "Make new codes"
                  : "Turn off"}
            </button>
            <button type="button" className={secondaryButton} onClick={() => go({ kind: "idle" })}>
              Cancel
            </button>
          </div>
        </form>
      )}

      {step.kind === "confirm" && (
        <form onSubmit={(event) => confirm(event, step.backupCodes)} className="space-y-4">
          <p>1. Scan this QR code with your authenticator app.</p>
          <div className="inline-block bg-white p-2 ring-1 ring-slate-200">
            <QRCodeSVG
              value={step.totpURI}
              size={192}
              marginSize={2}
              title="QR code for your authenticator app"
              role="img"
              aria-label="QR code for your authenticator app"
            />
          </div>
          <p>
            Or type this key into the app (a time-based key):{" "}
            <code data-testid="totp-secret" className="rounded bg-slate-100 px-2 py-1 font-mono break-all">
              {grouped(secretOf(step.totpURI))}
            </code>
          </p>
          <p>2. Type the 6-digit code the app now shows, to check that it is set up.</p>
          <CodeField value={code} onValue={setCode} />
          <div className="flex gap-2">
            <button type="submit" disabled={busy} className={primaryButton}>
              Turn on
            </button>
            <button type="button" className={secondaryButton} onClick={() => go({ kind: "idle" })}>
              Cancel
            </button>
          </div>
        </form>
      )}

      {step.kind === "backup-codes" && (
        <BackupCodes codes={step.backupCodes} onDone={() => go({ kind: "idle" })} />
      )}
    </Section>
  );
}

/** The backup codes, shown once: each signs in once without the app (a lost phone). */
function BackupCodes({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  const [copied, setCopied] = useState<string | null>(null);
  const text = `Backup codes for Tasks (each works once):\n${codes.join("\n")}\n`;

  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setCopied("Copied.");
    } catch {
      setCopied("Copying is not allowed here: select the codes and copy them, or download them.");
    }
  }

  function download() {
    const url = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = "tasks-backup-codes.txt";
    link.click();
    URL.revokeObjectURL(url);
  }

  return (
    <div className="space-y-3">
      <Notice kind="info">
        Save these backup codes somewhere safe now: they are shown only this once. Each one signs you in once
        if you do not have your authenticator app.
      </Notice>
      <ul aria-label="Backup codes" className="grid grid-cols-2 gap-2 font-mono">
        {codes.map((backupCode) => (
          <li key={backupCode} data-testid="backup-code" className="rounded bg-slate-100 px-2 py-1">
            {backupCode}
          </li>
        ))}
      </ul>
      <div className="flex flex-wrap items-center gap-2">
        <button type="button" className={secondaryButton} onClick={copy}>
          Copy codes
        </button>
        <button type="button" className={secondaryButton} onClick={download}>
          Download codes
        </button>
        <button type="button" className={primaryButton} onClick={onDone}>
          I have saved them
        </button>
        {copied && (
          <span role="status" className="text-sm text-slate-600">
            {copied}
          </span>
        )}
      </div>
    </div>
  );
}
