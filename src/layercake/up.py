"""`layercake up`: a nats-server and the five services as processes, kept running.

Everything lives under one home folder (`.layercake/` by default): the
nats-server's JetStream data, the bus's credentials (`creds/`: an nkey seed per
service, 0600, and the server's config, which refuses any other client and
holds each service to what it produces and consumes; see `natsauth`), each
service's store (and the git service's release folder, the only local place it
pushes to), a log per process under `logs/`, the key the API signs tokens with,
and `up.json`, which says what runs (read by `layercake status` and the demo).
Before it starts anything it refuses a port another process holds, naming it
(see `ports`). A process that exits is started again after a backoff that grows
while it keeps failing; a nats-server that fails a few times in a row stops `up`
with the end of its log. SIGINT or SIGTERM stops the services first (they drain),
then the nats-server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import nats
import nats.errors
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from layercake.natsauth import ADMIN, Credentials, integrator_grant
from layercake.natsd import NatsServer
from layercake.ports import (
    PortTaken,
    Process,
    children,
    environment_of,
    folder_of,
    is_taken,
    layercake_up_of,
    listener,
)
from layercake.stores import (
    SERVICES,
    STATE_FILE,
    home_stores,
    jwt_secret,
    read_state,
)
from layercake_contracts.bus import ensure_stream
from layercake_contracts.runtime import inbox_prefix

if TYPE_CHECKING:
    from collections.abc import Callable

CREDS = "creds"  # the nkey seeds (0600) and grants of the bus's users, and the server's config
SERVER_CONFIG = "nats-server.conf"
_BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)
_HEALTHY_AFTER_S = 30.0  # a process that ran this long starts its backoff afresh
_DRAIN_S = 20.0
# A nats-server that fails this many times in a row, each within _HEALTHY_AFTER_S, stops `up`.
_NATS_QUICK_FAILURES = 4
_NATS_LOG_TAIL = 8


class UpSettings(BaseSettings):
    """Where `up` keeps its state, and the addresses it gives the services."""

    model_config = SettingsConfigDict(env_prefix="LAYERCAKE_", env_file=".env", extra="ignore")

    home: Path = Path(".layercake")
    nats_url: str = "nats://127.0.0.1:4223"
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=1, le=65535)

    @property
    def api_url(self) -> str:
        """Where the gateway's HTTP API answers."""
        return f"http://{self.http_host}:{self.http_port}"


def bus_credentials(home: Path) -> Credentials:
    """The bus's users: the admin, each service and each integrator (`layercake creds`)."""
    return Credentials(home / CREDS)


def issue_services(settings: UpSettings) -> Path:
    """The admin's and each service's seed, and the server's config; their folder."""
    credentials = bus_credentials(settings.home.resolve())
    credentials.issue_services()
    credentials.write_config(credentials.folder / SERVER_CONFIG)
    return credentials.folder


def issue_reader(settings: UpSettings, name: str, project: str | None) -> Path:
    """Read-only credentials for an outside system; its seed. A running `up` learns of them."""
    home = settings.home.resolve()
    credentials = bus_credentials(home)
    seed = credentials.issue(name, integrator_grant(name, project))
    credentials.write_config(credentials.folder / SERVER_CONFIG)
    state = read_state(home)
    if state is not None and isinstance(nats_pid := state.get("nats_pid"), int):
        os.kill(nats_pid, signal.SIGHUP)  # the server reads its users again
    return seed


def service_env(settings: UpSettings, home: Path) -> dict[str, str]:
    """The environment of every service: the shared names, the stores under `home`.

    A setting already in the environment wins: `up` only fills in what is unset.
    """
    defaults = {
        "LAYERCAKE_NATS_URL": settings.nats_url,
        "LAYERCAKE_HTTP_HOST": settings.http_host,
        "LAYERCAKE_HTTP_PORT": str(settings.http_port),
        "LAYERCAKE_JWT_SECRET": jwt_secret(home),
        **home_stores(home),
    }
    return {**defaults, **os.environ}


class AlreadyUp(Exception):
    """Another `layercake up` runs from the same home folder."""

    def __init__(self, home: Path, state: Mapping[str, object]) -> None:
        super().__init__(
            f"layercake up already runs from {home} (pid {state['pid']}, API {state['api_url']})"
        )


class NatsFailed(Exception):
    """The nats-server would not start, or kept exiting: `up` stops, with the server's words."""

    def __init__(self, reason: str, log_tail: str) -> None:
        self.reason, self.log_tail = reason, log_tail
        super().__init__(f"nats-server {reason}; the end of its log:\n{log_tail}")


@dataclass
class Child:
    """One supervised process: how to start it, and how it has been doing."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    failures: int = 0
    due_at: float = 0.0
    restarts: int = 0

    def start(self) -> None:
        """Start the process, its output appended to its log."""
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603  # our own command, fixed arguments
                self.argv, env=dict(self.env), stdout=out, stderr=subprocess.STDOUT
            )
        self.started_at = time.monotonic()

    @property
    def pid(self) -> int | None:
        """The process id while it runs."""
        return self.process.pid if self.process is not None else None

    def exited(self) -> int | None:
        """The exit code, once the process has ended."""
        return None if self.process is None else self.process.poll()


class Supervisor:
    """Starts the nats-server and the services, restarts what exits, stops it all in order."""

    def __init__(self, settings: UpSettings, say: Callable[[str], None]) -> None:
        self.settings = settings
        self.home = settings.home.resolve()
        self._say = say
        (self.home / "logs").mkdir(parents=True, exist_ok=True)
        port = urlsplit(settings.nats_url).port or 4222
        self.credentials = bus_credentials(self.home)
        config = issue_services(settings) / SERVER_CONFIG
        self.nats = NatsServer(store_dir=self.home / "nats", port=port, config_file=config)
        env = service_env(settings, self.home)
        self.children = [
            Child(
                name,
                (sys.executable, "-m", "layercake", name, "run"),
                # Each service signs in as itself, whatever the environment says.
                {**env, "LAYERCAKE_NATS_NKEY_SEED_FILE": str(self.credentials.seed_file(name))},
                self.home / "logs" / f"{name}.log",
            )
            for name in SERVICES
        ]
        self._stopping = False
        self._nats_started_at = 0.0
        self._nats_failures = 0
        self._nats_due_at = 0.0

    def run(self, on_started: Callable[[], object] | None = None) -> None:
        """Run until SIGINT or SIGTERM; `AlreadyUp` if another `up` runs from this home.

        `on_started` is called once everything has started (nothing is refused after it).
        """
        if (state := read_state(self.home)) is not None:
            raise AlreadyUp(self.home, state)
        self._check_ports()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._stop_soon)
        self.nats.store_dir.mkdir(parents=True, exist_ok=True)
        self._start_nats()
        self._say(f"nats-server on {self.settings.nats_url} (data in {self.nats.store_dir})")
        for child in self.children:
            child.start()
            self._say(f"{child.name} started (pid {child.pid}), log {child.log}")
        self._write_state()
        self._say(f"API on {self.settings.api_url}; Ctrl-C stops everything")
        if on_started is not None:
            on_started()
        try:
            while not self._stopping:
                self._watch()
                time.sleep(0.2)
        finally:
            self._stop_all()

    def _check_ports(self) -> None:
        """Refuse, before anything starts, a port that another process (another `up`) holds."""
        wanted = (
            ("127.0.0.1", self.nats.port, "the nats-server's", "LAYERCAKE_NATS_URL"),
            (self.settings.http_host, self.settings.http_port, "the API's", "LAYERCAKE_HTTP_PORT"),
        )
        for host, port, purpose, variable in wanted:
            if is_taken(host, port):
                raise PortTaken(port, purpose, holder_of(port), variable)

    def _start_nats(self) -> None:
        """Start the server and bring the event stream to our config, as the admin.

        The services may only create the stream as it is: a changed config (a new
        version's) is applied here, since no service is granted STREAM.UPDATE.
        `NatsFailed` if it does not start, or does not take the stream.
        """
        try:
            self.nats.start()
            asyncio.run(_declare_stream(self.settings.nats_url, self.credentials.seed_file(ADMIN)))
        except (RuntimeError, OSError, nats.errors.Error) as exc:
            self.nats.stop()
            raise NatsFailed(
                str(exc) or type(exc).__name__, self.nats.log_tail(_NATS_LOG_TAIL)
            ) from exc
        self._nats_started_at = time.monotonic()

    def _stop_soon(self, _signum: int, _frame: object) -> None:
        self._stopping = True

    def _watch(self) -> None:
        now = time.monotonic()
        self._watch_nats(now)
        for child in self.children:
            code = child.exited()
            if code is None:
                continue
            if now - child.started_at >= _HEALTHY_AFTER_S:
                child.failures = 0
            delay = _BACKOFF_S[min(child.failures, len(_BACKOFF_S) - 1)]
            self._say(f"{child.name} exited with {code}; starting it again in {delay:g} s")
            child.failures += 1
            child.process = None
            child.due_at = now + delay
        for child in self.children:
            if child.process is None and now >= child.due_at:
                child.start()
                child.restarts += 1
                self._say(f"{child.name} started again (pid {child.pid})")
                self._write_state()

    def _watch_nats(self, now: float) -> None:
        """Start an exited server again after a backoff; `NatsFailed` once it keeps failing."""
        process = self.nats.process
        if process is not None and (code := process.poll()) is not None:
            self.nats.process = None
            self._nats_failed(
                now, NatsFailed(f"exited with {code}", self.nats.log_tail(_NATS_LOG_TAIL))
            )
        if self.nats.process is None and now >= self._nats_due_at:
            try:
                self._start_nats()
            except NatsFailed as exc:
                self._nats_failed(now, exc)
            else:
                pid = self.nats.process.pid if self.nats.process else None
                self._say(f"nats-server started again (pid {pid})")
                self._write_state()

    def _nats_failed(self, now: float, failure: NatsFailed) -> None:
        if now - self._nats_started_at >= _HEALTHY_AFTER_S:
            self._nats_failures = 0
        self._nats_failures += 1
        if self._nats_failures >= _NATS_QUICK_FAILURES:
            raise NatsFailed(
                f"failed {self._nats_failures} times in a row ({failure.reason})", failure.log_tail
            )
        delay = _BACKOFF_S[min(self._nats_failures - 1, len(_BACKOFF_S) - 1)]
        self._say(f"nats-server {failure.reason}; starting it again in {delay:g} s")
        self._nats_due_at = now + delay

    def _stop_all(self) -> None:
        self._say("stopping: the services drain, then the nats-server")
        running = [(c.name, c.process) for c in self.children if c.process is not None]
        for _, process in running:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + _DRAIN_S
        for name, process in running:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._say(f"{name} did not stop within {_DRAIN_S:g} s; killing it")
                process.kill()
                process.wait()
        self.nats.stop()
        (self.home / STATE_FILE).unlink(missing_ok=True)
        self._say("stopped")

    def _write_state(self) -> None:
        state = {
            "pid": os.getpid(),
            "nats_url": self.settings.nats_url,
            "nats_pid": self.nats.process.pid if self.nats.process else None,
            "api_url": self.settings.api_url,
            "services": {c.name: {"pid": c.pid, "restarts": c.restarts} for c in self.children},
        }
        path = self.home / STATE_FILE
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(state, indent=2))
        temporary.replace(path)


async def _declare_stream(url: str, seed: Path) -> None:
    connection = await nats.connect(url, nkeys_seed=str(seed), inbox_prefix=inbox_prefix(ADMIN))
    try:
        await ensure_stream(connection.jetstream())
    finally:
        await connection.close()


def holder_of(port: int) -> str:
    """Who listens on `port`, for a message: its pid and command, and the `up` it belongs to."""
    found = listener(port)
    if found is None:
        return "a process this user cannot see"
    holder = f"pid {found.pid} ({found.command})"
    owner = layercake_up_of(found)
    if owner is None:
        return holder
    holder = f"{holder}, part of the layercake up (pid {owner.pid})"
    if (running := _state_of(owner)) is None:
        return holder
    home, state = running
    return f"{holder} that runs from {home}, API {state['api_url']}"


def _state_of(up: Process) -> tuple[Path, dict[str, object]] | None:
    """The home folder of a running `layercake up`, the one whose `up.json` names it; that."""
    candidates = []
    for child in children(up.pid):  # its nats-server stores under the home's `nats/jetstream`
        arguments = dict(zip(child.argv, child.argv[1:], strict=False))
        if "-sd" in arguments:
            candidates.append(Path(arguments["-sd"]).parent.parent)
    variables = {name.upper(): value for name, value in environment_of(up.pid).items()}
    if (folder := folder_of(up.pid)) is not None:
        candidates.append(folder / variables.get("LAYERCAKE_HOME", ".layercake"))
    for home in candidates:
        state = read_state(home)
        if state is not None and state.get("pid") == up.pid:
            return home, state
    return None
