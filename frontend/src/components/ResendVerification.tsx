"use client";

import { useState } from "react";

import { Notice } from "@/components/ui";
import { authClient } from "@/lib/auth-client";

/** Where the link in the message leads once opened (Better Auth adds `?error=` when it fails). */
export const VERIFIED_PAGE = "/email-verified";

/**
 * "Send the link again": asks Better Auth for a new confirmation link to `email`
 * (POST /send-verification-email). Signed out, Better Auth answers the same, after the same
 * half second at least, whether or not the address has an unconfirmed account, so the answer
 * here says "if" too.
 */
export function ResendVerification({ email, signedIn = false }: { email: string; signedIn?: boolean }) {
  const [state, setState] = useState<"idle" | "busy" | "sent">("idle");
  const [error, setError] = useState<string | null>(null);

  async function resend() {
    setState("busy");
    setError(null);
    try {
      const { error: failure } = await authClient.sendVerificationEmail({ email, callbackURL: VERIFIED_PAGE });
      if (failure) {
        setError(
          failure.status === 429
            ? "Too many requests for a link. Wait a minute and try again."
            : failure.message || "Something went wrong. Try again.",
        );
        setState("idle");
        return;
      }
      setState("sent");
    } catch {
      setError("Cannot reach the server. Check your connection.");
      setState("idle");
    }
  }

  return (
    <div className="mt-2">
      {state === "sent" ? (
        <p role="status" className="text-sm text-slate-700">
          {signedIn
            ? `A new link is on its way to ${email}.`
            : `If ${email} has an account waiting for confirmation, a new link is on its way.`}
        </p>
      ) : (
        <button
          type="button"
          disabled={state === "busy"}
          onClick={() => void resend()}
          className="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-100 disabled:opacity-60"
        >
          {state === "busy" ? "Sending…" : "Send the link again"}
        </button>
      )}
      {error && (
        <Notice kind="error" className="mt-2">
          {error}
        </Notice>
      )}
    </div>
  );
}
