"""Write backend/.env and frontend/.env.local for a local run, when they are missing.

Both get the same freshly generated BETTER_AUTH_SECRET (32 random bytes): Better Auth encrypts
its signing keys with it, and the task API accepts HS256 tokens signed with it. A value already
in either file is never changed; a setting missing from one is added, so an older file is brought
up to date. The files are git-ignored and never committed.

They hold the secret, so they are for their owner only (mode 0600): a new one is written to a
temporary file made 0600 by `mkstemp` and renamed into place, so it is never readable by other
accounts, not even for a moment; an existing one with bits for group or others loses them, with a
message. BETTER_AUTH_URL and BACKEND_URL of a new file follow WEB_PORT and API_PORT
(scripts/local_settings.py).
"""

from __future__ import annotations

import os
import secrets
import stat
import sys
import tempfile
from pathlib import Path

from local_settings import SettingError, read_settings

ROOT = Path(__file__).resolve().parent.parent
BACKEND_ENV = ROOT / "backend" / ".env"
FRONTEND_ENV = ROOT / "frontend" / ".env.local"


def read(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            name, sep, value = line.partition("=")
            if sep and not name.lstrip().startswith("#"):
                values[name.strip()] = value.strip()
    return values


def make_private(path: Path) -> None:
    """Take group and other permissions from an existing file, saying so."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        path.chmod(mode & 0o700)
        print(
            f"{path.relative_to(ROOT)}: was open to other accounts ({mode:04o}); "
            f"it is now {mode & 0o700:04o}, for its owner only"
        )


def write_private(path: Path, text: str) -> None:
    """Replace `path` with `text`, mode 0600 from the first byte (mkstemp makes its file so)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def complete(path: Path, wanted: dict[str, str]) -> None:
    present = read(path)
    missing = {name: value for name, value in wanted.items() if not present.get(name)}
    if not missing:
        return
    lines = (
        path.read_text().rstrip("\n").splitlines()
        if path.exists()
        else ["# Written by `make run` (scripts/configure.py); never commit this file."]
    )
    # A blank value (NAME=) counts as missing: drop it rather than leave two lines.
    lines = [line for line in lines if line.partition("=")[0].strip() not in missing]
    lines += [f"{name}={value}" for name, value in missing.items()]
    write_private(path, "\n".join(lines) + "\n")
    print(f"{path.relative_to(ROOT)}: set {', '.join(missing)}")


def main() -> int:
    try:
        settings = read_settings(os.environ)
    except SettingError as error:
        print(f"configure: {error}", file=sys.stderr)
        return 2
    origin = f"http://localhost:{settings.web_port}"
    for path in (BACKEND_ENV, FRONTEND_ENV):
        if path.exists():
            make_private(path)  # first: whatever else is wrong with them
    backend, frontend = read(BACKEND_ENV), read(FRONTEND_ENV)
    secret = (
        backend.get("BETTER_AUTH_SECRET")
        or frontend.get("BETTER_AUTH_SECRET")
        or secrets.token_urlsafe(32)
    )
    if frontend.get("BETTER_AUTH_SECRET") and frontend["BETTER_AUTH_SECRET"] != secret:
        print(
            "backend/.env and frontend/.env.local hold different BETTER_AUTH_SECRET values; "
            "make them equal (or delete both files to start afresh)",
            file=sys.stderr,
        )
        return 1
    complete(
        BACKEND_ENV,
        {
            "BETTER_AUTH_SECRET": secret,
            "BETTER_AUTH_URL": origin,
            "DATABASE_URL": "sqlite:///taskapi.db",
        },
    )
    complete(
        FRONTEND_ENV,
        {
            "BETTER_AUTH_SECRET": secret,
            "BETTER_AUTH_URL": origin,
            "AUTH_DATABASE_URL": "sqlite:auth.db",
            "BACKEND_URL": settings.api_url,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
