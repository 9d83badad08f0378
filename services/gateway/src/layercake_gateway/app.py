"""Wiring of the gateway service: settings in, a runtime with the ledger and its relay out."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import structlog
import uvicorn

from layercake_contracts.runtime import ServiceRuntime
from layercake_gateway import handlers
from layercake_gateway.adapters.ledger import Ledger, NoLedger, sqlite_path
from layercake_gateway.adapters.relay import Relay
from layercake_gateway.api import create_api
from layercake_gateway.routes.events import end_streams

if TYPE_CHECKING:
    from fastapi import FastAPI

    from layercake_gateway.settings import Settings

SERVICE = "gateway"
log = structlog.get_logger(__name__)


def create_ledger(settings: Settings, *, existing: bool = False) -> Ledger:
    """The ledger on the store these settings name (an SQLite file's folder is made).

    With `existing` (a command that only reads), an SQLite file that is not there is
    `NoLedger` instead of a new, empty store.
    """
    if (path := sqlite_path(settings.ledger_url)) is not None:
        if existing and not path.is_file():
            raise NoLedger(path)
        path.parent.mkdir(parents=True, exist_ok=True)
    return Ledger(settings.ledger_url, settings.policy())


class GatewayRuntime(ServiceRuntime):
    """The gateway's runtime: the bus consumers, plus a relay that also catches up on its own."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            SERVICE, settings.nats_url, settings.delivery_policy(), settings.nats_nkey_seed_file
        )
        self.ledger = create_ledger(settings)
        self.relay = Relay(self.ledger, self.bus.publish)
        self._interval = settings.relay_interval_s
        self._catch_up: asyncio.Task[None] | None = None
        self._http: uvicorn.Server | None = None
        self._api: FastAPI | None = None
        self._http_task: asyncio.Task[None] | None = None
        self._settings = settings
        handlers.register(self, self.ledger, self.relay)

    async def start(self) -> None:
        """Start consuming, and relay what an earlier run recorded but did not publish."""
        await super().start()
        self._catch_up = asyncio.create_task(self._relay_forever())
        settings = self._settings
        if settings.http_port and settings.jwt_secret is None:
            log.warning("http_api_off", reason="LAYERCAKE_JWT_SECRET is not set")
        elif settings.http_port:
            api = create_api(
                self.ledger,
                settings.jwt_secret.get_secret_value(),  # type: ignore[union-attr]  # checked above
                self.bus,
                settings.runs_per_minute,
                self.relay.run_once,
                settings.http_max_body_bytes,
                settings.token_ttl_s,
            )
            config = uvicorn.Config(
                api, host=settings.http_host, port=settings.http_port, log_level="warning"
            )
            self._api = api
            self._http = uvicorn.Server(config)
            self._http_task = asyncio.create_task(self._http.serve())

    async def stop(self) -> None:
        """Stop serving and relaying, then drain the consumers.

        The live event streams are ended: the server waits for every open response.
        """
        if self._http is not None and self._http_task is not None and self._api is not None:
            self._http.should_exit = True
            # Until the server has stopped: a stream may open before it stops listening.
            while not self._http_task.done():
                await end_streams(self._api)
                await asyncio.wait({self._http_task}, timeout=0.1)
            await self._http_task
        if self._catch_up is not None:
            self._catch_up.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._catch_up
        await super().stop()

    async def _relay_forever(self) -> None:
        while True:
            try:
                await self.relay.run_once()
            except Exception:  # the bus may be away; the next round tries again
                log.exception("relay_failed")
            await asyncio.sleep(self._interval)


def create_runtime(settings: Settings) -> GatewayRuntime:
    """The gateway's broker, ledger and relay, built from `settings`."""
    return GatewayRuntime(settings)
