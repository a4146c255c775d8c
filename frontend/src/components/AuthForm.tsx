"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";

import { ResendVerification, VERIFIED_PAGE } from "@/components/ResendVerification";
import { Notice, TextField } from "@/components/ui";
import { authClient } from "@/lib/auth-client";
import {
  EMAIL_MAX_LENGTH,
  NAME_MAX_LENGTH,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  PASSWORD_RULE,
} from "@/lib/auth-limits";

type Mode = "login" | "signup";

function messageFor(error: { status: number; message?: string }): string {
  if (error.status === 429) return "Too many attempts. Wait a few seconds and try again.";
  if (error.status === 0) return "Cannot reach the server. Check your connection.";
  return error.message || "Something went wrong. Try again.";
}

export function AuthForm({
  mode,
  expired,
  passwordReset = false,
  accountDeleted = false,
}: {
  mode: Mode;
  expired: boolean;
  /** Arrived from setting a new password (`/login?reset=1`). */
  passwordReset?: boolean;
  /** Arrived from deleting the account (`/login?deleted=1`). */
  accountDeleted?: boolean;
}) {
  const router = useRouter();
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  /** The address a confirmation link went to (sign-up with REQUIRE_EMAIL_VERIFICATION). */
  const [checkMail, setCheckMail] = useState<string | null>(null);
  /** The address whose sign-in was refused until it is confirmed. */
  const [unconfirmed, setUnconfirmed] = useState<string | null>(null);
  const signup = mode === "signup";

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setUnconfirmed(null);
    const address = email.trim();
    try {
      const { data, error: failure } = signup
        ? await authClient.signUp.email({ name: name.trim(), email: address, password, callbackURL: VERIFIED_PAGE })
        : await authClient.signIn.email({ email: address, password });
      if (failure) {
        if (failure.code === "EMAIL_NOT_VERIFIED") setUnconfirmed(address);
        else setError(messageFor(failure));
        return;
      }
      // No session: the address must be confirmed first. Better Auth answers so for a new
      // address and for one that has an account alike, and so does this page. (Asked of the
      // server: the answer carries no session token for the page to look at, lib/auth-route.ts.)
      if (signup && !(await authClient.getSession()).data) {
        setCheckMail(address);
        return;
      }
      // Two-factor sign-in is on: no session yet; twoFactorClient is taking the browser to the
      // page that asks for the code (lib/auth-client.ts).
      if (data && "twoFactorRedirect" in data && data.twoFactorRedirect) return;
      router.replace("/tasks");
      router.refresh();
    } catch {
      setError("Cannot reach the server. Check your connection.");
    } finally {
      setBusy(false);
    }
  }


  return (
    <main className="mx-auto flex min-h-screen max-w-md flex-col justify-center px-6 py-12">
      <h1 className="mb-6 text-3xl font-bold tracking-tight">
        {signup ? "Create your account" : "Sign in"}
      </h1>

      {/* ?expired=1: the session ended, whether it timed out or was ended elsewhere (sign-out there,
          a password change), which the page cannot tell apart: say what happened, not why. */}
      {expired && <Notice kind="info">You have been signed out. Please sign in again.</Notice>}
      {passwordReset && (
        <Notice kind="info">Your password has been changed. Sign in with the new one.</Notice>
      )}
      {accountDeleted && (
        <Notice kind="info">Your account has been deleted, and everything that was in it.</Notice>
      )}
      {error && <Notice kind="error">{error}</Notice>}
      {unconfirmed && (
        <Notice kind="error">
          Your e-mail address is not confirmed yet. Open the link we sent to {unconfirmed}, then
          sign in. Nothing there? Check the spam folder, or have it sent again.
          <ResendVerification email={unconfirmed} />
        </Notice>
      )}

      {checkMail ? (
        <Notice kind="info">
          Check your mail: we have sent a link to {checkMail}. Open it to confirm your address,
          then sign in. Nothing there? Check the spam folder, or have it sent again.
          <ResendVerification email={checkMail} />
        </Notice>
      ) : (
        <form onSubmit={submit} className="space-y-4">
          {signup && (
            <TextField
              label="Name"
              name="name"
              autoComplete="name"
              required
              maxLength={NAME_MAX_LENGTH}
              value={name}
              onValue={setName}
            />
          )}
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
          <TextField
            label="Password"
            type="password"
            name="password"
            autoComplete={signup ? "new-password" : "current-password"}
            required
            minLength={signup ? PASSWORD_MIN_LENGTH : undefined}
            maxLength={PASSWORD_MAX_LENGTH}
            aria-describedby={signup ? "password-rule" : undefined}
            value={password}
            onValue={setPassword}
          />
          {/* Outside the label: a description, not part of the field's name. */}
          {signup && (
            <p id="password-rule" className="-mt-3 text-sm text-slate-600">
              {PASSWORD_RULE}
            </p>
          )}
          {!signup && (
            <p className="text-right text-sm">
              <Link className="font-medium text-indigo-700 underline" href="/forgot-password">
                Forgot password?
              </Link>
            </p>
          )}
          <button
            type="submit"
            disabled={busy}
            className="w-full rounded-md bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-700 disabled:opacity-60"
          >
            {busy ? "Please wait…" : signup ? "Create account" : "Sign in"}
          </button>
        </form>
      )}

      <p className="mt-6 text-slate-600">
        {signup ? "Already have an account? " : "New here? "}
        <Link className="font-medium text-indigo-700 underline" href={signup ? "/login" : "/signup"}>
          {signup ? "Sign in" : "Create an account"}
        </Link>
      </p>
    </main>
  );
}
