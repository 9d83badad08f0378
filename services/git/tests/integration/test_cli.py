"""`layercake log` over a repository the service made: once as a user runs it, then in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from layercake_contracts.values import Gate
from layercake_git.cli import log

LAYERCAKE = str(Path(sys.executable).parent / "layercake")


def layercake_log(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LAYERCAKE_WORKSPACES_ROOT": str(root), "COLUMNS": "250"}
    return subprocess.run(  # noqa: S603
        [LAYERCAKE, "log", *args], capture_output=True, text=True, env=env, check=False
    )


async def test_log_json_lists_each_commit_with_gate_role_files_and_event(
    approve, service, build, document, approval, blobs, workspaces
):
    """Newest first, every commit with its refs, gate, role, file count and causing event."""
    await service.record_artifact(document(Gate.G2, "PRD", "# PRD\n"))
    g2 = approval(Gate.G2)
    await approve(service, g2)
    built = build({"app.py": b"x\n"})
    await service.commit_build(built, blobs)
    await approve(service, approval(Gate.G5))
    done = layercake_log(workspaces.root, "shop", "--json")
    assert done.returncode == 0, done.stderr
    history = json.loads(done.stdout)
    assert [(c["gate"], c["role"], c["files"], c["event_id"]) for c in history] == [
        ("G5", "backend_developer", 1, str(built.event_id)),
        ("G2", "user", 2, str(g2.event_id)),
    ]
    assert "tag: g5-approved" in history[0]["refs"]
    assert history[0]["author"] == "LayerCake backend developer"


@pytest.fixture
def log_command(workspaces):
    """`log` as Typer runs it, in this process, over the test's workspaces root."""
    app = typer.Typer()
    app.command()(log)
    env = {"LAYERCAKE_WORKSPACES_ROOT": str(workspaces.root), "COLUMNS": "250"}
    return lambda *args: CliRunner().invoke(app, list(args), env=env)


async def test_log_prints_a_table_and_an_unknown_project_exits_one(
    service, build, blobs, log_command
):
    """The table shows the gate and short commit; a project without a repository is named on stderr."""
    built = build({"app.py": b"x\n"})
    await service.commit_build(built, blobs)
    table = log_command("shop")
    assert table.exit_code == 0, table.output
    assert "G5: backend developer build" in table.stdout
    missing = log_command("nothing-here")
    assert missing.exit_code == 1
    assert "project 'nothing-here' has no repository yet" in missing.stderr
    assert log_command("../etc").exit_code == 2


async def test_at_80_columns_the_log_is_one_line_a_commit_with_short_sha_and_cut_subject(
    service, build, blobs, workspaces
):
    """Nothing wraps: each commit is one row naming its short sha, gate and subject; the refs are cut."""
    await service.commit_build(build({"app.py": b"x\n"}), blobs)
    app = typer.Typer()
    app.command()(log)
    env = {"LAYERCAKE_WORKSPACES_ROOT": str(workspaces.root), "COLUMNS": "80"}
    shown = CliRunner().invoke(app, ["shop", "--json"], env=env)
    [commit] = json.loads(shown.stdout)
    table = CliRunner().invoke(app, ["shop"], env=env)
    lines = table.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    [row] = [line for line in lines if commit["sha"][:7] in line]
    assert "G5" in row
    assert commit["subject"][:40] in row, "the subject comes first"
    assert "(gate/g5)" not in row, "what does not fit is cut"


def test_log_takes_the_owners_name_for_a_project_and_names_the_bus_ids_when_two_share_it(
    workspaces, log_command
):
    """`log calc` reads `calc-<tag>.git`, the only project its owner calls `calc`; with a
    second owner's `calc` it lists both bus ids instead of guessing."""
    workspaces.root.mkdir(parents=True, exist_ok=True)
    bare = workspaces.root / "calc-0123456789ab.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)  # noqa: S603, S607
    one = log_command("calc")
    assert one.exit_code == 0, one.output
    assert "calc-0123456789ab" in one.stdout
    (workspaces.root / "calc-ba9876543210.git").mkdir()
    (workspaces.root / "calculator-0123456789ab.git").mkdir()
    two = log_command("calc")
    assert two.exit_code == 1
    assert "['calc-0123456789ab', 'calc-ba9876543210']" in two.stderr
