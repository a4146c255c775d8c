"""SQLite database files that only their owner can read.

The tasks database is everyone's tasks; a copy readable by another account on the machine is a
leak (the default umask, 022, makes new files 0644). So before SQLite opens a database file it
is created here with mode 0600, in the same `open(2)` that creates it (O_CREAT with the mode:
the umask can only take bits away, so there is no moment in which the file is readable by
others); an empty file is a valid empty SQLite database. A file that already exists with bits for
group or others (made by an older version, or copied in) loses them, and a warning names it.

SQLite's side files (`-wal`, `-shm`, `-journal`) need nothing of their own: SQLite gives a new
one the permissions of its database file (`robust_open` and `findCreateFileMode` in SQLite's
os_unix.c, https://sqlite.org/src/file/src/os_unix.c). Ones that already exist are tightened
as the database file is.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sqlalchemy.engine import URL

OWNER_ONLY = 0o600
SIDE_FILES = ("-wal", "-shm", "-journal")

log = logging.getLogger("taskapi.files")


def sqlite_path(url: URL) -> Path | None:
    """The file an SQLite URL names (`sqlite:///tasks.db`, or the URI form
    `sqlite:///file:tasks.db?uri=true`); None for anything that is not a file."""
    name = url.database or ""
    if str(url.query.get("uri", "")).lower() in ("true", "1") and name.startswith("file:"):
        name = unquote(urlsplit(name).path)
    if not name or name == ":memory:":
        return None
    return Path(name)


def make_private(database: Path) -> list[Path]:
    """Create `database` (mode 0600) if it does not exist; take group and other permissions from
    it and its side files if they have any. Returns the files whose mode was tightened, each
    also logged as a warning. Raises OSError when the file cannot be created (no such folder,
    no permission), as SQLite itself would fail."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY))
    tightened = []
    for path in (database, *(Path(f"{database}{suffix}") for suffix in SIDE_FILES)):
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            continue
        if mode & 0o077:
            path.chmod(mode & 0o700)
            log.warning(
                "%s was open to other accounts (%04o); it is now %04o, for its owner only",
                path,
                mode,
                mode & 0o700,
            )
            tightened.append(path)
    return tightened
