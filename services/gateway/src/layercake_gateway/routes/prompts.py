"""The manual provider's prompts: list what is awaited, read a prompt, answer it.

With `LAYERCAKE_PROVIDER=manual` the agent writes each prompt out and announces
it (`AnswerAwaited`); the ledger keeps the list. An answer is kept as a blob and
published as `AnswerGiven`, which the agent turns into the request's
`CodeGenerated`. A prompt answered once is refused a second answer (409).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, status
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from layercake_contracts.events import AnswerGiven
from layercake_gateway.dependencies import (
    BusDep,
    LedgerDep,
    User,
    owned_project,
)
from layercake_gateway.responses import BUS, CHANGING, DECIDED, OWNED, SHOWN, SIGNED_IN

if TYPE_CHECKING:
    from layercake_gateway.core.project import Project

MAX_ANSWER_CHARS = 2_000_000
router = APIRouter(tags=["prompts"])
PromptNumber = Annotated[int, Path(description="the prompt's number, as listed")]


class AnswerText(BaseModel):
    """A person's answer to a prompt: Markdown, as a model would write it."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_ANSWER_CHARS)


class PromptListed(BaseModel):
    """A prompt the manual provider wrote out."""

    number: int
    role: str
    gate: str
    attempt: int
    size: int = Field(description="characters of the prompt")
    file: str = Field(description="where the agent wrote the prompt, on its machine")
    awaited_at: str
    answered_at: str | None
    answered_by: str | None


class AnswerSent(BaseModel):
    """The answer is on its way to the agent."""

    event_id: str
    type: Literal["AnswerGiven"]
    number: int
    size: int


@router.get("/projects/{project_id}/prompts", responses=SIGNED_IN | OWNED)
async def list_prompts(
    project_id: str,
    who: User,
    ledger: LedgerDep,
    state: Literal["awaited", "answered", "all"] = "awaited",
) -> list[PromptListed]:
    """The prompts awaiting an answer, oldest first (`state=all`: answered ones too)."""
    project = await owned_project(ledger, project_id, who)
    chosen = [
        p for p in project.prompts
        if state == "all" or (p["answered_at"] is None) == (state == "awaited")
    ]  # fmt: skip
    return [PromptListed.model_validate(p) for p in chosen]


@router.get(
    "/projects/{project_id}/prompts/{number}",
    response_class=PlainTextResponse,
    responses=SHOWN,
)
async def read_prompt(
    project_id: str, number: PromptNumber, who: User, ledger: LedgerDep, bus: BusDep
) -> PlainTextResponse:
    """The text of prompt `number`, as the agent wrote it (Markdown)."""
    found = _prompt(await owned_project(ledger, project_id, who), number)
    text = await (await bus.blobs()).get(found["prompt"])
    return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")


@router.post(
    "/projects/{project_id}/prompts/{number}/answer",
    status_code=status.HTTP_202_ACCEPTED,
    responses=CHANGING | OWNED | DECIDED | BUS,
)
async def answer_prompt(
    project_id: str,
    number: PromptNumber,
    body: AnswerText,
    who: User,
    ledger: LedgerDep,
    bus: BusDep,
) -> AnswerSent:
    """Answer prompt `number`; the agent passes the answer on as the model's (CodeGenerated)."""
    project = await owned_project(ledger, project_id, who)
    found = _prompt(project, number)
    if found["answered_at"] is not None:
        detail = {
            "error": f"prompt {number} was answered by {found['answered_by']} at "
            f"{found['answered_at']}",
            "expected": "one of the awaited prompts (GET …/prompts)",
        }
        raise HTTPException(status.HTTP_409_CONFLICT, detail)
    data = body.text.encode()
    given = AnswerGiven(
        project_id=project.project_id,
        correlation_id=uuid.UUID(found["correlation_id"]),
        causation_id=uuid.UUID(found["awaited_id"]),
        request_id=uuid.UUID(found["request_id"]),
        number=number,
        answer=await (await bus.blobs()).put(data),
        size=len(body.text),
        by=who,
    )
    await bus.publish(given)
    return AnswerSent(event_id=str(given.event_id), type="AnswerGiven", number=number,
                      size=given.size)  # fmt: skip


def _prompt(project: Project, number: int) -> dict[str, Any]:
    found: dict[str, Any] | None = project.prompt(number)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no prompt {number}")
    return found
