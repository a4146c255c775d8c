"""Schemathesis against the live OpenAPI document of a real `taskapi serve`, with a valid token
and every check it has (`--checks all`): no 5xx, answers that match the schema and the status
codes it declares, `Allow` on 405, and authentication that is really enforced (`ignored_auth`
replays requests without the token and with a bad one). It follows the document's links from a
created task to the operations on it. Its settings: schemathesis.toml; its tokens: fuzz_hooks.py."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.live import clean_environment

CONFIG = Path(__file__).with_name("schemathesis.toml")
BACKEND = Path(__file__).resolve().parents[2]  # where `tests.security.fuzz_hooks` imports from


def test_the_api_keeps_its_contract_under_fuzzing(live_api: str) -> None:
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("st")),
            "--config-file",
            str(CONFIG),
            "run",
            f"{live_api}/openapi.json",
            "--checks",
            "all",
            "--no-color",
        ],
        env=clean_environment(SCHEMATHESIS_HOOKS="tests.security.fuzz_hooks"),
        cwd=BACKEND,
        capture_output=True,
        text=True,
        timeout=1800,  # about 150 s on a quiet machine, far longer on a loaded one
        check=False,
    )
    summary = result.stdout[-3000:]
    assert result.returncode == 0, summary
    generated = re.search(r"(\d+) generated, (\d+) passed", result.stdout)
    assert generated is not None, summary
    assert generated.group(1) == generated.group(2)
    assert int(generated.group(1)) >= 1000  # it really ran
    print(generated.group(0))
