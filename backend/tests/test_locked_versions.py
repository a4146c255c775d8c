"""What is installed is exactly the locked set (backend/uv.lock, exported to
`requirements-dev.txt`), so the tests run
against the versions a fresh clone installs: a FastAPI that changed how it stores routes
(0.165) must fail here first, not in production."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
# Installed but never locked: the installer of the virtual environment, and this package
# (installed from the working tree).
NOT_LOCKED = {"pip", "taskapi"}


def locked(name: str) -> dict[str, str]:
    """{normalised name: version} for every `name==version` line of a lock whose environment
    marker holds here (a Windows-only package is not expected on Linux)."""
    text = (ROOT / name).read_text().replace("\\\n", " ")
    pins: dict[str, str] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].split(" --hash", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", line
        pins[canonicalize_name(requirement.name)] = specifier.version
    return pins


def installed() -> dict[str, str]:
    return {
        canonicalize_name(dist.metadata["Name"]): dist.version
        for dist in importlib.metadata.distributions()
    }


def test_every_locked_package_is_installed_at_its_locked_version() -> None:
    pins = locked("requirements-dev.txt")
    assert len(pins) >= 50  # really parsed
    assert "fastapi" in pins
    present = installed()
    wrong = {name: (version, present.get(name)) for name, version in pins.items()}
    assert {name: pair for name, pair in wrong.items() if pair[0] != pair[1]} == {}


def test_nothing_is_installed_that_the_lock_does_not_name() -> None:
    extra = set(installed()) - set(locked("requirements-dev.txt")) - NOT_LOCKED
    assert extra == set(), "installed but not locked (a venv from an older lock? make clean)"


def test_the_run_lock_pins_the_same_versions_as_the_test_lock() -> None:
    run, test = locked("requirements.txt"), locked("requirements-dev.txt")
    assert run.keys() <= test.keys()
    assert {name: version for name, version in run.items() if test[name] != version} == {}


def test_the_run_lock_holds_nothing_only_the_tests_need() -> None:
    """`make run` installs requirements.txt: what the app needs to run, not the test and lint
    tools (every package the test lock adds for `--extra dev` and e2e stays out)."""
    run = set(locked("requirements.txt"))
    tools = {"pytest", "ruff", "mypy", "hypothesis", "schemathesis", "playwright", "aiosmtpd"}
    assert not run & tools, run & tools
    assert {"fastapi", "uvicorn", "sqlalchemy", "pyjwt"} <= run


def exported(*options: str, form: str = "requirements-txt") -> str:
    """`uv export` of backend/uv.lock, as `make lock` writes it (its header names the command)."""
    result = subprocess.run(
        [
            *(str(Path(sys.executable).with_name("uv")), "export", "--quiet", "--frozen"),
            *("--no-emit-project", "--format", form, "--group", "build", *options),
        ],
        cwd=ROOT / "backend",
        capture_output=True,
        text=True,
        check=True,
    )
    return "\n".join(line for line in result.stdout.splitlines() if not line.startswith("#"))


def without_header(name: str) -> str:
    lines = (ROOT / name).read_text().splitlines()
    return "\n".join(line for line in lines if not line.startswith("#"))


def test_the_locks_pip_installs_are_exported_from_uv_lock_unchanged() -> None:
    """requirements.txt and requirements-dev.txt are what `make lock` exports from uv.lock:
    an edit to one alone (or a uv.lock recompiled without exporting) fails here."""
    assert without_header("requirements-dev.txt") == exported("--extra", "dev", "--extra", "e2e")
    assert without_header("requirements.txt") == exported()


def test_pylock_toml_is_the_test_set_in_pep_751_form() -> None:
    """pylock.toml (PEP 751, the standard lock format that tools read) is the same set as
    requirements-dev.txt, exported from uv.lock by `make lock`: out of step, it fails here."""
    expected = exported("--extra", "dev", "--extra", "e2e", form="pylock.toml")
    assert without_header("pylock.toml") == expected
    names = set(re.findall(r'^name = "([^"]+)"$', expected, re.MULTILINE))
    pinned = re.findall(r"^([A-Za-z0-9_.-]+)==", (ROOT / "requirements-dev.txt").read_text(), re.M)
    assert names == set(pinned)  # every platform's, as the export's


def test_uv_lock_satisfies_pyproject() -> None:
    """backend/uv.lock still resolves backend/pyproject.toml as it stands (`uv lock --check`):
    a requirement edited without `make lock` fails here."""
    result = subprocess.run(
        [str(Path(sys.executable).with_name("uv")), "lock", "--check", "--offline"],
        cwd=ROOT / "backend",
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_every_requirement_of_pyproject_is_met_by_a_locked_version() -> None:
    """Each requirement of backend/pyproject.toml (the app's, every extra's, the build group's and
    `[build-system] requires`) has a pin in requirements-dev.txt that satisfies it: a uv.lock
    edited by hand to look current (`uv lock --check` compares recorded requirements, not the
    versions resolved) fails here, and so does a build group that drifted from the build system."""
    project = tomllib.loads((ROOT / "backend" / "pyproject.toml").read_text())
    requirements = [
        *project["project"]["dependencies"],
        *(line for extra in project["project"]["optional-dependencies"].values() for line in extra),
        *project["dependency-groups"]["build"],
        *project["build-system"]["requires"],
    ]
    pins = locked("requirements-dev.txt")
    unmet = {}
    for line in requirements:
        requirement = Requirement(line)
        version = pins.get(canonicalize_name(requirement.name))
        if version is None or not requirement.specifier.contains(version, prereleases=True):
            unmet[line] = version
    assert len(requirements) >= 25  # really read
    assert unmet == {}, "not met by the lock (run `make lock`)"
    assert sorted(project["build-system"]["requires"]) == sorted(
        project["dependency-groups"]["build"]
    )
