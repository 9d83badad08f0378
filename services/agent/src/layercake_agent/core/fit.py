"""What a prompt asks, fitted to the gate and to the kind of product the architect chose.

The kind is the architect's: a line `Kind: cli | web-service | full-stack |
library` of `docs/architecture.md`. Before the architect has written it (or
when the line is missing), the intake decides: a product with a UI is
full-stack, one whose intake or architecture says "command-line" is a CLI, and
otherwise the kind is not known and the asks stay neutral. Role defaults (a
stack, a server, a compose file) are fallbacks: what the architecture decides wins.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TYPE_CHECKING

from layercake_contracts.values import Gate, Role

if TYPE_CHECKING:
    from collections.abc import Mapping

ARCHITECTURE = "docs/architecture.md"


class Kind(StrEnum):
    """The kinds of product a prompt is fitted to."""

    CLI = "cli"
    WEB_SERVICE = "web-service"
    FULL_STACK = "full-stack"
    LIBRARY = "library"


_KIND_LINE = re.compile(
    r"^[\s>*_-]*kind[*_]*\s*:[\s*_`]*(" + "|".join(k.value for k in Kind) + r")\b",
    re.IGNORECASE | re.MULTILINE,
)
_COMMAND_LINE = re.compile(r"command[- ]line|\bCLI\b")


def product_kind(architecture: str, intake: str, *, has_ui: bool) -> Kind | None:
    """The product's kind: the architecture's `Kind:` line, else what the intake says."""
    stated = _KIND_LINE.search(architecture)
    if stated is not None:
        return Kind(stated.group(1).lower())
    if has_ui:
        return Kind.FULL_STACK
    if _COMMAND_LINE.search(intake) or _COMMAND_LINE.search(architecture):
        return Kind.CLI
    return None


_SERVES_HTTP = (Kind.WEB_SERVICE, Kind.FULL_STACK)
_PRODUCT: dict[Kind | None, str] = {
    Kind.CLI: "a command-line tool",
    Kind.LIBRARY: "a library",
    Kind.WEB_SERVICE: "a web service (an HTTP API)",
    Kind.FULL_STACK: "a web application: an HTTP API and a user interface",
    None: "of a kind the architecture has not stated yet",
}
_API = (
    "implement every operation of the architect's `docs/openapi.yaml` on the data schema "
    "(`docs/schema.sql` or its like): request and response shapes, status codes and error "
    "bodies exactly as written; validate every input at the edge; never build SQL from "
    "strings; read secrets from the environment"
)
_BUILD: dict[Kind | None, str] = {
    Kind.CLI: (
        "This product is a command-line tool: implement its commands, options, output and "
        "exit codes as the architecture and the PRD describe; errors go to stderr with a "
        "non-zero exit code. Add no network listener, web framework or store the "
        "architecture does not name"
    ),
    Kind.LIBRARY: (
        "This product is a library: implement its public API as the architecture documents "
        "it, typed and documented; add no network listener or command the architecture does "
        "not name"
    ),
    Kind.WEB_SERVICE: f"This product is a web service: {_API}",
    Kind.FULL_STACK: f"This product has a user interface; yours is its backend: {_API}",
    None: "Build what the architecture describes, covering the PRD's functional requirements",
}
_STACK: dict[Kind | None, str] = {
    Kind.CLI: "Python 3.11 with the standard library (argparse), packaged with a `pyproject.toml`",
    Kind.LIBRARY: "Python 3.11, packaged with a `pyproject.toml`",
    Kind.WEB_SERVICE: "Python 3.11 with FastAPI, pydantic and SQLite, in a `pyproject.toml`",
    Kind.FULL_STACK: "Python 3.11 with FastAPI, pydantic and SQLite, in a `pyproject.toml`",
    None: "Python 3.11, packaged with a `pyproject.toml`",
}
_CHECKS_WEB = (
    "authentication, authorisation, input validation, injection, secrets, CORS and headers, "
    "logging of personal data"
)
_CHECKS_LOCAL = (
    "input validation, path handling and file permissions, injection (shell, paths), secrets, "
    "unsafe deserialisation, what the output may leak"
)
_RUN_WEB = (
    "`compose.yaml`: the application and what it needs (a database, if the architecture "
    "names one), with health checks, named volumes, and configuration from environment "
    "variables with safe defaults; `docker compose up` must start a working system. The "
    "listen address is one of them: a local run may keep the architecture's 127.0.0.1, the "
    "container sets 0.0.0.0 (a server bound to its own loopback is unreachable from outside)"
)
_RUN_LOCAL = (
    "no long-running service: the image runs the tool once (`ENTRYPOINT`), and the README says "
    "how to install and run it without a container too"
)


def role_values(kind: Kind | None) -> dict[str, str]:
    """The kind-fitted `$placeholders` of the role templates."""
    web = kind in _SERVES_HTTP
    return {
        "kind": kind.value if kind is not None else "not stated",
        "product": _PRODUCT[kind],
        "build": _BUILD[kind],
        "stack": _STACK[kind],
        "checks": _CHECKS_WEB if web else _CHECKS_LOCAL,
        "run": _RUN_WEB if web else _RUN_LOCAL,
        "healthcheck": "a `HEALTHCHECK`; " if web else "",
    }


_TASKS: Mapping[tuple[Role, Gate], str] = {
    (Role.PRODUCT_MANAGER, Gate.G1): (
        "Review the intake, and only that: write `docs/intake-review.md` with the questions "
        "the intake leaves open (each with the answer you propose), the scope (in and out of "
        "the first release), the risks, and the assumptions you make. The requirements "
        "document comes at the next gate, not now."
    ),
    (Role.PRODUCT_MANAGER, Gate.G2): (
        "Write the product requirements document, `docs/prd.md`, from the intake and the "
        "approved intake review, with the sections your instructions list."
    ),
    (Role.ARCHITECT, Gate.G3): (
        "Write the architecture: `docs/architecture.md` (its `Kind:` line first), and the "
        "interface and data documents that kind needs."
    ),
    (Role.DESIGNER, Gate.G4): "Write the three design options.",
    (Role.BACKEND_DEVELOPER, Gate.G5): "Build the backend and its tests.",
    (Role.QA_ENGINEER, Gate.G6): (
        "Write the tests that check the PRD's acceptance criteria (the PRD is in the context "
        "above) and are not tested yet."
    ),
    (Role.SECURITY_ENGINEER, Gate.G7): "Review the project's security and fix what you can.",
    (
        Role.DEVOPS_ENGINEER,
        Gate.G8,
    ): "Make the project build, test and run the same way everywhere.",
}


# What every role that decides or writes code must know of the build that judges it (a live
# model guessed which commands run, from which folder, and which files they read).
HOW_IT_IS_BUILT = (
    "\n\nHow the factory builds your work: each toolchain in the folder that holds its "
    "manifest, at the root or in a sub-folder (`backend/`, `frontend/`). A `pyproject.toml` (or "
    "`requirements.txt`) is installed with its `dev`/`test` extras and dependency groups, "
    "compiled, linted with ruff or mypy when configured, and tested with pytest and coverage "
    "(run from that folder). A `package.json` is installed with its devDependencies, then its "
    "`build` and `lint` scripts run if it has them (`tsc` when configured) and its `test` script "
    "(`node --test`, Jest or Vitest). Then the dependencies are audited. Only the installs reach "
    "the network, and only the package registries."
)
_BUILT_BY = frozenset({
    Role.ARCHITECT, Role.BACKEND_DEVELOPER, Role.FRONTEND_DEVELOPER, Role.QA_ENGINEER,
    Role.SECURITY_ENGINEER, Role.DEVOPS_ENGINEER,
})  # fmt: skip


def gate_task(role: Role, gate: Gate, *, selected_design: str | None, audited: bool) -> str:
    """What `role` is to do at `gate`, in a sentence or two, and how its work is built."""
    return _task(role, gate, selected_design=selected_design, audited=audited) + (
        HOW_IT_IS_BUILT if role in _BUILT_BY else ""
    )


def _task(role: Role, gate: Gate, *, selected_design: str | None, audited: bool) -> str:
    task = _TASKS.get((role, gate), f"Do your work for gate {gate}.")
    if role is Role.FRONTEND_DEVELOPER:
        task = (
            f"Build the user interface from the design a person selected at G4: "
            f"`{selected_design}` (`design/{selected_design}.html`, in the context above); "
            "follow it, not the other options."
            if selected_design is not None
            else "Build the user interface; no design was selected, so follow the PRD."
        )
    if role is Role.SECURITY_ENGINEER and not audited:
        task += (
            " No dependency audit has run yet: the build after your answer runs it, and its "
            "result goes to the person at this gate. Review the manifests' dependencies yourself."
        )
    return task
