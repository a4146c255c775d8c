import { randomUUID } from "node:crypto";

import type { AuthContext, BetterAuthPlugin, GenericEndpointContext } from "better-auth";
import { APIError } from "better-auth/api";
import { signJWT, type JwtOptions } from "better-auth/plugins/jwt";

import { writeLog } from "@/lib/log";

/**
 * Telling the task API that tokens must stop working before their `exp`: Security Event Tokens
 * (SET, RFC 8417) pushed to its `POST /events` (RFC 8935). Backend side and the SET's exact shape:
 * backend/src/taskapi/security_events.py; the design: docs/design.md ("Revocation").
 *
 * - A session row deleted (sign-out, "sign out everywhere else", a password changed or reset, an
 *   account deleted, an expired session swept): CAEP `session-revoked` for that session, pushed in
 *   the background and retried until it is accepted or every token it concerns has expired
 *   (`RETRY_FOR_MS`). Each is written to the auth database first (`securityEventOutbox`, the
 *   table of the `securityEventOutbox()` plugin, made by scripts/migrate.ts) and deleted once
 *   delivered, refused or moot; a web app that restarts delivers what was left there.
 * - An account deleted: RISC `account-purged`, pushed before Better Auth deletes anything; if the
 *   task API does not accept it, the deletion is refused (APIError 503) and nothing is lost.
 *
 * Signed with the JWT plugin's own key (the JWKS the task API already trusts for access tokens),
 * with `typ: secevent+jwt` so that neither side can take a SET for an access token.
 */

export const SET_MEDIA_TYPE = "application/secevent+jwt";
export const SET_AUDIENCE = "urn:tasks:task-api";
export const SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
export const ACCOUNT_PURGED = "https://schemas.openid.net/secevent/risc/event-type/account-purged";

/** A token lives 15 minutes (auth.ts `expirationTime`): after that long an event is moot. */
export const RETRY_FOR_MS = 15 * 60 * 1000;
/** How long one delivery may take: the task API answers a session event in milliseconds. */
const DELIVERY_TIMEOUT_MS = 3_000;
/**
 * An account's erasure may wait for the task API's locks (a write of that account in flight).
 * Tied to the task API's PURGE_MAX_AGE_SECONDS (10 s, backend/src/taskapi/security_events.py):
 * it refuses an account-purged SET older than that, so it never erases after this wait is over
 * and the account kept. Keep this above that bound with some margin for the round trip and
 * the clocks' difference; change both together.
 */
const PURGE_TIMEOUT_MS = 15_000;
const FIRST_RETRY_MS = 500;
const LONGEST_WAIT_MS = 30_000;

export const ERASE_FAILED_MESSAGE =
  "Your tasks could not be erased just now, so your account was not deleted. Try again in a few minutes.";

function eventsURL(): string {
  const backend = process.env.BACKEND_URL ?? "http://127.0.0.1:8000";
  return new URL("/events", backend).toString();
}

type SubjectId = Record<string, unknown>;

/** Signs one event (OpenID SSF 1.0 §4.1: one event per SET, its subject in `sub_id`). */
export async function signEvent(
  ctx: GenericEndpointContext,
  jwtOptions: JwtOptions,
  eventType: string,
  subId: SubjectId,
  event: Record<string, unknown> = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return signJWT(ctx, {
    options: jwtOptions,
    payload: {
      aud: SET_AUDIENCE,
      iat: now,
      // A short exp too (the plugin sets one anyway): a SET is no use once its tokens expired.
      exp: now + RETRY_FOR_MS / 1000,
      jti: randomUUID(),
      sub_id: subId,
      events: { [eventType]: event },
    },
    header: { typ: "secevent+jwt" },
  });
}

type Outcome = "accepted" | "refused" | "unreachable";

/** One push (RFC 8935 §2): 202 is accepted (§2.2); a 4xx (the SET refused, §2.3) and any other
 * answer of a server that is no RFC 8935 recipient will not change by trying again; no answer, a
 * 5xx, 408 or 429 may. */
async function push(set: string, timeoutMs: number): Promise<{ outcome: Outcome; why: string }> {
  try {
    const response = await fetch(eventsURL(), {
      method: "POST",
      headers: { "Content-Type": SET_MEDIA_TYPE, Accept: "application/json" },
      body: set,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    if (response.status === 202) return { outcome: "accepted", why: "" };
    const why = `${response.status} ${text.slice(0, 300)}`;
    const transient = response.status >= 500 || response.status === 408 || response.status === 429;
    return { outcome: transient ? "unreachable" : "refused", why };
  } catch (error) {
    return { outcome: "unreachable", why: error instanceof Error ? error.message : String(error) };
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The outbox table: one row per SET not yet delivered. */
const OUTBOX = "securityEventOutbox";

type OutboxRow = { id: string; token: string; giveUpAt: Date };

/**
 * A Better Auth plugin that only declares the outbox table, so that `getMigrations` (run by
 * scripts/migrate.ts) makes it in the auth database. Delivering what a previous process left
 * there is started by the serving process itself (src/instrumentation.ts, `resumeOutbox`), not
 * here: the plugin also loads in scripts/migrate.ts, which must not push events and exit halfway.
 */
export function securityEventOutbox() {
  return {
    id: "security-event-outbox",
    schema: {
      [OUTBOX]: {
        fields: {
          token: { type: "string", required: true },
          giveUpAt: { type: "date", required: true },
        },
      },
    },
  } satisfies BetterAuthPlugin;
}

/** Delivers (in the background) every event a previous process of the web app left in the
 * outbox, and forgets those whose tokens have all expired. Called once when the server starts
 * (src/instrumentation.ts); failures are logged, never thrown. */
export async function resumeOutbox(context: AuthContext): Promise<void> {
  try {
    const rows = await context.adapter.findMany<OutboxRow>({ model: OUTBOX });
    for (const row of rows) {
      const giveUpAt = new Date(row.giveUpAt).getTime();
      if (giveUpAt > Date.now()) deliverInBackground(context, row.token, "session-revoked (resumed)", row.id, giveUpAt);
      else await forget(context, row.id);
    }
    if (rows.length > 0) writeLog("info", "security-events", `resumed ${rows.length} undelivered event(s)`);
  } catch (error) {
    writeLog("warn", "security-events", "could not read the undelivered events", [error]);
  }
}

async function forget(context: AuthContext, id: string): Promise<void> {
  try {
    await context.adapter.delete({ model: OUTBOX, where: [{ field: "id", value: id }] });
  } catch (error) {
    writeLog("warn", "security-events", "could not delete a delivered event from the outbox", [error]);
  }
}

/** Writes a SET to the outbox, then delivers it in the background (deliverInBackground). If the
 * outbox cannot be written, the event is still delivered from memory (and the failure logged). */
export async function enqueue(context: AuthContext, set: string, what: string): Promise<void> {
  const giveUpAt = Date.now() + RETRY_FOR_MS;
  let id: string | undefined;
  try {
    const row = await context.adapter.create<{ token: string; giveUpAt: Date }, OutboxRow>({
      model: OUTBOX,
      data: { token: set, giveUpAt: new Date(giveUpAt) },
    });
    id = row.id;
  } catch (error) {
    writeLog("warn", "security-events", `${what}: could not write the event to the outbox; delivering from memory`, [error]);
  }
  deliverInBackground(context, set, what, id, giveUpAt);
}

/** Events still being delivered by this process. */
export const pendingEvents = new Set<string>();

/**
 * Delivers a SET in the background: retried with exponential backoff (0.5 s doubling up to 30 s)
 * until accepted, refused, or `giveUpAt`; then its outbox row (`id`) is deleted. Failures are
 * logged; nothing is thrown, so a sign-out never waits for the task API.
 */
function deliverInBackground(
  context: AuthContext,
  set: string,
  what: string,
  id: string | undefined,
  giveUpAt: number,
): void {
  pendingEvents.add(set);
  void (async () => {
    let wait = FIRST_RETRY_MS;
    for (let attempt = 1; ; attempt++) {
      const { outcome, why } = await push(set, DELIVERY_TIMEOUT_MS);
      if (outcome === "accepted") {
        if (attempt > 1) writeLog("info", "security-events", `${what}: delivered after ${attempt} attempts`);
        break;
      }
      if (outcome === "refused") {
        writeLog("error", "security-events", `${what}: the task API refused the event`, [why]);
        break;
      }
      if (Date.now() + wait > giveUpAt) {
        writeLog("error", "security-events", `${what}: not delivered in time; its tokens have expired anyway`, [why]);
        break;
      }
      if (attempt === 1) writeLog("warn", "security-events", `${what}: the task API did not take the event; retrying`, [why]);
      await sleep(wait);
      wait = Math.min(wait * 2, LONGEST_WAIT_MS);
    }
    pendingEvents.delete(set);
    if (id !== undefined) await forget(context, id);
  })();
}

/**
 * Pushes an `account-purged` SET and waits for the task API to erase the account's tasks. Throws
 * an APIError (503, ERASE_FAILED_MESSAGE) when it does not: Better Auth then deletes nothing.
 */
export async function purgeOrRefuse(set: string): Promise<void> {
  const { outcome, why } = await push(set, PURGE_TIMEOUT_MS);
  if (outcome === "accepted") return;
  writeLog("error", "security-events", "account deletion refused: the task API did not erase the tasks", [why]);
  throw new APIError("SERVICE_UNAVAILABLE", { message: ERASE_FAILED_MESSAGE });
}
