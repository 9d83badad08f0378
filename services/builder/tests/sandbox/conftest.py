from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import pytest

from layercake_builder.adapters.disks import ProjectDisks
from layercake_builder.adapters.sandbox import SLOT_UID_BASE, Sandbox, choose_backend
from layercake_builder.app import create_runner
from layercake_builder.core.confinement import Limits
from layercake_builder.core.findings import sandbox_findings
from layercake_builder.service import BuildService
from layercake_builder.settings import Settings
from layercake_contracts.bus import Bus
from layercake_contracts.events import (
    BuildFailed,
    BuildSucceeded,
    FilesWritten,
    ProjectCreated,
    parse_event,
)
from layercake_contracts.values import FileEntry, Gate, Manifest, Role, Step

PATH = ("/usr/bin", "/bin")
LIMITS = Limits(memory_mb=256, processes=64, file_size_mb=16, cpu_seconds=30)


@dataclass
class Jail:
    sandbox: Sandbox
    project: Path
    cache: Path
    outside: Path
    support: Path
    slot: int = 0  # the slot the last run held: slots are claimed machine-wide

    async def run(self, *command: str, timeout_s: float = 30.0, network: bool = False):
        async with self.sandbox.slot(self.project, self.cache) as slot:
            self.slot = slot
            return await self.sandbox.run(
                command, slot=slot, project=self.project, cache=self.cache,
                network=network, timeout_s=timeout_s, path=PATH,
            )  # fmt: skip

    def script(self, name: str, text: str) -> str:
        (self.project / name).write_text(text)
        return name


def codes(done) -> set[str]:
    """The codes of the sandbox's findings about a finished command."""
    return {
        d.code
        for d in sandbox_findings(
            exit_code=done.exit_code, signal_number=done.signal, timed_out=done.timed_out,
            timeout_s=5, output=done.output, dropped_bytes=done.dropped_bytes,
            oom_killed=done.oom_killed, disk_full=done.disk_full,
        )
    }  # fmt: skip


@pytest.fixture(params=["bwrap", "unshare"])
def jail(request):
    """A sandbox of each back-end over a fresh project folder the sandbox user can reach."""
    base = Path(tempfile.mkdtemp(prefix="lc-jail-"))
    base.chmod(0o755)  # the slot user must traverse it; pytest's own tmp is private to root
    support, project, cache, outside = (
        base / n for n in ("support", "project", "cache", "outside")
    )
    for folder in (project, cache, outside):
        folder.mkdir()
    if request.param == "bwrap" and shutil.which("bwrap") is None and not os.environ.get("CI"):
        pytest.skip("bubblewrap is not installed here (CI installs it and runs this)")
    backend = choose_backend(request.param, support)
    sandbox = Sandbox(backend, LIMITS, support, slots=1, output_cap_bytes=1024 * 1024)
    yield Jail(sandbox, project, cache, outside, support)
    shutil.rmtree(base, ignore_errors=True)


@dataclass
class Builds:
    """A BuildService of one back-end on the real bus, over a fresh root; `outside` is host-only."""

    service: BuildService
    root: Path
    outside: Path
    bus: Bus

    async def build(
        self, project_id: str, files: dict[str, bytes], steps: tuple[Step, ...] = (Step.INSTALL,)
    ) -> BuildSucceeded | BuildFailed:
        """Build `files` as a new FilesWritten of `project_id`; the outcome the service recorded."""
        blobs = await self.bus.blobs()
        manifest = Manifest(
            {p: FileEntry(sha256=await blobs.put(d), size=len(d)) for p, d in files.items()}
        )
        root = ProjectCreated(project_id=project_id, name=project_id, intake="x", owner="ada")
        request = FilesWritten.follow(
            root, role=Role.BACKEND_DEVELOPER, gate=Gate.G5, attempt=1, manifest=manifest,
            changed=tuple(files),
        )  # fmt: skip
        await self.service.handle(request, self.bus, steps)
        done = self.root / project_id / "done" / f"{request.event_id}.json"
        outcome = parse_event(done.read_bytes())
        assert isinstance(outcome, BuildSucceeded | BuildFailed), outcome
        return outcome


def fresh_base() -> Path:
    base = Path(tempfile.mkdtemp(prefix="lc-builds-"))
    base.chmod(0o755)  # the slot user must traverse it; pytest's tmp is private to root
    (base / "outside").mkdir()
    return base


@pytest.fixture
def builder_settings() -> dict[str, object]:
    """Settings of the `builds` service beyond the defaults; a test parametrizes it to change one."""
    return {}


@pytest.fixture(params=["bwrap", "unshare"])
async def builds(request, bus, builder_settings):
    """Whole builds through a BuildService on each back-end, on a real nats-server."""
    if request.param == "bwrap" and shutil.which("bwrap") is None and not os.environ.get("CI"):
        pytest.skip("bubblewrap is not installed here (CI installs it and runs this)")
    base = fresh_base()
    settings = Settings(
        sandbox=request.param, builder_root=base / "builder", max_builds=1, **builder_settings
    )

    async def store_log(data: bytes) -> str:
        return await (await bus.blobs()).put(data)

    disks = ProjectDisks.detect(settings.disk_quota())
    runner = create_runner(settings, store_log, own_disks=disks.loop)
    service = BuildService(settings.builder_root, runner, {}, disks)
    yield Builds(service, settings.builder_root, base / "outside", bus)
    shutil.rmtree(base, ignore_errors=True)


def processes_of_uid(uid: int) -> list[str]:
    """What runs as `uid`, and zombies only if we are their parent (another's runs nothing)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid != uid:
                    continue
                stat = Path(f"/proc/{entry}/stat").read_text()
                state, parent = stat[stat.rindex(")") + 2 :].split()[:2]
                if state in "ZX" and int(parent) != os.getpid():
                    continue
                command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
                found.append(command.decode() or f"<zombie {entry}>")
            except OSError:
                continue
    return found


@pytest.fixture
def leftover(jail):
    """The command lines of processes still running as the sandbox's slot user."""
    # The uid of the slot the test's run held: another builder on this machine may hold slot 0.
    return lambda: processes_of_uid(SLOT_UID_BASE + jail.slot)


def preinstalling(script: str, dependencies: dict[str, str] | None = None) -> str:
    """A package.json whose install runs `script` in the sandbox (npm's `preinstall`)."""
    package = {"name": "hostile", "version": "1.0.0", "private": True,
               "scripts": {"preinstall": script}, "dependencies": dependencies or {}}  # fmt: skip
    return json.dumps(package)


class Background:
    """Calls `tick` every `interval` seconds in a thread while the `with` block runs."""

    interval = 0.5

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.tick()

    def tick(self) -> None:
        """One look; subclasses say at what."""
