import { chmodSync, closeSync, constants, openSync, statSync } from "node:fs";

const OWNER_ONLY = 0o600;
const SIDE_FILES = ["-wal", "-shm", "-journal"];

/**
 * Makes the SQLite file at `path` private to its owner before SQLite opens it: Better Auth's
 * database holds password hashes, sessions and the encrypted signing keys, and SQLite would
 * create it 0644 under the usual umask (022), readable by every account on the machine.
 *
 * A missing file is created 0600 by the same open(2) that creates it (O_CREAT with the mode;
 * the umask only takes bits away), so it is never readable by others, not even for a moment;
 * an empty file is a valid empty database. An existing file, or side file, with bits for group
 * or others loses them, with a warning. New side files (-wal, -shm, -journal) need nothing:
 * SQLite gives them the database file's permissions (`robust_open` in SQLite's os_unix.c).
 * Throws what open(2) throws (ENOENT for a missing folder, EACCES).
 *
 * An existing file is never opened here, only stat'ed and chmod'ed. The process may already
 * hold it open through SQLite (each module instance of Next.js's server bundles calls this), and
 * closing any descriptor of a file drops every POSIX lock the process holds on it: another
 * process then takes the database for unused, checkpoints it and deletes its WAL, and whatever
 * this process writes next is lost (https://sqlite.org/howtocorrupt.html, section 2.2.1).
 */
export function makePrivate(path: string): void {
  try {
    // O_EXCL: created here, or left alone; nothing is written.
    closeSync(openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, OWNER_ONLY));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  for (const file of [path, ...SIDE_FILES.map((suffix) => `${path}${suffix}`)]) {
    let mode: number;
    try {
      mode = statSync(file).mode & 0o777;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw error;
    }
    if (mode & 0o077) {
      chmodSync(file, mode & 0o700);
      console.warn(
        `${file} was open to other accounts (${octal(mode)}); it is now ${octal(mode & 0o700)}, for its owner only`,
      );
    }
  }
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, "0");
}
