"""The builder service on a real nats-server: FilesWritten in, one build, BuildFailed out."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

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
from layercake_contracts.walk import remove_entry
from layercake_testing.waiting import eventually

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

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


async def files_written(
    observer: ServiceRuntime, files: dict[str, bytes] = PROJECT, attempt: int = 1
) -> FilesWritten:
    blobs = await observer.bus.blobs()
    manifest = Manifest(
        {
            path: FileEntry(sha256=await blobs.put(data), size=len(data))
            for path, data in files.items()
        }
    )
    root = ProjectCreated(project_id="calc", name="calc", intake="a calculator", owner="ada")
    return FilesWritten.follow(
        root, role=Role.BACKEND_DEVELOPER, gate=Gate.G5, attempt=attempt, manifest=manifest,
        changed=tuple(files),
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


@contextlib.asynccontextmanager
async def project_tree(builder_root: Path) -> AsyncIterator[Path]:
    """The project's tree, on the project's own disk, mounted to look."""
    disks = ProjectDisks.detect(Settings(builder_root=builder_root).disk_quota())
    async with disks.mounted(builder_root / "calc") as volume:
        yield volume / "tree"


async def runs_of(builder_root: Path) -> str:
    """The marks the project's test left in its tree."""
    async with project_tree(builder_root) as tree:
        return (tree / "runs.txt").read_text()


def assert_nothing_mounted(folder: Path) -> None:
    """After a build its project disk is unmounted and the loop device released (as root)."""
    assert not (folder / VOLUME).is_mount()
    if os.geteuid() == 0:
        attached = subprocess.run(  # noqa: S603  # fixed arguments
            [shutil.which("losetup") or "losetup", "--associated", str(folder / IMAGE)],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert attached == ""


# The project's own test shapes the tree on the first build only (a marker says
# so); the second build, of the same files, must cope with what it left.
PLANTS_A_FIFO = {
    "requirements.txt": b"",
    "notes.txt": b"notes\n",
    "test_notes.py": (
        b"import os\n\n\ndef test_notes_are_there():\n"
        b"    if not os.path.exists('planted'):\n"
        b"        open('planted', 'w').close()\n"
        b"        os.remove('notes.txt')\n        os.mkfifo('notes.txt')\n"
        b"        return\n"
        b"    with open('notes.txt') as notes:\n        assert notes.read() == 'notes\\n'\n"
    ),
}


def nests_folders(top: str) -> dict[str, bytes]:
    """A project whose test nests 3,000 folders under `top` (on the first build only)."""
    test = (
        "import os\n\n\ndef test_nests_three_thousand_folders():\n"
        "    if os.path.exists('planted'):\n        return\n"
        "    open('planted', 'w').close()\n    here = os.open('.', os.O_RDONLY)\n"
        f"    os.makedirs({top!r}, exist_ok=True)\n    os.chdir({top!r})\n"
        "    for _ in range(3000):\n        os.mkdir('a')\n        os.chdir('a')\n"
        "    os.fchdir(here)\n"
    )
    return {"requirements.txt": b"", "test_nest.py": test.encode()}


async def builds(observer, seen, files: dict[str, bytes], count: int = 2):
    """Build `files` `count` times, each a new request of the same files; their outcomes."""
    outcomes = []
    for attempt in range(1, count + 1):
        request = await files_written(observer, files, attempt)
        await observer.broker.publish(
            request.model_dump_json().encode(), "lc.evt.calc.FilesWritten", stream=STREAM_NAME
        )

        def answered(request=request):
            return [e for e in seen if isinstance(e, BuildSucceeded | BuildFailed)
                    and e.causation_id == request.event_id]  # fmt: skip

        # Only a safety net: a build that hangs fails here instead of stalling the run.
        await eventually(lambda answered=answered: bool(answered()), within=240)
        outcomes.append(answered()[0])
    return outcomes


def remove_tree(folder: Path) -> None:
    """Empty `folder` without recursion: the fixture's rmtree would stop at the nested folders."""
    if not folder.exists():
        return
    top = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for name in os.listdir(top):
            remove_entry(name, top)
    finally:
        os.close(top)


@pytest.mark.timeout(600)  # two whole builds; the waits inside are the safety net
async def test_a_fifo_a_step_left_where_a_file_goes_is_replaced_by_the_next_build(
    builder, builder_root
):
    """`mkfifo notes.txt` in a test: the next build neither hangs nor keeps it; its test reads the file."""
    observer, seen = builder
    notes = builder_root / "calc" / VOLUME / "tree" / "notes.txt"  # while a build runs
    try:
        first, second = await builds(observer, seen, PLANTS_A_FIFO)
    except AssertionError:
        # A builder blocked opening the FIFO would hang the run's teardown: release it.
        with contextlib.suppress(OSError):
            os.close(os.open(notes, os.O_WRONLY | os.O_NONBLOCK))
        raise
    assert next(r for r in first.results if r.step is Step.TEST).exit_code == 0
    test = next(r for r in second.results if r.step is Step.TEST)
    assert test.exit_code == 0, test.output
    async with project_tree(builder_root) as tree:
        assert stat.S_ISREG((tree / "notes.txt").lstat().st_mode)
        assert (tree / "notes.txt").read_bytes() == b"notes\n"


@pytest.mark.timeout(600)
@pytest.mark.parametrize("top", ["a", ".layercake"])
async def test_three_thousand_nested_folders_a_step_left_never_stall_the_next_build(
    builder, builder_root, top
):
    """The next build runs, or ends in BuildFailed naming the cause; it is never only a dead letter.

    Under `a` the slot's chown walks them; under `.layercake` (the reports
    folder) the runner clears them before the steps.
    """
    observer, seen = builder
    try:
        first, second, third = await builds(observer, seen, nests_folders(top), count=3)
    finally:
        remove_tree(builder_root / "calc" / VOLUME / "tree")  # a plain folder without root
    assert next(r for r in first.results if r.step is Step.TEST).exit_code == 0
    if isinstance(second, BuildSucceeded):
        return
    causes = [d for r in second.results if not r.ok for d in r.diagnostics]
    assert causes, second.results
    assert all(d.message for d in causes)
    crashes = [d for d in causes if d.tool == "builder"]
    for crash in crashes:
        assert crash.code in {"tree_unusable", "sandbox_failed"}
        assert crash.message.startswith("the build stopped while")
    if crashes:  # the tree was made afresh: the next build runs its steps again
        assert [r.exit_code for r in third.results if r.step is Step.TEST] == [0], third.results


async def test_a_tree_with_no_toolchain_fails_if_it_holds_code_and_passes_if_only_documents(
    builder,
):
    """Code but no manifest: BuildFailed naming what was looked for; a PRD alone: skipped steps."""
    observer, seen = builder
    code = await files_written(observer, {"calc.py": b"x = 1\n", "docs/prd.md": b"# PRD\n"})
    documents = await files_written(observer, {"docs/prd.md": b"# PRD\n"}, attempt=2)
    for request in (code, documents):
        payload = request.model_dump_json().encode()
        await observer.broker.publish(payload, "lc.evt.calc.FilesWritten", stream=STREAM_NAME)
    await eventually(lambda: len([e for e in seen if not isinstance(e, BuildStarted)]) == 2)
    failed = next(e for e in seen if isinstance(e, BuildFailed))
    passed = next(e for e in seen if isinstance(e, BuildSucceeded))
    assert (failed.causation_id, passed.causation_id) == (code.event_id, documents.event_id)
    assert (failed.failed_step, failed.fault) == (Step.INSTALL, None)
    [diagnostic] = failed.diagnostics
    assert diagnostic.message == (
        "no toolchain found in the tree (looked for package.json, pyproject.toml, "
        "requirements.txt); it holds code: calc.py"
    )
    assert [r.step for r in passed.results] == list(Step)
    assert all(r.skipped and "documents only" in r.skipped for r in passed.results)
