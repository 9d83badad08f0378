"""Gate decisions over the API and the CLI: each leads somewhere, and failures show.

Real gateways (worker, relay, HTTP) on a real nats-server and SQLite; the CLI
runs as a subprocess, as a person runs it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from layercake_contracts.bus import STREAM_NAME, Bus
from layercake_contracts.events import AgentFailed, BuildFailed, ProjectCreated, parse_event
from layercake_contracts.values import Gate, Manifest, Role, Step, StepResult
from layercake_gateway.core.names import bus_id

INTAKE = {"project_id": "calc", "name": "c", "intake": "a calculator"}


async def stream(runtime) -> list:
    """Every event on the stream, in order."""
    js = runtime.broker.connection.jetstream()
    last = (await js.stream_info(STREAM_NAME)).state.last_seq
    return [parse_event((await js.get_msg(STREAM_NAME, n)).data) for n in range(1, last + 1)]


async def until(check, what: str, seconds: float = 10.0):
    """`await check()` once it is truthy; fails naming `what` after `seconds`."""
    for _ in range(int(seconds * 10)):
        if found := await check():
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {what} within {seconds:g} s")


async def layercake(client, auth, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The `layercake` CLI, as a person runs it against this gateway."""
    token = auth("ada")["Authorization"].removeprefix("Bearer ")
    return await asyncio.to_thread(
        subprocess.run,
        [str(Path(sys.executable).parent / "layercake"), *args],
        capture_output=True, text=True, check=False,
        env={**os.environ, "LAYERCAKE_TOKEN": token, "COLUMNS": "200",
             "LAYERCAKE_HOME": str(home), "LAYERCAKE_API_URL": str(client.base_url).rstrip("/")},
    )  # fmt: skip


@pytest.fixture
async def calc(gateway, auth):
    """A gateway and its client, with ada's project `calc` created."""
    _, client = gateway
    made = await client.post("/projects", json=INTAKE, headers=auth("ada"))
    assert made.status_code == 201, made.text
    return gateway


async def test_an_intake_of_only_white_space_is_refused_naming_the_field(gateway, auth):
    """422, and the error names `intake`; no project is made."""
    _, client = gateway
    made = await client.post("/projects", json={**INTAKE, "intake": " \n\t "}, headers=auth("ada"))
    assert made.status_code == 422, made.text
    [error] = made.json()["detail"]
    assert error["loc"] == ["body", "intake"]
    assert "white space" in error["msg"]
    assert (await client.get("/projects/calc", headers=auth("ada"))).status_code == 404


async def test_g0_rejected_in_lower_case_awaits_a_revised_intake_then_its_approval(calc, auth):
    """`g0` is G0; rejected, it awaits a revision; the revised intake is announced and G0 awaits."""
    runtime, client = calc
    rejected = await client.post(
        "/projects/calc/gates/g0/reject", json={"reason": "who is it for?"}, headers=auth("ada")
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["gates"]["G0"] == "awaiting_revision"
    blank = await client.put("/projects/calc/intake", json={"intake": "  "}, headers=auth("ada"))
    assert blank.status_code == 422
    assert blank.json()["detail"][0]["loc"] == ["body", "intake"]
    revised = await client.put(
        "/projects/calc/intake", json={"intake": "a calculator for pupils"}, headers=auth("ada")
    )
    assert revised.status_code == 200, revised.text
    assert revised.json() == {"project_id": "calc", "revision": 2, "gate": "G0",
                              "state": "awaiting_approval"}  # fmt: skip
    found = await until(lambda: _of_type(runtime, "IntakeRevised"), "IntakeRevised on the bus")
    assert found[0].intake == "a calculator for pupils"
    approved = await client.post("/projects/calc/gates/G0/approve", headers=auth("ada"))
    assert approved.json()["gates"]["G1"] == "in_progress"


async def _of_type(runtime, name: str) -> list:
    return [e for e in await stream(runtime) if e.type == name]


async def test_an_export_before_g9_opens_is_409_and_pushes_nothing(calc, auth):
    """The release is G9's: asked before, a 409 says what is expected; no ExportRequested."""
    runtime, client = calc
    export = await client.post(
        "/projects/calc/export", json={"remote_url": "v1"}, headers=auth("ada")
    )
    assert export.status_code == 409, export.text
    assert "G9 open or approved" in export.json()["detail"]["expected"]
    assert not await _of_type(runtime, "ExportRequested")


async def test_a_missing_recording_escalates_shows_in_status_and_resolve_retry_runs_the_agent(
    calc, auth, tmp_path
):
    """The agent's AgentFailed (no recording): `status` shows the escalation and the error,
    `escalations` says what to do, `resolve --retry` asks the agent again (AgentRequested)."""
    runtime, client = calc
    root = ProjectCreated(project_id=bus_id("ada", "calc"), name="c", intake="i", owner="ada")
    failed = AgentFailed.follow(root, role=Role.BACKEND_DEVELOPER, gate=Gate.G5, attempt=1,
                                reason="no recording for this project", retryable=False)  # fmt: skip
    await Bus(runtime.broker).publish(failed)

    async def escalated() -> list:
        return (await client.get("/projects/calc/escalations", headers=auth("ada"))).json()

    await until(escalated, "escalation")
    status = await layercake(client, auth, tmp_path, "status", "calc")
    assert status.returncode == 0, status.stderr
    assert "open escalation 0: agent at G5, backend_developer (attempt 1)" in status.stdout
    assert "error at G5, backend_developer (attempt 1), agent: the agent cannot go on" in (
        status.stdout
    )
    listed = await layercake(client, auth, tmp_path, "escalations", "calc")
    assert "0. agent at G5, backend_developer (attempt 1): the agent cannot go on" in listed.stdout
    assert (
        "layercake resolve calc 0 --retry: ask the agent again, with a fresh budget of retries"
    ) in listed.stdout
    neither = await layercake(client, auth, tmp_path, "resolve", "calc", "0")
    assert neither.returncode != 0
    assert "give exactly one of --retry, --skip, --decision TEXT" in neither.stderr
    retried = await layercake(client, auth, tmp_path, "resolve", "calc", "0", "--retry")
    assert retried.returncode == 0, retried.stderr
    assert "escalation 0 of calc (agent at G5, backend_developer) resolved: retry" in (
        retried.stdout
    )

    async def asked_again() -> list:
        events = await stream(runtime)
        after = [e.event_id for e in events].index(failed.event_id)
        return [e for e in events[after:] if e.type == "AgentRequested"]

    [again] = await until(asked_again, "AgentRequested after the retry")
    assert (again.gate, again.role, again.attempt) == (Gate.G5, Role.BACKEND_DEVELOPER, 1)
    assert again.instructions == "Asked again by ada: retry"
    after = await layercake(client, auth, tmp_path, "escalations", "calc")
    assert after.stdout.strip() == "calc: no open escalation"


async def test_revise_and_reject_g0_from_the_cli_say_what_follows(calc, auth, tmp_path):
    """`reject … G0` says a revision is awaited; `revise --intake -` records it; blank is refused."""
    _, client = calc
    rejected = await layercake(client, auth, tmp_path, "reject", "calc", "g0", "--reason", "vague")
    assert rejected.returncode == 0, rejected.stderr
    assert "G0 awaits a revised intake: layercake revise calc --intake FILE" in rejected.stdout
    blank = tmp_path / "blank.md"
    blank.write_text("  \n")
    refused = await layercake(client, auth, tmp_path, "revise", "calc", "--intake", str(blank))
    assert refused.returncode != 0
    assert "the intake is empty (only white space)" in refused.stderr
    better = tmp_path / "intake.md"
    better.write_text("a calculator for pupils, with fractions\n")
    revised = await layercake(client, auth, tmp_path, "revise", "calc", "--intake", str(better))
    assert revised.returncode == 0, revised.stderr
    assert revised.stdout.strip() == (
        "calc: intake revision 2 recorded; G0 is awaiting_approval: layercake approve calc G0"
    )


RESOLVED_THEN = {  # action -> (the request that follows, its attempt, its instructions)
    "retry": ("HealRequested", 4, None),
    "decide": ("AgentRequested", 4, "Decided by ada: keep the API, drop the cache"),
    "skip": (None, None, None),
}


@pytest.mark.parametrize("action", sorted(RESOLVED_THEN))
async def test_a_heal_limit_escalation_resolved_on_the_ledger_sets_its_follow_up_going(
    calc, auth, action
):
    """Three failed builds escalate; retry heals (attempt 4), a decision reworks with it, skip runs nothing."""
    runtime, client = calc
    root = ProjectCreated(project_id=bus_id("ada", "calc"), name="c", intake="i", owner="ada")
    tree = Manifest.model_validate({"calc.py": {"sha256": "a" * 64, "size": 3}})
    result = StepResult(step=Step.TEST, command=("pytest",), exit_code=1, duration_s=0.1)
    for attempt in (1, 2, 3):
        await Bus(runtime.broker).publish(BuildFailed.follow(
            root, role=Role.BACKEND_DEVELOPER, gate=Gate.G5, attempt=attempt, manifest=tree,
            results=(result,), failed_step=Step.TEST))  # fmt: skip

    async def escalated() -> list:
        return (await client.get("/projects/calc/escalations", headers=auth("ada"))).json()

    [escalation] = await until(escalated, "escalation")
    assert escalation["kind"] == "heal_limit"
    # The relay publishes in order: once the escalation is out, so are the heals before it.
    await until(lambda: _of_type(runtime, "EscalationRaised"), "EscalationRaised on the bus")
    before = len(await stream(runtime))
    body = {
        "action": action,
        "decision": "keep the API, drop the cache" if action == "decide" else "",
    }
    resolved = await client.post(
        "/projects/calc/escalations/0/resolve", json=body, headers=auth("ada")
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()[0]["action"] == action
    kind, attempt, instructions = RESOLVED_THEN[action]
    if kind is None:
        await asyncio.sleep(1.0)  # what a relay would publish, it has by now
        assert [e.type for e in (await stream(runtime))[before:]] == []
        errors = await client.get("/projects/calc/errors?resolved=false", headers=auth("ada"))
        assert errors.json() == [], "the role is done: its errors are resolved"
        return

    async def followed() -> list:
        return [e for e in (await stream(runtime))[before:] if e.type == kind]

    [request] = await until(followed, kind)
    assert (request.gate, request.role, request.attempt) == (
        Gate.G5,
        Role.BACKEND_DEVELOPER,
        attempt,
    )
    assert getattr(request, "instructions", None) == instructions
    assert request.base == tree


async def test_an_export_at_g9_waits_for_the_approval_which_then_asks_the_push(
    calc, auth, approved_up_to
):
    """202 "at G9's approval" and no ExportRequested; approved, GateApproved then ExportRequested."""
    runtime, client = calc
    await asyncio.to_thread(runtime.ledger.decide, bus_id("ada", "calc"), approved_up_to(Gate.G9))
    export = await client.post(
        "/projects/calc/export", json={"remote_url": "v1"}, headers=auth("ada")
    )
    assert export.status_code == 202, export.text
    assert export.json() == {"remote_url": "v1", "branch": "main", "push": "at G9's approval"}
    await asyncio.sleep(0.5)
    assert not await _of_type(runtime, "ExportRequested"), "nothing is pushed before approval"
    approved = await client.post("/projects/calc/gates/G9/approve", headers=auth("ada"))
    assert approved.status_code == 200, approved.text

    async def approval_then_push() -> list:
        return [
            e.type for e in await stream(runtime) if e.type in {"GateApproved", "ExportRequested"}
        ]

    assert await until(approval_then_push, "the push") == ["GateApproved", "ExportRequested"]


async def test_rejecting_g9_over_the_api_asks_the_devops_engineer_to_work_again(
    calc, auth, approved_up_to
):
    """G9 rejected: G8 in progress, G9 pending, an AgentRequested at G8 telling the reason."""
    runtime, client = calc
    await asyncio.to_thread(runtime.ledger.decide, bus_id("ada", "calc"), approved_up_to(Gate.G9))
    await client.post("/projects/calc/export", json={"remote_url": "v1"}, headers=auth("ada"))
    rejected = await client.post(
        "/projects/calc/gates/G9/reject", json={"reason": "no rollback"}, headers=auth("ada")
    )
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["gates"]["G8"], rejected.json()["gates"]["G9"]) == (
        "in_progress", "pending")  # fmt: skip

    async def reworks() -> list:  # the walk's own requests (attempt 1) came before
        return [e for e in await _of_type(runtime, "AgentRequested") if e.attempt > 1]

    [rework] = await until(reworks, "the rework")
    assert (rework.gate, rework.role, rework.attempt) == (Gate.G8, Role.DEVOPS_ENGINEER, 2)
    assert rework.instructions == "G9 rejected by ada: no rollback"
    assert not await _of_type(runtime, "ExportRequested")
