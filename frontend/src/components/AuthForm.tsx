"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";

import { authClient } from "@/lib/auth-client";

const PASSWORD_RULE = "At least 8 characters (128 at most).";

type Mode = "login" | "signup";

function messageFor(error: { status: number; message?: string }): string {
  if (error.status === 429) return "Too many attempts. Wait a few seconds and try again.";
  if (error.status === 0) return "Cannot reach the server. Check your connection.";
  return error.message || "Something went wrong. Try again.";
}

export function AuthForm({ mode, expired }: { mode: Mode; expired: boolean }) {
  const router = useRouter();
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const signup = mode === "signup";

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { error: failure } = signup
        ? await authClient.signUp.email({ name: name.trim(), email: email.trim(), password })
        : await authClient.signIn.email({ email: email.trim(), password });
      if (failure) {
        setError(messageFor(failure));
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

  const field =
    "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-base shadow-sm focus:border-indigo-500";

  return (
    <main className="mx-auto flex min-h-screen max-w-md flex-col justify-center px-6 py-12">
      <h1 className="mb-6 text-3xl font-bold tracking-tight">
        {signup ? "Create your account" : "Sign in"}
      </h1>

      {expired && (
        <p role="status" className="mb-4 rounded-md bg-amber-50 px-4 py-3 text-amber-900 ring-1 ring-amber-200">
          Your session has expired. Please sign in again.
        </p>
      )}
      {error && (
        <p role="alert" className="mb-4 rounded-md bg-red-50 px-4 py-3 text-red-800 ring-1 ring-red-200">
          {error}
        </p>
      )}

      <form onSubmit={submit} className="space-y-4" noValidate={false}>
        {signup && (
          <label className="block">
            <span className="font-medium">Name</span>
            <input
              className={field}
              name="name"
              autoComplete="name"
              required
              maxLength={100}
              value={name}
              onChange={(event) => setName(event.target.value)}
            />
          </label>
        )}
        <label className="block">
          <span className="font-medium">Email</span>
          <input
            className={field}
            type="email"
            name="email"
            autoComplete="email"
            required
            value={email}
            onChange={(event) => setEmail(event.target.value)}
          />
        </label>
        <label className="block">
          <span className="font-medium">Password</span>
          <input
            className={field}
            type="password"
            name="password"
            autoComplete={signup ? "new-password" : "current-password"}
            required
            minLength={signup ? 8 : undefined}
            maxLength={128}
            aria-describedby={signup ? "password-rule" : undefined}
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
          {signup && (
            <span id="password-rule" className="mt-1 block text-sm text-slate-600">
              {PASSWORD_RULE}
            </span>
          )}
        </label>
        <button
          type="submit"
          disabled={busy}
          className="w-full rounded-md bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-700 disabled:opacity-60"
        >
          {busy ? "Please wait…" : signup ? "Create account" : "Sign in"}
        </button>
      </form>

      <p className="mt-6 text-slate-600">
        {signup ? "Already have an account? " : "New here? "}
        <Link className="font-medium text-indigo-700 underline" href={signup ? "/login" : "/signup"}>
          {signup ? "Sign in" : "Create an account"}
        </Link>
      </p>
    </main>
  );
}
