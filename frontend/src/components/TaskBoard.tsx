"use client";

import Link from "next/link";
import { type FormEvent, useEffect, useRef, useState } from "react";

import {
  ApiError,
  ConflictError,
  type ListOptions,
  SessionExpiredError,
  type SortKey,
  type StatusFilter,
  type TagCount,
  type Task,
  api,
  leavingSession,
} from "@/lib/api-service";
import {
  DueLabel,
  ExtraFields,
  type Extras,
  NO_EXTRAS,
  PriorityBadge,
  TagChips,
  isOverdue,
} from "@/components/task-parts";
import { DownloadData } from "@/components/DownloadData";
import { Notice, SelectField, TextField, inputClass } from "@/components/ui";
import { authClient } from "@/lib/auth-client";
import { LIMITS } from "@/lib/limits";
import { EMPTY_FORM, type TaskForm, changedFields, formOf, inputOf, withinLimits } from "@/lib/task-form";

const FILTERS: { value: StatusFilter; label: string }[] = [
  { value: "all", label: "All" },
  { value: "pending", label: "Pending" },
  { value: "completed", label: "Completed" },
];

const SORTS: { value: SortKey; label: string }[] = [
  { value: "created", label: "Newest first" },
  { value: "updated", label: "Recently changed" },
  { value: "due", label: "Due soonest" },
  { value: "priority", label: "Most important" },
  { value: "title", label: "Alphabetical (A–Z)" },
];

const PAGE_SIZE = 20;
const SEARCH_PAUSE_MS = 300; // search once typing pauses, not on every key

const primary =
  "rounded-md bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-700 disabled:opacity-60";
const secondary =
  "rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-100 disabled:opacity-60";

type View = { status: StatusFilter; q: string; tags: string[]; sort: SortKey; page: number };

function matches(task: Task, status: StatusFilter): boolean {
  return status === "all" || (status === "completed") === task.completed;
}

/** What to tell the person; nothing when the page is already leaving for the login page. */
function describe(error: unknown): string | null {
  if (error instanceof SessionExpiredError) return null;
  if (error instanceof ApiError) return error.message;
  return "Something went wrong. Try again.";
}

function typingIn(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))
  );
}

export function TaskBoard({ userId, userName }: { userId: string; userName: string }) {
  const [tasks, setTasks] = useState<Task[]>([]);
  const [total, setTotal] = useState(0);
  const [tagCounts, setTagCounts] = useState<TagCount[]>([]);
  const [loading, setLoading] = useState(true);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [extras, setExtras] = useState<Extras>(NO_EXTRAS);
  const [creating, setCreating] = useState(false);

  const [editingId, setEditingId] = useState<number | null>(null);
  const [editTitle, setEditTitle] = useState("");
  const [editDescription, setEditDescription] = useState("");
  const [editExtras, setEditExtras] = useState<Extras>(NO_EXTRAS);
  // What the edit form was opened with: an edit sends only the fields that differ from it.
  const [editInitial, setEditInitial] = useState<TaskForm>(EMPTY_FORM);
  const [busyId, setBusyId] = useState<number | null>(null);
  const [confirmingId, setConfirmingId] = useState<number | null>(null);
  const [confirmingClear, setConfirmingClear] = useState(false);
  // How many completed tasks there are (any page, any filter): "Clear completed" needs some.
  const [completedCount, setCompletedCount] = useState(0);
  // An edit that lost a race: the newer version, shown beside the person's own text.
  const [conflict, setConflict] = useState<Task | null>(null);

  const [search, setSearch] = useState("");
  // What is listed; any change (or "Try again", or a change that moves tasks between pages)
  // asks for the list anew.
  const [view, setView] = useState<View>({ status: "all", q: "", tags: [], sort: "created", page: 0 });
  const [attempt, setAttempt] = useState(0);
  const titleInput = useRef<HTMLInputElement>(null);
  const searchInput = useRef<HTMLInputElement>(null);
  // The task whose Edit button gets the focus back once its form closes.
  const editedId = useRef<number | null>(null);

  useEffect(() => {
    let current = true; // an answer for a view no longer shown is dropped
    const options: ListOptions = {
      status: view.status,
      q: view.q || undefined,
      tags: view.tags,
      sort: view.sort,
      limit: PAGE_SIZE,
      offset: view.page * PAGE_SIZE,
    };
    const completed = api.list(userId, { status: "completed", limit: 1 });
    Promise.all([api.list(userId, options), api.tags(userId), completed]).then(
      ([page, counts, done]) => {
        if (!current) return;
        setTasks(page.tasks);
        setTotal(page.total);
        setTagCounts(counts);
        setCompletedCount(done.total);
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
  }, [userId, view, attempt]);

  // Search once typing pauses.
  useEffect(() => {
    const wait = setTimeout(() => {
      setView((previous) => (previous.q === search.trim() ? previous : { ...previous, q: search.trim(), page: 0 }));
    }, SEARCH_PAUSE_MS);
    return () => clearTimeout(wait);
  }, [search]);

  // Keyboard shortcuts: n for a new task, / to search (not while typing somewhere); Escape, from
  // anywhere, takes back what is open in place: an edit, a delete or a clear to confirm.
  useEffect(() => {
    function onKey(event: KeyboardEvent) {
      if (event.key === "Escape" && !event.defaultPrevented) {
        setEditingId(null);
        setConflict(null);
        setConfirmingId(null);
        setConfirmingClear(false);
        return;
      }
      if (event.ctrlKey || event.metaKey || event.altKey || typingIn(event.target)) return;
      if (event.key === "n") {
        event.preventDefault();
        titleInput.current?.focus();
      } else if (event.key === "/") {
        event.preventDefault();
        searchInput.current?.focus();
      }
    }
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  // A closed edit form gives the focus back to its task's Edit button (not to the page's top).
  useEffect(() => {
    if (editingId !== null || editedId.current === null) return;
    document.querySelector<HTMLElement>(`[data-edit="${editedId.current}"]`)?.focus();
    editedId.current = null;
  }, [editingId]);

  function change(next: Partial<View>) {
    setLoading(true);
    setView((previous) => ({ ...previous, page: 0, ...next }));
  }

  function reload() {
    setAttempt((count) => count + 1);
  }

  function pickTag(tag: string) {
    if (!view.tags.includes(tag)) change({ tags: [...view.tags, tag] });
  }

  /** Runs an action; on failure the message is shown and whatever was typed stays. */
  async function attemptAction(action: () => Promise<void>): Promise<boolean> {
    setActionError(null);
    setNotice(null);
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
    const form = { title, description, ...extras };
    if (!title.trim() || !withinLimits(form)) return; // the counters say what is over
    setCreating(true);
    const done = await attemptAction(async () => {
      await api.create(userId, inputOf(form));
      reload(); // where it lands depends on the sort, the filters and the page
    });
    if (done) {
      setTitle("");
      setDescription("");
      setExtras(NO_EXTRAS);
    }
    setCreating(false);
  }

  function replace(updated: Task) {
    setTasks((current) =>
      matches(updated, view.status)
        ? current.map((task) => (task.id === updated.id ? updated : task))
        : current.filter((task) => task.id !== updated.id),
    );
    if (!matches(updated, view.status)) setTotal((count) => count - 1);
  }

  function startEditing(task: Task) {
    const form = formOf(task);
    setEditingId(task.id);
    editedId.current = task.id;
    setEditInitial(form);
    setEditTitle(form.title);
    setEditDescription(form.description);
    setEditExtras({ priority: form.priority, tags: form.tags, due: form.due });
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
    const form = { title: editTitle, description: editDescription, ...editExtras };
    if (!editTitle.trim() || !withinLimits(form)) return;
    // Only what the person changed: a field left alone is not sent, so it stays exactly as
    // stored (a due date's seconds, a description's spacing), and is not written over a newer
    // version from elsewhere either.
    const changes = changedFields(editInitial, form);
    if (Object.keys(changes).length === 0) {
      stopEditing();
      return;
    }
    setBusyId(task.id);
    let conflicted = false;
    const done = await attemptAction(async () => {
      try {
        replace(await api.update(userId, conflict ?? task, changes));
        setTagCounts(await api.tags(userId));
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
    await attemptAction(async () => {
      const updated = await api.setCompleted(userId, task.id, !task.completed);
      replace(updated);
      if (updated.completed !== task.completed) {
        setCompletedCount((count) => count + (updated.completed ? 1 : -1));
      }
    });
    setBusyId(null);
  }

  async function remove(task: Task) {
    setBusyId(task.id);
    const done = await attemptAction(async () => {
      try {
        await api.remove(userId, task);
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        replace(error.current); // show what it has become; the person may still delete it
        throw new ApiError(412, "This task was changed elsewhere. Check it, then delete it again if you still want to.");
      }
      reload();
    });
    if (done) setConfirmingId(null);
    setBusyId(null);
  }

  async function clearCompleted() {
    const done = await attemptAction(async () => {
      const deleted = await api.clearCompleted(userId);
      // 0 when another tab cleared them first (or made them pending again).
      setNotice(
        deleted === 0
          ? "There were no completed tasks left to clear."
          : deleted === 1
            ? "Cleared 1 completed task."
            : `Cleared ${deleted} completed tasks.`,
      );
      reload();
    });
    if (done) setConfirmingClear(false);
  }

  async function signOut() {
    leavingSession();
    await authClient.signOut();
    // A full page load: nothing of this person's stays in the tab's memory.
    window.location.assign(new URL("/login", window.location.origin).href);
  }

  const filtered = view.q !== "" || view.tags.length > 0;
  const first = view.page * PAGE_SIZE;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));

  return (
    <main className="mx-auto max-w-2xl px-4 py-8 sm:px-6">
      <header className="mb-6 flex flex-wrap items-center justify-between gap-3">
        <div className="min-w-0">
          <h1 className="text-3xl font-bold tracking-tight">Your tasks</h1>
          <p className="text-slate-600">Signed in as {userName}</p>
        </div>
        <div className="flex items-center gap-2">
          <Link className={secondary} href="/account">
            Account
          </Link>
          <button type="button" className={secondary} onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>

      <form onSubmit={create} className="mb-6 space-y-3 rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200">
        <TextField
          ref={titleInput}
          label="New task"
          name="title"
          placeholder="What needs doing?"
          required
          limit={LIMITS.title}
          trimmed
          value={title}
          onValue={setTitle}
        />
        <TextField
          label="Details (optional)"
          name="description"
          rows={2}
          limit={LIMITS.description}
          value={description}
          onValue={setDescription}
        />
        <ExtraFields value={extras} onChange={setExtras} />
        <div className="flex flex-wrap items-center justify-between gap-2">
          <button
            type="submit"
            className={primary}
            disabled={creating || !title.trim() || !withinLimits({ title, description, ...extras })}
          >
            {creating ? "Adding…" : "Add task"}
          </button>
          <p className="text-xs text-slate-500">
            Shortcuts: <kbd className="rounded border px-1">n</kbd> new task,{" "}
            <kbd className="rounded border px-1">/</kbd> search
          </p>
        </div>
      </form>

      {actionError && <Notice kind="error">{actionError}</Notice>}
      {notice && <Notice kind="info">{notice}</Notice>}

      <section aria-label="Find tasks" className="mb-4 space-y-3">
        <div className="grid gap-3 sm:grid-cols-[1fr_auto]">
          <label className="block">
            <span className="text-sm font-medium">Search</span>
            <input
              ref={searchInput}
              type="search"
              name="search"
              maxLength={LIMITS.search} // the API's limit on `q`: a search phrase, not a paragraph
              className={inputClass}
              placeholder="Words in a title or details"
              value={search}
              onChange={(event) => setSearch(event.target.value)}
            />
          </label>
          <SelectField
            small
            label="Sort by"
            name="sort"
            value={view.sort}
            options={SORTS}
            onValue={(sort) => change({ sort })}
          />
        </div>

        <nav aria-label="Filter tasks" className="flex flex-wrap items-center gap-2">
          {FILTERS.map(({ value, label }) => (
            <button
              key={value}
              type="button"
              aria-pressed={view.status === value}
              onClick={() => change({ status: value })}
              className={`rounded-full px-3 py-1 text-sm font-medium ring-1 ${
                view.status === value
                  ? "bg-indigo-600 text-white ring-indigo-600"
                  : "bg-white text-slate-700 ring-slate-300 hover:bg-slate-100"
              }`}
            >
              {label}
            </button>
          ))}
          {view.tags.map((tag) => (
            <button
              key={tag}
              type="button"
              onClick={() => change({ tags: view.tags.filter((other) => other !== tag) })}
              aria-label={`Stop filtering by ${tag}`}
              className="rounded-full bg-indigo-100 px-3 py-1 text-sm text-indigo-900 ring-1 ring-indigo-300"
            >
              #{tag} ✕
            </button>
          ))}
          <span className="ml-auto">
            {completedCount === 0 ? null : confirmingClear ? (
              <span role="group" aria-label="Confirm clearing" className="flex flex-wrap items-center gap-2">
                <span className="text-sm">
                  {completedCount === 1
                    ? "Delete the 1 completed task?"
                    : `Delete the ${completedCount} completed tasks?`}
                </span>
                <button
                  type="button"
                  className="rounded-md bg-red-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-red-700"
                  onClick={() => void clearCompleted()}
                >
                  Yes, clear them
                </button>
                <button type="button" className={secondary} onClick={() => setConfirmingClear(false)}>
                  Cancel
                </button>
              </span>
            ) : (
              <button type="button" className={secondary} onClick={() => setConfirmingClear(true)}>
                Clear completed
              </button>
            )}
          </span>
        </nav>

        {tagCounts.length > 0 && (
          <p className="flex flex-wrap items-center gap-1 text-sm text-slate-600">
            <span>Your tags:</span>
            {tagCounts.map(({ tag, count }) => (
              <button
                key={tag}
                type="button"
                onClick={() => pickTag(tag)}
                className="rounded-full bg-white px-2 py-0.5 text-xs ring-1 ring-slate-300 hover:bg-slate-100"
              >
                #{tag} <span className="text-slate-500">{count}</span>
              </button>
            ))}
          </p>
        )}
      </section>

      {loading ? (
        <p role="status" className="text-slate-600">
          Loading your tasks…
        </p>
      ) : loadError ? (
        <Notice kind="error" className="">
          <p>{loadError}</p>
          <button type="button" className={`${secondary} mt-2`} onClick={reload}>
            Try again
          </button>
        </Notice>
      ) : tasks.length === 0 ? (
        <p className="rounded-lg bg-white p-6 text-center text-slate-600 ring-1 ring-slate-200">
          {filtered ? (
            <>
              No tasks match.
              {view.q && (
                <span className="mt-1 block text-sm">
                  Nothing has “{view.q}” in its title or details{view.tags.length > 0 && " with those tags"}.
                </span>
              )}
            </>
          ) : view.status === "all"
              ? "No tasks yet. Add your first one above."
              : `No ${view.status} tasks.`}
        </p>
      ) : (
        <>
          <ul aria-label="Tasks" className="space-y-2">
            {tasks.map((task) => (
              <li
                key={task.id}
                data-testid="task"
                data-overdue={isOverdue(task) || undefined}
                className={`rounded-lg bg-white p-3 shadow-sm ring-1 ${isOverdue(task) ? "ring-red-300" : "ring-slate-200"}`}
              >
                {editingId === task.id ? (
                  <form onSubmit={(event) => saveEdit(event, task)} className="space-y-2">
                    {conflict && (
                      <div role="alert" data-testid="conflict" className="rounded-md bg-amber-50 p-3 text-sm text-amber-900 ring-1 ring-amber-200">
                        <p className="font-medium">This task was changed elsewhere while you were editing. It now reads:</p>
                        <p className="mt-1 wrap-anywhere">
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
                      limit={LIMITS.title}
                      trimmed
                      autoFocus
                      value={editTitle}
                      onValue={setEditTitle}
                    />
                    <TextField
                      small
                      label="Details"
                      name="edit-description"
                      rows={2}
                      limit={LIMITS.description}
                      value={editDescription}
                      onValue={setEditDescription}
                    />
                    <ExtraFields small value={editExtras} onChange={setEditExtras} />
                    <div className="flex gap-2">
                      <button
                        type="submit"
                        className={primary}
                        disabled={
                          busyId === task.id ||
                          !editTitle.trim() ||
                          !withinLimits({ title: editTitle, description: editDescription, ...editExtras })
                        }
                      >
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
                      <p className="flex flex-wrap items-center gap-2">
                        <span
                          data-testid="task-title"
                          className={`wrap-anywhere font-medium ${task.completed ? "text-slate-500 line-through" : ""}`}
                        >
                          {task.title}
                        </span>
                        {task.priority !== "medium" && <PriorityBadge priority={task.priority} />}
                      </p>
                      {task.description && (
                        <p className="whitespace-pre-line wrap-anywhere text-sm text-slate-600">
                          {task.description}
                        </p>
                      )}
                      <DueLabel task={task} />
                      <TagChips title={task.title} tags={task.tags} onPick={pickTag} />
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
                        data-edit={task.id}
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
          <nav aria-label="Pages" className="mt-3 flex flex-wrap items-center justify-between gap-2">
            <p className="text-sm text-slate-600" aria-live="polite">
              {total > PAGE_SIZE
                ? `Showing ${first + 1}–${first + tasks.length} of ${total}`
                : `Showing ${tasks.length} of ${total}`}
            </p>
            {pages > 1 && (
              <span className="flex items-center gap-2">
                <button
                  type="button"
                  className={secondary}
                  disabled={view.page === 0}
                  onClick={() => setView((previous) => ({ ...previous, page: previous.page - 1 }))}
                >
                  Previous
                </button>
                <span className="text-sm">
                  Page {view.page + 1} of {pages}
                </span>
                <button
                  type="button"
                  className={secondary}
                  disabled={view.page + 1 >= pages}
                  onClick={() => setView((previous) => ({ ...previous, page: previous.page + 1 }))}
                >
                  Next
                </button>
              </span>
            )}
          </nav>
        </>
      )}
      <DownloadData userId={userId} />
    </main>
  );
}
