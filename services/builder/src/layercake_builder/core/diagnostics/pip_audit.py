"""pip-audit's JSON report (`pip-audit -f json`) as diagnostics.

Pure. Each known vulnerability of a pinned package is an error whose code is
the vulnerability's id and whose message names the package, its version, the
aliases and the versions that fix it. Packages pip-audit could not check are
summed up in one piece of information, so "nothing found" is not mistaken for
"nothing checked".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from layercake_builder.core.diagnostics.common import (
    capped,
    diagnostic,
    entries,
    field,
    load_json,
    string,
)
from layercake_contracts.values import Severity

if TYPE_CHECKING:
    from collections.abc import Iterator

    from layercake_contracts.values import Diagnostic

TOOL = "pip-audit"


def parse_pip_audit(text: str, root: str) -> tuple[Diagnostic, ...]:
    """One error per vulnerability, then one note on the packages that were not audited."""
    report = load_json(text)
    # pip-audit 2 wraps the list in {"dependencies": …}; earlier versions printed the list.
    dependencies = entries(field(report, "dependencies") if isinstance(report, dict) else report)
    return capped([*_vulnerabilities(dependencies, root), *_not_audited(dependencies, root)])


def _vulnerabilities(dependencies: list[object], root: str) -> Iterator[Diagnostic]:
    for dependency in dependencies:
        package = string(field(dependency, "name")) or "a package"
        version = string(field(dependency, "version")) or "?"
        for vulnerability in entries(field(dependency, "vulns")):
            code = string(field(vulnerability, "id"))
            aliases = sorted(_strings(field(vulnerability, "aliases")))  # pip-audit keeps a set
            fixes = _strings(field(vulnerability, "fix_versions"))
            known_as = f" ({', '.join(aliases)})" if aliases else ""
            fix = f"fixed in {', '.join(fixes)}" if fixes else "no fixed version yet"
            about = string(field(vulnerability, "description")) or ""
            yield diagnostic(
                TOOL,
                Severity.ERROR,
                f"{package} {version} has {code or 'a vulnerability'}{known_as}; {fix}. {about}",
                root=root,
                code=code,
            )


def _not_audited(dependencies: list[object], root: str) -> Iterator[Diagnostic]:
    reasons = [r for d in dependencies if (r := string(field(d, "skip_reason")))]
    if reasons:
        yield diagnostic(
            TOOL,
            Severity.INFO,
            f"{len(reasons)} package(s) not audited: " + "; ".join(reasons),
            root=root,
            code="not-audited",
        )


def _strings(value: object) -> list[str]:
    return [item for item in entries(value) if isinstance(item, str)]
