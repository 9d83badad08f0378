"""What the sandbox itself saw: a timeout, a limit that stopped the step, output that was cut.

Pure: the facts of a finished command in, diagnostics (tool "sandbox") out,
so a person and the model can tell "your code failed" from "the sandbox stopped it".
"""

from __future__ import annotations

import re
import signal

from layercake_contracts.values import Diagnostic, Severity

_OUT_OF_MEMORY = re.compile(
    r"MemoryError|JavaScript heap out of memory|Cannot allocate memory|std::bad_alloc"
    r"|out of memory|ENOMEM",
    re.IGNORECASE,
)
_NO_SPACE = re.compile(r"No space left on device|ENOSPC|Disk quota exceeded|EDQUOT")
_NO_MORE_PROCESSES = re.compile(
    r"Resource temporarily unavailable|fork: retry|BlockingIOError|EAGAIN|Cannot fork",
    re.IGNORECASE,
)


def sandbox_findings(
    *,
    exit_code: int | None,
    signal_number: int | None,
    timed_out: bool,
    timeout_s: float,
    output: str,
    dropped_bytes: int,
    oom_killed: bool = False,
    disk_full: bool = False,
) -> tuple[Diagnostic, ...]:
    """Diagnostics for what the sandbox did to a command, if anything.

    `oom_killed`: the build's memory cgroup killed a process of the command;
    `disk_full`: the project's file system has no space or inodes left.
    """
    found: list[Diagnostic] = []

    def add(code: str, message: str, severity: Severity = Severity.ERROR) -> None:
        found.append(Diagnostic(tool="sandbox", severity=severity, code=code, message=message))

    if timed_out:
        add(
            "timeout", f"the step ran longer than {timeout_s:g} s and was killed with its processes"
        )
    if signal_number == signal.SIGXFSZ:
        add(
            "file_size_limit",
            "a file grew past the sandbox's file-size limit; the step was stopped",
        )
    killed = signal_number == signal.SIGKILL and not (timed_out or oom_killed or disk_full)
    if signal_number == signal.SIGXCPU or killed:
        add("cpu_limit", "the step used up its CPU time (or was killed by a limit)")
    failed = exit_code != 0 and not timed_out
    if oom_killed or (failed and _OUT_OF_MEMORY.search(output[-20000:])):
        add(
            "out_of_memory",
            "the step ran out of memory (the build's memory limit, which also counts "
            "files in /tmp and /dev/shm)",
        )
    if failed and (disk_full or _NO_SPACE.search(output[-20000:])):
        add(
            "disk_quota",
            "the step ran out of disk space or files (the project's disk quota, "
            "or the size of /tmp and /dev/shm)",
        )
    if exit_code not in (0, None) and _NO_MORE_PROCESSES.search(output[-20000:]):
        add(
            "process_limit", "the step could not start more processes (the sandbox's process limit)"
        )
    if dropped_bytes:
        add(
            "output_capped",
            f"the step printed too much: {dropped_bytes} bytes from the middle were dropped",
            Severity.WARNING,
        )
    return tuple(found)
