"use client";

import { type FormEvent, type ReactNode, useState } from "react";

import { Section, sectionNote } from "@/components/account/Section";
import { CodeField } from "@/components/CodeField";
import { Notice, TextField } from "@/components/ui";
import { authClient } from "@/lib/auth-client";
import { typedCode } from "@/lib/backup-code";
import { PASSWORD_MAX_LENGTH } from "@/lib/auth-limits";
import { leavingSession } from "@/lib/api-service";

/** Better Auth's and this app's refusals of POST /delete-user, in a person's words; anything
 * else (the task API unreachable, say: its refusal says so itself) is shown as the server said it. */
function messageFor(error: { status: number; code?: string; message?: string }): string {
  if (error.status === 429) return "Too many attempts. Wait a few seconds and try again.";
  if (error.status === 0) return "Cannot reach the server. Check your connection. Nothing was deleted.";
  switch (error.code) {
    case "INVALID_PASSWORD":
      return "That password is not right. Nothing was deleted.";
    default:
      return `${error.message || "Something went wrong."} Nothing was deleted.`;
  }
}

/**
 * The "Delete my account" section of /account. Says what goes (the account, every task and
 * tag, every saved setting), asks for the password and, when two-factor sign-in is on, a current
 * code from the authenticator app; then POST /delete-user (Better Auth's deleteUser; the server
 * checks both, src/lib/second-factor-guard.ts, and erases the tasks before the account), and
 * goes to the sign-in page, which says the account is gone.
 *
 * `initiallyTwoFactor` is the server's view when the page was made; the live session is used
 * once it has arrived, and a server that asks for a code (TWO_FACTOR_CODE_REQUIRED) shows the field.
 * `download`: the "Download my data" buttons (components/DownloadData.tsx, as on the task page),
 * shown just under the warning, so that keeping a copy is one click away before deleting.
 */
export function DeleteAccount({
  initiallyTwoFactor,
  download,
}: {
  initiallyTwoFactor: boolean;
  download: ReactNode;
}) {
  const session = authClient.useSession();
  const sessionUser = session.data?.user as { twoFactorEnabled?: boolean | null } | undefined;
  const [codeAsked, setCodeAsked] = useState(false);
  const twoFactor = codeAsked || (sessionUser ? sessionUser.twoFactorEnabled === true : initiallyTwoFactor);

  const [open, setOpen] = useState(false);
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      // `code` is this app's field, read by the server's guard before Better Auth's endpoint
      // (which ignores fields it does not know).
      const body: { password: string; code?: string } = { password };
      if (twoFactor) body.code = typedCode(code);
      const { error: failure } = await authClient.deleteUser(body);
      if (failure) {
        if (failure.code === "TWO_FACTOR_CODE_REQUIRED") setCodeAsked(true);
        setError(messageFor(failure));
        return;
      }
      leavingSession();
      window.location.assign(new URL("/login?deleted=1", window.location.origin).href);
    } catch {
      setError("Cannot reach the server. Check your connection. Nothing was deleted.");
    } finally {
      setBusy(false);
    }
  }

  return (
    <Section title="Delete my account" danger>
      <p className={sectionNote}>
        This erases your account, every task and tag in it, and every setting you saved, for good: it cannot be
        undone. If you want to keep a copy of your tasks, download them first:
      </p>
      {download}
      {error && <Notice kind="error">{error}</Notice>}
      {!open ? (
        <button
          type="button"
          className="rounded-md border border-red-300 bg-white px-3 py-1.5 text-sm font-medium text-red-800 hover:bg-red-50"
          onClick={() => setOpen(true)}
        >
          Delete my account…
        </button>
      ) : (
        <form onSubmit={submit} className="space-y-3">
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
          {twoFactor && (
            <CodeField value={code} onValue={setCode} />
          )}
          <div className="flex gap-2">
            <button
              type="submit"
              disabled={busy}
              className="rounded-md bg-red-700 px-4 py-2 font-medium text-white hover:bg-red-800 disabled:opacity-60"
            >
              {busy ? "Deleting…" : "Delete my account and everything in it"}
            </button>
            <button
              type="button"
              className="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-100"
              onClick={() => {
                setOpen(false);
                setPassword("");
                setCode("");
                setError(null);
              }}
            >
              Cancel
            </button>
          </div>
        </form>
      )}
    </Section>
  );
}
