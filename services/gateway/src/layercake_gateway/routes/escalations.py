"""Escalations: what waits for a person, and their decision on it (retry, skip, or in words).

Each escalation is listed with its number (from 0), its kind, gate, role and
reason, and what each resolution would set going (`core/project.py`'s
`RESOLUTIONS`). A resolution is a ledger decision: a retry runs the agent (or
the heal, build, push) again, a skip moves on, a decision is recorded (and for
a heal limit, sent to the role as its rework's reason).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Self

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, model_validator

from layercake_contracts.values import EscalationKind
from layercake_gateway.core.resolutions import RESOLUTIONS, Resolution
from layercake_gateway.dependencies import DeciderDep, LedgerDep, User, owned_project
from layercake_gateway.responses import CHANGING, DECIDED, OWNED, SIGNED_IN

router = APIRouter(tags=["escalations"])


class Resolve(BaseModel):
    """A person's resolution: an action, a decision in words, or both.

    With no action, a decision that starts with "retry" or "skip" is that action.
    """

    model_config = ConfigDict(extra="forbid")

    action: Resolution | None = None
    decision: str = Field(default="", max_length=10_000)

    @model_validator(mode="after")
    def _says_something(self) -> Self:
        if not self.decision.strip() and self.action in {None, Resolution.DECIDE}:
            msg = "give an action (retry, skip) or a decision in words"
            raise ValueError(msg)
        return self


def listed(escalations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each escalation with its number and what each resolution of it does."""
    return [
        {**e, "number": n, "choices": dict(RESOLUTIONS[EscalationKind(e["kind"])])}
        for n, e in enumerate(escalations)
    ]


@router.get("/projects/{project_id}/escalations", responses=SIGNED_IN | OWNED)
async def list_escalations(project_id: str, who: User, ledger: LedgerDep) -> list[dict[str, Any]]:
    """What waits for a person, numbered from 0, what each choice does, and what was decided."""
    return listed((await owned_project(ledger, project_id, who)).escalations)


@router.post(
    "/projects/{project_id}/escalations/{number}/resolve", responses=CHANGING | OWNED | DECIDED
)
async def resolve(
    project_id: str, number: int, body: Resolve, who: User, decide: DeciderDep
) -> list[dict[str, Any]]:
    """Resolve escalation `number`: retry, skip, or a decision; what follows runs at once."""
    at = datetime.now(UTC).isoformat()
    decision = body.decision.strip() or (body.action.value if body.action else "")
    project = await decide(
        project_id, who, lambda p: p.resolve_escalation(number, decision, who, at, body.action)
    )
    return listed(project.escalations)
