"""What the HTTP API's routers share: the caller, the ledger, the bus, a project the caller owns.

The app keeps the ledger and the bus in `app.state` (see `api.create_api`); a
router reaches them through these dependencies, never through globals.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from layercake_contracts.bus import Bus
from layercake_gateway.adapters.ledger import Ledger, UnknownProject
from layercake_gateway.core.names import bus_id
from layercake_gateway.core.tokens import Unauthenticated
from layercake_gateway.guard import authenticate

if TYPE_CHECKING:
    from layercake_gateway.core.project import Project

_bearer = HTTPBearer(auto_error=False)


def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The user a valid bearer token names; 401 saying why for any other (see `authenticate`)."""
    # A sync dependency: FastAPI runs it in a thread, where the deny list is read.
    token = credentials.credentials if credentials is not None else None
    try:
        return authenticate(token, request.app.state.jwt_secret, request.app.state.revoked)
    except Unauthenticated as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, exc.reason) from exc


User = Annotated[str, Depends(current_user)]


def the_ledger(request: Request) -> Ledger:
    """The ledger the app was made over."""
    ledger: Ledger = request.app.state.ledger
    return ledger


def the_bus(request: Request) -> Bus:
    """The bus; 503 when the app has none."""
    bus: Bus | None = request.app.state.bus
    if bus is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the bus is not connected")
    return bus


async def owned_project(ledger: Ledger, project_id: str, who: str) -> Project:
    """The caller's project `project_id`; 404 for any other (another user's is never reached)."""
    try:
        project = await asyncio.to_thread(ledger.get, bus_id(who, project_id))
    except UnknownProject as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no project {project_id!r}") from exc
    if project.owner != who:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no project {project_id!r}")
    return project


LedgerDep = Annotated[Ledger, Depends(the_ledger)]
BusDep = Annotated[Bus, Depends(the_bus)]
