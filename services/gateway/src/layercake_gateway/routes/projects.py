"""Projects: create one from its intake (G0), list the caller's, read one and its gates.

A project belongs to its creator, named in a namespace of the creator's own
(`core/names.py`): another user gets 404 for it, and creating that name makes
them a project of their own. `project_summary` is a project's JSON, which the
other routers answer with too. The API's `POST /projects` and the dashboard's
new project form both create through `new_project`: the same checks, the same
refusal of a name the caller has already, the same announcement.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from layercake_contracts.values import Gate
from layercake_gateway.adapters.ledger import ProjectExists
from layercake_gateway.core.names import NAME_PATTERN, bus_id, name_of
from layercake_gateway.core.project import Project
from layercake_gateway.dependencies import DeciderDep, LedgerDep, User, Written, owned_project
from layercake_gateway.responses import CHANGING, DECIDED, OWNED, SIGNED_IN
from layercake_gateway.routes.intake import MAX_INTAKE_CHARS

if TYPE_CHECKING:
    from layercake_gateway.adapters.ledger import Ledger
    from layercake_gateway.dependencies import Decider

router = APIRouter()


class ProjectIntake(BaseModel):
    """What a person says about a new project (G0)."""

    model_config = ConfigDict(extra="forbid")

    project_id: str = Field(
        pattern=NAME_PATTERN, description="your name for it, unique among your projects"
    )
    name: Written = Field(min_length=1, max_length=200)
    intake: Written = Field(min_length=1, max_length=MAX_INTAKE_CHARS)
    has_ui: bool = False


def project_summary(project: Project) -> dict[str, Any]:
    """A project as the API shows it: its owner's name for it, its bus id, its gates."""
    return {
        "project_id": name_of(project.owner, project.project_id),
        "bus_id": project.project_id,
        "name": project.name,
        "owner": project.owner,
        "has_ui": project.has_ui,
        "version": project.version,
        "gates": dict(project.gates),
    }


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


@router.post("/projects", status_code=status.HTTP_201_CREATED, responses=CHANGING | DECIDED)
async def create_project(
    body: ProjectIntake, who: User, ledger: LedgerDep, decider: DeciderDep
) -> dict[str, Any]:
    """Create a project from its intake (G0)."""
    return project_summary(await new_project(ledger, decider, who, body))


@router.get("/projects", responses=SIGNED_IN)
async def list_projects(who: User, ledger: LedgerDep) -> list[dict[str, Any]]:
    """The caller's projects."""
    projects = await asyncio.to_thread(ledger.projects)
    return [project_summary(p) for p in projects if p.owner == who and name_of(who, p.project_id)]


@router.get("/projects/{project_id}", responses=SIGNED_IN | OWNED)
async def get_project(project_id: str, who: User, ledger: LedgerDep) -> dict[str, Any]:
    """One project: its gates and where it stands."""
    return project_summary(await owned_project(ledger, project_id, who))


@router.get("/projects/{project_id}/gates", responses=SIGNED_IN | OWNED)
async def list_gates(project_id: str, who: User, ledger: LedgerDep) -> list[dict[str, Any]]:
    """Each gate's state and the proof it still lacks."""
    project = await owned_project(ledger, project_id, who)
    return [
        {"gate": g.value, "state": project.state_of(g).value, "missing": list(project.missing(g))}
        for g in Gate
    ]
