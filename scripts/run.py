"""Start the task API (:8000) and the web app (:3000) together; Ctrl-C stops both.

`make run` calls this after installing, building and migrating. If either process dies, the
other is stopped too, so nothing is left half-running.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
WEB = "http://localhost:3000"
API = "http://127.0.0.1:8000"


def up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own localhost)
            return bool(response.status < 500)
    except (urllib.error.URLError, OSError):
        return False


def main() -> int:
    processes = [
        subprocess.Popen(  # noqa: S603
            [str(ROOT / "backend/.venv/bin/taskapi"), "serve", "--port", "8000"],
            cwd=ROOT / "backend",
        ),
        subprocess.Popen(
            ["node", ".next/tasks-server/server.js", "--port", "3000"],  # noqa: S607 (node on PATH)
            cwd=ROOT / "frontend",
        ),
    ]
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    announced = False
    try:
        while not stopping:
            if any(process.poll() is not None for process in processes):
                print("run: a process stopped; stopping the other", file=sys.stderr)
                return 1
            if not announced and up(f"{API}/health") and up(f"{WEB}/login"):
                print(f"\n  Tasks is running: open {WEB}  (API: {API}/docs)  Ctrl-C stops it.\n")
                announced = True
            time.sleep(0.3)
        return 0
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    raise SystemExit(main())
