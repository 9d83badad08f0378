"""A new project: what a person says about it (G0), and its creation as a ledger decision.

The API's `POST /projects` and the dashboard's new project form both create
through `new_project`, so the two cannot drift apart: the same checks, the
same refusal of a name the caller has already, the same announcement.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from fastapi import HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from layercake_gateway.adapters.ledger import ProjectExists
from layercake_gateway.core.names import NAME_PATTERN, bus_id
from layercake_gateway.core.project import Project
from layercake_gateway.dependencies import Written
from layercake_gateway.routes.intake import MAX_INTAKE_CHARS

if TYPE_CHECKING:
    from layercake_gateway.adapters.ledger import Ledger
    from layercake_gateway.dependencies import Decider


class ProjectIntake(BaseModel):
    """What a person says about a new project (G0)."""

    model_config = ConfigDict(extra="forbid")

    project_id: str = Field(
        pattern=NAME_PATTERN, description="your name for it, unique among your projects"
    )
    name: Written = Field(min_length=1, max_length=200)
    intake: Written = Field(min_length=1, max_length=MAX_INTAKE_CHARS)
    has_ui: bool = False


async def new_project(ledger: Ledger, decider: Decider, who: str, body: ProjectIntake) -> Project:
    """`who`'s new project, stored and announced; 409 if they have one of that name."""
    project = Project(
        project_id=bus_id(who, body.project_id), name=body.name, intake=body.intake, owner=who,
        has_ui=body.has_ui, heal_limit=ledger.policy.heal_limit, announce=True,
    )  # fmt: skip
    try:
        await asyncio.to_thread(ledger.create, project)
    except ProjectExists as exc:
        detail = f"you have a project {body.project_id!r} already"
        raise HTTPException(status.HTTP_409_CONFLICT, detail) from exc
    await decider.announce()
    return project
