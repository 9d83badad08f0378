"""The ledger's record of awaited prompts: announced once, answered once, listed until answered."""

from __future__ import annotations

import uuid

from layercake_contracts.events import AnswerAwaited, AnswerGiven, ProjectCreated
from layercake_contracts.values import Gate, Role
from layercake_gateway.core.policy import Policy, react

ROOT = ProjectCreated(project_id="calc", name="calc", intake="i", owner="ada")


def awaited(number: int, request_id: uuid.UUID | None = None) -> AnswerAwaited:
    return AnswerAwaited.follow(
        ROOT, request_id=request_id or uuid.uuid4(), number=number, role=Role.PRODUCT_MANAGER,
        gate=Gate.G1, attempt=1, prompt="a" * 64, size=120, file=f"/m/calc/{number:03d}.md",
    )  # fmt: skip


def given(announced: AnswerAwaited, by: str = "ada") -> AnswerGiven:
    return AnswerGiven.follow(
        announced, request_id=announced.request_id, number=announced.number, answer="b" * 64,
        size=10, by=by,
    )  # fmt: skip


def test_an_announced_prompt_is_listed_with_what_the_agent_said_of_it():
    """AnswerAwaited adds prompt n: role, gate, attempt, size, file, and the ids to answer it by."""
    announced = awaited(1)
    project = react(react(None, ROOT, Policy()), announced, Policy())
    assert project is not None
    [entry] = project.awaited_prompts()
    assert {k: entry[k] for k in ("number", "role", "gate", "attempt", "size", "file")} == {
        "number": 1, "role": "product_manager", "gate": "G1", "attempt": 1, "size": 120,
        "file": "/m/calc/001.md",
    }  # fmt: skip
    assert entry["request_id"] == str(announced.request_id)
    assert entry["awaited_id"] == str(announced.event_id)


def test_the_same_request_announced_again_is_listed_once():
    """A redelivered request's announcement (even under a new event id) adds no second prompt."""
    first = awaited(1)
    again = awaited(1, first.request_id)
    project = react(None, ROOT, Policy())
    for fact in (first, again, first):
        project = react(project, fact, Policy())
    assert project is not None
    assert [p["number"] for p in project.prompts] == [1]
    recorded = [type(e).__name__ for e in project.collect_events()]
    assert recorded.count("PromptAwaited") == 1


def test_an_answer_takes_the_prompt_off_the_list_and_a_second_answer_changes_nothing():
    """AnswerGiven marks prompt n answered by whom; the other prompt still awaits."""
    one, two = awaited(1), awaited(2)
    project = react(None, ROOT, Policy())
    for fact in (one, two, given(one), given(one, by="bob")):
        project = react(project, fact, Policy())
    assert project is not None
    assert [p["number"] for p in project.awaited_prompts()] == [2]
    answered = project.prompt(1)
    assert answered is not None
    assert (answered["answered_by"], answered["answer"]) == ("ada", "b" * 64)
