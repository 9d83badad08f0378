"""The builder service on a real nats-server: FilesWritten in, one build, BuildFailed out."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from layercake_builder.adapters.disks import IMAGE, VOLUME, ProjectDisks
from layercake_builder.app import create_runtime
from layercake_builder.settings import Settings
from layercake_contracts.bus import STREAM_NAME
from layercake_contracts.events import (
    BuildFailed,
    BuildStarted,
    BuildSucceeded,
    FilesWritten,
    ProjectCreated,
)
from layercake_contracts.runtime import ServiceRuntime
from layercake_contracts.values import FileEntry, Gate, Manifest, Role, Step
from layercake_testing.waiting import eventually

pytestmark = pytest.mark.nats

PROJECT = {
    "requirements.txt": b"",
    "calc.py": b"def add(a, b):\n    return a - b\n",
    # Each run of the test leaves a mark outside the manifest, so runs can be counted.
    "test_calc.py": (
        b"from calc import add\n\n\ndef test_add():\n"
        b"    with open('runs.txt', 'a') as marks:\n        marks.write('run\\n')\n"
        b"    assert add(2, 3) == 5\n"
    ),
}


@pytest.fixture
def builder_root():
    base = Path(tempfile.mkdtemp(prefix="lc-builder-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
async def builder(nats_server, builder_root):
    settings = Settings(nats_url=nats_server.url, builder_root=builder_root, max_builds=1)
    runtime = create_runtime(settings)
    observer = ServiceRuntime("observer", nats_server.url)
    seen: list[object] = []
    for event_type in (BuildStarted, BuildSucceeded, BuildFailed):
        observer.subscribe(observer.broker, event_type)(_collector(seen))
    await runtime.start()
    await observer.start()
    yield observer, seen
    await observer.stop()
    await runtime.stop()


def _collector(seen: list[object]):
    async def collect(event: BuildStarted | BuildSucceeded | BuildFailed) -> None:
        seen.append(event)

    return collect


async def files_written(observer: ServiceRuntime) -> FilesWritten:
    blobs = await observer.bus.blobs()
    manifest = Manifest(
        {
            path: FileEntry(sha256=await blobs.put(data), size=len(data))
            for path, data in PROJECT.items()
        }
    )
    root = ProjectCreated(project_id="calc", name="calc", intake="a calculator", owner="ada")
    return FilesWritten.follow(
        root, role=Role.BACKEND_DEVELOPER, gate=Gate.G5, attempt=1, manifest=manifest,
        changed=tuple(PROJECT),
    )  # fmt: skip


async def test_files_written_builds_once_and_reports_the_failing_test(builder, builder_root):
    """A tree with a failing test: BuildStarted, then BuildFailed at the test step; a second delivery builds nothing."""
    observer, seen = builder
    request = await files_written(observer)
    payload = request.model_dump_json().encode()
    await observer.broker.publish(payload, "lc.evt.calc.FilesWritten", stream=STREAM_NAME)
    await eventually(lambda: any(isinstance(e, BuildFailed) for e in seen), within=180)

    started = next(e for e in seen if isinstance(e, BuildStarted))
    failed = next(e for e in seen if isinstance(e, BuildFailed))
    assert started.toolchains == ("python",)
    assert failed.causation_id == request.event_id
    assert failed.failed_step is Step.TEST
    test = next(r for r in failed.results if r.step is Step.TEST)
    assert test.exit_code == 1
    [failure] = [d for d in test.diagnostics if d.tool == "pytest"]
    assert (failure.file, failure.line) == ("test_calc.py", 7)
    assert "assert -1 == 5" in failure.message
    assert test.log_blob is not None
    log = await (await observer.bus.blobs()).get(test.log_blob)
    assert b"assert -1 == 5" in log
    assert await runs_of(builder_root) == "run\n"
    assert_nothing_mounted(builder_root / "calc")

    # The same request again (a redelivery after a crash would look the same).
    await observer.broker.publish(payload, "lc.evt.calc.FilesWritten", stream=STREAM_NAME)
    js = observer.broker.connection.jetstream()

    async def delivered() -> int:
        info = await js.consumer_info(STREAM_NAME, "builder-FilesWritten")
        return info.ack_floor.stream_seq

    last = (await js.stream_info(STREAM_NAME)).state.last_seq
    for _ in range(200):
        if await delivered() >= last:
            break
        await asyncio.sleep(0.05)
    assert await runs_of(builder_root) == "run\n", "the second delivery did not build again"
    info = await js.stream_info(STREAM_NAME, subjects_filter="lc.evt.calc.BuildFailed")
    assert info.state.subjects == {"lc.evt.calc.BuildFailed": 1}


async def runs_of(builder_root: Path) -> str:
    """The marks the project's test left in its tree (on the project's disk, mounted to look)."""
    disks = ProjectDisks.detect(Settings(builder_root=builder_root).disk_quota())
    async with disks.mounted(builder_root / "calc") as volume:
        return (volume / "tree" / "runs.txt").read_text()


def assert_nothing_mounted(folder: Path) -> None:
    """After a build its project disk is unmounted and the loop device released (as root)."""
    assert not (folder / VOLUME).is_mount()
    if os.geteuid() == 0:
        attached = subprocess.run(  # noqa: S603  # fixed arguments
            [shutil.which("losetup") or "losetup", "--associated", str(folder / IMAGE)],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert attached == ""
