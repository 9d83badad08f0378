"""The release (G9): where the repository is pushed, and when.

An export asked while G9 is open is recorded as the release target, G9's
proof; nothing is pushed until a person approves G9, and then the ledger asks
the git service for the push (after the approval, so the release carries its
`g9-approved` tag). After G9's approval an export is pushed at once. Before G9
opens there is no release: 409.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from layercake_contracts.values import RemoteUrl
from layercake_gateway.dependencies import DeciderDep, User  # noqa: TC001  # FastAPI reads the annotations at runtime
from layercake_gateway.responses import CHANGING, DECIDED, OWNED

router = APIRouter(tags=["release"])


class Export(BaseModel):
    """Where to push the repository: a release's bare name (`v1`) or an allowed remote."""

    model_config = ConfigDict(extra="forbid")

    remote_url: RemoteUrl = Field(min_length=1, max_length=2_000)
    branch: str = Field(default="main", min_length=1, max_length=200)


class ExportAccepted(BaseModel):
    """The export recorded, and when the push happens."""

    remote_url: str
    branch: str
    push: Literal["now", "at G9's approval"]


@router.post(
    "/projects/{project_id}/export",
    status_code=status.HTTP_202_ACCEPTED,
    responses=CHANGING | OWNED | DECIDED,
)
async def export(project_id: str, body: Export, who: User, decide: DeciderDep) -> ExportAccepted:
    """Name the release target (G9 open) or push an approved release; PushCompleted follows."""
    pushed: list[bool] = []
    await decide(
        project_id, who, lambda p: pushed.append(p.ask_export(body.remote_url, body.branch, who))
    )
    return ExportAccepted(remote_url=body.remote_url, branch=body.branch,
                          push="now" if pushed[-1] else "at G9's approval")  # fmt: skip
