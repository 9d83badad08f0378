"""Health and metrics: whether the store and the bus answer, and the requests answered.

The metrics registry and the request counter live in `app.state` (one per
app: two gateways in one process count apart); `count_requests` is the
middleware that counts each request by method, route and status.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest

from layercake_gateway.dependencies import AnyBusDep, LedgerDep  # noqa: TC001  # FastAPI reads the annotations at runtime
from layercake_gateway.responses import BUS

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from fastapi import FastAPI

router = APIRouter()


def keep_metrics(api: FastAPI) -> None:
    """Give `api` a metrics registry and a counter of the requests it answers."""
    registry = CollectorRegistry()
    api.state.metrics = registry
    api.state.requests = Counter(
        "layercake_http_requests", "HTTP requests answered", ["method", "route", "status"],
        registry=registry,
    )  # fmt: skip


async def count_requests(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Answer `request`, and count it under its route's path ("unmatched" for none)."""
    response = await call_next(request)
    route = request.scope.get("route")
    path = getattr(route, "path", "unmatched")
    counter: Counter = request.app.state.requests
    counter.labels(request.method, path, str(response.status_code)).inc()
    return response


@router.get("/healthz", responses=BUS)
async def healthz(ledger: LedgerDep, bus: AnyBusDep) -> dict[str, str]:
    """The store and the bus answer (503 naming which does not)."""
    try:
        await asyncio.to_thread(ledger.recorder.max_notification_id)
    except Exception as exc:  # any failure of the store is the answer
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"store: {exc}") from exc
    if bus is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "bus: not connected")
    try:
        await bus.connection.jetstream().account_info()
    except Exception as exc:  # any failure of the bus is the answer
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"bus: {exc}") from exc
    return {"status": "ok", "store": "ok", "bus": "ok"}


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Prometheus metrics of this gateway."""
    return Response(generate_latest(request.app.state.metrics), media_type=CONTENT_TYPE_LATEST)
