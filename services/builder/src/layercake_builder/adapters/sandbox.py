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
import fcntl
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from layercake_builder.adapters import trampoline
from layercake_builder.core.confinement import (
    Backend,
    Confinement,
    Limits,
    Mounts,
    confine,
    sandbox_env,
)
from layercake_builder.errors import SandboxUnavailable, SlotsExhausted
from layercake_contracts.walk import FOLDER_FLAGS, walk

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

log = structlog.get_logger(__name__)

SLOT_UID_BASE = 61000
MAX_SLOTS = 256
SLOT_LOCKS = Path(tempfile.gettempdir()) / "layercake-slots"
_READ_CHUNK = 64 * 1024
_PROBE_TIMEOUT_S = 20.0
_SWEEP_TIMEOUT_S = 10.0
_PR_SET_CHILD_SUBREAPER = 36
SYSTEM_PYTHON = "/usr/bin/python3"


@dataclass(frozen=True)
class Completed:
    """What a confined command did."""

    command: tuple[str, ...]
    exit_code: int | None
    output: str
    duration_s: float
    timed_out: bool
    dropped_bytes: int  # output beyond the cap, cut from the middle

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

    def __init__(
        self,
        backend: Backend,
        limits: Limits,
        support: Path,
        *,
        slots: int,
        output_cap_bytes: int,
        read_only: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.backend = backend
        self.limits = limits
        self._support = support
        self._output_cap = output_cap_bytes
        self._read_only = read_only
        self._root = os.geteuid() == 0
        become_subreaper()
        self._capacity = asyncio.Semaphore(slots)
        self._write_etc()

    @contextlib.asynccontextmanager
    async def slot(self, *folders: Path) -> AsyncIterator[int]:
        """Hold one of the concurrent-build slots; its uid owns `folders` while held.

        On release, anything still running as the slot's user is killed and reaped,
        so no process of a build outlives it (steps of one build share the slot and
        may run in parallel, so this cannot happen after each step). Slots are
        claimed machine-wide (a lock file per uid), so two builder processes never
        share a uid, and one's sweep never touches the other's steps.
        """
        async with self._capacity:
            if not self._root:
                yield 0
                return
            slot, lock = await asyncio.to_thread(_claim_slot)
            try:
                await asyncio.to_thread(_chown_tree, folders, SLOT_UID_BASE + slot)
                yield slot
            finally:
                await _sweep(SLOT_UID_BASE + slot)
                os.close(lock)  # releases the claim

    async def run(
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
    ) -> Completed:
        """Run `command` confined in `project`; never raises for what the command does."""
        if self.backend is Backend.NONE:
            log.warning("sandbox_disabled", command=command[0])
        argv = self.argv(
            command, slot=slot, project=project, cache=cache, network=network, path=path, env=env
        )
        return await self._execute(command, argv, project, timeout_s)

    def argv(
        self,
        command: tuple[str, ...],
        *,
        slot: int,
        project: Path,
        cache: Path,
        network: bool,
        path: tuple[str, ...],
        env: Mapping[str, str] | None = None,
    ) -> list[str]:
        """The host command line that runs `command` confined."""
        how = self._confinement(slot, project, cache)
        return confine(command, sandbox_env(path, env or {}), how, network=network)

    def _confinement(self, slot: int, project: Path, cache: Path) -> Confinement:
        uid = SLOT_UID_BASE + slot
        host_links = {
            f"/{name}": os.readlink(f"/{name}")  # noqa: PTH115
            for name in ("bin", "lib", "lib64", "sbin", "lib32")
            if os.path.islink(f"/{name}")  # noqa: PTH114
        }
        mounts = Mounts(
            project=str(project),
            cache=str(cache),
            etc=str(self._support / "etc"),
            read_only=self._read_only,
            host_symlinks=host_links,
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
        )

    async def _execute(
        self, command: tuple[str, ...], argv: list[str], cwd: Path, timeout_s: float
    ) -> Completed:
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        )
        capture = _Capture(self._output_cap)
        reader = asyncio.create_task(capture.drain(process.stdout))
        timed_out = False
        try:
            await asyncio.wait_for(process.wait(), timeout_s)
        except TimeoutError:
            timed_out = True
            _kill_group(process.pid)
            await process.wait()
        finally:
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

    def _write_etc(self) -> None:
        etc = self._support / "etc"
        etc.mkdir(parents=True, exist_ok=True)
        (self._support / "jail").mkdir(exist_ok=True)
        users = "".join(
            f"builder{n}:x:{SLOT_UID_BASE + n}:{SLOT_UID_BASE + n}::/cache/home:/bin/sh\n"
            for n in range(MAX_SLOTS)
        )
        uid = os.getuid()
        (etc / "passwd").write_text(
            f"root:x:0:0::/root:/bin/sh\nbuilder:x:{uid}:{uid}::/cache/home:/bin/sh\n{users}"
        )
        (etc / "group").write_text("root:x:0:\n")
        (etc / "hosts").write_text("127.0.0.1 localhost\n::1 localhost\n")
        for path in (self._support, etc, self._support / "jail"):
            path.chmod(0o755)


class _Capture:
    """Keeps the head and the tail of a stream up to a cap; counts what it drops."""

    def __init__(self, cap: int) -> None:
        self._half = cap // 2
        self._head = bytearray()
        self._tail: deque[bytes] = deque()
        self._tail_size = 0
        self.dropped = 0

    async def drain(self, stream: asyncio.StreamReader | None) -> None:
        if stream is None:
            return
        while chunk := await stream.read(_READ_CHUNK):
            room = self._half - len(self._head)
            if room > 0:
                self._head += chunk[:room]
                chunk = chunk[room:]
            if chunk:
                self._tail.append(chunk)
                self._tail_size += len(chunk)
                while self._tail_size - len(self._tail[0]) >= self._half:
                    self._tail_size -= len(dropped := self._tail.popleft())
                    self.dropped += len(dropped)

    def text(self) -> str:
        tail = b"".join(self._tail)
        if len(tail) > self._half:
            self.dropped += len(tail) - self._half
            tail = tail[-self._half :]
        middle = (
            f"\n[... {self.dropped} bytes of output cut ...]\n".encode() if self.dropped else b""
        )
        return (bytes(self._head) + middle + tail).decode("utf-8", errors="replace")


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
    sandbox = Sandbox(backend, Limits(), support, slots=1, output_cap_bytes=65536)
    if os.geteuid() == 0:
        _chown_tree((probe,), SLOT_UID_BASE)
    argv = sandbox.argv(
        ("/usr/bin/true",), slot=0, project=probe, cache=probe, network=False, path=("/usr/bin",)
    )
    try:
        done = subprocess.run(  # noqa: S603  # our own argv
            argv, capture_output=True, text=True, timeout=_PROBE_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"a trial run failed: {exc}"
    if done.returncode != 0:
        return f"a trial run failed (exit {done.returncode}): {done.stderr.strip()[:300]}"
    return None
