"""The manual provider: prompts written out and announced, a person's answer passed on once."""

from __future__ import annotations

import pytest

from layercake_agent.adapters.folder import MemoryBlobs
from layercake_agent.adapters.manual import AnsweredByHand, ManualDesk
from layercake_agent.adapters.state import ProjectStore
from layercake_agent.adapters.templates import load_templates
from layercake_agent.app import create_provider, create_runtime
from layercake_agent.core.prompt import Prompt
from layercake_agent.settings import Settings
from layercake_contracts.events import (
    AgentRequested,
    AnswerAwaited,
    AnswerGiven,
    CodeGenerated,
    HealRequested,
)
from layercake_contracts.runtime import ServiceRuntime
from layercake_contracts.values import Diagnostic, Gate, Manifest, Role, Severity, Step
from layercake_testing.waiting import eventually

ANSWER = "docs/intake-review.md\n```markdown\n# Review\n\nQuestions: none.\n```\n"


@pytest.fixture
def desk(tmp_path):
    root = tmp_path / "agent"
    return ManualDesk(ProjectStore(root), root, load_templates(None), Settings(agent_root=root))


def _request(**fields) -> AgentRequested:
    return AgentRequested(
        project_id="p1", role=Role.PRODUCT_MANAGER, gate=Gate.G1, instructions="review it",
        **fields,
    )  # fmt: skip


def _given(awaited: AnswerAwaited, blob: str, by: str = "ada") -> AnswerGiven:
    return AnswerGiven.follow(
        awaited, request_id=awaited.request_id, number=awaited.number, answer=blob,
        size=len(ANSWER), by=by,
    )  # fmt: skip


async def test_a_request_writes_its_prompt_to_a_numbered_file_and_announces_it(desk, tmp_path):
    """The prompt's text is in the file, in the blob the event names, and the event says where."""
    blobs = MemoryBlobs()
    request = _request()
    awaited = await desk.request(request, blobs)
    assert isinstance(awaited, AnswerAwaited)
    path = tmp_path / "agent" / "manual" / "p1" / "001-product_manager-G1-attempt-1.md"
    assert awaited.file == str(path)
    text = path.read_text()
    assert "# System" in text
    assert "# Task" in text
    assert "review it" in text
    assert (await blobs.get(awaited.prompt)).decode() == text
    assert (awaited.number, awaited.size, awaited.request_id) == (1, len(text), request.event_id)
    assert awaited.causation_id == request.event_id


async def test_a_redelivered_request_announces_the_same_prompt_and_writes_no_second_file(
    desk, tmp_path
):
    """The same request twice: one file, the same event (id included); a new request is number 2."""
    blobs = MemoryBlobs()
    request = _request()
    first = await desk.request(request, blobs)
    again = await desk.request(request, blobs)
    assert again == first
    second = await desk.request(_request(), blobs)
    assert isinstance(second, AnswerAwaited)
    assert second.number == 2
    files = sorted(p.name for p in (tmp_path / "agent" / "manual" / "p1").iterdir())
    assert files == ["001-product_manager-G1-attempt-1.md", "002-product_manager-G1-attempt-1.md"]


async def test_a_heal_request_writes_a_prompt_that_shows_what_failed(desk):
    """A HealRequested's prompt file holds its diagnostics and is named by its attempt."""
    blobs = MemoryBlobs()
    heal = HealRequested(
        project_id="p1", role=Role.BACKEND_DEVELOPER, gate=Gate.G5, attempt=2, base=Manifest(),
        failed_step=Step.TEST,
        diagnostics=(Diagnostic(tool="pytest", message="ImportError: no module named httpx",
                                severity=Severity.ERROR),),
    )  # fmt: skip
    awaited = await desk.request(heal, blobs)
    assert isinstance(awaited, AnswerAwaited)
    assert awaited.file.endswith("001-backend_developer-G5-attempt-2.md")
    assert "ImportError: no module named httpx" in (await blobs.get(awaited.prompt)).decode()


async def test_an_answer_becomes_the_requests_code_generated_once(desk):
    """The answer's blob, model manual, no usage, caused by the request; a second is ignored."""
    blobs = MemoryBlobs()
    request = _request()
    awaited = await desk.request(request, blobs)
    assert isinstance(awaited, AnswerAwaited)
    blob = await blobs.put(ANSWER.encode())
    generated = await desk.answered(_given(awaited, blob))
    assert isinstance(generated, CodeGenerated)
    assert (generated.answer, generated.model, generated.usage.total_tokens) == (blob, "manual", 0)
    assert (generated.causation_id, generated.attempt) == (request.event_id, 1)
    assert await desk.answered(_given(awaited, blob, by="bob")) is None
    assert await desk.request(request, blobs) == generated


async def test_an_answer_to_a_prompt_this_agent_never_wrote_is_ignored(desk):
    """An AnswerGiven naming an unknown request makes no CodeGenerated."""
    stranger = AnswerAwaited(
        project_id="p1", request_id=_request().event_id, number=7, role=Role.ARCHITECT,
        gate=Gate.G3, attempt=1, prompt="0" * 64, size=1,
    )  # fmt: skip
    assert await desk.answered(_given(stranger, "1" * 64)) is None


async def test_the_manual_provider_called_directly_says_how_its_prompts_are_answered(tmp_path):
    """`layercake agent ask --provider manual` gets an error naming the commands to use."""
    provider = create_provider(Settings(provider="manual", agent_root=tmp_path))
    prompt = Prompt(Role.ARCHITECT, Gate.G3, 1, "system", "", "task")
    with pytest.raises(AnsweredByHand, match="layercake answer PROJECT FILE"):
        await provider.complete(prompt)


@pytest.mark.nats
async def test_on_the_bus_a_request_is_awaited_and_its_answer_generated(nats_server, tmp_path):
    """With LAYERCAKE_PROVIDER=manual the agent announces the prompt, then turns an answer into code."""
    agent = create_runtime(
        Settings(nats_url=nats_server.url, provider="manual", agent_root=tmp_path / "agent")
    )
    helper = ServiceRuntime("helper", nats_server.url)
    seen: list[AnswerAwaited | CodeGenerated] = []
    for kind in (AnswerAwaited, CodeGenerated):

        @helper.subscribe(helper.broker, kind)
        async def on_event(event: AnswerAwaited | CodeGenerated) -> None:
            seen.append(event)

    await agent.start()
    await helper.start()
    try:
        request = _request()
        await helper.bus.publish(request)
        await eventually(lambda: len(seen) == 1)
        awaited = seen[0]
        assert isinstance(awaited, AnswerAwaited)
        blob = await (await helper.bus.blobs()).put(ANSWER.encode())
        await helper.bus.publish(_given(awaited, blob))
        await eventually(lambda: len(seen) == 2)
        assert isinstance(seen[1], CodeGenerated)
        assert seen[1].answer == blob
    finally:
        await helper.stop()
        await agent.stop()
