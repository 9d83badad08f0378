"""`layercake build DIR` as a user runs it: a real process, a real sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="slot users need root")
LAYERCAKE = str(Path(sys.executable).parent / "layercake")


def new_project(files: dict[str, str]) -> Path:
    """A folder holding `files`, in a fresh base the slot users may enter."""
    base = Path(tempfile.mkdtemp(prefix="lc-cli-"))
    base.chmod(0o755)
    project = base / "project"
    for name, text in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    return project


def test_build_prints_step_results_as_json_and_exits_one_on_a_failing_test():
    """--json lists each step; the failing test is named; a second run reuses the install."""
    project = new_project({
        "requirements.txt": "",
        "calc.py": "def add(a, b):\n    return a - b\n",
        "test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(1, 1) == 2\n",
    })  # fmt: skip
    env = {**os.environ, "LAYERCAKE_BUILDER_ROOT": str(project.parent / "builder")}
    argv = [LAYERCAKE, "build", str(project), "--steps", "install,test", "--json"]
    runs = [
        subprocess.run(argv, capture_output=True, text=True, env=env, check=False)  # noqa: S603
        for _ in range(2)
    ]
    for done in runs:
        assert done.returncode == 1, done.stderr
    first, second = (json.loads(done.stdout) for done in runs)
    assert [s["step"] for s in first] == ["install", "test"]
    assert first[1]["tests"] == {"passed": 0, "failed": 1, "skipped": 0}
    assert any(d["file"] == "test_calc.py" and d["line"] == 5 for d in first[1]["diagnostics"])
    assert second[0]["cached"] is True
    assert not (project / ".venv").exists(), "the user's folder is built as a copy"


def test_build_of_a_backend_in_a_folder_names_its_failing_test_from_the_project_root():
    """`server/requirements.txt`: the tests run in server/, the failure is `server/test_calc.py`."""
    base = Path(tempfile.mkdtemp(prefix="lc-cli-"))
    base.chmod(0o755)
    server = base / "project" / "server"
    server.mkdir(parents=True)
    (server / "requirements.txt").write_text("")
    (server / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (server / "test_calc.py").write_text(
        "from calc import add\n\n\ndef test_add():\n    assert add(1, 1) == 2\n"
    )
    env = {**os.environ, "LAYERCAKE_BUILDER_ROOT": str(base / "builder")}
    argv = [LAYERCAKE, "build", str(base / "project"), "--steps", "install,test", "--json"]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)  # noqa: S603
    assert done.returncode == 1, done.stderr
    install, test = json.loads(done.stdout)
    assert install["exit_code"] == 0, install["output"]
    assert test["tests"] == {"passed": 0, "failed": 1, "skipped": 0}
    assert {(d["file"], d["line"]) for d in test["diagnostics"] if d["file"]} == {
        ("server/test_calc.py", 5)
    }


def run_build(project: Path, *options: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LAYERCAKE_BUILDER_ROOT": str(project.parent / "builder")}
    argv = [LAYERCAKE, "build", str(project), *options]
    return subprocess.run(argv, capture_output=True, text=True, env=env, check=False)  # noqa: S603


def test_build_of_a_folder_with_no_project_says_no_toolchain_was_found_and_exits_one():
    """Only notes: no empty table and no pass, but what it looked for, naming the folder."""
    project = new_project({"notes.md": "# notes\n"})
    done = run_build(project)
    assert done.returncode == 1, done.stderr
    assert (
        f"no toolchain found in {project} "
        "(looked for package.json, pyproject.toml, requirements.txt)"
    ) in done.stderr.replace("\n", "")
    as_json = json.loads(run_build(project, "--json").stdout)
    assert [s["step"] for s in as_json] == ["install", "install", "build", "lint", "test", "audit"]
    assert {s["exit_code"] for s in as_json} == {None}


def test_build_with_steps_lint_of_a_project_without_a_linter_says_skipped_and_exits_one():
    """The lint step is skipped with its reason, in the table and in --json; nothing was checked."""
    project = new_project({"requirements.txt": "", "calc.py": "def add(a, b):\n    return a + b\n"})
    table = run_build(project, "--steps", "lint")
    assert table.returncode == 1, table.stderr
    assert "skipped (no linter configured" in table.stdout
    assert "nothing was checked: every step asked for was skipped (lint: no linter" in (
        table.stderr.replace("\n", "")
    )
    install, lint, unchecked = json.loads(run_build(project, "--steps", "lint", "--json").stdout)
    assert install["exit_code"] == 0, install["output"]
    assert (lint["step"], lint["exit_code"]) == ("lint", None)
    assert lint["skipped"].startswith("no linter configured (ruff or mypy: [tool.ruff]")
    assert (unchecked["step"], unchecked["skipped"]) == ("lint", None)
    assert unchecked["diagnostics"][0]["code"] == "nothing_checked"
    passing = run_build(project, "--steps", "lint,build", "--json")
    assert passing.returncode == 0, passing.stderr
    assert [(s["step"], s["skipped"]) for s in json.loads(passing.stdout)][2][1].startswith(
        "no linter configured"
    )
