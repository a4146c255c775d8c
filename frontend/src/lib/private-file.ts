import { chmodSync, closeSync, openSync, statSync } from "node:fs";

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
 */
export function makePrivate(path: string): void {
  closeSync(openSync(path, "a", OWNER_ONLY)); // "a": O_CREAT without O_TRUNC, nothing written
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
