/**
 * Runs once when the web app's server starts (Next.js instrumentation, `register`): delivers the
 * security events a previous process left undelivered (src/lib/security-events.ts), at start
 * rather than at the first request that happens to load Better Auth, so that a web app nobody
 * visits after a restart still ends the tokens it was told to end.
 */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return; // the outbox is in the auth database
  if (process.env.NEXT_PHASE === "phase-production-build") return;
  const { resumeSecurityEvents } = await import("@/lib/auth");
  const { writeLog } = await import("@/lib/log");
  resumeSecurityEvents().catch((error: unknown) => {
    writeLog("error", "security-events", "could not resume the undelivered events", [error]);
  });
}
