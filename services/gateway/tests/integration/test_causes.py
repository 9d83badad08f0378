"""Causes on a real bus and store: what the relay issues names its cause, and `why` walks back."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from layercake_contracts.events import (
    BuildSucceeded,
    CodeGenerated,
    CommitCreated,
    FilesWritten,
    ProjectCreated,
)
from layercake_contracts.values import Gate, Manifest, Usage
from layercake_gateway.adapters.ledger import Ledger
from layercake_gateway.adapters.relay import Relay
from layercake_gateway.core.policy import Policy
from layercake_testing.stream import stream_events

if TYPE_CHECKING:
    from layercake_contracts.bus import Bus

pytestmark = pytest.mark.nats
LAYERCAKE = str(Path(sys.executable).parent / "layercake")


async def why(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`layercake why ARGS` as a person runs it (in a thread: the bus fixture's loop goes on)."""
    return await asyncio.to_thread(
        subprocess.run, [LAYERCAKE, "why", *args], env=env, capture_output=True, text=True,
        check=False,
    )  # fmt: skip


async def approved_and_committed(bus: Bus, url: str) -> tuple[ProjectCreated, list, CommitCreated]:
    """A project from the bus, G0 approved here, then G1's first commit; all seen by the ledger.

    Every bus event goes into the ledger as the gateway's consumer records it.
    """
    ledger = Ledger(url, Policy())
    root = ProjectCreated(project_id="calc", name="calc", intake="i", owner="ada")
    ledger.record(root, 1)
    ledger.decide("calc", lambda p: p.approve(Gate.G0, by="ada", announce=True))
    await Relay(ledger, bus.publish).run_once()
    issued = await stream_events(bus)
    asked = issued[-1]
    code = CodeGenerated.follow(asked, role=asked.role, gate=asked.gate, attempt=1,
                                answer="c" * 64, base=Manifest(), model="m", usage=Usage(),
                                duration_s=1.0)  # fmt: skip
    written = FilesWritten.follow(code, role=asked.role, gate=asked.gate, attempt=1,
                                  manifest=Manifest())  # fmt: skip
    built = BuildSucceeded.follow(written, role=asked.role, gate=asked.gate, attempt=1,
                                  manifest=Manifest(), results=())  # fmt: skip
    commit = CommitCreated.follow(built, gate=asked.gate, role=asked.role, sha="d" * 40,
                                  branch="main", files_changed=1, trailer="t")  # fmt: skip
    for position, event in enumerate([*issued, code, written, built, commit], start=2):
        ledger.record(event, position)
    return root, issued, commit


async def test_what_the_relay_issues_names_its_cause_and_keeps_the_intakes_run(bus, store_url):
    """GateApproved (the person's) → GateOpened → AgentRequested, all in the ProjectCreated's run."""
    root, issued, _ = await approved_and_committed(bus, store_url)
    approved, opened, asked = issued
    assert [e.type for e in issued] == ["GateApproved", "GateOpened", "AgentRequested"]
    assert approved.causation_id is None
    assert opened.causation_id == approved.event_id
    assert asked.causation_id == opened.event_id
    assert {e.correlation_id for e in issued} == {root.correlation_id}


async def test_layercake_why_walks_from_the_first_commit_back_to_g0s_approval(bus, tmp_path):
    """One line an event, the commit first and the person's approval last; exit 0."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    _, issued, commit = await approved_and_committed(bus, url)
    env = {**os.environ, "LAYERCAKE_LEDGER_URL": url}
    done = await why(env, "calc", str(commit.event_id))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"CommitCreated G1 {commit.event_id} by git"
    assert [line.split()[1] for line in lines[1:7]] == [
        "BuildSucceeded", "FilesWritten", "CodeGenerated", "AgentRequested", "GateOpened",
        "GateApproved",
    ]  # fmt: skip
    assert lines[6] == f"<- GateApproved G0 {issued[0].event_id} by ada"
    assert lines[-1] == "7 event(s), back to a person's decision"
    by_sha = await why(env, "calc", commit.sha[:10])
    assert by_sha.stdout == done.stdout, "a commit's sha names its CommitCreated"


async def test_layercake_why_on_an_event_the_ledger_never_saw_says_so(bus, tmp_path):
    """An unknown id is a clear refusal, not an empty chain."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    await approved_and_committed(bus, url)
    env = {**os.environ, "LAYERCAKE_LEDGER_URL": url, "COLUMNS": "300"}  # the error unwrapped
    missing = str(uuid.uuid4())
    done = await why(env, "calc", missing)
    assert done.returncode == 2
    assert f"the ledger saw no event or commit '{missing}' of calc (8 events seen)" in done.stderr
