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


def test_build_prints_step_results_as_json_and_exits_one_on_a_failing_test():
    """--json lists each step; the failing test is named; a second run reuses the install."""
    base = Path(tempfile.mkdtemp(prefix="lc-cli-"))
    base.chmod(0o755)
    project = base / "project"
    project.mkdir()
    (project / "requirements.txt").write_text("")
    (project / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (project / "test_calc.py").write_text(
        "from calc import add\n\n\ndef test_add():\n    assert add(1, 1) == 2\n"
    )
    env = {**os.environ, "LAYERCAKE_BUILDER_ROOT": str(base / "builder")}
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
