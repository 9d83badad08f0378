"""The intake, revised: after G0 is rejected (or before it is approved) a person rewrites it.

G0 then awaits approval again with the new intake as its proof; the earlier
ones stay among G0's artifacts and in the project's history. The agents read
the new one (`IntakeRevised`).
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from layercake_gateway.dependencies import (  # FastAPI reads the annotations at runtime
    DeciderDep,
    User,
    Written,
)
from layercake_gateway.responses import CHANGING, DECIDED, OWNED

MAX_INTAKE_CHARS = 100_000
router = APIRouter(tags=["intake"])


class IntakeRevision(BaseModel):
    """The project's intake, rewritten."""

    model_config = ConfigDict(extra="forbid")

    intake: Written = Field(min_length=1, max_length=MAX_INTAKE_CHARS)


class IntakeRevisedReply(BaseModel):
    """The revision recorded: G0 awaits approval with it."""

    project_id: str
    revision: int = Field(description="the intake's number; the first is the one created with")
    gate: str
    state: str


@router.put("/projects/{project_id}/intake", responses=CHANGING | OWNED | DECIDED)
async def revise_intake(
    project_id: str, body: IntakeRevision, who: User, decide: DeciderDep
) -> IntakeRevisedReply:
    """Revise the intake (G0 rejected, or not yet approved); G0 awaits approval again."""
    revisions: list[int] = []
    project = await decide(
        project_id, who, lambda p: revisions.append(p.revise_intake(body.intake, who))
    )
    return IntakeRevisedReply(project_id=project_id, revision=revisions[-1], gate="G0",
                              state=project.gates["G0"])  # fmt: skip
