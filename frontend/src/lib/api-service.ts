/**
 * A typed client for the task API (see docs/design.md), used from the browser.
 *
 * The JWT comes from Better Auth (`authClient.token()`), lives in this module's memory only
 * (never localStorage, so a script injected into the page cannot lift it from storage), and is
 * fetched again shortly before it expires. A 401 gets one fresh token and one retry; if Better
 * Auth has no session to mint a token from, the person is sent to /login?expired=1.
 */
import { authClient } from "@/lib/auth-client";

export type Task = {
  id: number;
  user_id: string;
  title: string;
  description: string | null;
  completed: boolean;
  priority: Priority;
  tags: string[];
  /** ISO 8601 in UTC, or null. */
  due_at: string | null;
  created_at: string;
  updated_at: string;
  /** Grows by one with every change; sent back as If-Match so a change never overwrites a newer one. */
  version: number;
};

export type Priority = "low" | "medium" | "high";
export type TaskInput = {
  title: string;
  description?: string | null;
  completed?: boolean;
  priority?: Priority;
  tags?: string[];
  due_at?: string | null;
};
export type StatusFilter = "all" | "pending" | "completed";
export type SortKey = "created" | "updated" | "due" | "priority" | "title";
export type ListOptions = {
  status?: StatusFilter;
  q?: string;
  tags?: string[];
  sort?: SortKey;
  overdue?: boolean;
  limit?: number;
  offset?: number;
};
export type TagCount = { tag: string; count: number };
export type ExportFormat = "json" | "csv";

/** An answer the person should see, with the API's own `detail` when it gave one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The task changed elsewhere (another tab, another device) since this page read it. */
export class ConflictError extends ApiError {
  constructor(readonly current: Task) {
    super(412, "This task was changed elsewhere since you opened it.");
    this.name = "ConflictError";
  }
}

/** The session is gone; the page is already on its way to the login page. */
export class SessionExpiredError extends Error {
  constructor() {
    super("Your session has ended. Please sign in again.");
    this.name = "SessionExpiredError";
  }
}

const REFRESH_MARGIN_MS = 60_000; // fetch a new token a minute before `exp`

let cached: { token: string; expiresAt: number } | null = null;
let pending: Promise<string> | null = null;

function expiryOf(token: string): number {
  try {
    const payload = token.split(".")[1] ?? "";
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === "number" ? exp * 1000 : 0;
  } catch {
    return 0; // unreadable: treat as expired, so it is fetched again next time
  }
}

/** Set by this tab's own sign-out, which then leaves the page itself (a full load resets it). */
let signingOut = false;

function sessionExpired(): never {
  cached = null;
  // A request still in flight when this tab signs out gets its 401 as expected: the sign-out
  // leads to /login on its own, not to "you have been signed out" by someone else.
  if (!signingOut) {
    // A full page load, not a client-side navigation: it also drops every bit of in-memory state.
    window.location.assign(new URL("/login?expired=1", window.location.origin).href);
  }
  throw new SessionExpiredError();
}

async function fetchToken(): Promise<string> {
  let result: Awaited<ReturnType<typeof authClient.token>>;
  try {
    result = await authClient.token();
  } catch {
    throw new ApiError(0, "Cannot reach the server. Check your connection and try again.");
  }
  const { data, error } = result;
  if (error || !data?.token) {
    if (!error || error.status === 401 || error.status === 403) sessionExpired();
    throw new ApiError(error.status, "Signing in to the task service failed. Try again.");
  }
  cached = { token: data.token, expiresAt: expiryOf(data.token) };
  return data.token;
}

/** The current token, fetched at most once at a time however many requests ask for it. */
async function token(forceRefresh = false): Promise<string> {
  if (!forceRefresh && cached && cached.expiresAt - REFRESH_MARGIN_MS > Date.now()) {
    return cached.token;
  }
  pending ??= fetchToken().finally(() => {
    pending = null;
  });
  return pending;
}

/** Forget the token (its session was replaced), so it is never sent again. */
export function forgetToken(): void {
  cached = null;
}

/**
 * This tab is leaving its session (sign-out, the account deleted): forget the token, and
 * let no request still in flight send the page to /login?expired=1. The caller then loads
 * its own page afresh (a full page load, which also clears `signingOut`).
 */
export function leavingSession(): void {
  cached = null;
  signingOut = true;
}

async function send(path: string, init: RequestInit, bearer: string): Promise<Response> {
  try {
    return await fetch(path, {
      ...init,
      headers: { ...init.headers, Authorization: `Bearer ${bearer}` },
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "Cannot reach the server. Check your connection and try again.");
  }
}

async function detailOf(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { detail?: unknown };
    if (typeof body.detail === "string") return body.detail;
    if (Array.isArray(body.detail)) {
      // A 422: each `msg` is one sentence that names its field (backend taskapi.api.messages).
      return body.detail
        .map((item: { msg?: unknown }) => (typeof item.msg === "string" ? item.msg : ""))
        .filter(Boolean)
        .join(" ");
    }
  } catch {
    // not JSON: fall through to the status text
  }
  return response.statusText || `HTTP ${response.status}`;
}

const MESSAGES: Record<number, string> = {
  403: "You are not allowed to see these tasks.",
  404: "That task no longer exists. It may have been deleted in another tab.",
  413: "That is too much text to save.",
};

async function request(path: string, init: RequestInit = {}): Promise<Response> {
  let response = await send(path, init, await token());
  if (response.status === 401) {
    // The token may have expired in flight: one fresh token, one retry.
    // (A token Better Auth could not mint has already sent the person to the login page.)
    response = await send(path, init, await token(true));
    if (response.status === 401) {
      throw new ApiError(401, "The task service did not accept your sign-in. Try again shortly.");
    }
  }
  if (response.status === 412) {
    const body = (await response.json()) as { current: Task };
    throw new ConflictError(body.current);
  }
  if (!response.ok) {
    const detail = await detailOf(response);
    const known = MESSAGES[response.status];
    throw new ApiError(
      response.status,
      known ?? (response.status >= 500 ? "The server had a problem. Try again shortly." : detail),
    );
  }
  return response;
}

function json(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    body: JSON.stringify(body),
    headers: { "Content-Type": "application/json", ...headers },
  };
}

/** If-Match for the version this page last saw: the server refuses (412) if it has moved on. */
function ifMatch(task: Pick<Task, "version">): Record<string, string> {
  return { "If-Match": `"${task.version}"` };
}

const CREATE_ATTEMPTS = 3;

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function userPath(userId: string, path: string): string {
  return `/api/${encodeURIComponent(userId)}/${path}`;
}

function tasksPath(userId: string, suffix = ""): string {
  return userPath(userId, `tasks${suffix}`);
}

export const api = {
  async list(userId: string, options: ListOptions = {}): Promise<{ tasks: Task[]; total: number }> {
    const query = new URLSearchParams({
      status: options.status ?? "all",
      sort: options.sort ?? "created",
      limit: String(options.limit ?? 100),
      offset: String(options.offset ?? 0),
    });
    if (options.q) query.set("q", options.q);
    if (options.overdue) query.set("overdue", "true");
    for (const tag of options.tags ?? []) query.append("tag", tag);
    const response = await request(`${tasksPath(userId)}?${query}`);
    const tasks = (await response.json()) as Task[];
    return { tasks, total: Number(response.headers.get("X-Total-Count") ?? tasks.length) };
  },

  async tags(userId: string): Promise<TagCount[]> {
    const response = await request(userPath(userId, "tags"));
    return (await response.json()) as TagCount[];
  },

  /** Delete every completed task; how many went. */
  async clearCompleted(userId: string): Promise<number> {
    const response = await request(`${tasksPath(userId)}?status=completed`, { method: "DELETE" });
    return ((await response.json()) as { deleted: number }).deleted;
  },

  /**
   * Create, retrying a lost connection or a 503 with the same Idempotency-Key: the server
   * answers a retry with the task the first attempt made, so a retry never makes a second one.
   */
  async create(userId: string, input: TaskInput): Promise<Task> {
    const init = { method: "POST", ...json(input, { "Idempotency-Key": crypto.randomUUID() }) };
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await request(tasksPath(userId), init);
        return (await response.json()) as Task;
      } catch (error) {
        const retryable = error instanceof ApiError && (error.status === 0 || error.status === 503);
        if (!retryable || attempt >= CREATE_ATTEMPTS) throw error;
        await pause(500 * attempt);
      }
    }
  },

  /** Change the fields given, only if `task` is still the latest version (else ConflictError). */
  async update(userId: string, task: Task, changes: Partial<TaskInput>): Promise<Task> {
    const response = await request(tasksPath(userId, `/${task.id}`), {
      method: "PATCH",
      ...json(changes, ifMatch(task)),
    });
    return (await response.json()) as Task;
  },

  /** Sets (never toggles) completion: sending it twice is harmless. */
  async setCompleted(userId: string, id: number, completed: boolean): Promise<Task> {
    const response = await request(tasksPath(userId, `/${id}/complete`), {
      method: "PATCH",
      ...json({ completed }),
    });
    return (await response.json()) as Task;
  },

  /**
   * Every task as one file ("Download my data"), with the name the server gives it
   * (Content-Disposition). Fetched with the token like every call, so the body is read here.
   */
  async exportTasks(userId: string, format: ExportFormat): Promise<{ file: Blob; name: string }> {
    const response = await request(`${userPath(userId, "export")}?format=${format}`);
    const disposition = response.headers.get("Content-Disposition") ?? "";
    const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? `tasks.${format}`;
    return { file: await response.blob(), name };
  },

  /** Delete, only if `task` is still the latest version (else ConflictError). */
  async remove(userId: string, task: Task): Promise<void> {
    await request(tasksPath(userId, `/${task.id}`), { method: "DELETE", headers: ifMatch(task) });
  },
};
