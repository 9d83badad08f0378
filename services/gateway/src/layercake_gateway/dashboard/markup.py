"""Model-written text made into HTML the dashboard can show: nothing in it is ever markup.

Markdown goes through markdown-it-py with raw HTML off (a `<script>` in a PRD is
shown as text, a `javascript:` link is not a link); code through pygments, whose
output escapes every character of the source and carries classes only (their
colours are in `static/sections.css`). A diff is lines with their kind, escaped by
the template. Pure: text in, `Markup` or values out.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from markdown_it import MarkdownIt
from markupsafe import Markup

# Pygments ships no type hints (and types-Pygments is not a dependency): its calls are Any.
from pygments import highlight  # type: ignore[import-untyped]
from pygments.formatters import HtmlFormatter  # type: ignore[import-untyped]
from pygments.lexers import get_lexer_for_filename  # type: ignore[import-untyped]
from pygments.lexers.special import TextLexer  # type: ignore[import-untyped]
from pygments.util import ClassNotFound  # type: ignore[import-untyped]

if TYPE_CHECKING:
    from collections.abc import Iterable

MAX_DIFF_LINES = 400
MAX_TEXT_CHARS = 200_000  # of one document or file shown; the rest is cut, with a note

# "commonmark" with tables and strikethrough; html False: raw HTML is text.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(
    ["table", "strikethrough"]
)
_formatter = HtmlFormatter(cssclass="code", wrapcode=True)


def cut(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """`text`, or its first `limit` characters and a line saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n… ({len(text) - limit} more characters not shown)"


def markdown(text: str) -> Markup:
    """Markdown as HTML, with any HTML the text holds escaped."""
    return Markup(_markdown.render(cut(text)))  # noqa: S704  # markdown-it escapes it: html off


def code(text: str, filename: str) -> Markup:
    """Source code highlighted for its file name (plain text when pygments knows none)."""
    try:
        lexer = get_lexer_for_filename(filename, stripnl=False)
    except ClassNotFound:
        lexer = TextLexer(stripnl=False)
    # pygments escapes every character of the source; the markup is its own spans.
    return Markup(highlight(cut(text), lexer, _formatter))  # noqa: S704


def decoded(data: bytes) -> str:
    """File content as text (a byte that is not UTF-8 shown as U+FFFD)."""
    return data.decode(errors="replace")


@dataclass(frozen=True)
class DiffLine:
    """One line of a unified diff and what it is."""

    kind: Literal["file", "hunk", "add", "del", "same", "note"]
    text: str


def unified_diff(path: str, old: str | None, new: str | None) -> list[DiffLine]:
    """The unified diff of one file (None: absent on that side), at most MAX_DIFF_LINES lines."""
    before = [] if old is None else old.splitlines(keepends=False)
    after = [] if new is None else new.splitlines(keepends=False)
    lines = difflib.unified_diff(
        before,
        after,
        fromfile="/dev/null" if old is None else f"a/{path}",
        tofile="/dev/null" if new is None else f"b/{path}",
        lineterm="",
    )
    return diff_lines(lines)


def diff_lines(lines: Iterable[str]) -> list[DiffLine]:
    """Lines of a unified diff with their kinds, at most MAX_DIFF_LINES of them."""
    source = list(lines)
    shown: list[DiffLine] = []
    for line in source:
        if len(shown) == MAX_DIFF_LINES:
            shown.append(DiffLine("note", f"… {len(source) - MAX_DIFF_LINES} more lines"))
            break
        shown.append(DiffLine(_kind(line), line))
    return shown


def _kind(line: str) -> Literal["file", "hunk", "add", "del", "same", "note"]:
    if line.startswith(("+++", "---", "diff --git", "index ", "new file", "deleted file")):
        return "file"
    if line.startswith("@@"):
        return "hunk"
    if line.startswith("+"):
        return "add"
    if line.startswith("-"):
        return "del"
    if line.startswith("…"):
        return "note"
    return "same"


@dataclass(frozen=True)
class Excerpt:
    """Lines around one line of a file, numbered; `at` is the line a diagnostic names."""

    path: str
    at: int
    lines: tuple[tuple[int, str], ...]


def excerpt(path: str, text: str, line: int, around: int = 3) -> Excerpt | None:
    """The lines of `text` around `line` (None when the file has no such line)."""
    every = text.splitlines()
    if not 1 <= line <= len(every):
        return None
    first, last = max(1, line - around), min(len(every), line + around)
    return Excerpt(path, line, tuple((n, every[n - 1]) for n in range(first, last + 1)))
