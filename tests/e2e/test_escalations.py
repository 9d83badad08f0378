"""A failure shows, and a person's retry runs the agent again: across the real processes.

`layercake up` with no key: the replay provider has no recording for a
project of the tester's own, so its first request escalates at once.
"""

from __future__ import annotations

import os

import pytest
from tests.e2e.conftest import cli

from layercake_gateway.core.names import bus_id
from layercake_testing.waiting import settle

pytestmark = [
    pytest.mark.nats,
    pytest.mark.skipif(os.geteuid() != 0, reason="the builder's slot users need root"),
    pytest.mark.timeout(300),
]


async def test_a_missing_recording_escalates_status_shows_it_and_resolve_retry_runs_the_agent(
    system,
):
    """G1's request has no recording: `status` shows the escalation and its error;
    `resolve N --retry` sends a new AgentRequested (and, still unrecorded, a new escalation)."""
    async with system.client() as client:
        made = await client.post(
            "/projects", json={"project_id": "notes", "name": "notes", "intake": "A notes app."}
        )
        assert made.status_code == 201, made.text
        assert (await client.post("/projects/notes/gates/g0/approve")).status_code == 200

        async def escalations(count: int):
            async def probe() -> list | None:
                found = (await client.get("/projects/notes/escalations")).json()
                return found if len(found) >= count else None

            return await settle(probe, within=90, interval=0.5)

        [first] = await escalations(1)
        assert (first["kind"], first["gate"], first["role"]) == ("agent", "G1", "product_manager")
        status = cli(system, "status", "notes")
        assert status.returncode == 0, status.stderr
        assert "open escalation 0: agent at G1, product_manager (attempt 1)" in status.stdout
        assert "no recording for project" in status.stdout
        assert "error at G1, product_manager (attempt 1), agent:" in status.stdout

        retried = cli(system, "resolve", "notes", "0", "--retry")
        assert retried.returncode == 0, retried.stderr
        assert "resolved: retry; ask the agent again" in retried.stdout
        await escalations(2)
        mine = [e for _, e in await system.stream() if e.project_id == bus_id("tester", "notes")]
        requested = [e for e in mine if e.type == "AgentRequested"]
        assert [(e.gate.value, e.attempt) for e in requested] == [("G1", 1), ("G1", 1)]
        assert requested[1].instructions == "Asked again by tester: retry"
        listed = cli(system, "escalations", "notes")
        assert listed.stdout.startswith("1. agent at G1, product_manager (attempt 1)")
