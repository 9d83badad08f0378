"""npm's own findings: `npm audit --json` (npm 7+) and the errors npm prints, as diagnostics.

Pure. Both point at `package.json`, where the dependency is declared. An audit
gives one diagnostic per vulnerable package (critical and high are errors,
moderate a warning, low and info for information); an audit that could not
run is a warning, not a pass. From npm's error output: a package missing from
the registry (`E404`), a dependency conflict (`ERESOLVE`), or any other coded error
(`ETARGET`, `EJSONPARSE`, `ENOENT`: npm's text without its line titles, at the file
npm names), and a script whose command the shell did not find (`ENOENT`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import unquote

from layercake_builder.core.diagnostics.common import (
    capped,
    diagnostic,
    entries,
    field,
    first_lines,
    load_json,
    relative_path,
    severity_of,
    string,
    text_lines,
)
from layercake_contracts.values import Severity

if TYPE_CHECKING:
    from collections.abc import Iterator

    from layercake_contracts.values import Diagnostic

AUDIT = "npm-audit"
NPM = "npm"
MANIFEST = "package.json"

_NPM_ERROR = re.compile(r"^npm (?:error|ERR!)(?: |$)")
_CODE = re.compile(r"^code (?P<code>\S+)$")
_REQUESTED = re.compile(r"The requested resource '(?P<spec>[^']+)' could not be found")
_NOT_FOUND_URL = re.compile(r"404 Not Found - GET (?P<url>\S+)")
# The title npm puts before each line of some errors' text, and their detail lines.
_TITLE = re.compile(r"^(?:notarget|JSON\.parse|enoent|enotdir|eacces|eperm)(?: |$)")
_DETAIL = re.compile(r"^(?:syscall|path|errno|dest) \S+$")
_PATH = re.compile(r"^path (?P<path>/\S+)$")
_NOT_FOUND_COMMAND = re.compile(
    r"^(?:/bin/)?sh: (?:[0-9]+: )?(?P<command>[^\s:]+): (?:command )?not found$"
)
_ERESOLVE_PARTS = re.compile(r"^(?:While resolving|Found|Conflicting peer dependency): ")
# Lines of npm's error output that only point at its logs.
_NOISE = re.compile(r"^(?:A complete log of this run|For a full report see|/\S+\.(?:log|txt)$)")


def parse_npm_audit(text: str, root: str) -> tuple[Diagnostic, ...]:
    """One diagnostic per vulnerable package, or one saying the audit could not run."""
    report = load_json(text)
    vulnerabilities = field(report, "vulnerabilities")
    if isinstance(vulnerabilities, dict):
        return capped(_vulnerabilities(list(vulnerabilities.values()), root))
    error = field(report, "error")
    if error is None and field(report, "message") is None:
        return ()
    reason = (
        string(field(error, "summary")) or string(field(report, "message")) or "no reason given"
    )
    return (
        diagnostic(
            AUDIT,
            Severity.WARNING,
            f"npm audit could not run: {reason}",
            root=root,
            file=MANIFEST,
            code=string(field(error, "code")),
        ),
    )


def _vulnerabilities(found: list[object], root: str) -> Iterator[Diagnostic]:
    for vulnerability in found:
        name = string(field(vulnerability, "name")) or "a package"
        vulnerable = string(field(vulnerability, "range")) or "some versions"
        advisories = [v for v in entries(field(vulnerability, "via")) if isinstance(v, dict)]
        through = [v for v in entries(field(vulnerability, "via")) if isinstance(v, str)]
        titles = [t for a in advisories if (t := string(field(a, "title")))]
        why = "; ".join(titles) if titles else f"depends on vulnerable {', '.join(through)}"
        first = advisories[0] if advisories else None
        code = (
            string(field(first, "url"))
            or _text(field(first, "source"))
            or next(iter(through), None)
        )
        yield diagnostic(
            AUDIT,
            severity_of(field(vulnerability, "severity"), Severity.WARNING),
            f"{name} {vulnerable}: {why}. {_fix(field(vulnerability, 'fixAvailable'))}",
            root=root,
            file=MANIFEST,
            code=code,
        )


def _fix(available: object) -> str:
    name, version = string(field(available, "name")), string(field(available, "version"))
    if name and version:
        major = " (a semver-major change)" if field(available, "isSemVerMajor") is True else ""
        return f"Fix: {name}@{version}{major}."
    return "Fix: `npm audit fix`." if available is True else "No fix available."


def _text(value: object) -> str | None:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


def parse_npm_errors(text: str, root: str) -> tuple[Diagnostic, ...]:
    """The error npm printed (stderr or stdout): `E404`, `ERESOLVE`, `ETARGET`, `EJSONPARSE`, ….

    Also a script whose command the shell did not find (`sh: 1: vite: not found`).
    """
    lines = text_lines(text)
    said = [_NPM_ERROR.sub("", line, count=1) for line in lines if _NPM_ERROR.match(line)]
    said = [line for line in said if not _NOISE.match(line.strip())]
    missing = [m for line in lines if (m := _NOT_FOUND_COMMAND.match(line))]
    found = [
        diagnostic(
            NPM, Severity.ERROR, f"the script's command `{m['command']}` was not found: {m[0]}",
            root=root, file=MANIFEST, code="ENOENT",
        )
        for m in missing
    ]  # fmt: skip
    if any(line.strip() for line in said):
        found.append(_npm_error(said, root))
    return capped(found)


def _npm_error(said: list[str], root: str) -> Diagnostic:
    code = next((m["code"] for line in said if (m := _CODE.match(line.strip()))), None)
    rest = [line for line in said if not _CODE.match(line.strip())]
    file = MANIFEST
    if code == "E404":
        message = _missing_package(rest)
    elif code == "ERESOLVE":
        message = _conflict(rest)
    else:
        path = next((m["path"] for line in rest if (m := _PATH.match(line.strip()))), None)
        file = (relative_path(path, root) if path else None) or MANIFEST
        told = [_TITLE.sub("", line.strip()) for line in rest if not _DETAIL.match(line.strip())]
        message = first_lines(told)
    return diagnostic(NPM, Severity.ERROR, message, root=root, file=file, code=code)


def _missing_package(said: list[str]) -> str:
    joined = "\n".join(said)
    requested, url = _REQUESTED.search(joined), _NOT_FOUND_URL.search(joined)
    if requested is not None:
        package = requested["spec"]
    elif url is not None:
        package = unquote(url["url"].rstrip("/").rsplit("/", 1)[-1])
    else:
        return first_lines(said)
    where = f" ({url[0]})" if url is not None else ""
    return f"package {package} is not in the registry{where}"


def _conflict(said: list[str]) -> str:
    """The summary npm gave, what it found and which dependency it could not resolve."""
    lines = [line.strip() for line in said]
    parts = [next((line for line in lines if line), "ERESOLVE")]
    parts += [line for line in lines if _ERESOLVE_PARTS.match(line)]
    after = next(
        (i for i, line in enumerate(lines) if line == "Could not resolve dependency:"), None
    )
    if after is not None and after + 1 < len(lines):
        parts.append(f"Could not resolve dependency: {lines[after + 1]}")
    return "\n".join(parts)
