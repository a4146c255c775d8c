/**
 * Creates or updates Better Auth's tables (user, session, account, verification, jwks, and the
 * two-factor plugin's twoFactor table and user.twoFactorEnabled column), on SQLite or PostgreSQL:
 * missing tables are created and missing columns added, so a database made before a plugin was
 * added is brought up to date in place (Better Auth's getMigrations; it never drops anything); and the table of undelivered security
 * events (securityEventOutbox, src/lib/security-events.ts).
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
  const created = toBeCreated.map((table) => table.table);
  const added = toBeAdded.flatMap((table) => Object.keys(table.fields).map((field) => `${table.table}.${field}`));
  const done = [
    ...(created.length ? [`created ${created.join(", ")}`] : []),
    ...(added.length ? [`added ${added.join(", ")}`] : []),
  ];
  console.log(`auth database: migrated (${done.join("; ")})`);
}
process.exit(0);
