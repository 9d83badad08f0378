"""The dashboard's pages: the projects list and a project's page."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from layercake_gateway.core.names import name_of
from layercake_gateway.dashboard.render import page
from layercake_gateway.dependencies import LedgerDep, User  # noqa: TC001  # FastAPI reads the annotations at runtime

router = APIRouter(include_in_schema=False)


@router.get("/ui", response_class=HTMLResponse)
async def projects(request: Request, ledger: LedgerDep, who: User) -> HTMLResponse:
    """The caller's projects."""
    every = await asyncio.to_thread(ledger.projects)
    names = [name_of(who, p.project_id) for p in every if p.owner == who]
    return page(request, "projects.html", user=who, names=names)
