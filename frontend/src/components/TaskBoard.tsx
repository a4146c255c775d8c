"use client";

import { useRouter } from "next/navigation";
import { type FormEvent, useEffect, useState } from "react";

import {
  ApiError,
  ConflictError,
  SessionExpiredError,
  type StatusFilter,
  type Task,
  api,
  forgetToken,
} from "@/lib/api-service";
import { Notice, TextField } from "@/components/ui";
import { authClient } from "@/lib/auth-client";

const FILTERS: { value: StatusFilter; label: string }[] = [
  { value: "all", label: "All" },
  { value: "pending", label: "Pending" },
  { value: "completed", label: "Completed" },
];

const primary =
  "rounded-md bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-700 disabled:opacity-60";
const secondary =
  "rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-100 disabled:opacity-60";

function matches(task: Task, filter: StatusFilter): boolean {
  return filter === "all" || (filter === "completed") === task.completed;
}

/** What to tell the person; nothing when the page is already leaving for the login page. */
function describe(error: unknown): string | null {
  if (error instanceof SessionExpiredError) return null;
  if (error instanceof ApiError) return error.message;
  return "Something went wrong. Try again.";
}

export function TaskBoard({ userId, userName }: { userId: string; userName: string }) {
  const router = useRouter();
  const [tasks, setTasks] = useState<Task[]>([]);
  const [total, setTotal] = useState(0);
  const [loading, setLoading] = useState(true);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);

  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [creating, setCreating] = useState(false);

  const [editingId, setEditingId] = useState<number | null>(null);
  const [editTitle, setEditTitle] = useState("");
  const [editDescription, setEditDescription] = useState("");
  const [busyId, setBusyId] = useState<number | null>(null);
  const [confirmingId, setConfirmingId] = useState<number | null>(null);
  // An edit that lost a race: the newer version, shown beside the person's own text.
  const [conflict, setConflict] = useState<Task | null>(null);

  // A change of filter, or "Try again", asks for the list anew.
  const [query, setQuery] = useState<{ filter: StatusFilter; attempt: number }>({
    filter: "all",
    attempt: 0,
  });
  const filter = query.filter;

  useEffect(() => {
    let current = true; // an answer for a filter no longer shown is dropped
    api.list(userId, { status: query.filter }).then(
      (page) => {
        if (!current) return;
        setTasks(page.tasks);
        setTotal(page.total);
        setLoadError(null);
        setLoading(false);
      },
      (error: unknown) => {
        if (!current) return;
        setLoadError(describe(error));
        setLoading(false);
      },
    );
    return () => {
      current = false;
    };
  }, [userId, query]);

  function show(next: StatusFilter) {
    setLoading(true);
    setQuery((previous) => ({ filter: next, attempt: previous.attempt + 1 }));
  }

  /** Runs an action; on failure the message is shown and whatever was typed stays. */
  async function attempt(action: () => Promise<void>): Promise<boolean> {
    setActionError(null);
    try {
      await action();
      return true;
    } catch (error) {
      setActionError(describe(error));
      return false;
    }
  }

  async function create(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!title.trim()) return;
    setCreating(true);
    const done = await attempt(async () => {
      const task = await api.create(userId, {
        title: title.trim(),
        description: description.trim() || null,
      });
      if (matches(task, filter)) setTasks((current) => [task, ...current]);
      setTotal((count) => count + (matches(task, filter) ? 1 : 0));
    });
    if (done) {
      setTitle("");
      setDescription("");
    }
    setCreating(false);
  }

  function replace(updated: Task) {
    setTasks((current) =>
      matches(updated, filter)
        ? current.map((task) => (task.id === updated.id ? updated : task))
        : current.filter((task) => task.id !== updated.id),
    );
    if (!matches(updated, filter)) setTotal((count) => count - 1);
  }

  function startEditing(task: Task) {
    setEditingId(task.id);
    setEditTitle(task.title);
    setEditDescription(task.description ?? "");
    setConfirmingId(null);
    setConflict(null);
  }

  function stopEditing() {
    setEditingId(null);
    setConflict(null);
  }

  /** Saves against the version the person was looking at; if someone else saved first, the
   * newer version is shown and the person chooses, rather than it being overwritten. */
  async function saveEdit(event: FormEvent<HTMLFormElement>, task: Task) {
    event.preventDefault();
    setBusyId(task.id);
    let conflicted = false;
    const done = await attempt(async () => {
      try {
        replace(
          await api.update(userId, conflict ?? task, {
            title: editTitle.trim(),
            description: editDescription.trim() || null,
          }),
        );
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        replace(error.current);
        setConflict(error.current); // shown in the form, which stays open with the person's text
        conflicted = true;
      }
    });
    if (done && !conflicted) stopEditing();
    setBusyId(null);
  }

  async function toggle(task: Task) {
    setBusyId(task.id);
    await attempt(async () => replace(await api.setCompleted(userId, task.id, !task.completed)));
    setBusyId(null);
  }

  async function remove(task: Task) {
    setBusyId(task.id);
    const done = await attempt(async () => {
      try {
        await api.remove(userId, task);
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        replace(error.current); // show what it has become; the person may still delete it
        throw new ApiError(412, "This task was changed elsewhere. Check it, then delete it again if you still want to.");
      }
      setTasks((current) => current.filter((item) => item.id !== task.id));
      setTotal((count) => count - 1);
    });
    if (done) setConfirmingId(null);
    setBusyId(null);
  }

  async function signOut() {
    forgetToken();
    await authClient.signOut();
    router.replace("/login");
    router.refresh();
  }

  return (
    <main className="mx-auto max-w-2xl px-4 py-8 sm:px-6">
      <header className="mb-6 flex flex-wrap items-center justify-between gap-3">
        <div>
          <h1 className="text-3xl font-bold tracking-tight">Your tasks</h1>
          <p className="text-slate-600">Signed in as {userName}</p>
        </div>
        <button type="button" className={secondary} onClick={signOut}>
          Sign out
        </button>
      </header>

      <form onSubmit={create} className="mb-6 space-y-3 rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200">
        <TextField
          label="New task"
          name="title"
          placeholder="What needs doing?"
          required
          maxLength={200}
          value={title}
          onValue={setTitle}
        />
        <TextField
          label="Details (optional)"
          name="description"
          rows={2}
          maxLength={1000}
          value={description}
          onValue={setDescription}
        />
        <button type="submit" className={primary} disabled={creating || !title.trim()}>
          {creating ? "Adding…" : "Add task"}
        </button>
      </form>

      {actionError && <Notice kind="error">{actionError}</Notice>}

      <nav aria-label="Filter tasks" className="mb-4 flex gap-2">
        {FILTERS.map(({ value, label }) => (
          <button
            key={value}
            type="button"
            aria-pressed={filter === value}
            onClick={() => show(value)}
            className={`rounded-full px-3 py-1 text-sm font-medium ring-1 ${
              filter === value
                ? "bg-indigo-600 text-white ring-indigo-600"
                : "bg-white text-slate-700 ring-slate-300 hover:bg-slate-100"
            }`}
          >
            {label}
          </button>
        ))}
      </nav>

      {loading ? (
        <p role="status" className="text-slate-600">
          Loading your tasks…
        </p>
      ) : loadError ? (
        <Notice kind="error" className="">
          <p>{loadError}</p>
          <button type="button" className={`${secondary} mt-2`} onClick={() => show(filter)}>
            Try again
          </button>
        </Notice>
      ) : tasks.length === 0 ? (
        <p className="rounded-lg bg-white p-6 text-center text-slate-600 ring-1 ring-slate-200">
          {filter === "all"
            ? "No tasks yet. Add your first one above."
            : `No ${filter} tasks.`}
        </p>
      ) : (
        <>
          <ul aria-label="Tasks" className="space-y-2">
            {tasks.map((task) => (
              <li
                key={task.id}
                data-testid="task"
                className="rounded-lg bg-white p-3 shadow-sm ring-1 ring-slate-200"
              >
                {editingId === task.id ? (
                  <form onSubmit={(event) => saveEdit(event, task)} className="space-y-2">
                    {conflict && (
                      <div role="alert" data-testid="conflict" className="rounded-md bg-amber-50 p-3 text-sm text-amber-900 ring-1 ring-amber-200">
                        <p className="font-medium">This task was changed elsewhere while you were editing. It now reads:</p>
                        <p className="mt-1 break-words">
                          <span className="font-medium">{conflict.title}</span>
                          {conflict.description && <span className="block whitespace-pre-line">{conflict.description}</span>}
                        </p>
                        <p className="mt-1">Save yours over it, or keep the newer version?</p>
                        <button type="button" className={`${secondary} mt-2`} onClick={stopEditing}>
                          Keep the newer version
                        </button>
                      </div>
                    )}
                    <TextField
                      small
                      label="Title"
                      name="edit-title"
                      required
                      maxLength={200}
                      autoFocus
                      value={editTitle}
                      onValue={setEditTitle}
                    />
                    <TextField
                      small
                      label="Details"
                      name="edit-description"
                      rows={2}
                      maxLength={1000}
                      value={editDescription}
                      onValue={setEditDescription}
                    />
                    <div className="flex gap-2">
                      <button type="submit" className={primary} disabled={busyId === task.id || !editTitle.trim()}>
                        {conflict ? "Save mine over it" : "Save"}
                      </button>
                      <button type="button" className={secondary} onClick={stopEditing}>
                        Cancel
                      </button>
                    </div>
                  </form>
                ) : (
                  <div className="flex items-start gap-3">
                    <input
                      type="checkbox"
                      className="mt-1 h-5 w-5 shrink-0 accent-indigo-600"
                      checked={task.completed}
                      disabled={busyId === task.id}
                      onChange={() => void toggle(task)}
                      aria-label={`Done: ${task.title}`}
                    />
                    <div className="min-w-0 flex-1">
                      <p
                        data-testid="task-title"
                        className={`break-words font-medium ${task.completed ? "text-slate-500 line-through" : ""}`}
                      >
                        {task.title}
                      </p>
                      {task.description && (
                        <p className="whitespace-pre-line break-words text-sm text-slate-600">
                          {task.description}
                        </p>
                      )}
                      {confirmingId === task.id && (
                        <div role="group" aria-label="Confirm delete" className="mt-2 flex flex-wrap items-center gap-2">
                          <span className="text-sm">Delete this task?</span>
                          <button
                            type="button"
                            className="rounded-md bg-red-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-red-700 disabled:opacity-60"
                            disabled={busyId === task.id}
                            onClick={() => void remove(task)}
                          >
                            Yes, delete
                          </button>
                          <button type="button" className={secondary} onClick={() => setConfirmingId(null)}>
                            Keep it
                          </button>
                        </div>
                      )}
                    </div>
                    <div className="flex shrink-0 gap-2">
                      <button
                        type="button"
                        className={secondary}
                        onClick={() => startEditing(task)}
                        aria-label={`Edit: ${task.title}`}
                      >
                        Edit
                      </button>
                      <button
                        type="button"
                        className={secondary}
                        onClick={() => setConfirmingId(task.id)}
                        aria-label={`Delete: ${task.title}`}
                      >
                        Delete
                      </button>
                    </div>
                  </div>
                )}
              </li>
            ))}
          </ul>
          <p className="mt-3 text-sm text-slate-600" aria-live="polite">
            Showing {tasks.length} of {total}
          </p>
        </>
      )}
    </main>
  );
}
