/**
 * Creates or updates Better Auth's tables (user, session, account, verification, jwks, and the
 * undelivered security events: securityEventOutbox, src/lib/security-events.ts).
 * `npx auth migrate` needs Node 22; this does the same through the library on Node 20.
 */
import nextEnv from "@next/env";

// The same .env files `next start` reads, before the auth module reads process.env.
nextEnv.loadEnvConfig(process.cwd());

const { getMigrations } = await import("better-auth/db/migration");
const { auth } = await import("../src/lib/auth");

const { toBeCreated, toBeAdded, runMigrations } = await getMigrations(auth.options);
if (toBeCreated.length === 0 && toBeAdded.length === 0) {
  console.log("auth database: up to date");
} else {
  await runMigrations();
  const tables = toBeCreated.map((table) => table.table).join(", ");
  console.log(`auth database: migrated${tables ? ` (created ${tables})` : ""}`);
}
process.exit(0);
