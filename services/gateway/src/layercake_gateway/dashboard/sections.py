"""The parts of a project's page that load and refresh on their own.

Each is a fragment, `GET /ui/projects/{project_id}/sections/{name}`, loaded by
the project page (`hx-get`, refreshed on `lc:refresh`) and rendered from
`templates/sections/<name>.html`. A section that lacks what it reads (no bus,
no git service, no events yet) says so in a sentence; it never fails the page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse

from layercake_gateway.core.names import name_of
from layercake_gateway.dashboard import activity, builds, documents, heals
from layercake_gateway.dashboard.render import page
from layercake_gateway.dashboard.source import Source, Unavailable
from layercake_gateway.dependencies import (
    LedgerDep,
    User,
    owned_project,
)  # FastAPI reads the annotations at runtime

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

router = APIRouter(include_in_schema=False)

SECTIONS: dict[str, Callable[[Source], Awaitable[dict[str, object]]]] = {
    "documents": documents.documents,
    "builds": builds.builds,
    "heals": heals.heals,
    "commits": activity.commits,
    "errors": activity.errors,
    "cost": activity.cost,
}


@router.get("/ui/projects/{project_id}/sections/{name}", response_class=HTMLResponse)
async def section(
    request: Request, project_id: str, name: str, ledger: LedgerDep, who: User
) -> HTMLResponse:
    """One section of the caller's project, as an HTML fragment."""
    build = SECTIONS.get(name)
    if build is None:
        known = ", ".join(SECTIONS)
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no section {name!r}; there are {known}")
    project = await owned_project(ledger, project_id, who)
    source = Source(project, request.app.state.bus)
    shown = name_of(who, project.project_id)
    try:
        context = await build(source)
    except Unavailable as exc:
        template, context = "sections/unavailable.html", {"reason": exc.reason}
    else:
        template = f"sections/{name}.html"
    return page(request, template, status.HTTP_200_OK, section=name, project_id=shown, **context)
