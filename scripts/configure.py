"""Write backend/.env and frontend/.env.local for a local run, when they are missing.

Both get the same freshly generated BETTER_AUTH_SECRET (32 random bytes): Better Auth encrypts
its signing keys with it, and the task API accepts HS256 tokens signed with it. A value already
in either file is never changed; a setting missing from one is added, so an older file is brought
up to date. The files are git-ignored and never committed.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BACKEND_ENV = ROOT / "backend" / ".env"
FRONTEND_ENV = ROOT / "frontend" / ".env.local"
ORIGIN = "http://localhost:3000"


def read(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            name, sep, value = line.partition("=")
            if sep and not name.lstrip().startswith("#"):
                values[name.strip()] = value.strip()
    return values


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
    path.write_text("\n".join(lines) + "\n")
    print(f"{path.relative_to(ROOT)}: set {', '.join(missing)}")


def main() -> int:
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
            "BETTER_AUTH_URL": ORIGIN,
            "DATABASE_URL": "sqlite:///taskapi.db",
        },
    )
    complete(
        FRONTEND_ENV,
        {
            "BETTER_AUTH_SECRET": secret,
            "BETTER_AUTH_URL": ORIGIN,
            "AUTH_DATABASE_URL": "sqlite:auth.db",
            "BACKEND_URL": "http://127.0.0.1:8000",
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
