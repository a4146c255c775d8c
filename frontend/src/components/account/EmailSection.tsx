"use client";

import { type FormEvent, useState } from "react";

import { Section, failureMessage, primaryButton } from "@/components/account/Section";
import { ResendVerification, VERIFIED_PAGE } from "@/components/ResendVerification";
import { Notice, TextField } from "@/components/ui";
import { authClient } from "@/lib/auth-client";
import { EMAIL_MAX_LENGTH } from "@/lib/auth-limits";

/**
 * The e-mail address: whether it is confirmed (with "Send the link again" when not), and a
 * change of address (Better Auth's POST /change-email). The change is made only when the link
 * sent to the new address is opened; until then the account keeps this one. Better Auth answers
 * the same when the new address already has an account (and sends nothing), so this does too.
 */
export function EmailSection({ email, verified }: { email: string; verified: boolean }) {
  const [newEmail, setNewEmail] = useState("");
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setSentTo(null);
    const address = newEmail.trim();
    try {
      const { error: failure } = await authClient.changeEmail({ newEmail: address, callbackURL: VERIFIED_PAGE });
      if (failure) {
        setError(
          failure.message === "Email is the same"
            ? "That is already your address."
            : failureMessage(failure),
        );
        return;
      }
      setSentTo(address);
      setNewEmail("");
    } catch {
      setError("Cannot reach the server. Check your connection.");
    } finally {
      setBusy(false);
    }
  }

  return (
    <Section title="E-mail address">
      <p>
        <span data-testid="current-email" className="font-medium">
          {email}
        </span>{" "}
        {verified ? (
          <span className="text-sm text-green-800">(confirmed)</span>
        ) : (
          <span className="text-sm text-amber-800">(not confirmed yet)</span>
        )}
      </p>
      {!verified && (
        <div className="mb-3 text-sm text-slate-600">
          Open the link we sent to this address to confirm it.
          <ResendVerification email={email} signedIn />
        </div>
      )}
      {error && <Notice kind="error">{error}</Notice>}
      {sentTo && (
        <Notice kind="info">
          We have sent a link to {sentTo}. Your address changes when you open it (within a day);
          until then it stays {email}.
        </Notice>
      )}
      <form onSubmit={submit} className="mt-3 space-y-3">
        <TextField
          label="New e-mail address"
          type="email"
          name="newEmail"
          autoComplete="email"
          required
          maxLength={EMAIL_MAX_LENGTH}
          value={newEmail}
          onValue={setNewEmail}
        />
        <button type="submit" disabled={busy} className={primaryButton}>
          {busy ? "Please wait…" : "Change e-mail address"}
        </button>
      </form>
    </Section>
  );
}
