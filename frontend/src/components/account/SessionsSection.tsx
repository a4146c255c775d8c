"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";

import { revokeSessionById } from "@/app/account/actions";
import { Section, failureMessage, secondaryButton } from "@/components/account/Section";
import { Notice } from "@/components/ui";
import { authClient } from "@/lib/auth-client";
import type { SessionRow } from "@/lib/session-list";

// UTC, spelled out: the page is rendered on the server and again in the browser, whose time zones
// may differ (a mismatch would be a hydration error).
const WHEN = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });

/** "Chrome 120 on Linux at 192.0.2.7, last active 2 Dec 2026, 08:15 UTC (this device)": all that
 * the row shows, so that two sessions of the same browser and address, whose rows differ only in
 * their time, are told apart by a screen reader too (each row's button is named by it). */
function describe(session: SessionRow): string {
  const where = session.ipAddress ? ` at ${session.ipAddress}` : "";
  const here = session.current ? " (this device)" : "";
  return `${session.device}${where}, last active ${WHEN.format(new Date(session.lastActive))} UTC${here}`;
}

/**
 * Where the account is signed in (Better Auth's sessions: browser and system from the
 * User-Agent, address, last activity), this one marked. Any other can be signed out by its id
 * (the server action revokeSessionById, which finds its token on the server: the browser never
 * holds another session's token), or all of them at once (POST /revoke-other-sessions).
 */
export function SessionsSection({ sessions }: { sessions: SessionRow[] }) {
  const router = useRouter();
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const others = sessions.filter((session) => !session.current).length;

  async function run(key: string, action: () => Promise<{ error: { status: number; message?: string } | null }>) {
    setBusy(key);
    setError(null);
    try {
      const { error: failure } = await action();
      if (failure) setError(failureMessage(failure));
      // 404: the session ended meanwhile (signed out there, expired); the list is out of date.
      if (!failure || failure.status === 404) router.refresh();
    } catch {
      setError("Cannot reach the server. Check your connection.");
    } finally {
      setBusy(null);
    }
  }

  return (
    <Section title="Where you are signed in">
      {error && <Notice kind="error">{error}</Notice>}
      <ul className="divide-y divide-slate-200">
        {sessions.map((session) => (
          <li key={session.id} data-testid="session" className="flex flex-wrap items-center justify-between gap-2 py-2">
            <div className="min-w-0">
              <p className="font-medium">
                {session.device}
                {session.current && <span className="ml-2 text-sm text-green-800">(this device)</span>}
              </p>
              <p className="text-sm text-slate-600">
                {session.ipAddress ? `${session.ipAddress} · ` : ""}
                last active <time dateTime={session.lastActive}>{WHEN.format(new Date(session.lastActive))} UTC</time>
              </p>
            </div>
            {!session.current && (
              <button
                type="button"
                disabled={busy !== null}
                className={secondaryButton}
                aria-label={`Sign out ${describe(session)}`}
                onClick={() => void run(session.id, () => revokeSessionById(session.id))}
              >
                {busy === session.id ? "Signing out…" : "Sign out"}
              </button>
            )}
          </li>
        ))}
      </ul>
      {others > 0 ? (
        <button
          type="button"
          disabled={busy !== null}
          className={`${secondaryButton} mt-3`}
          onClick={() => void run("others", () => authClient.revokeOtherSessions())}
        >
          {busy === "others" ? "Signing out…" : "Sign out everywhere else"}
        </button>
      ) : (
        <p className="mt-3 text-sm text-slate-600">You are signed in nowhere else.</p>
      )}
    </Section>
  );
}
