"""What the HTTP API's routers share: the caller, the ledger, the bus, a project the caller owns.

The app keeps the ledger, the bus, the relay and the runs limiter in
`app.state` (see `api.create_api`); a router reaches them through these
dependencies, never through globals. A person's decision runs through
`Decider`: a refusal of the gate machine is a 409 saying what was expected,
and what it announces is relayed at once. A question to a service over the
bus (`question`) that nobody answers is a 503 naming it.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import structlog
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, BaseModel, BeforeValidator

from layercake_contracts.bus import Bus
from layercake_contracts.rpc import Unanswered, ask
from layercake_contracts.values import Gate
from layercake_gateway.adapters.ledger import ConcurrentChange, Ledger, UnknownProject
from layercake_gateway.core.names import bus_id
from layercake_gateway.core.project import GateRuleBroken, LedgerError, MissingArtifacts
from layercake_gateway.core.session import SESSION_COOKIE, CrossSiteRefused
from layercake_gateway.core.tokens import Unauthenticated
from layercake_gateway.guard import authenticate, caller_token

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from layercake_gateway.core.project import Project

# Declared for the OpenAPI document; the token itself is read by `caller_token`.
_bearer = HTTPBearer(auto_error=False)
_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description="set by GET /signin; a write with it needs the gateway's own Origin",
)

log = structlog.get_logger(__name__)
_A = TypeVar("_A", bound=BaseModel)
QUESTION_TIMEOUT_S = 10.0
_MINUTE = 60.0


def _upper(value: Any) -> Any:  # noqa: ANN401  # whatever was sent; the enum validates it
    return value.upper() if isinstance(value, str) else value


# A gate as a person may write it: "g0" is G0.
GateName = Annotated[Gate, BeforeValidator(_upper)]


def not_blank(text: str) -> str:
    """`text`, refused when it holds nothing but white space."""
    if not text.strip():
        msg = "must say something: it holds only white space"
        raise ValueError(msg)
    return text


# Text a person must have written: white space alone is refused (422 naming the field).
Written = Annotated[str, AfterValidator(not_blank)]


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


def any_bus(request: Request) -> Bus | None:
    """The bus the app was made with, if any."""
    bus: Bus | None = request.app.state.bus
    return bus


def the_bus(bus: Annotated[Bus | None, Depends(any_bus)]) -> Bus:
    """The bus; 503 when the app has none."""
    if bus is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the bus is not connected")
    return bus


async def question(bus: Bus, subject: str, asked: BaseModel, answer: type[_A]) -> _A:
    """The answer a service gives on `subject`; 503 naming the subject when none comes."""
    try:
        return await ask(bus.connection, subject, asked, answer, QUESTION_TIMEOUT_S)
    except Unanswered as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc


class RateLimiter:
    """At most `per_minute` actions per user in any sliding minute."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, user: str) -> bool:
        """Count one action of `user` if it fits; False when it does not."""
        now = time.monotonic()
        seen = self._seen[user]
        while seen and now - seen[0] > _MINUTE:
            seen.popleft()
        if len(seen) >= self.per_minute:
            return False
        seen.append(now)
        return True


def the_limiter(request: Request) -> RateLimiter:
    """The app's limit on each user's agent runs and builds."""
    limiter: RateLimiter = request.app.state.limiter
    return limiter


async def owned_project(ledger: Ledger, project_id: str, who: str) -> Project:
    """The caller's project `project_id`; 404 for any other (another user's is never reached)."""
    try:
        project = await asyncio.to_thread(ledger.get, bus_id(who, project_id))
    except UnknownProject as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no project {project_id!r}") from exc
    if project.owner != who:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no project {project_id!r}")
    return project


class Decider:
    """Runs a person's decision on the latest state of a project they own, and relays it."""

    def __init__(self, ledger: Ledger, relay: Callable[[], Awaitable[object]] | None) -> None:
        self._ledger, self._relay = ledger, relay

    async def __call__(
        self, project_id: str, who: str, decision: Callable[[Project], object]
    ) -> Project:
        """The project after `decision`; 404 for a project not `who`'s, 409 for a refusal."""
        found = await owned_project(self._ledger, project_id, who)
        try:
            project = await asyncio.to_thread(self._ledger.decide, found.project_id, decision)
        except MissingArtifacts as exc:
            detail = {"error": str(exc), "missing": list(exc.missing)}
            raise HTTPException(status.HTTP_409_CONFLICT, detail) from exc
        except GateRuleBroken as exc:
            detail = {"error": str(exc), "state": exc.state.value, "expected": exc.expected}
            raise HTTPException(status.HTTP_409_CONFLICT, detail) from exc
        except ConcurrentChange as exc:
            detail = {"error": str(exc), "expected": "the state you read; read it again"}
            raise HTTPException(status.HTTP_409_CONFLICT, detail) from exc
        except LedgerError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, {"error": str(exc)}) from exc
        await self.announce()
        return project

    async def announce(self) -> None:
        """Publish what the ledger recorded now (else the relay's loop does, later)."""
        if self._relay is None:
            return
        try:
            await self._relay()
        except Exception:  # the bus may be away: the relay's loop catches up
            log.warning("relay_after_decision_failed", exc_info=True)


def the_decider(request: Request) -> Decider:
    """Decisions on the app's ledger, relayed by its relay."""
    return Decider(request.app.state.ledger, request.app.state.relay)


LedgerDep = Annotated[Ledger, Depends(the_ledger)]
DeciderDep = Annotated[Decider, Depends(the_decider)]
BusDep = Annotated[Bus, Depends(the_bus)]
AnyBusDep = Annotated[Bus | None, Depends(any_bus)]
LimiterDep = Annotated[RateLimiter, Depends(the_limiter)]
