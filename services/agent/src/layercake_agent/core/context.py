"""The project context a role reads: intake, documents, builds, selected design, and the tree.

The tree is shown as its file list plus the contents of the files that matter
to the role, most relevant first, while they fit the role's token budget.
Lock files and files no pattern of the role names are listed, never shown;
so is a file whose text a recorded document already shows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from layercake_agent.core.budget import CHARS_PER_TOKEN, estimate_tokens
from layercake_agent.core.fit import Kind
from layercake_agent.core.record import DESIGN_OPTION, BuildResult, Document
from layercake_contracts.values import Role

# At the root or in a toolchain's folder (`backend/pyproject.toml`): a live walk's security and
# devops roles, asked to edit the manifests, were shown none of them.
_MANIFESTS = tuple(
    pattern
    for name in ("package.json", "pyproject.toml", "requirements*.txt", "tsconfig*.json")
    for pattern in (name, f"*/{name}")
)
# The architect's written decisions come before any role's defaults.
_DECISIONS = ("docs/architecture*.md", "docs/*openapi*", "docs/*schema*")
_FRONTEND = ("*.ts", "*.tsx", "*.js", "*.jsx", "*.vue", "*.svelte", "*.css", "*.html")
_BACKEND = ("*.py", "*.go", "*.sql", "*.ts", "*.js")
# What a container starts and the configuration it reads: the devops engineer needs them.
_ENTRY_POINTS = ("*__main__.py", "*main.py", "*app.py", "*server.py", "*config*.py", "*server.js")
_DEPLOY = ("Dockerfile*", "*compose*.y*ml", ".github/workflows/*", "Makefile", ".env.example")

# Glob patterns (`*` crosses folders) of the files worth reading, most relevant first.
# The PRD is read by those who build or test from it; the intake review only by its author.
RELEVANT: dict[Role, tuple[str, ...]] = {
    Role.PRODUCT_MANAGER: ("docs/*.md",),
    Role.ARCHITECT: ("docs/prd.md", *_DECISIONS, *_MANIFESTS),
    Role.DESIGNER: ("docs/prd.md", "docs/architecture*.md", "design/*"),
    Role.FRONTEND_DEVELOPER: (*_MANIFESTS, "docs/architecture*.md", "docs/*openapi*", "docs/prd.md",
                              "README.md", *_FRONTEND),
    Role.BACKEND_DEVELOPER: (*_MANIFESTS, *_DECISIONS, "docs/prd.md", "README.md", *_BACKEND),
    Role.QA_ENGINEER: ("docs/prd.md", "tests/*", "*test*", *_MANIFESTS, "docs/architecture*.md",
                       *_BACKEND, *_FRONTEND),
    Role.SECURITY_ENGINEER: (*_MANIFESTS, *_DEPLOY, *_DECISIONS, *_BACKEND, *_FRONTEND,
                             "docs/security-review.md"),
    Role.DEVOPS_ENGINEER: (*_DEPLOY, *_MANIFESTS, "docs/architecture*.md", "README.md",
                           "docs/deployment*.md", *_ENTRY_POINTS),
    Role.USER: (),
}  # fmt: skip
NEVER_SHOWN = ("*lock.json", "*.lock", "*lock.yaml")
_TESTS = ("*tests/*", "*test/*", "*test_*", "*_test.*", "*.test.*", "*.spec.*", "*conftest.py")
# What a role never needs to read, though its patterns match it: a live walk's security prompt
# reached 86k characters, most of it tests and styles.
UNREAD: dict[Role, tuple[str, ...]] = {Role.SECURITY_ENGINEER: (*_TESTS, "*.css")}
MAX_LISTED = 500
# Only the designer reads every design option; the others read the selected one.
DESIGN_FILES = "design/option-*"


# A developer's own toolchain, by the manifest that marks its folder.
_OWN_MANIFEST = {Role.BACKEND_DEVELOPER: "pyproject.toml", Role.FRONTEND_DEVELOPER: "package.json"}


def _rank(role: Role, path: str, elsewhere: tuple[str, ...]) -> int | None:
    hidden = (*NEVER_SHOWN, DESIGN_FILES) if role is not Role.DESIGNER else NEVER_SHOWN
    hidden = (*hidden, *UNREAD.get(role, ()))
    if any(fnmatchcase(path, pattern) for pattern in hidden) or path.startswith(elsewhere):
        return None
    return next((i for i, p in enumerate(RELEVANT[role]) if fnmatchcase(path, p)), None)


def other_toolchains(role: Role, paths: Iterable[str]) -> tuple[str, ...]:
    """The folders (`web/`) of the other toolchain in a tree of two, which `role` does not read.

    A backend in `server/` (its pyproject.toml) and a frontend in `web/` (its
    package.json) each read their own folder; a toolchain at the root hides nothing.
    """
    own = _OWN_MANIFEST.get(role)
    if own is None:
        return ()
    folders: dict[str, set[str]] = {name: set() for name in _OWN_MANIFEST.values()}
    for path in paths:
        folder, _, name = path.rpartition("/")
        if name in folders and "node_modules/" not in path:
            folders[name].add(folder)
    mine = folders.pop(own)
    if not mine:
        return ()
    theirs = set().union(*folders.values()) - mine
    inside_mine = {f for f in theirs for m in mine if m.startswith(f"{f}/")}
    return tuple(sorted(f"{f}/" for f in theirs - inside_mine if f))


def selected_design_file(
    role: Role, selected: str | None, documents: Sequence[Document], sizes: Mapping[str, int]
) -> tuple[str, ...]:
    """The tree's file of the selected design, for the frontend, unless a document shows it."""
    if role is not Role.FRONTEND_DEVELOPER or selected is None:
        return ()
    if any(d.kind == DESIGN_OPTION and d.name == selected for d in documents):
        return ()
    path = f"design/{selected}.html"
    return (path,) if path in sizes else ()


def choose_files(
    role: Role, sizes: Mapping[str, int], budget_tokens: int, first: Sequence[str] = ()
) -> tuple[str, ...]:
    """The files whose contents fit `budget_tokens`: `first` (in order), then by relevance.

    Within one relevance, smaller files come first, so more of them fit.
    """
    elsewhere = other_toolchains(role, sizes)
    ranked = sorted(
        (rank, size, path)
        for path, size in sizes.items()
        if path not in first and (rank := _rank(role, path, elsewhere)) is not None
    )
    candidates = [p for p in first if p in sizes] + [path for _, _, path in ranked]
    chosen: list[str] = []
    left = budget_tokens
    for path in candidates:
        cost = math.ceil(sizes[path] / CHARS_PER_TOKEN)
        if cost <= left:
            chosen.append(path)
            left -= cost
    return tuple(chosen)


@dataclass(frozen=True)
class Context:
    """Everything a prompt shows of the project, texts already fetched."""

    name: str
    intake: str
    documents: tuple[tuple[Document, str], ...]
    selected_design: str | None
    sizes: Mapping[str, int]
    files: Mapping[str, str]
    kind: Kind | None = None
    builds: tuple[BuildResult, ...] = ()

    @property
    def document_tokens(self) -> int:
        """What the intake and the documents take of a token budget."""
        return estimate_tokens(self.intake) + sum(estimate_tokens(t) for _, t in self.documents)


def render_context(context: Context) -> str:
    """The context block of a prompt, in Markdown; empty when there is nothing to show."""
    parts: list[str] = []
    if context.intake:
        title = f"Project: {context.name}" if context.name else "Project"
        parts.append(f"# {title}\n\n## Intake\n\n{context.intake.strip()}")
    for document, text in context.documents:
        if document.kind == DESIGN_OPTION and document.name == context.selected_design:
            heading = f"## Selected design: {document.name} (chosen at {document.gate})"
        else:
            heading = f"## {document.kind}: {document.name} ({document.gate})"
        parts.append(f"{heading}\n\n{fenced(document.name, text)}")
    if context.builds:
        parts.append("## Builds so far\n\n" + "\n".join(_build_line(b) for b in context.builds))
    if context.sizes:
        paths = sorted(context.sizes)
        listing = "\n".join(f"- {p} ({context.sizes[p]} bytes)" for p in paths[:MAX_LISTED])
        if len(paths) > MAX_LISTED:
            listing += f"\n- … and {len(paths) - MAX_LISTED} more"
        shown = len(context.files)
        parts.append(
            f"## Files in the tree ({len(context.sizes)}; contents of {shown} below)\n\n{listing}"
        )
    parts.extend(f"### {path}\n\n{fenced(path, context.files[path])}" for path in context.files)
    return "\n\n".join(parts)


def _build_line(build: BuildResult) -> str:
    facts = "; ".join(f"{k}={v}" for k, v in build.facts.items() if k != "role")
    return f"- {build.gate} {build.kind} ({build.name}): passed" + (f"; {facts}" if facts else "")


def fenced(path: str, text: str) -> str:
    """`text` in a code fence longer than any backtick run inside it, tagged with its language."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    language = path.rsplit(".", 1)[-1] if "." in path.rsplit("/", 1)[-1] else ""
    body = text if text.endswith("\n") or not text else text + "\n"
    return f"{fence}{language}\n{body}{fence}"
