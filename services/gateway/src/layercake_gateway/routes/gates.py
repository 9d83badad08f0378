"""Gates: a person's decisions on them (approve, reject, accept G7's findings, choose at G4).

Every decision runs on the ledger (`Decider`): a gate rule or a concurrent
change is a 409 saying what was expected; what it announces is relayed at once.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from layercake_gateway.dependencies import (  # FastAPI reads the annotations at runtime
    DeciderDep,
    GateName,
    User,
    Written,
)
from layercake_gateway.responses import CHANGING, DECIDED, OWNED
from layercake_gateway.routes.projects import project_summary

router = APIRouter()


class Rejection(BaseModel):
    """Why a gate is rejected (or its findings accepted)."""

    model_config = ConfigDict(extra="forbid")

    reason: Written = Field(min_length=1, max_length=10_000)


class Selection(BaseModel):
    """The G4 design option chosen."""

    model_config = ConfigDict(extra="forbid")

    option: str = Field(min_length=1, max_length=200)


@router.post("/projects/{project_id}/gates/{gate}/approve", responses=CHANGING | OWNED | DECIDED)
async def approve(project_id: str, gate: GateName, who: User, decide: DeciderDep) -> dict[str, Any]:
    """Approve a gate; the next one opens and its agents are asked to work."""
    project = await decide(project_id, who, lambda p: p.approve(gate, who, announce=True))
    return project_summary(project)


@router.post("/projects/{project_id}/gates/{gate}/reject", responses=CHANGING | OWNED | DECIDED)
async def reject(
    project_id: str, gate: GateName, body: Rejection, who: User, decide: DeciderDep
) -> dict[str, Any]:
    """Reject a gate with a reason; its agents work again with that reason."""
    project = await decide(
        project_id, who, lambda p: p.reject(gate, who, body.reason, announce=True)
    )
    return project_summary(project)


@router.post("/projects/{project_id}/findings/accept", responses=CHANGING | OWNED | DECIDED)
async def accept_findings(
    project_id: str, body: Rejection, who: User, decide: DeciderDep
) -> dict[str, Any]:
    """Accept G7's open findings ("audit unavailable: …", high ones) with a reason."""
    project = await decide(project_id, who, lambda p: p.accept_findings(who, body.reason))
    return project_summary(project)


@router.post("/projects/{project_id}/design", responses=CHANGING | OWNED | DECIDED)
async def select(project_id: str, body: Selection, who: User, decide: DeciderDep) -> dict[str, Any]:
    """Choose one of the G4 design options."""
    project = await decide(
        project_id, who, lambda p: p.select_option(body.option, who, announce=True)
    )
    return project_summary(project)
