"""`make test-backend`: the backend suite on SQLite and, when TEST_DATABASE_URL names a server,
on PostgreSQL, the two passes side by side (scripts/side_by_side.py)."""

from __future__ import annotations

import sys

from side_by_side import ROOT, run_passes

BACKEND = ROOT / "backend"
PYTEST = [str(BACKEND / ".venv" / "bin" / "pytest"), "-q", "-p", "no:cacheprovider"]

if __name__ == "__main__":
    sys.exit(run_passes("backend", PYTEST, BACKEND))
