"""Running one command confined: pick the back-end, drop privileges, capture output, enforce time.

The builder's security boundary. Every step goes through `Sandbox.run`. When we
are root, each concurrent build gets its own unprivileged uid (a slot), so the
process limit of one build cannot be used up by another. On timeout the whole
process group is killed; the pid namespace takes every descendant with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import dataclasses
import fcntl
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from layercake_builder.adapters import forwarder, trampoline
from layercake_builder.adapters.capture import Capture
from layercake_builder.adapters.cgroups import BuildMemory
from layercake_builder.adapters.egress import EgressProxy
from layercake_builder.adapters.memfd import fill, memfds
from layercake_builder.adapters.storage import DiskWatch, disk_exhausted, strip_setid
from layercake_builder.core import seccomp
from layercake_builder.core.confinement import (
    FORWARDER,
    SYSTEM_PYTHON,
    Backend,
    Confinement,
    Descriptors,
    Launch,
    Limits,
    Mounts,
    confine,
    folder_problem,
    own_etc,
    sandbox_env,
    workdir,
)
from layercake_builder.core.egress import EgressPolicy
from layercake_builder.errors import FolderRejected, SandboxUnavailable, SlotsExhausted
from layercake_contracts.walk import FOLDER_FLAGS, walk

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping

    from layercake_builder.adapters.disks import DiskQuota

log = structlog.get_logger(__name__)

SLOT_UID_BASE = 61000
MAX_SLOTS = 256
SLOT_LOCKS = Path(tempfile.gettempdir()) / "layercake-slots"
_PROBE_TIMEOUT_S = 20.0
_SWEEP_TIMEOUT_S = 10.0
_PR_SET_CHILD_SUBREAPER = 36


@dataclass(frozen=True)
class Completed:
    """What a confined command did."""

    command: tuple[str, ...]
    exit_code: int | None
    output: str
    duration_s: float
    timed_out: bool
    dropped_bytes: int  # output beyond the cap, cut from the middle
    oom_killed: bool = False  # the build's memory cgroup ran out and its OOM killer struck
    disk_full: bool = False  # the project's file system has (almost) no space or inodes left

    @property
    def signal(self) -> int | None:
        """The signal that ended the command, if one did."""
        if self.exit_code is not None and self.exit_code < 0:
            return -self.exit_code
        if self.exit_code is not None and self.exit_code > 128:  # noqa: PLR2004  # shell convention
            return self.exit_code - 128
        return None


class Sandbox:
    """Runs commands in a project folder, confined by bwrap, unshare, or (if allowed) nothing."""

    def __init__(  # noqa: PLR0913  # one keyword per bound the sandbox keeps
        self,
        backend: Backend,
        limits: Limits,
        support: Path,
        *,
        slots: int,
        output_cap_bytes: int,
        read_only: tuple[tuple[str, str], ...] = (),
        egress: EgressProxy | None = None,
        memory: BuildMemory | None = None,
        disk_quota: DiskQuota | None = None,  # watched per step where no disk of its own bounds it
    ) -> None:
        self.backend = backend
        self.limits = limits
        self._support = support
        self._output_cap = output_cap_bytes
        self._read_only = (*read_only, (forwarder.__file__, FORWARDER))
        self._egress = egress or EgressProxy(EgressPolicy())
        self._root = os.geteuid() == 0
        self._memory = memory or BuildMemory.detect(limits.memory_bytes)
        self._disk_quota = disk_quota
        become_subreaper()
        self._capacity = asyncio.Semaphore(slots)
        self._etc = own_etc(os.getuid(), SLOT_UID_BASE, MAX_SLOTS)
        self._filter = seccomp.encode(seccomp.program())
        (support / "jail").mkdir(parents=True, exist_ok=True)
        for path in (support, support / "jail"):
            path.chmod(0o755)

    @contextlib.asynccontextmanager
    async def slot(self, *folders: Path) -> AsyncIterator[int]:
        """Hold one of the concurrent-build slots; its uid owns `folders` while held.

        On release, anything still running as the slot's user is killed and reaped,
        so no process of a build outlives it (steps of one build share the slot and
        may run in parallel, so this cannot happen after each step). Slots are
        claimed machine-wide (a lock file per uid), so two builder processes never
        share a uid, and one's sweep never touches the other's steps. The build's
        processes share one memory cgroup. `folders` are 0700 (slot uids are
        reused across projects), and lose their setuid bits once nothing of the
        build runs that could race the walk.
        """
        for folder in folders:
            folder.chmod(0o700)
        async with self._capacity:
            if not self._root:
                try:
                    yield 0
                finally:
                    await asyncio.to_thread(strip_setid, folders)
                return
            slot, lock = await asyncio.to_thread(_claim_slot)
            try:
                await asyncio.to_thread(_chown_tree, folders, SLOT_UID_BASE + slot)
                await asyncio.to_thread(self._memory.open_build, slot)
                yield slot
            finally:
                try:
                    await _sweep(SLOT_UID_BASE + slot)
                    await asyncio.to_thread(self._memory.close_build, slot)
                    await asyncio.to_thread(strip_setid, folders)
                finally:
                    os.close(lock)  # releases the claim, whatever the clean-up met

    def hand_over(self, folder: Path, slot: int) -> None:
        """Give a fresh folder of the builder's to the slot's user, for its step to write."""
        if self._root:
            os.chown(folder, SLOT_UID_BASE + slot, SLOT_UID_BASE + slot, follow_symlinks=False)

    async def run(  # noqa: PLR0913  # one keyword for each thing a step is shown or given
        self,
        command: tuple[str, ...],
        *,
        slot: int,
        project: Path,
        cache: Path,
        network: bool,
        timeout_s: float,
        path: tuple[str, ...],
        env: Mapping[str, str] | None = None,
        reports: Path | None = None,
        folder: str = "",
    ) -> Completed:
        """Run `command` confined in `project`, in its sub-folder `folder` (a relative path).

        Never raises for what the command does; a `folder` that is not a plain
        relative path of the project is refused (`FolderRejected`).
        """
        if (problem := folder_problem(folder)) is not None:
            raise FolderRejected(folder, problem)
        if self.backend is Backend.NONE:
            log.warning("sandbox_disabled", command=command[0])
        async with (
            self._memory.step(slot) as cgroup,
            self._egress_socket(slot, network=network) as egress,
        ):
            with self.launch(
                command, slot=slot, project=project, cache=cache, network=network, path=path,
                env=env, reports=reports, egress=egress, cgroup=cgroup, folder=folder,
            ) as launch:  # fmt: skip
                disk = DiskWatch(self._disk_quota, (project, cache)) if self._disk_quota else None
                done = await self._execute(
                    command, launch, project / folder, timeout_s,
                    watch=disk.watch if disk else None,
                )  # fmt: skip
            oom_killed = self._memory.oom_killed(cgroup)
        disk_full = bool(disk and disk.tripped) or disk_exhausted(project)
        return dataclasses.replace(done, oom_killed=oom_killed, disk_full=disk_full)

    @contextlib.asynccontextmanager
    async def _egress_socket(self, slot: int, *, network: bool) -> AsyncIterator[str | None]:
        """The egress proxy's socket for a network step, for as long as the step runs."""
        if not network or self.backend is Backend.NONE:
            yield None
            return
        async with self._egress.serve(SLOT_UID_BASE + slot if self._root else None) as path:
            yield path

    @contextlib.contextmanager
    def launch(  # noqa: PLR0913  # one keyword per thing a step may be shown
        self,
        command: tuple[str, ...],
        *,
        slot: int,
        project: Path,
        cache: Path,
        network: bool,
        path: tuple[str, ...],
        env: Mapping[str, str] | None = None,
        reports: Path | None = None,
        egress: str | None = None,
        cgroup: Path | None = None,
        folder: str = "",
    ) -> Iterator[Launch]:
        """The host command line that runs `command` confined, its inputs open until exit.

        `reports`, when given, is shown at /reports to this command only; `egress` is a
        network step's proxy socket; the step joins `cgroup` before anything else runs.
        """
        how = self._confinement(slot, project, cache, reports, egress, folder)
        if cgroup is not None:
            how = dataclasses.replace(how, cgroup_procs=str(cgroup / "cgroup.procs"))
        with memfds(2 + len(how.files)) as fds:
            descriptors = Descriptors(args=fds[0], seccomp=fds[1], files=fds[2:])
            environment = sandbox_env(path, env or {})
            launch = confine(command, environment, how, descriptors, network=network)
            for fd, data in launch.inputs:
                fill(fd, data)
            yield launch

    def _confinement(
        self,
        slot: int,
        project: Path,
        cache: Path,
        reports: Path | None,
        egress: str | None,
        folder: str,
    ) -> Confinement:
        uid = SLOT_UID_BASE + slot
        host_links = {
            f"/{name}": os.readlink(f"/{name}")  # noqa: PTH115
            for name in ("bin", "lib", "lib64", "sbin", "lib32")
            if os.path.islink(f"/{name}")  # noqa: PTH114
        }
        mounts = Mounts(
            project=str(project),
            cache=str(cache),
            read_only=self._read_only,
            host_symlinks=host_links,
            reports=str(reports) if reports else None,
            egress=egress,
            workdir=workdir(folder),
        )
        new_root = self._support / "jail"
        return Confinement(
            backend=self.backend,
            mounts=mounts,
            limits=self.limits,
            run_as=(uid, uid) if self._root else None,
            process_base=0 if self._root else _processes_of(os.getuid()),
            trampoline=(SYSTEM_PYTHON, "-I", "-S", trampoline.__file__),
            new_root=str(new_root),
            files=self._etc,
            seccomp=self._filter,
        )

    async def _execute(
        self,
        command: tuple[str, ...],
        launch: Launch,
        cwd: Path,
        timeout_s: float,
        watch: Callable[[Callable[[], None]], Coroutine[object, object, None]] | None = None,
    ) -> Completed:
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            *launch.argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
            pass_fds=[fd for fd, _ in launch.inputs],
        )
        capture = Capture(self._output_cap)
        reader = asyncio.create_task(capture.drain(process.stdout))
        watcher = asyncio.create_task(watch(lambda: _kill_group(process.pid))) if watch else None
        timed_out = False
        try:
            await asyncio.wait_for(process.wait(), timeout_s)
        except TimeoutError:
            timed_out = True
            _kill_group(process.pid)
            await process.wait()
        finally:
            if watcher is not None:
                watcher.cancel()
            if process.returncode is None:
                _kill_group(process.pid)
                await process.wait()
        _kill_group(process.pid)  # whatever is left of the group, even after a clean exit
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(reader, 5.0)
        return Completed(
            command=command,
            exit_code=None if timed_out else process.returncode,
            output=capture.text(),
            duration_s=time.monotonic() - started,
            timed_out=timed_out,
            dropped_bytes=capture.dropped,
        )


def become_subreaper() -> None:
    """Adopt the orphans of our sandboxes, so that we reap them (pid 1 may never do it)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _claim_slot() -> tuple[int, int]:
    """A slot no process on this machine holds, and the descriptor that holds it."""
    SLOT_LOCKS.mkdir(mode=0o700, exist_ok=True)
    for slot in range(MAX_SLOTS):
        fd = os.open(SLOT_LOCKS / f"{slot}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return slot, fd
    raise SlotsExhausted(MAX_SLOTS)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _chown_tree(folders: tuple[Path, ...], uid: int) -> None:
    """Give `folders` and all they hold to `uid`, links unfollowed.

    Iterative and relative to open folders: a step may have left 3,000 nested
    folders, past Python's recursion limit and PATH_MAX (issue #14).
    """
    for folder in folders:
        top = os.open(folder, FOLDER_FLAGS)
        try:
            os.fchown(top, uid, uid)
            for found in walk(top):
                os.chown(found.name, uid, uid, dir_fd=found.folder, follow_symlinks=False)
        finally:
            os.close(top)


def _pids_of(uid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):  # noqa: PTH208
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if os.stat(f"/proc/{entry}").st_uid == uid:  # noqa: PTH116
                    pids.append(int(entry))
    return pids


def _processes_of(uid: int) -> int:
    return len(_pids_of(uid))


def _running(pid: int) -> bool:
    """Whether `pid` still runs: a zombie has ended and waits only for its parent's wait()."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    state = stat[stat.rindex(")") + 2]  # "pid (command) S …": the command may hold ")"
    return state not in "ZX"


async def _sweep(uid: int) -> None:
    """Kill whatever still runs as a slot's user and wait until it is gone.

    The pid namespace already takes every process of a step with it; this makes
    "no process outlives its step" hold before the next step may use the slot.
    A zombie runs nothing and cannot be killed: ours are reaped, another
    process's (a builder killed mid-build leaves its steps to whoever adopts
    them) are no reason to hold the slot.
    """
    deadline = time.monotonic() + _SWEEP_TIMEOUT_S
    while (pids := [p for p in _pids_of(uid) if _running(p)]) and time.monotonic() < deadline:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(0.02)
    for pid in _pids_of(uid):  # orphans of the step were reparented to us (a subreaper): reap
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # noqa: ASYNC222  # WNOHANG never blocks
    if pids:
        log.error("sandbox_processes_survived", uid=uid, pids=pids)


def choose_backend(wanted: str, support: Path) -> Backend:
    """The back-end to use: the one asked for, or the first that works ("auto")."""
    if wanted == Backend.NONE:
        log.warning("sandbox_disabled_by_setting", setting="LAYERCAKE_SANDBOX=none")
        return Backend.NONE
    candidates = [Backend(wanted)] if wanted != "auto" else [Backend.BWRAP, Backend.UNSHARE]
    reasons: list[str] = []
    for backend in candidates:
        problem = _probe(backend, support)
        if problem is None:
            return backend
        reasons.append(f"{backend}: {problem}")
    raise SandboxUnavailable(reasons)


def _probe(backend: Backend, support: Path) -> str | None:
    """Why `backend` cannot confine a trivial command here, or None when it can."""
    if shutil.which(backend.value) is None:
        return "not installed"
    probe = support / "probe"
    probe.mkdir(parents=True, exist_ok=True)
    sandbox = Sandbox(
        backend, Limits(), support, slots=1, output_cap_bytes=65536, memory=BuildMemory(None, 0)
    )
    # A slot of its own: another builder's sweep of a slot it holds kills all of its uid.
    slot, lock = _claim_slot() if os.geteuid() == 0 else (0, None)
    try:
        if lock is not None:
            _chown_tree((probe,), SLOT_UID_BASE + slot)
        trial = sandbox.launch(
            ("/usr/bin/true",), slot=slot, project=probe, cache=probe, network=False,
            path=("/usr/bin",),
        )  # fmt: skip
        with trial as launch:
            done = subprocess.run(  # noqa: S603  # our own argv
                launch.argv, capture_output=True, text=True, timeout=_PROBE_TIMEOUT_S,
                check=False, pass_fds=[fd for fd, _ in launch.inputs],
            )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"a trial run failed: {exc}"
    finally:
        if lock is not None:
            os.close(lock)
    if done.returncode != 0:
        return f"a trial run failed (exit {done.returncode}): {done.stderr.strip()[:300]}"
    return None
