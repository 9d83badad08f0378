"""What a person does from a project's page: approve, reject, choose, accept, release, resolve.

Each is a plain HTML form POST (no script needed), decided through the API's
own `Decider` and routes, so the gate machine's rules and the CSRF rule (a
cookie write needs the gateway's own Origin: `guard.py`) are the API's. A
success redirects (303) to the project page; a refusal shows that page again
with the reason at its top and the refusal's status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from layercake_gateway.adapters.ledger import Ledger  # a dataclass field's type
from layercake_gateway.core.resolutions import Resolution
from layercake_gateway.dashboard.pages import DeciderDep, PageRefused, Viewer, project_shown
from layercake_gateway.dependencies import Decider, GateName, LedgerDep, not_blank
from layercake_gateway.routes import escalations, release

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from layercake_gateway.core.project import Project

router = APIRouter(include_in_schema=False)
Said = Annotated[str, Form()]


@dataclass(frozen=True)
class Acting:
    """A signed-in person acting on one of their projects from its page."""

    request: Request
    ledger: Ledger
    decide: Decider
    who: str

    def deciding(
        self, project_id: str, decision: Callable[[Project], object]
    ) -> Awaitable[Project]:
        """`decision` on the project, as the API's routes decide."""
        return self.decide(project_id, self.who, decision)

    async def then(self, project_id: str, action: Awaitable[object]) -> Response:
        """Back to the project page after `action`; the page with the reason if refused."""
        try:
            await action
        except HTTPException as exc:
            if exc.status_code == status.HTTP_404_NOT_FOUND:
                raise PageRefused(exc.status_code, str(exc.detail)) from exc
            return await self._again(project_id, _in_words(exc.detail), exc.status_code)
        except ValidationError as exc:
            problem = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
            return await self._again(project_id, problem, status.HTTP_422_UNPROCESSABLE_CONTENT)
        return RedirectResponse(f"/ui/projects/{project_id}", status.HTTP_303_SEE_OTHER)

    async def _again(self, project_id: str, problem: str, code: int) -> Response:
        return await project_shown(self.request, self.ledger, project_id, self.who, problem, code)


def _acting(request: Request, ledger: LedgerDep, decide: DeciderDep, who: Viewer) -> Acting:
    return Acting(request, ledger, decide, who)


Act = Annotated[Acting, Depends(_acting)]


def _in_words(detail: Any) -> str:  # noqa: ANN401  # a refusal's detail: a sentence or a dict
    if not isinstance(detail, dict):
        return str(detail)
    said = str(detail.get("error", detail))
    if detail.get("missing"):
        said += f" (missing: {', '.join(detail['missing'])})"
    elif detail.get("expected"):
        said += f" (expected: {detail['expected']})"
    return said


def _written(text: str, what: str) -> str:
    try:
        return not_blank(text)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{what} {exc}") from exc


@router.post("/ui/projects/{project_id}/gates/{gate}/approve")
async def approve(project_id: str, gate: GateName, act: Act) -> Response:
    """Approve `gate`; the next one opens."""
    who = act.who
    return await act.then(
        project_id, act.deciding(project_id, lambda p: p.approve(gate, who, announce=True))
    )


@router.post("/ui/projects/{project_id}/gates/{gate}/reject")
async def reject(project_id: str, gate: GateName, act: Act, reason: Said = "") -> Response:
    """Reject `gate` with a reason (required); its agents work again with it."""

    async def rejected() -> None:
        why, who = _written(reason, "a rejection's reason"), act.who
        await act.deciding(project_id, lambda p: p.reject(gate, who, why, announce=True))

    return await act.then(project_id, rejected())


@router.post("/ui/projects/{project_id}/design")
async def choose(project_id: str, act: Act, option: Said = "") -> Response:
    """Choose one of the G4 design options."""
    who = act.who
    chosen = act.deciding(project_id, lambda p: p.select_option(option, who, announce=True))
    return await act.then(project_id, chosen)


@router.post("/ui/projects/{project_id}/findings/accept")
async def accept(project_id: str, act: Act, reason: Said = "") -> Response:
    """Accept G7's open findings with a reason (required)."""

    async def accepted() -> None:
        why, who = _written(reason, "accepting findings needs a reason:"), act.who
        await act.deciding(project_id, lambda p: p.accept_findings(who, why))

    return await act.then(project_id, accepted())


@router.post("/ui/projects/{project_id}/export")
async def export(project_id: str, act: Act, remote_url: Said = "") -> Response:
    """Name G9's release target, as the API's export does."""

    async def named() -> None:
        await release.export(project_id, release.Export(remote_url=remote_url), act.who, act.decide)

    return await act.then(project_id, named())


@router.post("/ui/projects/{project_id}/escalations/{number}/resolve")
async def resolve(
    project_id: str, number: int, act: Act, action: Said = "", decision: Said = ""
) -> Response:
    """Resolve escalation `number`: retry, skip, or a decision in words."""

    async def resolved() -> None:
        body = escalations.Resolve(action=Resolution(action) if action else None, decision=decision)
        await escalations.resolve(project_id, number, body, act.who, act.decide)

    return await act.then(project_id, resolved())
