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
) -> tuple[Diagnostic, ...]:
    """Diagnostics for what the sandbox did to a command, if anything."""
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
    if signal_number == signal.SIGXCPU or (signal_number == signal.SIGKILL and not timed_out):
        add("cpu_limit", "the step used up its CPU time (or was killed by a limit)")
    if exit_code not in (0, None) and _OUT_OF_MEMORY.search(output[-20000:]):
        add("out_of_memory", "the step ran out of memory (the sandbox's memory limit)")
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
