"use client";

import { useState } from "react";

import { Notice } from "@/components/ui";
import { ApiError, type ExportFormat, api } from "@/lib/api-service";

const FORMATS: { format: ExportFormat; label: string }[] = [
  { format: "json", label: "JSON" },
  { format: "csv", label: "CSV (spreadsheet)" },
];

/** Where the buttons sit: at the foot of the task page, set off by a rule; or inside a card of the
 * account page, next to deleting the account. */
const PLACEMENT = {
  foot: "mt-8 border-t border-slate-200 pt-4 text-sm text-slate-600",
  inline: "mb-3 text-sm text-slate-600",
} as const;

/**
 * "Download my data": every task as a JSON or CSV file, streamed by the task API
 * (GET /api/{user_id}/export). The request needs the Bearer token, which a plain link
 * cannot carry, so the file is fetched, then handed to the browser as an object URL.
 * On the task page (at its foot) and on the account page (in "Delete my account").
 */
export function DownloadData({
  userId,
  placement = "foot",
}: {
  userId: string;
  placement?: keyof typeof PLACEMENT;
}) {
  const [busy, setBusy] = useState<ExportFormat | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function download(format: ExportFormat) {
    setBusy(format);
    setError(null);
    try {
      const { file, name } = await api.exportTasks(userId, format);
      const url = URL.createObjectURL(file);
      const link = document.createElement("a");
      link.href = url;
      link.download = name;
      link.click();
      // The click has handed the file to the browser's download; the URL is no longer needed.
      setTimeout(() => URL.revokeObjectURL(url), 0);
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : "The download failed. Try again.");
    } finally {
      setBusy(null);
    }
  }

  return (
    <section aria-label="Download my data" className={PLACEMENT[placement]}>
      <p className="flex flex-wrap items-center gap-2">
        <span>Download my data (every task):</span>
        {FORMATS.map(({ format, label }) => (
          <button
            key={format}
            type="button"
            disabled={busy !== null}
            onClick={() => void download(format)}
            className="rounded-md bg-white px-2 py-1 font-medium text-slate-700 ring-1 ring-slate-300 hover:bg-slate-100 disabled:opacity-50"
          >
            {busy === format ? "Preparing…" : label}
          </button>
        ))}
      </p>
      {error && <Notice kind="error">{error}</Notice>}
    </section>
  );
}
