from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import uuid
from urllib.parse import urlparse

import httpx
import psycopg
import pytest

from layercake.natsd import free_port
from layercake_contracts.events import FilesWritten
from layercake_contracts.values import FileEntry, Gate, Manifest, Role
from layercake_gateway.api import create_token
from layercake_gateway.app import create_runtime
from layercake_gateway.core.gates import GATE_ORDER, roles_for
from layercake_gateway.core.names import bus_id
from layercake_gateway.settings import Settings

SECRET = "test-secret-for-the-api-tests-only-32b"  # noqa: S105  # a test key
PG_DSN = os.environ.get("LAYERCAKE_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path):
    """A fresh, empty ledger store of each kind (PostgreSQL: a schema of its own)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_DSN, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    yield f"{PG_DSN}?schema={schema}"
    with psycopg.connect(PG_DSN, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def tamper(store_url):
    """Run SQL straight on the store, as someone editing the database would."""

    parsed = urlparse(store_url)

    def run(sql: str, params: tuple = ()) -> list:
        # Aggregate ids: SQLite keeps them as hex, PostgreSQL as uuid.
        params = tuple(
            (p.hex if parsed.scheme == "sqlite" else p) if isinstance(p, uuid.UUID) else p
            for p in params
        )
        if parsed.scheme == "sqlite":
            with sqlite3.connect(parsed.path) as connection:
                return connection.execute(sql.replace("%s", "?"), params).fetchall()
        sql = sql.replace("stored_events", "ledger_events")  # PostgreSQL names tables by app
        schema = parsed.query.split("schema=", 1)[1]
        with psycopg.connect(PG_DSN, autocommit=True) as connection:
            connection.execute(f'SET search_path TO "{schema}"')
            cursor = connection.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    return run


@pytest.fixture
async def start_gateway(nats_server, tmp_path):
    """Start gateways (worker and HTTP API) with settings of the test's choosing."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(**overrides):
            port = free_port()
            defaults = {"ledger_url": f"sqlite:///{tmp_path / f'{port}.db'}"}
            settings = Settings(
                nats_url=nats_server.url, relay_interval_s=0.2, http_port=port,
                jwt_secret=SECRET, **{**defaults, **overrides},
            )  # fmt: skip
            runtime = create_runtime(settings)
            await runtime.start()
            stack.push_async_callback(runtime.stop)
            client = await stack.enter_async_context(
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10)
            )
            for _ in range(100):
                try:
                    await client.get("/healthz")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            return runtime, client

        yield start


@pytest.fixture
async def gateway(start_gateway):
    return await start_gateway()


def _auth(user: str, secret: str = SECRET) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token(secret, user)}"}


@pytest.fixture
def auth():
    """Headers with a token for a user: `auth("ada")`, signed with another key if given."""
    return _auth


@pytest.fixture
def secret():
    """The key the test gateways sign tokens with."""
    return SECRET


@pytest.fixture
def design_option():
    """Publish a G4 design option of ada's `calc` as the designer wrote it: `await publish(runtime,
    page)` (the ledger records it when it reads the event)."""

    async def publish(runtime, page: bytes, option: str = "option-a") -> None:
        path = f"design/{option}.html"
        digest = await (await runtime.bus.blobs()).put(page)
        await runtime.bus.publish(
            FilesWritten(project_id=bus_id("ada", "calc"), role=Role.DESIGNER, gate=Gate.G4,
                         attempt=1, manifest=Manifest({path: FileEntry(sha256=digest,
                         size=len(page))}), changed=(path,))
        )  # fmt: skip

    return publish


# The proof each gate's agents would record, for walking a project up to a gate.
PROOFS = {Gate.G1: ["intake_review"], Gate.G2: ["prd"], Gate.G3: ["openapi", "data_schema"],
          Gate.G4: ["design_option"] * 3, Gate.G5: ["build"], Gate.G6: ["coverage"],
          Gate.G7: ["security_review", "audit"], Gate.G8: ["deployment"]}  # fmt: skip


def _approved_up_to(gate: Gate):
    """A ledger decision: every gate before `gate` proven and approved, as the agents would."""

    def walk(p) -> None:
        for current in GATE_ORDER[: GATE_ORDER.index(gate)]:
            for n, kind in enumerate(PROOFS.get(current, [])):
                p.record_artifact(current, kind, f"option-{n}", None, {})
            if current is Gate.G4:
                p.select_option("option-1", by="ada")
            for role in roles_for(current, has_ui=False):
                p.record_work_done(current, role, 1, "t")
            p.approve(current, by="ada")

    return walk


@pytest.fixture
def approved_up_to():
    """`approved_up_to(G7)`: a decision for `ledger.decide` that walks a project to G7."""
    return _approved_up_to
