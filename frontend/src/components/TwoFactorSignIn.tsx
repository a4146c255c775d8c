"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";

import { CodeField } from "@/components/CodeField";
import { Notice } from "@/components/ui";
import { authClient } from "@/lib/auth-client";
import { typedCode } from "@/lib/backup-code";
import { twoFactorMessage } from "@/lib/two-factor-messages";

/** Answers after which this sign-in cannot go on: the person starts again from /login. */
const START_AGAIN = new Set(["INVALID_TWO_FACTOR_COOKIE", "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE"]);

/**
 * The second step of a sign-in with two-factor on: a 6-digit code from the authenticator app
 * (POST /two-factor/verify-totp) or, for someone without their phone, one of their backup codes
 * (POST /two-factor/verify-backup-code; each works once). Either answers with a session cookie;
 * the page then goes to /tasks.
 */
export function TwoFactorSignIn() {
  const router = useRouter();
  const [backup, setBackup] = useState(false);
  const [code, setCode] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [startAgain, setStartAgain] = useState(false);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      // As typed: "123 456" from an app, "7kqm d4xr hw9c" from paper (src/lib/backup-code.ts).
      const { error: failure } = backup
        ? await authClient.twoFactor.verifyBackupCode({ code: typedCode(code) })
        : await authClient.twoFactor.verifyTotp({ code: typedCode(code) });
      if (failure) {
        setError(twoFactorMessage(failure));
        setStartAgain(START_AGAIN.has(failure.code ?? ""));
        return;
      }
      router.replace("/tasks");
      router.refresh();
    } catch {
      setError("Cannot reach the server. Check your connection.");
    } finally {
      setBusy(false);
    }
  }

  function switchKind() {
    setBackup(!backup);
    setCode("");
    setError(null);
  }

  return (
    <main className="mx-auto flex min-h-screen max-w-md flex-col justify-center px-6 py-12">
      <h1 className="mb-6 text-3xl font-bold tracking-tight">Two-factor sign-in</h1>
      <p className="mb-4 text-slate-700">
        {backup
          ? "Type one of the backup codes you saved when you turned on two-factor sign-in, in capitals or not, with or without its dashes. Each one works once."
          : "Open your authenticator app and type the 6-digit code it shows for Tasks."}
      </p>

      {error && (
        <Notice kind="error">
          {error}
          {startAgain && (
            <>
              {" "}
              <Link className="font-medium underline" href="/login">
                Sign in again
              </Link>
            </>
          )}
        </Notice>
      )}

      <form onSubmit={submit} className="space-y-4">
        <CodeField
          {...(backup ? { label: "Backup code", digitsOnly: false } : {})}
          autoFocus
          value={code}
          onValue={setCode}
        />
        <button
          type="submit"
          disabled={busy}
          className="w-full rounded-md bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-700 disabled:opacity-60"
        >
          {busy ? "Please wait…" : "Verify"}
        </button>
      </form>

      <p className="mt-6 text-slate-600">
        <button type="button" className="font-medium text-indigo-700 underline" onClick={switchKind}>
          {backup ? "Use a code from your authenticator app" : "Use a backup code instead"}
        </button>
      </p>
      <p className="mt-2 text-slate-600">
        <Link className="font-medium text-indigo-700 underline" href="/login">
          Back to sign in
        </Link>
      </p>
    </main>
  );
}
