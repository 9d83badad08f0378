"""The manual provider across processes: `layercake up` with LAYERCAKE_PROVIDER=manual, a prompt
listed by the API and the CLI, answered by a person, and the answer taken as the model's."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from tests.e2e.conftest import TESTER, System, cli, running

from layercake_contracts.bus import MSG_ID_HEADER, STREAM_NAME
from layercake_contracts.events import AgentRequested, AnswerGiven
from layercake_gateway.core.names import bus_id
from layercake_testing.waiting import settle

pytestmark = [pytest.mark.nats, pytest.mark.timeout(300)]

ANSWER = """docs/intake-review.md
```markdown
# Intake review

## Questions
- Who keeps the notes: one person, or a team?

## Scope
A JSON API over SQLite and one page.

## Risks
- None yet.
```
"""


@pytest.fixture(scope="module")
def manual_system():
    """`layercake up` whose agent answers nothing itself: every prompt waits for a person."""
    with running(LAYERCAKE_PROVIDER="manual") as started:
        yield started


async def types_on_stream(system: System, project: str) -> list[str]:
    return [e.type for _, e in await system.stream() if e.project_id == project]


async def started(system: System, client, name: str) -> str:
    """A project through G0: its G1 request is on the bus. Its bus id."""
    created = await client.post(
        "/projects", json={"project_id": name, "name": name, "intake": "A notes app."}
    )
    assert created.status_code == 201, created.text
    approved = await client.post(f"/projects/{name}/gates/G0/approve")
    assert approved.status_code == 200, approved.text
    return bus_id(TESTER, name)


async def listed(client, name: str, count: int = 1) -> list[dict]:
    async def probe() -> list[dict] | None:
        found = (await client.get(f"/projects/{name}/prompts")).json()
        return found if len(found) >= count else None

    return await settle(probe, within=60, interval=0.3)


async def test_a_g1_request_is_listed_and_its_answer_becomes_code_and_files(manual_system):
    """The prompt is listed with its file; answered through the API, CodeGenerated then
    FilesWritten follow with the answered file; a second answer is refused, and one that
    reaches the agent anyway makes no second CodeGenerated."""
    system = manual_system
    async with system.client() as client:
        project = await started(system, client, "notes")
        [entry] = await listed(client, "notes")
        assert (entry["number"], entry["role"], entry["gate"], entry["attempt"]) == (
            1, "product_manager", "G1", 1,
        )  # fmt: skip
        path = Path(entry["file"])
        assert path.name == "001-product_manager-G1-attempt-1.md"
        text = (await client.get("/projects/notes/prompts/1")).text
        assert text == await asyncio.to_thread(path.read_text)
        assert len(text) == entry["size"]

        sent = await client.post("/projects/notes/prompts/1/answer", json={"text": ANSWER})
        assert sent.status_code == 202, sent.text

        async def written():
            events = [e for _, e in await system.stream() if e.project_id == project]
            return next((e for e in events if e.type == "FilesWritten"), None)

        files = await settle(written, within=60, interval=0.3)
        assert "docs/intake-review.md" in files.manifest
        kinds = await types_on_stream(system, project)
        assert kinds.index("CodeGenerated") < kinds.index("FilesWritten")
        generated = next(e for _, e in await system.stream() if e.type == "CodeGenerated")
        assert (generated.model, generated.usage.total_tokens) == ("manual", 0)

        async def off_the_list():
            return (await client.get("/projects/notes/prompts")).json() == []

        await settle(off_the_list, within=30, interval=0.3)
        [done] = (await client.get("/projects/notes/prompts", params={"state": "all"})).json()
        assert (done["number"], done["answered_by"]) == (1, TESTER)
        again = await client.post("/projects/notes/prompts/1/answer", json={"text": ANSWER})
        assert again.status_code == 409
        assert "answered by tester" in again.text

        # An answer past the API's check (two people at once): the agent ignores it.
        duplicate = AnswerGiven(
            project_id=project, request_id=generated.causation_id, number=1,
            answer=generated.answer, size=1, by="someone", producer="gateway",
        )  # fmt: skip
        connection = await system.connect()
        try:
            subject = f"lc.evt.{project}.AnswerGiven"
            await connection.jetstream().publish(
                subject, duplicate.model_dump_json().encode(), stream=STREAM_NAME
            )
        finally:
            await connection.close()

        async def duplicate_consumed():
            agent_log = (system.state_home / "logs" / "agent.log").read_text(errors="replace")
            return "answer_ignored" in agent_log

        await settle(duplicate_consumed, within=30, interval=0.3)
        assert (await types_on_stream(system, project)).count("CodeGenerated") == 1


async def test_a_redelivered_request_is_listed_once(manual_system):
    """The same AgentRequested twice on the stream: one prompt listed, one AnswerAwaited."""
    system = manual_system
    async with system.client() as client:
        project = await started(system, client, "twice")
        await listed(client, "twice")
        request = next(
            e for _, e in await system.stream()
            if e.project_id == project and isinstance(e, AgentRequested)
        )  # fmt: skip
        connection = await system.connect()
        try:
            await connection.jetstream().publish(
                f"lc.evt.{project}.AgentRequested", request.model_dump_json().encode(),
                stream=STREAM_NAME, headers={MSG_ID_HEADER: str(uuid.uuid4())},
            )  # fmt: skip
        finally:
            await connection.close()

        async def seen_twice():
            kinds = await types_on_stream(system, project)
            return kinds.count("AgentRequested") == 2

        await settle(seen_twice, within=30, interval=0.3)
        await asyncio.sleep(3)  # the agent's turn at the copy
        assert len((await client.get("/projects/twice/prompts")).json()) == 1
        assert (await types_on_stream(system, project)).count("AnswerAwaited") == 1


async def test_the_cli_lists_prints_and_answers_the_oldest_prompt(manual_system, tmp_path):
    """`layercake prompts`, `prompt PROJECT N` and `answer PROJECT FILE` over a running system."""
    system = manual_system
    async with system.client() as client:
        await started(system, client, "bycli")
        waited = await asyncio.to_thread(cli, system, "prompts", "bycli", "--wait", "60", "--json")
        assert waited.returncode == 0, waited.stderr
        [entry] = [json.loads(line) for line in waited.stdout.splitlines()]
        assert (entry["project"], entry["role"], entry["gate"]) == (
            "bycli",
            "product_manager",
            "G1",
        )
        listing = cli(system, "prompts", "bycli")
        assert listing.returncode == 0, listing.stderr
        assert "product_manager" in listing.stdout
        assert entry["file"] in listing.stdout.replace("\n", "").replace("│", "").replace(" ", "")
        everyone = cli(system, "prompts")
        assert "bycli" in everyone.stdout, everyone.stderr
        shown = cli(system, "prompt", "bycli", str(entry["number"]))
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout == await asyncio.to_thread(Path(entry["file"]).read_text)
        answer = tmp_path / "answer.md"
        answer.write_text(ANSWER)
        other = cli(system, "answer", "bycli", str(answer), "--prompt", "7")
        assert other.returncode == 1
        assert "bycli: prompt 7 awaits no answer (these do: 1)" in other.stderr
        answered = cli(system, "answer", "bycli", str(answer))
        assert answered.returncode == 0, answered.stderr
        assert (
            f"answered prompt {entry['number']} of bycli (product_manager at G1, attempt 1)"
            in answered.stdout
        )

        async def off_the_list():
            return (await client.get("/projects/bycli/prompts")).json() == []

        await settle(off_the_list, within=30, interval=0.3)
        again = cli(system, "answer", "bycli", "-", stdin=ANSWER)
        assert again.returncode == 1
        assert "bycli: no prompt awaits an answer" in again.stderr
        none = cli(system, "prompts", "bycli", "--wait", "1")
        assert none.returncode == 1
        assert "no prompt awaits an answer after 1 s" in none.stderr
        assert none.stdout == "", "an empty table printed above the message"
        history = cli(system, "prompts", "bycli", "--all", "--json")
        [done] = [json.loads(line) for line in history.stdout.splitlines()]
        assert (done["number"], done["answered_by"]) == (entry["number"], TESTER)
        missing = cli(system, "prompt", "bycli", "99")
        assert missing.returncode == 1
        assert "no prompt 99" in missing.stderr


async def test_an_answer_that_writes_no_file_brings_the_heal_prompt_for_attempt_two(
    manual_system,
):
    """The ledger heals a useless answer as a model's: prompt 2 awaits, attempt 2, same role."""
    system = manual_system
    async with system.client() as client:
        await started(system, client, "healme")
        await listed(client, "healme")
        sent = await client.post(
            "/projects/healme/prompts/1/answer", json={"text": "Nothing to write here."}
        )
        assert sent.status_code == 202, sent.text

        async def second():
            found = (await client.get("/projects/healme/prompts")).json()
            return [p for p in found if p["number"] == 2]

        [heal] = await settle(second, within=60, interval=0.3)
        assert (heal["role"], heal["gate"], heal["attempt"]) == ("product_manager", "G1", 2)
        text = (await client.get("/projects/healme/prompts/2")).text
        assert "This is attempt 2 at gate G1." in text
        assert "it said: Nothing to write here." in text, "the next prompt says what came of it"
