"""The HTTP API through real HTTP (uvicorn on a free port, a real nats-server): the first routes."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest

from layercake_contracts.bus import STREAM_NAME, Bus
from layercake_contracts.events import AgentFailed, ProjectCreated, parse_event
from layercake_contracts.values import Gate, Role
from layercake_gateway.api import create_token, openapi_document
from layercake_gateway.core.names import bus_id
from layercake_testing.waiting import settle

pytestmark = pytest.mark.nats


async def test_create_then_approve_opens_g1_and_the_bus_hears_it(gateway, auth):
    """201 on create, 200 on approve; ProjectCreated, GateApproved, GateOpened and AgentRequested reach the stream."""
    runtime, client = gateway
    created = await client.post(
        "/projects",
        json={"project_id": "calc", "name": "calc", "intake": "a calculator"},
        headers=auth("ada"),
    )
    assert created.status_code == 201, created.text
    approved = await client.post("/projects/calc/gates/G0/approve", headers=auth("ada"))
    assert approved.status_code == 200, approved.text
    assert approved.json()["gates"]["G1"] == "in_progress"
    gates = (await client.get("/projects/calc/gates", headers=auth("ada"))).json()
    assert gates[2] == {"gate": "G2", "state": "pending", "missing": ["prd"]}
    js = runtime.broker.connection.jetstream()
    for _ in range(100):
        last = (await js.stream_info(STREAM_NAME)).state.last_seq
        types = [
            parse_event((await js.get_msg(STREAM_NAME, n)).data).type for n in range(1, last + 1)
        ]
        if "AgentRequested" in types:
            break
        await asyncio.sleep(0.1)
    assert types == ["ProjectCreated", "GateApproved", "GateOpened", "AgentRequested"]


async def test_requests_without_a_valid_token_get_401_and_another_users_project_404(
    gateway, auth, secret
):
    """No token, a forged one, an expired one: 401. A valid token of another user: 404."""
    _, client = gateway
    await client.post(
        "/projects", json={"project_id": "calc", "name": "c", "intake": "i"}, headers=auth("ada")
    )
    expired = jwt.encode({"sub": "ada", "exp": int(time.time()) - 60}, secret, algorithm="HS256")
    for headers in (
        {},
        auth("ada", "a-forged-secret-of-thirty-two-bytes!"),
        {"Authorization": f"Bearer {expired}"},
    ):
        assert (await client.get("/projects/calc", headers=headers)).status_code == 401
    assert (await client.get("/projects/calc", headers=auth("bob"))).status_code == 404
    assert (
        await client.post("/projects/calc/gates/G0/approve", headers=auth("bob"))
    ).status_code == 404
    assert (await client.get("/projects", headers=auth("bob"))).json() == []


async def test_creating_another_users_project_id_tells_nothing_and_leaves_theirs_untouched(
    gateway, auth
):
    """Bob asking for ada's id is answered as for an id nobody has; each gets a project of their own."""
    runtime, client = gateway
    intake = {"name": "c", "intake": "i"}
    adas = await client.post(
        "/projects", json={"project_id": "calc", **intake}, headers=auth("ada")
    )
    assert adas.status_code == 201, adas.text
    before = (await client.get("/projects/calc", headers=auth("ada"))).json()
    answers = {}
    for project_id in ("calc", "free"):
        reply = await client.post(
            "/projects", json={"project_id": project_id, **intake}, headers=auth("bob")
        )
        answers[project_id] = (reply.status_code, reply.text.replace(project_id, "ID"))
    assert answers["calc"][0] == 201, answers
    assert answers["calc"] == answers["free"]
    # Her project's version may grow by the ledger keeping the bus echo of her ProjectCreated
    # as seen (for `why`); what it holds is hers alone.
    after = (await client.get("/projects/calc", headers=auth("ada"))).json()
    assert {**after, "version": None} == {**before, "version": None}
    bobs = (await client.get("/projects/calc", headers=auth("bob"))).json()
    assert bobs["owner"] == "bob"
    assert bobs["bus_id"] != before["bus_id"]
    again = await client.post(
        "/projects", json={"project_id": "calc", **intake}, headers=auth("bob")
    )
    assert again.status_code == 409, "one's own id is one's own to know"
    js = runtime.broker.connection.jetstream()

    async def created():
        last = (await js.stream_info(STREAM_NAME)).state.last_seq
        events = [parse_event((await js.get_msg(STREAM_NAME, n)).data) for n in range(1, last + 1)]
        found = {(e.project_id, e.owner) for e in events if isinstance(e, ProjectCreated)}
        return found if len(found) == 3 else None

    assert await settle(created, within=10) == {
        (before["bus_id"], "ada"), (bobs["bus_id"], "bob"), (bus_id("bob", "free"), "bob"),
    }  # fmt: skip


async def test_bad_input_is_422_naming_the_field_and_a_gate_rule_409(gateway, auth):
    """A project id that breaks a subject: 422 naming project_id. Approving a pending gate: 409 with what was expected."""
    _, client = gateway
    bad = await client.post(
        "/projects", json={"project_id": "a.b", "name": "c", "intake": "i"}, headers=auth("ada")
    )
    assert bad.status_code == 422
    assert "project_id" in bad.text
    await client.post(
        "/projects", json={"project_id": "calc", "name": "c", "intake": "i"}, headers=auth("ada")
    )
    pending = await client.post("/projects/calc/gates/G3/approve", headers=auth("ada"))
    assert pending.status_code == 409
    assert pending.json()["detail"]["expected"] == "awaiting_approval"


async def test_two_approvals_of_one_gate_sent_together_one_200_one_409(gateway, auth):
    """Sent at the same moment: exactly one succeeds."""
    _, client = gateway
    await client.post(
        "/projects", json={"project_id": "calc", "name": "c", "intake": "i"}, headers=auth("ada")
    )
    answers = await asyncio.gather(
        *(client.post("/projects/calc/gates/G0/approve", headers=auth("ada")) for _ in range(2))
    )
    assert sorted(a.status_code for a in answers) == [200, 409]


def test_layercake_token_create_prints_a_token_the_api_accepts(secret, tmp_path):
    """The CLI signs with LAYERCAKE_JWT_secret (any case, as settings read it); the token names the user.

    Run away from the checkout: after `layercake demo` its `.layercake/` holds another key.
    """
    layercake = str(Path(sys.executable).parent / "layercake")
    (tmp_path / ".layercake").mkdir()
    (tmp_path / ".layercake" / "jwt-secret").write_text("the key of an earlier demo")
    done = subprocess.run(  # noqa: S603
        [layercake, "token", "create", "ada"], env={**os.environ, "LAYERCAKE_JWT_secret": secret},
        capture_output=True, text=True, check=True, cwd=tmp_path,
    )  # fmt: skip
    assert jwt.decode(done.stdout.strip(), secret, algorithms=["HS256"])["sub"] == "ada"


DOCUMENT = Path(__file__).resolve().parents[4] / "docs" / "openapi.json"
BODIES = {"reject": {"reason": "not yet"}, "accept": {"reason": "ok"},
          "design": {"option": "option-a"}, "resolve": {"decision": "go on"}, "architect": {"gate": "G3"},
          "builds": {"role": "backend_developer", "gate": "G5"},
          "export": {"remote_url": "file:///srv/x.git"}, "parse": {"answer": "x"},
          "files": {"gate": "G5", "path": "a.py", "content": "x"},
          "commits": {"role": "backend_developer", "gate": "G5"}, "answer": {"text": "x"},
          "intake": {"intake": "a better intake"},
          "projects": {"project_id": "other", "name": "n", "intake": "i"}}  # fmt: skip


def test_the_checked_in_openapi_document_is_current():
    """docs/openapi.json equals what the app says; regenerate with `python -m layercake_gateway.api`."""
    assert DOCUMENT.read_text() == openapi_document()


async def test_every_route_refuses_a_missing_token_and_hides_other_users_projects(gateway, auth):
    """Walks the OpenAPI document: 401 without a token on every route but /healthz; 404 for another user's project."""
    _, client = gateway
    await client.post(
        "/projects", json={"project_id": "calc", "name": "c", "intake": "i"}, headers=auth("ada")
    )
    routes = json.loads(DOCUMENT.read_text())["paths"]
    checked = 0
    for template, methods in routes.items():
        if template in {"/healthz", "/metrics"}:
            continue
        path = template.replace("{project_id}", "calc").replace("{gate}", "G0")
        path = path.replace("{number}", "0").replace("{role}", "architect")
        path = path.replace("{option}", "option-a")
        for method in methods:
            body = BODIES.get(path.rsplit("/", 1)[-1])
            anonymous = await client.request(method.upper(), path, json=body)
            assert anonymous.status_code == 401, (method, path, anonymous.text)
            if "{project_id}" in template:
                stranger = await client.request(
                    method.upper(), path, json=body, headers=auth("bob")
                )
                assert stranger.status_code == 404, (method, path, stranger.text)
            checked += 1
    assert checked >= 7


async def read_frames(client, headers: dict[str, str], count: int) -> list[tuple[int, str]]:
    """The first `count` SSE frames of calc's stream, as (id, event)."""
    frames: list[tuple[int, str]] = []
    current: dict[str, str] = {}
    async with client.stream("GET", "/projects/calc/events", headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if line:
                key, _, value = line.partition(": ")
                current[key] = value
                continue
            frames.append((int(current["id"]), current["event"]))
            current = {}
            if len(frames) == count:
                return frames
    return frames


async def test_the_event_stream_shows_the_projects_events_and_resumes_after_last_event_id(
    gateway, auth
):
    """SSE frames carry the stream sequence as id; reconnecting with Last-Event-ID continues after it."""
    _, client = gateway
    await client.post(
        "/projects", json={"project_id": "calc", "name": "c", "intake": "i"}, headers=auth("ada")
    )
    await client.post("/projects/calc/gates/G0/approve", headers=auth("ada"))
    frames = await asyncio.wait_for(read_frames(client, auth("ada"), 4), timeout=15)
    assert [event for _, event in frames] == [
        "ProjectCreated",
        "GateApproved",
        "GateOpened",
        "AgentRequested",
    ]
    second_id = frames[1][0]
    resumed = await asyncio.wait_for(
        read_frames(client, {**auth("ada"), "Last-Event-ID": str(second_id)}, 2), timeout=15
    )
    assert resumed == frames[2:]


async def test_health_names_store_and_bus_and_metrics_count_requests(gateway):
    """/healthz says both answer; /metrics counts the requests by route and status."""
    _, client = gateway
    assert (await client.get("/healthz")).json() == {"status": "ok", "store": "ok", "bus": "ok"}
    await client.get("/projects")
    text = (await client.get("/metrics")).text
    assert 'layercake_http_requests_total{method="GET",route="/projects",status="401"} 1.0' in text


async def test_the_cli_over_the_api_approves_rejects_and_shows_status_and_events(
    gateway, auth, secret
):
    """`layercake approve`, `status`, `reject` and `events` talk to the API as the token's user."""
    _, client = gateway
    await client.post(
        "/projects", json={"project_id": "calc", "name": "c", "intake": "i"}, headers=auth("ada")
    )
    env = {**os.environ, "LAYERCAKE_API_URL": str(client.base_url),
           "LAYERCAKE_TOKEN": create_token(secret, "ada")}  # fmt: skip
    layercake = str(Path(sys.executable).parent / "layercake")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603  # our own command
            [layercake, *args], env=env, capture_output=True, text=True, check=False
        )

    approved = await asyncio.to_thread(run, "approve", "calc", "G0")
    assert approved.returncode == 0, approved.stderr
    status = await asyncio.to_thread(run, "status", "calc")
    assert "in_progress" in status.stdout
    assert "prd" in status.stdout
    refused = await asyncio.to_thread(run, "reject", "calc", "G2", "--reason", "too early")
    assert refused.returncode == 1
    assert "409" in refused.stderr
    printed = await asyncio.to_thread(run, "events", "calc")
    assert printed.stdout.splitlines()[0].startswith("ProjectCreated {")
    assert any(line.startswith("GateApproved") for line in printed.stdout.splitlines())


async def test_errors_and_escalations_are_read_filtered_and_resolved(gateway, auth):
    """A build that fails past the heal limit: errors listed (unresolved), one escalation, resolved once with a decision."""
    runtime, client = gateway
    await client.post(
        "/projects", json={"project_id": "calc", "name": "c", "intake": "i"}, headers=auth("ada")
    )
    root = ProjectCreated(project_id=bus_id("ada", "calc"), name="c", intake="i", owner="ada")
    agent = Bus(runtime.broker)  # stands in for the agent, which publishes AgentFailed
    for attempt in (1, 2, 3):
        await agent.publish(
            AgentFailed.follow(root, role=Role.BACKEND_DEVELOPER, gate=Gate.G5, attempt=attempt,
                               reason=f"401 bad key {attempt}", retryable=False)
        )  # fmt: skip
    for _ in range(100):
        if (await client.get("/projects/calc/escalations", headers=auth("ada"))).json():
            break
        await asyncio.sleep(0.1)
    errors = await client.get(
        "/projects/calc/errors", params={"resolved": "false"}, headers=auth("ada")
    )
    assert [e["message"].endswith("401 bad key 1") for e in errors.json()][:1] == [True]
    assert (
        await client.get("/projects/calc/errors", params={"resolved": "true"}, headers=auth("ada"))
    ).json() == []
    resolved = await client.post(
        "/projects/calc/escalations/0/resolve", json={"decision": "new key"}, headers=auth("ada")
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()[0]["decision"] == "new key"
    again = await client.post(
        "/projects/calc/escalations/0/resolve", json={"decision": "x"}, headers=auth("ada")
    )
    assert again.status_code == 409
    artifacts = (await client.get("/projects/calc/artifacts", headers=auth("ada"))).json()
    assert artifacts["G0"][0]["kind"] == "intake"


async def test_agent_runs_and_builds_become_events_and_are_rate_limited(start_gateway, auth):
    """202 with the event id for each accepted run (a gate in any case); a build needs a tree (409); past the limit, 429."""
    runtime, client = await start_gateway(runs_per_minute=2)
    await client.post(
        "/projects",
        json={"project_id": "calc", "name": "c", "intake": "i"},
        headers=auth("ada"),
    )
    run = await client.post(
        "/projects/calc/agents/architect",
        json={"gate": "G3", "instructions": "REST"},
        headers=auth("ada"),
    )
    assert run.status_code == 202, run.text
    no_tree = await client.post(
        "/projects/calc/builds",
        json={"role": "backend_developer", "gate": "G5"},
        headers=auth("ada"),
    )
    assert no_tree.status_code == 409
    again = await client.post(
        "/projects/calc/agents/architect", json={"gate": "g3"}, headers=auth("ada")
    )
    assert again.status_code == 202, again.text
    limited = await client.post(
        "/projects/calc/agents/architect", json={"gate": "G3"}, headers=auth("ada")
    )
    assert limited.status_code == 429
    assert (
        await client.post(
            "/projects/calc/agents/architect", json={"gate": "G9x"}, headers=auth("ada")
        )
    ).status_code == 422
    js = runtime.broker.connection.jetstream()
    last = (await js.stream_info(STREAM_NAME)).state.last_seq
    events = [parse_event((await js.get_msg(STREAM_NAME, n)).data) for n in range(1, last + 1)]
    requested = next(e for e in events if e.type == "AgentRequested")
    assert str(requested.event_id) == run.json()["event_id"]
    assert (requested.role, requested.gate, requested.instructions) == (
        Role.ARCHITECT,
        Gate.G3,
        "REST",
    )
    assert [e.gate for e in events if e.type == "AgentRequested"] == [Gate.G3, Gate.G3]


async def test_an_export_to_a_remote_with_a_password_is_422_and_reaches_no_event(gateway, auth):
    """`https://user:pw@host/…` is refused before the ledger records it: no event holds it."""
    runtime, client = gateway
    await client.post(
        "/projects", json={"project_id": "calc", "name": "c", "intake": "i"}, headers=auth("ada")
    )
    export = await client.post(
        "/projects/calc/export",
        json={"remote_url": "https://ada:hunter2@forge.example/ada/calc.git"},
        headers=auth("ada"),
    )
    assert export.status_code == 422, export.text
    assert "password" in export.text
    js = runtime.broker.connection.jetstream()
    last = (await js.stream_info(STREAM_NAME)).state.last_seq
    stored = b"".join([(await js.get_msg(STREAM_NAME, n)).data for n in range(1, last + 1)])
    assert b"hunter2" not in stored
    assert b"ExportRequested" not in stored


async def test_status_shows_each_open_escalation_with_its_kind_gate_role_and_reason(gateway, auth):
    """`layercake status P` over the API: a stuck project says why (kind, gate, role, reason)."""
    runtime, client = gateway
    await client.post(
        "/projects", json={"project_id": "calc", "name": "c", "intake": "i"}, headers=auth("ada")
    )
    root = ProjectCreated(project_id=bus_id("ada", "calc"), name="c", intake="i", owner="ada")
    await Bus(runtime.broker).publish(
        AgentFailed.follow(root, role=Role.BACKEND_DEVELOPER, gate=Gate.G5, attempt=1,
                           reason="no recording for this project [set a key]", retryable=False)
    )  # fmt: skip
    for _ in range(100):
        if (await client.get("/projects/calc/escalations", headers=auth("ada"))).json():
            break
        await asyncio.sleep(0.1)
    token = auth("ada")["Authorization"].removeprefix("Bearer ")
    shown = await asyncio.to_thread(
        subprocess.run,
        [str(Path(sys.executable).parent / "layercake"), "status", "calc"],
        capture_output=True, text=True, check=False,
        env={**os.environ, "LAYERCAKE_TOKEN": token, "COLUMNS": "200",
             "LAYERCAKE_API_URL": str(client.base_url).rstrip("/")},
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert (
        "open escalation 0: agent at G5, backend_developer (attempt 1): the agent cannot go on "
        "(not retryable): no recording for this project [set a key]"
    ) in shown.stdout


async def test_a_g7_finding_is_accepted_over_the_api_with_a_reason(gateway, auth, approved_up_to):
    """An audit that could not run blocks G7 ("accepted finding: audit unavailable: …") until POST …/findings/accept."""
    runtime, client = gateway
    await client.post(
        "/projects", json={"project_id": "calc", "name": "c", "intake": "i"}, headers=auth("ada")
    )
    pid = bus_id("ada", "calc")

    walk = approved_up_to(Gate.G7)

    def at_g7(p) -> None:
        p.record_finding(Gate.G7, "audit unavailable: pip-audit: connection refused", {})
        walk(p)

    await asyncio.to_thread(runtime.ledger.decide, pid, at_g7)
    gates = (await client.get("/projects/calc/gates", headers=auth("ada"))).json()
    assert (
        "accepted finding: audit unavailable: pip-audit: connection refused" in gates[7]["missing"]
    )
    refused = await client.post(
        "/projects/calc/findings/accept", json={"reason": ""}, headers=auth("ada")
    )
    assert refused.status_code == 422
    token = auth("ada")["Authorization"].removeprefix("Bearer ")
    accepted = await asyncio.to_thread(
        subprocess.run,
        [str(Path(sys.executable).parent / "layercake"), "accept", "calc",
         "--reason", "the advisory service is down; checked by hand"],
        capture_output=True, text=True, check=False,
        env={**os.environ, "LAYERCAKE_TOKEN": token,
             "LAYERCAKE_API_URL": str(client.base_url).rstrip("/")},
    )  # fmt: skip
    assert accepted.returncode == 0, accepted.stderr
    assert "G7 findings accepted (the advisory service is down" in accepted.stdout
    gates = (await client.get("/projects/calc/gates", headers=auth("ada"))).json()
    assert not [m for m in gates[7]["missing"] if m.startswith("accepted finding")]


async def test_approve_over_the_api_prints_each_gate_on_a_line_of_its_own(gateway, auth):
    """`layercake approve P G0` says what it did and lists the gates for a person, no dict."""
    _, client = gateway
    await client.post(
        "/projects", json={"project_id": "calc", "name": "c", "intake": "i"}, headers=auth("ada")
    )
    token = auth("ada")["Authorization"].removeprefix("Bearer ")
    shown = await asyncio.to_thread(
        subprocess.run,
        [str(Path(sys.executable).parent / "layercake"), "approve", "calc", "G0"],
        capture_output=True, text=True, check=False,
        env={**os.environ, "LAYERCAKE_TOKEN": token,
             "LAYERCAKE_API_URL": str(client.base_url).rstrip("/")},
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "G0 approved; gates now:"
    assert "  G0  approved" in lines
    assert len(lines) == 11
    assert "{" not in shown.stdout
