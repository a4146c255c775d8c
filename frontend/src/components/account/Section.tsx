import { type ReactNode, useId } from "react";

export const primaryButton =
  "rounded-md bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-700 disabled:opacity-60";
export const secondaryButton =
  "rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-100 disabled:opacity-60";

/** A card's explanatory line: smaller and quieter than what it explains. */
export const sectionNote = "mb-3 text-sm text-slate-600";

/** One part of the account page: a card whose heading names it (the region's accessible name).
 * `danger` rings the card in red, for what cannot be undone (deleting the account). */
export function Section({ title, danger = false, children }: { title: string; danger?: boolean; children: ReactNode }) {
  const id = useId();
  const ring = danger ? "ring-red-200" : "ring-slate-200";
  return (
    <section aria-labelledby={id} className={`rounded-lg bg-white p-4 shadow-sm ring-1 ${ring}`}>
      <h2 id={id} className="mb-3 text-xl font-semibold">
        {title}
      </h2>
      {children}
    </section>
  );
}

/** The message of a failed Better Auth call, in words. */
export function failureMessage(error: { status: number; message?: string }): string {
  if (error.status === 429) return "Too many attempts. Wait a few seconds and try again.";
  if (error.status === 401) return "Your session has ended. Sign in again.";
  return error.message || "Something went wrong. Try again.";
}
