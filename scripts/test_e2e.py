"""`make test-e2e`: the browser suite on SQLite and, when TEST_DATABASE_URL names a server, with
both databases on PostgreSQL, the two passes side by side (scripts/side_by_side.py). Each pass
starts its own servers, SMTP sink and Chromium on free ports, with databases of its own."""

from __future__ import annotations

import sys

from side_by_side import ROOT, run_passes

PYTEST = [str(ROOT / "backend" / ".venv" / "bin" / "pytest"), "-q", "-p", "no:cacheprovider", "e2e"]

if __name__ == "__main__":
    sys.exit(run_passes("e2e", PYTEST, ROOT))
