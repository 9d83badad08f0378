"""The builder's shell: materialise the tree, plan, run the steps, publish what happened.

Each project has a folder under the work root: `volume/`, the project's own
file system mounted there for the length of a build (`adapters/disks.py`), holds
`tree/` (the materialised manifest plus node_modules, which are not in
it) and `cache/` (package caches and the Python venvs), which its sandbox writes, and
`manifest.json` (what `tree/` holds); outside it, `own/` (install keys, report
folders) and `done/` (the outcome of each request handled, so a redelivered
request is answered without building, or mounting, again), which the sandbox
never sees. The records are read as regular files only, off the event loop.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections import defaultdict
from typing import TYPE_CHECKING

import structlog

from layercake_builder.adapters.own_files import read_regular, write_atomically
from layercake_builder.core.outcome import Crash, assessed, crashed, finished, started
from layercake_builder.core.plan import cache_key, manifest_paths, plan_build
from layercake_contracts.errors import UnsafeTree
from layercake_contracts.events import parse_event
from layercake_contracts.materialise import materialise
from layercake_contracts.values import Manifest, Step
from layercake_contracts.walk import remove_entry

if TYPE_CHECKING:
    from pathlib import Path

    from layercake_builder.adapters.disks import ProjectDisks
    from layercake_builder.core.outcome import BuildRequest
    from layercake_builder.steps import StepRunner
    from layercake_contracts.bus import BlobStore, Bus
    from layercake_contracts.events import BuildFailed, BuildSucceeded

log = structlog.get_logger(__name__)

MAX_RECORD_BYTES = 64 * 1024 * 1024  # an outcome or a manifest; far above any real one
# What a build step can make the builder's own file and sandbox work raise:
# planted files (OSError), trees no check foresaw (UnsafeTree, RecursionError).
_TREE_OR_SANDBOX = (OSError, RecursionError, UnsafeTree)
# OSErrors of the connection to NATS, which another delivery may not meet.
_BUS = (TimeoutError, ConnectionError)


class BuildService:
    """Builds requested trees, one at a time per project."""

    def __init__(
        self,
        work_root: Path,
        runner: StepRunner,
        toolchain_versions: dict[str, str],
        disks: ProjectDisks,
    ) -> None:
        self._root = work_root
        self._runner = runner
        self._disks = disks
        self._versions = toolchain_versions
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def handle(self, request: BuildRequest, bus: Bus, steps: tuple[Step, ...]) -> None:
        """Build `request`'s manifest once, however often it is delivered."""
        async with self._locks[request.project_id]:
            folder = self._root / request.project_id
            done = folder / "done" / f"{request.event_id}.json"
            if recorded := await asyncio.to_thread(_read_record, done):
                outcome = parse_event(recorded)
                log.info("build_already_done", request=str(request.event_id))
                await bus.publish(outcome)
                return
            outcome = await self._build(request, bus, steps, folder)
            await asyncio.to_thread(_write_record, done, outcome.model_dump_json().encode())
            await bus.publish(outcome)
            log.info("build_finished", outcome=outcome.type, steps=len(outcome.results))

    async def _build(
        self, request: BuildRequest, bus: Bus, steps: tuple[Step, ...], folder: Path
    ) -> BuildSucceeded | BuildFailed:
        """The build's outcome; BuildFailed naming the cause when its tree or the sandbox fails."""
        blobs = await bus.blobs()
        where, step = Crash.TREE, steps[0] if steps else Step.INSTALL
        # Mounted before the tree is materialised, unmounted once nothing of the build runs.
        async with self._disks.mounted(folder) as volume:
            tree, cache = volume / "tree", volume / "cache"
            try:
                cache.mkdir(parents=True, exist_ok=True)
                await self._materialise(request.manifest, volume, blobs)
                texts = await _manifest_texts(request.manifest, blobs)
                plan = plan_build(list(request.manifest), texts, steps)
                await bus.publish(started(request, plan))
                where, step = Crash.SANDBOX, plan.steps[0].step if plan.steps else step
                key = cache_key(texts, self._versions)
                ran = (
                    await self._runner.run(plan, tree, cache, key, folder / "own")
                    if plan.steps
                    else ()
                )
            except _TREE_OR_SANDBOX as exc:
                if isinstance(exc, _BUS):
                    raise  # the bus, not the tree: delivered again later
                # A dead letter alone would leave the project waiting for ever (issue #14).
                log.exception("build_crashed", code=where.value, step=step.value)
                await asyncio.to_thread(_forget_tree, volume)
                return crashed(request, step, where, exc)
        return finished(request, assessed(plan, ran, steps, "the tree"))

    async def _materialise(self, manifest: Manifest, folder: Path, blobs: BlobStore) -> None:
        record = folder / "manifest.json"
        recorded = await asyncio.to_thread(_read_record, record)
        previous = Manifest.model_validate_json(recorded) if recorded else None
        await materialise(manifest, folder / "tree", blobs, previous)
        await asyncio.to_thread(_write_record, record, manifest.model_dump_json().encode())


async def _manifest_texts(manifest: Manifest, blobs: BlobStore) -> dict[str, str]:
    names = manifest_paths(list(manifest))
    contents = await asyncio.gather(*(blobs.get(manifest[n].sha256) for n in names))
    return {n: c.decode("utf-8", errors="replace") for n, c in zip(names, contents, strict=True)}


def _forget_tree(folder: Path) -> None:
    """Remove the tree and the record of it, so the next build starts from a fresh one.

    What stopped this build (a file or folder a step left) would stop every
    later one as well: the manifest alone does not say what else is there.
    """
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for name in ("manifest.json", "tree"):
                remove_entry(name, fd)
        finally:
            os.close(fd)
    except _TREE_OR_SANDBOX:
        log.exception("tree_not_forgotten", folder=str(folder))


def _read_record(path: Path) -> bytes | None:
    return read_regular(path.parent, path.name, MAX_RECORD_BYTES)


def _write_record(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, data)


def toolchain_versions() -> dict[str, str]:
    """The versions that key the install cache: a new Node or Python reinstalls."""
    versions = {}
    for name, argv in {
        "node": ["node", "--version"],
        "python": ["/usr/bin/python3", "--version"],
    }.items():
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)  # noqa: S603
        except OSError:
            continue
        versions[name] = done.stdout.strip() or done.stderr.strip()
    return versions
