"""The project context a role reads: intake, documents, selected design, and the tree.

The tree is shown as its file list plus the contents of the files that matter
to the role, most relevant first, while they fit the role's token budget.
Lock files and files no pattern of the role names are listed, never shown.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from layercake_agent.core.budget import CHARS_PER_TOKEN, estimate_tokens
from layercake_agent.core.record import DESIGN_OPTION, Document
from layercake_contracts.values import Role

_MANIFESTS = ("package.json", "pyproject.toml", "requirements*.txt", "tsconfig*.json")
_DOCS = ("docs/*", "*.md", "openapi*", "*schema*")
_FRONTEND = ("*.ts", "*.tsx", "*.js", "*.jsx", "*.vue", "*.svelte", "*.css", "*.html")
_BACKEND = ("*.py", "*.go", "*.sql", "*.ts", "*.js")
_DEPLOY = ("Dockerfile*", "*compose*.y*ml", ".github/workflows/*", "Makefile", ".env.example")

# Glob patterns (`*` crosses folders) of the files worth reading, most relevant first.
RELEVANT: dict[Role, tuple[str, ...]] = {
    Role.PRODUCT_MANAGER: (*_DOCS,),
    Role.ARCHITECT: (*_DOCS, *_MANIFESTS),
    Role.DESIGNER: (*_DOCS, "design/*"),
    Role.FRONTEND_DEVELOPER: (*_MANIFESTS, *_DOCS, *_FRONTEND),
    Role.BACKEND_DEVELOPER: (*_MANIFESTS, *_DOCS, *_BACKEND),
    Role.QA_ENGINEER: ("tests/*", "*test*", *_MANIFESTS, *_BACKEND, *_FRONTEND),
    Role.SECURITY_ENGINEER: (*_MANIFESTS, *_DEPLOY, *_BACKEND, *_FRONTEND, *_DOCS),
    Role.DEVOPS_ENGINEER: (*_DEPLOY, *_MANIFESTS, "*.md"),
    Role.USER: (),
}
NEVER_SHOWN = ("*lock.json", "*.lock", "*lock.yaml")
MAX_LISTED = 500
# Only the designer reads every design option; the others read the selected one.
DESIGN_FILES = "design/option-*"


def _rank(role: Role, path: str) -> int | None:
    hidden = (*NEVER_SHOWN, DESIGN_FILES) if role is not Role.DESIGNER else NEVER_SHOWN
    if any(fnmatchcase(path, pattern) for pattern in hidden):
        return None
    return next((i for i, p in enumerate(RELEVANT[role]) if fnmatchcase(path, p)), None)


def selected_design_file(
    selected: str | None, documents: Sequence[Document], sizes: Mapping[str, int]
) -> tuple[str, ...]:
    """The tree's file of the selected design, when no recorded document shows it already."""
    if selected is None or any(d.kind == DESIGN_OPTION and d.name == selected for d in documents):
        return ()
    path = f"design/{selected}.html"
    return (path,) if path in sizes else ()


def choose_files(
    role: Role, sizes: Mapping[str, int], budget_tokens: int, first: Sequence[str] = ()
) -> tuple[str, ...]:
    """The files whose contents fit `budget_tokens`: `first` (in order), then by relevance.

    Within one relevance, smaller files come first, so more of them fit.
    """
    ranked = sorted(
        (rank, size, path)
        for path, size in sizes.items()
        if path not in first and (rank := _rank(role, path)) is not None
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


def fenced(path: str, text: str) -> str:
    """`text` in a code fence longer than any backtick run inside it, tagged with its language."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    language = path.rsplit(".", 1)[-1] if "." in path.rsplit("/", 1)[-1] else ""
    body = text if text.endswith("\n") or not text else text + "\n"
    return f"{fence}{language}\n{body}{fence}"
