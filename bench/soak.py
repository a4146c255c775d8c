"""`make soak`: mixed load at half the measured capacity for 10 minutes; errors and memory growth.

It starts `taskapi serve` on a fresh seeded database (SQLite, or PostgreSQL when
BENCH_DATABASE_URL is set), measures the capacity for the mix in bench/mixed.lua with wrk
unpaced, then paces wrk to half of it for SOAK_SECONDS (default 600). The server's memory (RSS)
is read after the first minute and at the end: growth must stay under 10%, errors at 0.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from run import BENCH, SECRET, TASKAPI, fresh_database, rss_mb, seed, serving, token, wrk

CONNECTIONS = 16
MAX_GROWTH = 0.10


def main() -> int:
    seconds = int(os.environ.get("SOAK_SECONDS", "600"))
    kind = "postgresql" if os.environ.get("BENCH_DATABASE_URL") else "sqlite"
    with tempfile.TemporaryDirectory() as tmp, fresh_database(kind, Path(tmp)) as url:
        workdir = Path(tmp)
        env = {**os.environ, "BETTER_AUTH_SECRET": SECRET, "DATABASE_URL": url}
        subprocess.run([str(TASKAPI), "migrate"], cwd=workdir, env=env, check=True)
        ids = asyncio.run(seed(url))
        os.environ |= {"SOAK_USER": "bench", "SOAK_FIRST_ID": str(min(ids["bench"]))}
        # wrk sends one token for the whole run: the server must accept a token that old (a
        # token issued longer ago than JWT_MAX_LIFETIME_SECONDS is refused).
        os.environ["JWT_MAX_LIFETIME_SECONDS"] = str(min(max(900, seconds + 120), 86_400))
        with serving(url, workdir) as (base, pid):
            capacity = wrk(
                base, auth=token("bench"), seconds=10, connections=CONNECTIONS, script="mixed.lua"
            )
            target = capacity["rps"] / 2
            os.environ["SOAK_DELAY_MS"] = str(round(1000 * CONNECTIONS / target))
            print(
                f"soak: {kind}, capacity {capacity['rps']:.0f} req/s, pacing to about {target:.0f} for {seconds} s"
            )

            samples: list[tuple[float, float]] = []
            stop = threading.Event()

            def sample() -> None:
                started = time.monotonic()
                while not stop.wait(10):
                    samples.append((time.monotonic() - started, rss_mb(pid)))

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            result = wrk(
                base,
                auth=token("bench"),
                seconds=seconds,
                connections=CONNECTIONS,
                script="mixed.lua",
            )
            stop.set()
            sampler.join()
            end_rss = rss_mb(pid)

    warm = next(
        (rss for at, rss in samples if at >= min(60, seconds / 2)),
        samples[0][1] if samples else end_rss,
    )
    growth = (end_rss - warm) / warm
    errors = int(result["non_2xx"] + result["socket_errors"])
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": kind,
        "seconds": seconds,
        "capacity_rps": capacity["rps"],
        "achieved_rps": result["rps"],
        "p50_ms": result["p50"],
        "p99_ms": result["p99"],
        "errors": errors,
        "rss_mb_after_warmup": round(warm, 1),
        "rss_mb_at_end": round(end_rss, 1),
        "rss_growth": round(growth, 4),
        "rss_samples": samples,
    }
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    path = out / f"soak-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(report, indent=2))
    print(
        f"soak: {result['rps']:.0f} req/s for {seconds} s, p99 {result['p99']:.1f} ms, "
        f"{errors} errors, RSS {warm:.1f} -> {end_rss:.1f} MB ({growth:+.1%}); {path}"
    )
    return 0 if errors == 0 and growth < MAX_GROWTH else 1


if __name__ == "__main__":
    sys.exit(main())
