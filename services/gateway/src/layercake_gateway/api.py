"""The gateway's HTTP API: the app, its state and middleware, over the routers in `routes/`.

Every write becomes a ledger decision (announced on the bus by the relay);
every read comes from the ledger. The routers, one per resource, reach the
ledger, the bus, the relay and the runs limiter kept here in `app.state`
through `dependencies.py`. Bad input is a 422 naming the field; a gate rule
or a concurrent change is a 409 saying what was expected. This module holds
no route.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, cast

from fastapi import FastAPI

from layercake_gateway import dashboard
from layercake_gateway.core.tokens import DEFAULT_TOKEN_TTL_S
from layercake_gateway.dependencies import RateLimiter
from layercake_gateway.guard import DEFAULT_MAX_BODY_BYTES, BodyGuard, create_token, issue_token
from layercake_gateway.responses import BODY_RESPONSES, SERVERS
from layercake_gateway.routes import (
    builds,
    documents,
    escalations,
    events,
    gates,
    health,
    intake,
    projects,
    prompts,
    release,
    session,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from nats.js import JetStreamContext

    from layercake_contracts.bus import Bus
    from layercake_gateway.adapters.ledger import Ledger

# The tokens are signed in `guard.py`; the CLI and the tests have always signed them here.
__all__ = ["create_api", "create_token", "issue_token", "openapi_document"]
ROUTERS = (prompts, intake, escalations, release, session, projects, gates, documents, builds,
           events, health)  # fmt: skip


def create_api(
    ledger: Ledger,
    secret: str,
    bus: Bus | None = None,
    runs_per_minute: int = 30,
    relay: Callable[[], Awaitable[object]] | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    session_ttl_s: int = DEFAULT_TOKEN_TTL_S,
) -> FastAPI:
    """The HTTP API over `ledger`, tokens checked with `secret`, events to and from `bus`.

    `relay` publishes what a decision announces at once (else the relay's loop does, later).
    A request body is read only from a caller with a valid token, and only up to
    `max_body_bytes` (413 past it). A sign-in link's session lasts `session_ttl_s`.
    """
    api = FastAPI(
        title="LayerCake gateway", version="0.1.0", responses=BODY_RESPONSES, servers=SERVERS
    )

    def revoked(jti: str) -> bool:
        # The ledger is reached only when a token is checked: `openapi_document` has none.
        return ledger.is_revoked(jti)

    api.state.jwt_secret, api.state.revoked = secret, revoked
    api.state.ledger, api.state.bus, api.state.relay = ledger, bus, relay
    api.state.session_ttl_s = session_ttl_s
    api.state.limiter = RateLimiter(runs_per_minute)
    # The live event streams, ended by `routes.events.end_streams` when the server stops.
    streams: set[JetStreamContext.PushSubscription] = set()
    api.state.streams = streams
    for router in (module.router for module in ROUTERS):
        api.include_router(router)
    dashboard.mount(api)
    # Added before `count_requests`, so it runs inside it: its refusals are counted too.
    api.add_middleware(BodyGuard, secret=secret, limit=max_body_bytes, revoked=revoked)
    health.keep_metrics(api)
    api.middleware("http")(health.count_requests)
    return api


def openapi_document() -> str:
    """The API's OpenAPI document, as checked in at `docs/openapi.json`."""
    # Routes reach the ledger only when called: the document needs none.
    api = create_api(cast("Ledger", None), "unused")
    return json.dumps(api.openapi(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(openapi_document())
