"""Audit replay: the state rebuilt from the store equals the live state, now and at any earlier position."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from layercake_contracts.events import (
    ArtifactRecorded,
    BuildSucceeded,
    GateApproved,
    ProjectCreated,
)
from layercake_contracts.values import Gate, Manifest, Role
from layercake_gateway.adapters.ledger import Ledger
from layercake_gateway.core.audit import project_document
from layercake_gateway.core.names import bus_id
from layercake_gateway.core.policy import Policy

LAYERCAKE = str(Path(sys.executable).parent / "layercake")


def recorded_flow(ledger: Ledger) -> list[dict]:
    """Record a flow; the live document after each step, by the project's version."""
    root = ProjectCreated(project_id="calc", name="calc", intake="i", owner="ada")
    events = [root, GateApproved.follow(root, gate=Gate.G0, by="ada")]
    events += [ArtifactRecorded.follow(root, gate=Gate.G1, kind="intake_review", name="r")]
    events += [GateApproved.follow(root, gate=Gate.G1, by="ada")]
    events += [ArtifactRecorded.follow(root, gate=Gate.G2, kind="prd", name="PRD.md")]
    events += [BuildSucceeded.follow(root, role=Role.PRODUCT_MANAGER, gate=Gate.G2, attempt=1,
                                     manifest=Manifest(), results=())]  # fmt: skip
    live: dict[int, dict] = {}
    for position, event in enumerate(events, start=1):
        ledger.record(event, position)
        project = ledger.get("calc")
        live[project.version] = project_document(project)
    return [live[v] for v in sorted(live)]


def test_replay_at_every_position_equals_the_live_state_then(store_url):
    """Field by field, at the end and at each earlier position."""
    history = recorded_flow(Ledger(store_url, Policy()))
    replaying = Ledger(store_url, Policy())  # a fresh process reading the store
    final = replaying.get("calc")
    assert project_document(final) == history[-1]
    for document in history:
        assert project_document(replaying.get("calc", version=document["version"])) == document
    assert history[0]["gates"]["G0"] == "awaiting_approval"
    assert history[-1]["gates"]["G2"] == "awaiting_approval"


def test_layercake_replay_prints_the_state_at_a_position_as_json(tmp_path):
    """The CLI reads the store named by LAYERCAKE_LEDGER_URL and shows the past."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    history = recorded_flow(Ledger(url, Policy()))
    env = {**os.environ, "LAYERCAKE_LEDGER_URL": url}
    at_start = subprocess.run(  # noqa: S603
        [LAYERCAKE, "replay", "calc", "--at", "1", "--json"], env=env, capture_output=True,
        text=True, check=True,
    )  # fmt: skip
    assert json.loads(at_start.stdout) == json.loads(json.dumps(history[0]))
    table = subprocess.run(  # noqa: S603
        [LAYERCAKE, "replay", "calc"], env=env, capture_output=True, text=True, check=True
    )
    assert "G2" in table.stdout
    assert "awaiting_approval" in table.stdout
    unknown = subprocess.run(  # noqa: S603
        [LAYERCAKE, "replay", "ghost"], env=env, capture_output=True, text=True, check=False
    )
    assert unknown.returncode == 2
    assert "ghost" in unknown.stderr


def test_replay_at_a_position_the_project_does_not_have_says_which_exist(tmp_path):
    """0, a negative and a past-the-end position each exit 2 naming the range; the last one works."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    last = recorded_flow(Ledger(url, Policy()))[-1]["version"]
    env = {**os.environ, "LAYERCAKE_LEDGER_URL": url}
    for wrong in ("0", "-3", str(last + 1), "99999"):
        done = subprocess.run(  # noqa: S603
            [LAYERCAKE, "replay", "calc", "--at", wrong], env=env, capture_output=True,
            text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 2, (wrong, done.stdout)
        assert f"calc has positions 1 to {last}, not {wrong}" in done.stderr
    at_last = subprocess.run(  # noqa: S603
        [LAYERCAKE, "replay", "calc", "--at", str(last)], env=env, capture_output=True,
        text=True, check=True,
    )  # fmt: skip
    assert f"calc at position {last}" in at_last.stdout
    assert "attempts: " in at_last.stdout
    assert "{" not in at_last.stdout, "for a person: lines, no Python dict"


def test_replay_and_audit_take_the_owners_name_for_a_project_as_the_api_prints_it(tmp_path):
    """`replay calc` finds ada's project whose bus id is `calc-<tag>`; two owners' `calc` is
    ambiguous, and the error lists both bus ids."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = Ledger(url, Policy())
    for position, owner in enumerate(("ada", "bob"), start=1):
        created = ProjectCreated(
            project_id=bus_id(owner, "calc"), name="c", intake="i", owner=owner
        )
        ledger.record(created, position)
    ledger.record(ProjectCreated(project_id=bus_id("ada", "solo"), name="s", intake="i",
                                 owner="ada"), 3)  # fmt: skip
    env = {**os.environ, "LAYERCAKE_LEDGER_URL": url}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603
            [LAYERCAKE, *args], env=env, capture_output=True, text=True, check=False
        )

    solo = run("replay", "solo")
    assert solo.returncode == 0, solo.stderr
    assert f"{bus_id('ada', 'solo')} at position 1" in solo.stdout
    assert run("audit", "verify", "solo").returncode == 0
    both = run("replay", "calc")
    assert both.returncode == 2
    assert bus_id("ada", "calc") in both.stderr
    assert bus_id("bob", "calc") in both.stderr
