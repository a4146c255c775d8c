"use client";

import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";

import { Section, failureMessage, primaryButton } from "@/components/account/Section";
import { Notice, TextField } from "@/components/ui";
import { forgetToken } from "@/lib/api-service";
import { authClient } from "@/lib/auth-client";
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, PASSWORD_RULE } from "@/lib/auth-limits";

/**
 * Change the password (Better Auth's POST /change-password): the current one is required, the
 * new one must pass the password rule (checked by the server), and every other session of the
 * account ends (`revokeOtherSessions`); this one goes on under a new session.
 */
export function PasswordSection() {
  const router = useRouter();
  const [currentPassword, setCurrentPassword] = useState("");
  const [newPassword, setNewPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [changed, setChanged] = useState(false);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setChanged(false);
    try {
      const { error: failure } = await authClient.changePassword({
        currentPassword,
        newPassword,
        revokeOtherSessions: true,
      });
      if (failure) {
        setError(
          failure.code === "INVALID_PASSWORD" ? "The current password is not right." : failureMessage(failure),
        );
        return;
      }
      setChanged(true);
      setCurrentPassword("");
      setNewPassword("");
      forgetToken(); // the task API token belonged to the session that was replaced
      router.refresh(); // the sessions list: only this one is left
    } catch {
      setError("Cannot reach the server. Check your connection.");
    } finally {
      setBusy(false);
    }
  }

  return (
    <Section title="Password">
      {error && <Notice kind="error">{error}</Notice>}
      {changed && (
        <Notice kind="info">Your password has been changed. Every other session has been signed out.</Notice>
      )}
      <form onSubmit={submit} className="space-y-3">
        <TextField
          label="Current password"
          type="password"
          name="currentPassword"
          autoComplete="current-password"
          required
          maxLength={PASSWORD_MAX_LENGTH}
          value={currentPassword}
          onValue={setCurrentPassword}
        />
        <TextField
          label="New password"
          type="password"
          name="newPassword"
          autoComplete="new-password"
          required
          minLength={PASSWORD_MIN_LENGTH}
          maxLength={PASSWORD_MAX_LENGTH}
          aria-describedby="new-password-rule"
          value={newPassword}
          onValue={setNewPassword}
        />
        {/* Outside the label: a description, not part of the field's name. */}
        <p id="new-password-rule" className="-mt-2 text-sm text-slate-600">
          {PASSWORD_RULE}
        </p>
        <button type="submit" disabled={busy} className={primaryButton}>
          {busy ? "Please wait…" : "Change password"}
        </button>
      </form>
    </Section>
  );
}
