"""The six wheels, built once for the session, and each service's venv made from them.

The wheels are built from this checkout; each service goes into a venv of its own with only
the contracts wheel beside it, its other dependencies pinned to `uv.lock` (so uv's cache has
them). Its scripts then run as an operator would run them: from a folder outside the
checkout, with none of our settings.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("parser", "builder", "agent", "git", "gateway")


def clean_env(**env: str) -> dict[str, str]:
    """Our environment less every LayerCake setting and venv, plus `env`."""
    kept = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().startswith(("LAYERCAKE_", "VIRTUAL_ENV"))
    }
    return {**kept, **env}


def run(
    argv: list[str], cwd: Path, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """`argv` run to its end in `cwd`, with a clean environment plus `env`."""
    return subprocess.run(  # noqa: S603
        argv, cwd=cwd, env=clean_env(**env), input=stdin,
        capture_output=True, text=True, check=False, timeout=240,
    )  # fmt: skip


def ok(argv: list[str], cwd: Path, **env: str) -> str:
    """What `argv` prints, once it has exited 0."""
    done = run(argv, cwd, **env)
    assert done.returncode == 0, f"{argv}: {done.stdout}{done.stderr}"
    return done.stdout


@pytest.fixture(scope="session")
def venvs() -> Iterator[dict[str, Path]]:
    """Each service's venv (its `bin/`), holding that service's wheel and the contracts'."""
    # Not under pytest's basetemp (0700): the builder's steps run as other users, and its
    # sandbox's helpers are read from its venv.
    where = Path(tempfile.mkdtemp(prefix="lc-wheels-"))
    where.chmod(0o755)
    try:
        yield _made(where)
    finally:
        shutil.rmtree(where, ignore_errors=True)


def _made(where: Path) -> dict[str, Path]:
    wheels = where / "dist"
    for package in ("contracts", *SERVICES):
        ok(["uv", "build", "--wheel", "--package", f"layercake-{package}", "-o", str(wheels)], ROOT)
    pins = where / "pins.txt"
    ok(["uv", "export", "--frozen", "--all-packages", "--no-hashes", "--no-emit-workspace",
        "--no-dev", "-o", str(pins)], ROOT)  # fmt: skip
    (contracts,) = wheels.glob("layercake_contracts-*.whl")
    made = {}
    for service in SERVICES:
        (wheel,) = wheels.glob(f"layercake_{service}-*.whl")
        venv = where / service
        ok(["uv", "venv", "--quiet", "--python", sys.executable, str(venv)], where)
        ok(["uv", "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
            "-c", str(pins), str(wheel), str(contracts)], where)  # fmt: skip
        made[service] = venv / "bin"
    return made
