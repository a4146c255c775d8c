"use client";

import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";

import { InvalidResetLink } from "@/components/InvalidResetLink";
import { Notice, TextField } from "@/components/ui";
import { authClient } from "@/lib/auth-client";
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, PASSWORD_RULE } from "@/lib/auth-limits";

/**
 * Sets a new password with the one-time `token` from the e-mailed link. Better Auth spends the
 * token and ends every session of the account; the person then signs in with the new password.
 */
export function ResetPasswordForm({ token }: { token: string }) {
  const router = useRouter();
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [invalid, setInvalid] = useState(false);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { error: failure } = await authClient.resetPassword({ newPassword: password, token });
      if (failure) {
        if (failure.code === "INVALID_TOKEN") setInvalid(true);
        else setError(failure.message || "Something went wrong. Try again.");
        return;
      }
      router.replace("/login?reset=1");
    } catch {
      setError("Cannot reach the server. Check your connection.");
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      {invalid && <InvalidResetLink />}
      {error && <Notice kind="error">{error}</Notice>}
      <form onSubmit={submit} className="space-y-4">
        <TextField
          label="New password"
          type="password"
          name="password"
          autoComplete="new-password"
          required
          minLength={PASSWORD_MIN_LENGTH}
          maxLength={PASSWORD_MAX_LENGTH}
          aria-describedby="password-rule"
          value={password}
          onValue={setPassword}
        />
        {/* Outside the label: a description, not part of the field's name. */}
        <p id="password-rule" className="-mt-3 text-sm text-slate-600">
          {PASSWORD_RULE}
        </p>
        <button
          type="submit"
          disabled={busy}
          className="w-full rounded-md bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-700 disabled:opacity-60"
        >
          {busy ? "Please wait…" : "Set new password"}
        </button>
      </form>
    </>
  );
}
