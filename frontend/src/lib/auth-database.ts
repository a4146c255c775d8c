import Database from "better-sqlite3";
import { Pool } from "pg";

import { makePrivate } from "@/lib/private-file";

/**
 * Better Auth's own database, from AUTH_DATABASE_URL: an SQLite file by default (nothing to
 * install), PostgreSQL when the URL says so. It holds users, sessions, accounts and the JWKS;
 * the task API never reads it.
 */
export function authDatabase(url = process.env.AUTH_DATABASE_URL ?? "sqlite:auth.db") {
  if (/^postgres(ql)?:\/\//.test(url)) {
    return new Pool({ connectionString: url, max: 10 });
  }
  const path = url.replace(/^(sqlite|file):(\/\/)?/, "");
  if (!path || path === ":memory:") {
    throw new Error("AUTH_DATABASE_URL must name an SQLite file (sqlite:auth.db) or a PostgreSQL URL");
  }
  makePrivate(path); // 0600 before SQLite opens (and would create) it
  const db = new Database(path);
  db.pragma("journal_mode = WAL"); // readers do not wait for the writer
  db.pragma("busy_timeout = 5000");
  return db;
}
