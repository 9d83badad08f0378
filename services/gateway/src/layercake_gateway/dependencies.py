"""What the HTTP API's routers share: the caller, the ledger, the bus, a project the caller owns.

The app keeps the ledger and the bus in `app.state` (see `api.create_api`); a
router reaches them through these dependencies, never through globals.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from layercake_contracts.bus import Bus
from layercake_gateway.adapters.ledger import Ledger, UnknownProject
from layercake_gateway.core.names import bus_id
from layercake_gateway.core.session import SESSION_COOKIE, CrossSiteRefused
from layercake_gateway.core.tokens import Unauthenticated
from layercake_gateway.guard import authenticate, caller_token

if TYPE_CHECKING:
    from layercake_gateway.core.project import Project

# Declared for the OpenAPI document; the token itself is read by `caller_token`.
_bearer = HTTPBearer(auto_error=False)
_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description="set by GET /signin; a write with it needs the gateway's own Origin",
)


def current_user(
    request: Request,
    # Both read again by `caller_token`, which alone decides which one counts.
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],  # noqa: ARG001
    cookie: Annotated[str | None, Depends(_cookie)],  # noqa: ARG001
) -> str:
    """The user a valid bearer token (or session cookie) names; 401 saying why for any other.

    A state-changing request signed in by cookie from another origin is a 403.
    """
    # A sync dependency: FastAPI runs it in a thread, where the deny list is read.
    try:
        token = caller_token(request.method, request.headers, request.url.scheme)
        return authenticate(token, request.app.state.jwt_secret, request.app.state.revoked)
    except CrossSiteRefused as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, exc.reason) from exc
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
