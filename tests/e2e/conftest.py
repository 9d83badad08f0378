"""`layercake up` as a process, for the end-to-end tests: a system on free ports in a folder
of its own, signed in to its bus as the admin, driven through its HTTP API."""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import nats
import pytest
from rich.console import Console

from layercake.demo import Demo
from layercake.natsauth import ADMIN
from layercake.natsd import free_port
from layercake.stores import jwt_secret, read_state
from layercake.up import bus_credentials
from layercake_contracts.bus import STREAM_NAME
from layercake_contracts.events import parse_event
from layercake_gateway.api import create_token

LAYERCAKE = str(Path(sys.executable).parent / "layercake")
TESTER = "tester"


class System:
    """`layercake up` in a folder of its own, on free ports."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.nats_url = f"nats://127.0.0.1:{free_port()}"
        self.api_url = f"http://127.0.0.1:{free_port()}"
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": str(home),
            "LAYERCAKE_HOME": str(home / ".layercake"),
            "LAYERCAKE_NATS_URL": self.nats_url,
            "LAYERCAKE_HTTP_PORT": self.api_url.rsplit(":", 1)[1],
            # A killed worker's message comes back after AckWait: keep the tests short.
            "LAYERCAKE_ACK_WAIT_S": "6",
            "LAYERCAKE_RELAY_INTERVAL_S": "0.5",
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def state_home(self) -> Path:
        return self.home / ".layercake"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            [LAYERCAKE, "up"], env=self.env, cwd=self.home,
            stdout=(self.home / "up.out").open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.home / "up.out").read_text()
            try:
                if httpx.get(f"{self.api_url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise AssertionError("the API did not come up:\n" + (self.home / "up.out").read_text())

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=60)

    def pid_of(self, service: str) -> int:
        state = read_state(self.state_home)
        assert state is not None
        return state["services"][service]["pid"]

    def restarts_of(self, service: str) -> int:
        state = read_state(self.state_home)
        assert state is not None
        return state["services"][service]["restarts"]

    def logs(self) -> str:
        logs = sorted((self.state_home / "logs").glob("*.log"))
        parts = [f"--- {log.name}\n" + log.read_text(errors="replace")[-3000:] for log in logs]
        return "\n".join([(self.home / "up.out").read_text(errors="replace"), *parts])

    def demo(self, project_id: str, client: httpx.AsyncClient) -> Demo:
        return Demo(
            client, project_id, self.state_home, yes=True, console=Console(file=io.StringIO())
        )

    def client(self) -> httpx.AsyncClient:
        token = create_token(jwt_secret(self.state_home), TESTER)
        return httpx.AsyncClient(
            base_url=self.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    async def connect(self) -> nats.NATS:
        """A connection to `up`'s nats-server, signed in as its admin (it refuses anyone else)."""
        seed = bus_credentials(self.state_home).seed_file(ADMIN)
        return await nats.connect(self.nats_url, nkeys_seed=str(seed))

    async def stream(self) -> list:
        """Every event on the stream, in order, as (sequence, event)."""
        connection = await self.connect()
        try:
            js = connection.jetstream()
            last = (await js.stream_info(STREAM_NAME)).state.last_seq
            found = []
            for sequence in range(1, last + 1):
                message = await js.get_msg(STREAM_NAME, sequence)
                found.append((sequence, parse_event(message.data)))
            return found
        finally:
            await connection.close()


def cli(system: System, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`layercake ARGS` as the tester, against `system`'s API."""
    env = {
        **system.env,
        "LAYERCAKE_API_URL": system.api_url,
        "LAYERCAKE_TOKEN": create_token(jwt_secret(system.state_home), TESTER),
    }
    return subprocess.run(  # noqa: S603
        [LAYERCAKE, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip


@contextmanager
def launched(**settings: str):
    """A started system (`settings`: more of its environment), killed if it still runs, and
    removed afterwards; the test stops it."""
    home = Path(tempfile.mkdtemp(prefix="lc-whole-"))
    home.chmod(0o755)
    system = System(home)
    system.env.update(settings)
    try:
        system.start()
        yield system
    finally:
        if system.process is not None and system.process.poll() is None:
            system.process.kill()
            system.process.wait()
        shutil.rmtree(home, ignore_errors=True)


@contextmanager
def running(**settings: str):
    """A started system, stopped (cleanly: `up` exits 0) and removed afterwards."""
    with launched(**settings) as system:
        yield system
        assert system.stop() == 0, system.logs()


@pytest.fixture
def system():
    with running() as started:
        yield started


@pytest.fixture(scope="module")
def shared_system():
    """One system for a whole module, for tests that each leave it as they found it."""
    with running() as started:
        yield started
