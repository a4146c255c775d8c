"use client";

import Link from "next/link";
import { type FormEvent, useState } from "react";

import { Notice, TextField } from "@/components/ui";
import { authClient } from "@/lib/auth-client";
import { EMAIL_MAX_LENGTH } from "@/lib/auth-limits";

/** Where the link in the message leads (Better Auth adds `?token=` or `?error=INVALID_TOKEN`). */
const RESET_PAGE = "/reset-password";

/**
 * Asks for an e-mail address and has Better Auth send a one-time link to it. The answer is the
 * same whether or not the address has an account (OWASP Forgot Password Cheat Sheet), so the
 * form never tells who has one.
 */
export function ForgotPasswordForm() {
  const [email, setEmail] = useState("");
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const address = email.trim();
      const { error: failure } = await authClient.requestPasswordReset({
        email: address,
        redirectTo: RESET_PAGE,
      });
      if (failure) {
        setError(
          failure.status === 429
            ? "Too many requests for a link. Wait a minute and try again."
            : failure.message || "Something went wrong. Try again.",
        );
        return;
      }
      setSentTo(address);
    } catch {
      setError("Cannot reach the server. Check your connection.");
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="mx-auto flex min-h-screen max-w-md flex-col justify-center px-6 py-12">
      <h1 className="mb-6 text-3xl font-bold tracking-tight">Forgot your password?</h1>
      {error && <Notice kind="error">{error}</Notice>}
      {sentTo ? (
        <Notice kind="info">
          If an account uses {sentTo}, we have sent it a link to choose a new password. The link
          works once, within an hour. Nothing there? Check the spam folder, or ask again.
        </Notice>
      ) : (
        <form onSubmit={submit} className="space-y-4">
          <p className="text-slate-600">
            Enter the e-mail address of your account: we will send it a link to choose a new password.
          </p>
          <TextField
            label="Email"
            type="email"
            name="email"
            autoComplete="email"
            required
            maxLength={EMAIL_MAX_LENGTH}
            value={email}
            onValue={setEmail}
          />
          <button
            type="submit"
            disabled={busy}
            className="w-full rounded-md bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-700 disabled:opacity-60"
          >
            {busy ? "Please wait…" : "Send me a link"}
          </button>
        </form>
      )}
      <p className="mt-6 text-slate-600">
        Remembered it?{" "}
        <Link className="font-medium text-indigo-700 underline" href="/login">
          Sign in
        </Link>
      </p>
    </main>
  );
}
