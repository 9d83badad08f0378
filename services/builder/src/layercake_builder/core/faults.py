"""The project's fault, or ours: whether a step's failure says anything about the project.

Pure. From a step, its command, exit code, timed-out flag and output, the
`InfrastructureFault` that stopped it, or None when the failure is the
project's (a dependency that does not exist, a syntax error, a failing test),
for the model to heal. Ours are: a registry or the advisory service refusing
or unreachable (only install and audit steps reach out), the network down, a
tool of the builder's the sandbox could not run, a network step out of time.
The patterns are what the real tools print (tests/fixtures/faults/).
"""

from __future__ import annotations

import json
import re

from layercake_contracts.values import FaultCause, InfrastructureFault, Step

MAX_DETAIL = 400
_NETWORK_STEPS = frozenset({Step.INSTALL, Step.AUDIT})

# npm: `npm error code E403`, then `npm error 403 403 Forbidden - GET https://...`.
_NPM_CODE = re.compile(r"^npm (?:error|ERR!) code (\S+)\s*$", re.MULTILINE)
_NPM_LINE = re.compile(
    r"^npm (?:error|ERR!) (?!code |syscall |errno |A complete log)(.+)$", re.MULTILINE
)
_NPM_REFUSED = re.compile(r"^E(?:40[1357]|408|429|5\d\d)$")  # a refusal; E404 is the project's
_NPM_NETWORK = frozenset(
    {
        "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EAI_AGAIN", "ENOTFOUND", "EHOSTUNREACH",
        "ENETUNREACH", "ESOCKETTIMEDOUT", "ERR_SOCKET_TIMEOUT", "EPROTO",
        "SELF_SIGNED_CERT_IN_CHAIN", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
        "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "CERT_HAS_EXPIRED",
    }
)  # fmt: skip
_NPM_AUDIT_DOWN = re.compile(r"^npm (?:error|ERR!) audit endpoint returned an error", re.MULTILINE)
_NPM_AUDIT_LINE = re.compile(r"^npm (?:warn|error|ERR!) audit (.+)$", re.MULTILINE)

# uv: `error: Request failed after 3 retries` with `cause:` lines under it.
_UV_FETCH = re.compile(
    r"Failed to fetch|error sending request|Could not connect|HTTP status server error"
    r"|tunnel error|Request failed after"
)
_UV_NETWORK = re.compile(
    r"dns error|failed to lookup address|Connection refused|Network is unreachable"
    r"|timed out|connection reset",
    re.IGNORECASE,
)
_UV_REPORT = re.compile(r"^\s*(?:error|cause): .+$", re.MULTILINE)

# pip-audit's lookups go through requests; a traceback ends in its exception.
_PIP_AUDIT_DOWN = re.compile(
    r"^(?:requests\.exceptions\.|pip_audit\._service\.interface\.)"
    r"(?:ProxyError|ConnectionError|SSLError|\w*Timeout|HTTPError|ServiceError).*$",
    re.MULTILINE,
)
_NOT_AUDITED = "could not be audited"

# A program of ours is not there: the trampoline's execvpe, bubblewrap's execvp, env, uv.
_EXEC_FAILED = (
    re.compile(r"in _execvpe\n(?:.*\n)*?FileNotFoundError: \[Errno 2\] [^:]+: b?'([^']+)'"),
    re.compile(r"^bwrap: execvp (\S+): No such file or directory", re.MULTILINE),
    re.compile(r"^/usr/bin/env: '?([^':]+)'?: No such file or directory", re.MULTILINE),
    re.compile(r"^error: No interpreter found at path `([^`]+)`", re.MULTILINE),  # uv --python
)


def classify(
    step: Step, argv: tuple[str, ...], exit_code: int | None, *, timed_out: bool, output: str
) -> InfrastructureFault | None:
    """The fault that stopped `argv`, a command of `step`; None when the project is to blame."""
    if exit_code == 0 and not timed_out:
        return _nothing_audited(output) if step is Step.AUDIT else None
    if timed_out:
        said = f"the {step} step ran out of time: {' '.join(argv)}"
        return fault_of(FaultCause.TIMEOUT, said) if step in _NETWORK_STEPS else None
    if (missing := _missing_tool(argv, output)) is not None:
        return missing
    found = (_npm(output) or _uv(output) or _pip_audit(output)) if step in _NETWORK_STEPS else None
    if found is None:
        return None
    cause, detail = found
    return fault_of(FaultCause.ADVISORY if step is Step.AUDIT else cause, detail)


def fault_of(cause: FaultCause, detail: str) -> InfrastructureFault:
    """A fault of `cause` whose detail is cut to what an event and a prompt can carry."""
    short = detail.strip() or cause.value
    return InfrastructureFault(cause=cause, detail=short[:MAX_DETAIL])


def _missing_tool(argv: tuple[str, ...], output: str) -> InfrastructureFault | None:
    """Our tool (an absolute path, or a name looked up on PATH) could not be executed.

    A relative path (`node_modules/.bin/jest`, `.venv/bin/ruff`) is the project's: it
    is there only if the project declared it.
    """
    program = argv[0] if argv else ""
    if "/" in program and not program.startswith("/"):
        return None
    for pattern in _EXEC_FAILED:
        if match := pattern.search(output):
            said = f"{match[1]} is not on this machine"
            return fault_of(FaultCause.TOOLCHAIN, f"{said} (running {program})")
    return None


def _npm(output: str) -> tuple[FaultCause, str] | None:
    codes = _NPM_CODE.findall(output)
    if _NPM_AUDIT_DOWN.search(output) or "ENOLOCK" in codes:
        said = _NPM_AUDIT_LINE.findall(output)
        return FaultCause.ADVISORY, f"npm audit: {said[0] if said else 'the endpoint failed'}"
    for code in codes:
        refused = _NPM_REFUSED.match(code)
        if refused or code in _NPM_NETWORK:
            said = _NPM_LINE.findall(output)
            cause = FaultCause.REGISTRY if refused else FaultCause.NETWORK
            return cause, f"npm {code}: {said[0] if said else code}"
    return None


def _uv(output: str) -> tuple[FaultCause, str] | None:
    if not _UV_FETCH.search(output):
        return None
    said = " / ".join(line.strip() for line in _UV_REPORT.findall(output))
    cause = FaultCause.NETWORK if _UV_NETWORK.search(output) else FaultCause.REGISTRY
    return cause, f"uv: {said or 'a download failed'}"


def _pip_audit(output: str) -> tuple[FaultCause, str] | None:
    said = _PIP_AUDIT_DOWN.findall(output)
    return (FaultCause.ADVISORY, f"pip-audit: {said[-1]}") if said else None


def _nothing_audited(output: str) -> InfrastructureFault | None:
    """pip-audit exits 0 having looked up nothing when its service answers no dependency."""
    lines = [line for line in output.splitlines() if line.startswith('{"dependencies"')]
    try:
        report = json.loads(lines[-1]) if lines else {}
    except ValueError:
        return None
    dependencies = report.get("dependencies") if isinstance(report, dict) else None
    if not isinstance(dependencies, list) or not dependencies:
        return None
    reasons = [d.get("skip_reason") if isinstance(d, dict) else None for d in dependencies]
    if not all(reasons) or not any(_NOT_AUDITED in str(r) for r in reasons):
        return None
    first = next(str(r) for r in reasons if _NOT_AUDITED in str(r))
    # Not a finding about one package: the service answered for none (a live walk's model
    # took "not found on PyPI: annotated-doc" for a bogus dependency).
    detail = (
        f"pip-audit looked up none of {len(dependencies)} dependencies: its vulnerability "
        f"service answered for none of them (the first said: {first})"
    )
    return fault_of(FaultCause.ADVISORY, detail)
