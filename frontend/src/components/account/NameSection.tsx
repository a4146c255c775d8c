"use client";

import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";

import { Section, failureMessage, primaryButton } from "@/components/account/Section";
import { Notice, TextField } from "@/components/ui";
import { authClient } from "@/lib/auth-client";
import { NAME_MAX_LENGTH } from "@/lib/auth-limits";

/** Change the name (Better Auth's POST /update-user; the server trims it and refuses a blank one). */
export function NameSection({ name }: { name: string }) {
  const router = useRouter();
  const [value, setValue] = useState(name);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      const { error: failure } = await authClient.updateUser({ name: value.trim() });
      if (failure) {
        setError(failureMessage(failure));
        return;
      }
      setSaved(true);
      router.refresh();
    } catch {
      setError("Cannot reach the server. Check your connection.");
    } finally {
      setBusy(false);
    }
  }

  return (
    <Section title="Name">
      {error && <Notice kind="error">{error}</Notice>}
      {saved && <Notice kind="info">Your name has been changed.</Notice>}
      <form onSubmit={submit} className="space-y-3">
        <TextField
          label="Name"
          name="name"
          autoComplete="name"
          required
          maxLength={NAME_MAX_LENGTH}
          value={value}
          onValue={setValue}
        />
        <button type="submit" disabled={busy} className={primaryButton}>
          {busy ? "Saving…" : "Save name"}
        </button>
      </form>
    </Section>
  );
}
