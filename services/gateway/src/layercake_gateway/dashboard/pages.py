"""The dashboard's pages: the projects list with its new project form, and a project's page.

Signed in as the API is (a sign-in link's session cookie, or a bearer token):
the same `current_user`, the same ownership rule. A refusal is a page, not
JSON: 401 says how to sign in (`layercake open`), 404 names no one else's
project. A project is created through the API's own `new_project`.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from layercake_contracts.events import EVENT_TYPES
from layercake_contracts.values import Gate
from layercake_gateway.core.names import name_of
from layercake_gateway.dashboard.render import page
from layercake_gateway.dashboard.timeline import decisions, design_options, timeline
from layercake_gateway.dependencies import (
    Decider,
    LedgerDep,
    current_user,
    owned_project,
    the_decider,
)
from layercake_gateway.routes.escalations import listed
from layercake_gateway.routes.projects import ProjectIntake, new_project

if TYPE_CHECKING:
    from layercake_gateway.adapters.ledger import Ledger
    from layercake_gateway.core.project import Project

router = APIRouter(include_in_schema=False)
# The dashboard's own pages load only their own files; a design option is framed from here.
PAGE_POLICY = (
    "default-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_FIELDS = {"project_id": "name", "intake": "intake", "name": "name", "has_ui": "has_ui"}


class PageRefused(Exception):  # a refusal shown as a page, like HTTPException
    """A dashboard request refused: shown as an HTML page with `status_code` and `reason`."""

    def __init__(self, status_code: int, reason: str) -> None:
        super().__init__(reason)
        self.status_code, self.reason = status_code, reason


def viewer(request: Request) -> str:
    """The signed-in user, as the API knows them; `PageRefused` (401, 403) for anyone else."""
    try:
        return current_user(request, None, None)
    except HTTPException as exc:
        raise PageRefused(exc.status_code, str(exc.detail)) from exc


Viewer = Annotated[str, Depends(viewer)]
DeciderDep = Annotated[Decider, Depends(the_decider)]


async def refused_page(request: Request, exc: Exception) -> Response:
    """The page that says why a dashboard request was refused (and how to sign in, for 401)."""
    refused = exc if isinstance(exc, PageRefused) else PageRefused(500, str(exc))
    return shown(
        request, "refused.html", refused.status_code,
        code=refused.status_code, reason=refused.reason,
    )  # fmt: skip


def shown(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:  # noqa: ANN401  # a template's context
    """A dashboard page, framed by no one else and loading only the gateway's own files."""
    response = page(request, name, status_code, **context)
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    response.headers["Cache-Control"] = "no-store"
    return response


async def yours(ledger: Ledger, project_id: str, who: str) -> Project:
    """`who`'s project `project_id`; `PageRefused` 404 for any other, as the API answers."""
    try:
        return await owned_project(ledger, project_id, who)
    except HTTPException as exc:
        raise PageRefused(exc.status_code, str(exc.detail)) from exc


async def _names(ledger: Ledger, who: str) -> list[str]:
    every = await asyncio.to_thread(ledger.projects)
    return sorted(n for p in every if p.owner == who and (n := name_of(who, p.project_id)))


@router.get("/ui", response_class=HTMLResponse)
async def projects(request: Request, ledger: LedgerDep, who: Viewer) -> HTMLResponse:
    """The caller's projects, and the form that starts a new one."""
    names = await _names(ledger, who)
    return shown(request, "projects.html", user=who, names=names, form={}, problems={})


@router.post("/ui/projects", response_class=HTMLResponse)
async def create(  # the form's fields
    request: Request,
    ledger: LedgerDep,
    decider: DeciderDep,
    who: Viewer,
    name: Annotated[str, Form()] = "",
    intake: Annotated[str, Form()] = "",
    has_ui: Annotated[bool, Form()] = False,  # a checkbox
) -> Response:
    """Create a project from the form, as `POST /projects` does; the form again if refused."""
    intake = intake.replace("\r\n", "\n")  # a browser sends a textarea's lines with CRLF
    form = {"name": name, "intake": intake, "has_ui": has_ui}
    problems: dict[str, str] = {}
    try:
        body = ProjectIntake(project_id=name, name=name, intake=intake, has_ui=has_ui)
        await new_project(ledger, decider, who, body)
    except ValidationError as exc:
        for error in exc.errors():
            field = _FIELDS.get(str(error["loc"][0]), "name") if error["loc"] else "name"
            problems.setdefault(field, _said(field, error["msg"]))
    except HTTPException as exc:
        problems["name"] = str(exc.detail)
    if problems:
        names = await _names(ledger, who)
        return shown(
            request, "projects.html", status.HTTP_422_UNPROCESSABLE_CONTENT,
            user=who, names=names, form=form, problems=problems,
        )  # fmt: skip
    return RedirectResponse(f"/ui/projects/{name}", status.HTTP_303_SEE_OTHER)


def _said(field: str, message: str) -> str:
    if field == "name" and "pattern" in message:
        return "a name is 1 to 51 letters, digits, '-' or '_' (no spaces)"
    return message.removeprefix("Value error, ")


async def project_context(ledger: Ledger, project_id: str, who: str) -> dict[str, Any]:
    """What the project page and its timeline show."""
    project = await yours(ledger, project_id, who)
    stored = await asyncio.to_thread(ledger.decided, project.project_id)
    escalations = listed(project.escalations)
    return {
        "project": project,
        "pid": project_id,
        "rows": timeline(project, decisions(stored, project.escalations)),
        "escalations": [e for e in escalations if e["resolved_at"] is None],
        "options": design_options(project),
        "selected": project.selected_option,
        "design_open": project.gates[Gate.G4.value] in {"in_progress", "awaiting_approval"},
        "release": project.release,
    }


async def project_shown(  # a page and what it says
    request: Request,
    ledger: Ledger,
    project_id: str,
    who: str,
    problem: str | None = None,
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    """The project page, with `problem` (why an action was refused) at its top if any."""
    context = await project_context(ledger, project_id, who)
    return shown(
        request, "project.html", status_code,
        user=who, problem=problem, types=sorted(EVENT_TYPES), **context,
    )  # fmt: skip


@router.get("/ui/projects/{project_id}", response_class=HTMLResponse)
async def project_page(
    request: Request, project_id: str, ledger: LedgerDep, who: Viewer
) -> HTMLResponse:
    """A project: its gates as a timeline, what awaits you, its sections and its live events."""
    return await project_shown(request, ledger, project_id, who)


@router.get("/ui/projects/{project_id}/timeline", response_class=HTMLResponse)
async def timeline_part(
    request: Request, project_id: str, ledger: LedgerDep, who: Viewer
) -> HTMLResponse:
    """The timeline alone, as the page refreshes it when the project's events say it changed."""
    context = await project_context(ledger, project_id, who)
    return shown(request, "timeline.html", **context)
