"""The five services, each from its own wheel, walk the demo from G0 to G9 (issue #18).

Each service runs its own console script (`layercake-parser run`, …) from its own venv
(`conftest.py`: its wheel and the contracts' alone), in a folder of its own that holds its
seed, its store and its log: no folder is shared. They meet only on a nats-server that, as
`layercake up`'s does, refuses a client without credentials; each one's `health` command
(what its image's health check runs) reads the heartbeat it keeps in its folder. The test is a client of the
gateway's HTTP API, with a token the gateway's own script signs; the demo's walk (every
approval, design A, G7's findings accepted) drives the project `tally` to its release.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from rich.console import Console
from tests.packaging.conftest import SERVICES, clean_env, ok, run

from layercake.demo import Demo
from layercake.natsd import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

    from layercake.natsauth import Credentials
    from layercake.natsd import NatsServer

pytestmark = [
    pytest.mark.nats,
    pytest.mark.skipif(os.geteuid() != 0, reason="the builder's slot users need root"),
    pytest.mark.timeout(600),
]
SECRET = "a-jwt-secret-of-the-gateway-alone-0123456789"  # noqa: S105  # a test's own key
TESTER = "tester"


def stores(service: str, folder: Path, port: int) -> dict[str, str]:
    """The settings that put `service`'s stores in its own folder (and the API on `port`)."""
    return {
        "parser": {},
        "builder": {"LAYERCAKE_BUILDER_ROOT": str(folder / "builder")},
        "agent": {"LAYERCAKE_AGENT_ROOT": str(folder / "agent")},
        "git": {
            "LAYERCAKE_WORKSPACES_ROOT": str(folder / "workspaces"),
            "LAYERCAKE_GIT_RELEASE_ROOT": str(folder / "releases"),
        },
        "gateway": {
            "LAYERCAKE_LEDGER_URL": f"sqlite:///{folder / 'ledger.db'}",
            "LAYERCAKE_JWT_SECRET": SECRET,
            "LAYERCAKE_HTTP_PORT": str(port),
        },
    }[service]


class Deployment:
    """The five services, each started from its own venv in its own folder."""

    def __init__(self, root: Path, venvs: dict[str, Path], nats_url: str) -> None:
        self.venvs = venvs
        self.folders = {service: root / service for service in SERVICES}
        self.port = free_port()
        self.api_url = f"http://127.0.0.1:{self.port}"
        self.nats_url = nats_url
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def env(self, service: str) -> dict[str, str]:
        """What `service` is given: the bus, its own seed and stores, HOME its folder."""
        folder = self.folders[service]
        return {
            "HOME": str(folder),
            "LAYERCAKE_NATS_URL": self.nats_url,
            "LAYERCAKE_NATS_NKEY_SEED_FILE": str(folder / f"{service}.nk"),
            "LAYERCAKE_HEARTBEAT_FILE": str(folder / "heartbeat"),
            **stores(service, folder, self.port),
        }

    def script(self, service: str) -> str:
        return str(self.venvs[service] / f"layercake-{service}")

    def start(self, credentials: Credentials) -> None:
        for service, folder in self.folders.items():
            folder.mkdir()
            shutil.copy2(credentials.seed_file(service), folder / f"{service}.nk")
            with (folder / "service.log").open("wb") as log:
                self.processes[service] = subprocess.Popen(  # noqa: S603
                    [self.script(service), "run"], cwd=folder, env=clean_env(**self.env(service)),
                    stdout=log, stderr=subprocess.STDOUT,
                )  # fmt: skip
        waiting = {*SERVICES, "the API"}
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            for service, process in self.processes.items():
                assert process.poll() is None, f"{service} exited\n{self.logs()}"
            # Its first heartbeat: the worker is on the bus (its `health` is run after the walk).
            waiting -= {s for s in SERVICES if (self.folders[s] / "heartbeat").exists()}
            waiting -= {"the API"} if self._api_answers() else set()
            if not waiting:
                return
            time.sleep(0.3)
        raise AssertionError(f"{sorted(waiting)} did not come up\n{self.logs()}")

    def _api_answers(self) -> bool:
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(f"{self.api_url}/healthz", timeout=2).status_code == 200
        return False

    def healthy(self, service: str) -> bool:
        """Whether `layercake-SERVICE health`, a container's health check, says so."""
        checked = run([self.script(service), "health"], self.folders[service], **self.env(service))
        return checked.returncode == 0 and checked.stdout.startswith("healthy")

    def stop(self) -> dict[str, int]:
        """Each service's exit code, after SIGTERM (it drains) or, failing that, SIGKILL."""
        for process in self.processes.values():
            process.send_signal(signal.SIGTERM)
        codes = {}
        for service, process in self.processes.items():
            try:
                codes[service] = process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                codes[service] = process.wait()
        return codes

    def logs(self) -> str:
        parts = []
        for service, folder in self.folders.items():
            log = folder / "service.log"
            text = log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
            parts.append(f"--- {service}\n{text}")
        return "\n".join(parts)

    def token(self) -> str:
        """A token signed by `layercake-gateway token create`, in the gateway's folder."""
        gateway = self.folders["gateway"]
        return ok([self.script("gateway"), "token", "create", TESTER], gateway,
                  **self.env("gateway")).strip()  # fmt: skip


@pytest.fixture
def deployment(
    venvs: dict[str, Path], guarded_nats_server: NatsServer, nats_credentials: Credentials
) -> Iterator[Deployment]:
    """The five services up, each alone, on a nats-server that refuses the unknown."""
    # The builder's slot users must reach its root: a folder others may enter (tmp_path is 0700).
    root = Path(tempfile.mkdtemp(prefix="lc-standalone-"))
    root.chmod(0o755)
    deployed = Deployment(root, venvs, guarded_nats_server.url)
    try:
        deployed.start(nats_credentials)
        yield deployed
    finally:
        codes = deployed.stop()
        logs = deployed.logs()
        shutil.rmtree(root, ignore_errors=True)
    assert codes == dict.fromkeys(SERVICES, 0), logs


async def test_the_five_wheels_walk_the_demo_from_g0_to_g9_each_alone(
    deployment: Deployment,
) -> None:
    """Five venvs, five folders, one bus: `tally` is released, and git holds its commits."""
    headers = {"Authorization": f"Bearer {deployment.token()}"}
    git = deployment.folders["git"]
    async with httpx.AsyncClient(
        base_url=deployment.api_url, headers=headers, timeout=30
    ) as client:
        demo = Demo(client, "tally-alone", git, yes=True, console=Console(file=io.StringIO()))
        try:
            await demo.run(400)
        except Exception as exc:
            raise AssertionError(f"{exc}\n{deployment.logs()}") from exc
        project = (await client.get("/projects/tally-alone")).json()
        listed = (await client.get("/projects/tally-alone/commits")).json()["commits"]

    assert demo.progress.released
    assert set(project["gates"].values()) == {"approved"}, project["gates"]
    assert len(project["gates"]) == 10  # G0 … G9
    log = ok([deployment.script("git"), "log", demo.bus_id, "--json"], git,
             **deployment.env("git"))  # fmt: skip
    shas = [entry["sha"] for entry in json.loads(log)]
    assert len(shas) == demo.progress.commits > 0
    assert {commit["sha"] for commit in listed} == set(shas)
    released = ok(["git", "--git-dir", str(demo.remote), "rev-list", "--all"], git).split()
    assert set(shas) <= set(released)
    assert [s for s in SERVICES if not deployment.healthy(s)] == []
    kept = {"gateway": "ledger.db", "git": "workspaces", "builder": "builder", "agent": "agent"}
    assert {s: (deployment.folders[s] / f).exists() for s, f in kept.items()} == dict.fromkeys(
        kept, True
    )
