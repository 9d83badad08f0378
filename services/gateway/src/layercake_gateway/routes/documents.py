"""Documents: the proof artifacts recorded for each gate, and a G4 design option to look at.

A design option is HTML a model wrote: hostile. It is served in a sandbox
(`DESIGN_POLICY`): no scripts run and nothing is fetched.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import HTMLResponse

from layercake_contracts.values import Gate
from layercake_gateway.core.gates import ArtifactKind
from layercake_gateway.dependencies import BusDep, LedgerDep, User, owned_project
from layercake_gateway.responses import OWNED, SHOWN, SIGNED_IN

router = APIRouter()
DESIGN_POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"


@router.get(
    "/projects/{project_id}/design/{option}",
    response_class=HTMLResponse,
    responses=SHOWN,
)
async def design_option(
    project_id: str, option: str, who: User, ledger: LedgerDep, bus: BusDep
) -> HTMLResponse:
    """One G4 design option, as the designer wrote it, to look at (scripts cannot run)."""
    project = await owned_project(ledger, project_id, who)
    found = next(
        (a for a in project.artifacts[Gate.G4.value]
         if a["kind"] == ArtifactKind.DESIGN_OPTION and a["name"] == option and a["blob"]),
        None,
    )  # fmt: skip
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no design option {option!r}")
    page = await (await bus.blobs()).get(found["blob"])
    return HTMLResponse(page, headers={"Content-Security-Policy": DESIGN_POLICY})


@router.get("/projects/{project_id}/artifacts", responses=SIGNED_IN | OWNED)
async def artifacts(
    project_id: str, who: User, ledger: LedgerDep
) -> dict[str, list[dict[str, Any]]]:
    """The proof artifacts recorded for each gate."""
    return dict((await owned_project(ledger, project_id, who)).artifacts)
