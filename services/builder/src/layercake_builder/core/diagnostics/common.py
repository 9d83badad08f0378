"""What every diagnostics parser shares: caps, a safe JSON read, relative paths, clean text.

Pure and forgiving: nothing here raises on bad input; what cannot be read
comes back as None or empty, and each parser reports what it could read.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import unquote

from layercake_contracts.values import Diagnostic, Severity, TestCounts, project_path_problem

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

MAX_DIAGNOSTICS = 500  # per parse: past this a tool's findings are represented by the first ones
MAX_FINDINGS = 8 * MAX_DIAGNOSTICS  # read per parse, repeats included, before the rest is left
MAX_MESSAGE_CHARS = 2_000  # per message, the closing ellipsis included
MAX_MESSAGE_LINES = 8  # of an assertion or error text, before the stack
MAX_CODE_CHARS = 200
MAX_INPUT_CHARS = 32 * 1024 * 1024  # longer input keeps its head and its tail
MAX_LINE_CHARS = 20_000  # longer lines are cut before any pattern reads them
MAX_BLOCK_LINES = 400  # of one error's block of output
MAX_JSON_STARTS = 8  # places tried when a report is mixed with other output
_MAX_NUMBER = 2**31 - 1

# A file under one of these folders is someone else's code, even inside the project.
NOT_PROJECT_CODE = frozenset({"node_modules", ".venv", "venv", "site-packages", "dist-packages"})

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_URL_SCHEME = re.compile(r"^[A-Za-z][\w+.-]*:")
_JSON_START = re.compile(r"^[\[{]", re.MULTILINE)

_SEVERITY_WORDS = {
    "error": Severity.ERROR,
    "fatal": Severity.ERROR,
    "critical": Severity.ERROR,
    "high": Severity.ERROR,
    "warning": Severity.WARNING,
    "moderate": Severity.WARNING,
    "medium": Severity.WARNING,
    "info": Severity.INFO,
    "note": Severity.INFO,
    "message": Severity.INFO,
    "low": Severity.INFO,
}


@dataclass(frozen=True)
class TestReport:
    """What a test run's report says: the counts, and one diagnostic per failure."""

    __test__: ClassVar[bool] = False  # a value type, not a pytest class

    counts: TestCounts
    diagnostics: tuple[Diagnostic, ...] = ()


def severity_of(word: object, default: Severity = Severity.ERROR) -> Severity:
    """The severity a tool's own word (error, note, moderate, …) stands for."""
    if isinstance(word, str):
        return _SEVERITY_WORDS.get(word.strip().lower(), default)
    return default


def bounded(text: str) -> str:
    """`text`, or its head and tail when it is longer than `MAX_INPUT_CHARS`."""
    if len(text) <= MAX_INPUT_CHARS:
        return text
    half = MAX_INPUT_CHARS // 2
    return f"{text[:half]}\n{text[-half:]}"


def strip_ansi(text: str) -> str:
    """`text` without terminal colour and cursor sequences."""
    return _ANSI.sub("", text)


def text_lines(text: str) -> list[str]:
    """The lines of a tool's plain output, without colours, each cut to `MAX_LINE_CHARS`."""
    return [strip_ansi(line[:MAX_LINE_CHARS]) for line in bounded(text).splitlines()]


def load_json(text: str) -> object:
    """The JSON document in `text`, also when other output surrounds it; None if there is none.

    A report printed to stdout often follows warnings on stderr: a document is
    tried at each line that opens with `{` or `[`, the first that decodes wins.
    """
    if len(text) > MAX_INPUT_CHARS:
        return None
    decoder = json.JSONDecoder()
    for start in islice(_JSON_START.finditer(text), MAX_JSON_STARTS):
        try:
            value, _ = decoder.raw_decode(text, start.start())
        except (ValueError, RecursionError):  # RecursionError: hostile nesting
            continue
        if isinstance(value, dict | list):
            return value
    return None


def field(value: object, *keys: str) -> object:
    """`value[k1][k2]…` of decoded JSON, or None where a level is missing or not an object."""
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def entries(value: object) -> list[object]:
    """`value` if it is a JSON array, else nothing."""
    return value if isinstance(value, list) else []


def string(value: object) -> str | None:
    """`value` if it is a string, else None."""
    return value if isinstance(value, str) else None


def positive_int(value: object) -> int | None:
    """A line or column number from JSON or a regex group; None unless it is 1 or more."""
    if isinstance(value, str) and value.isdecimal() and len(value) <= len(str(_MAX_NUMBER)):
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= _MAX_NUMBER:
        return value
    return None


def relative_path(path: str, root: str) -> str | None:
    """`path` relative to the project `root` (POSIX), or None if it is not a file in the project.

    Relative paths are taken as relative to the root already; `file://` URLs
    are read as paths; `node:internal/…`, `<anonymous>` and the like are not files.
    """
    if path.startswith("file://"):
        path = unquote(path.removeprefix("file://"))
    if _URL_SCHEME.match(path) or "<" in path or ">" in path:
        return None
    if path.startswith("/"):
        prefix = posixpath.normpath(root).rstrip("/") + "/" if root.startswith("/") else None
        path = posixpath.normpath(path)
        if prefix is None or not path.startswith(prefix):
            return None
        path = path.removeprefix(prefix)
    else:
        path = posixpath.normpath(path)
    if path == "." or project_path_problem(path) is not None:
        return None
    return path


def is_project_code(path: str) -> bool:
    """True when a project-relative path is the project's own code, not an installed package."""
    return NOT_PROJECT_CODE.isdisjoint(path.split("/"))


def project_file(path: str, root: str) -> str | None:
    """`path` relative to the root when it is the project's own code; None otherwise."""
    file = relative_path(path, root)
    return file if file is not None and is_project_code(file) else None


def block_under(
    lines: list[str], start: int, ends: Callable[[str], object], limit: int = MAX_BLOCK_LINES
) -> list[str]:
    """The lines from `start` up to the first that `ends` the block (at most `limit`)."""
    block: list[str] = []
    for line in lines[start : start + limit]:
        if ends(line):
            break
        block.append(line)
    return block


def clean_text(text: str, root: str = "", limit: int = MAX_MESSAGE_CHARS) -> str:
    """`text` without colours or control characters, the project root cut out of paths, capped."""
    text = _CONTROL.sub("", strip_ansi(text[: limit * 4]))
    if root.startswith("/") and posixpath.normpath(root) != "/":
        text = text.replace(posixpath.normpath(root) + "/", "")
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def first_lines(lines: Iterable[str], limit: int = MAX_MESSAGE_LINES) -> str:
    """The first `limit` non-blank lines, right-stripped, one per line."""
    kept = (line.rstrip() for line in lines if line.strip())
    return "\n".join(islice(kept, limit))


def diagnostic(
    tool: str,
    severity: Severity,
    message: str,
    *,
    root: str = "",
    file: str | None = None,
    line: object = None,
    column: object = None,
    code: str | None = None,
) -> Diagnostic:
    """A diagnostic with a clean, capped message and code, and only valid line numbers."""
    return Diagnostic(
        tool=tool,
        severity=severity,
        file=file,
        line=positive_int(line),
        column=positive_int(column),
        code=clean_text(code, limit=MAX_CODE_CHARS) or None if code else None,
        message=clean_text(message, root) or "(the tool gave no message)",
    )


def capped(diagnostics: Iterable[Diagnostic]) -> tuple[Diagnostic, ...]:
    """The first `MAX_DIAGNOSTICS` distinct diagnostics, in order, of the first `MAX_FINDINGS`.

    Output that repeats one finding many times is read only as far as `MAX_FINDINGS`.
    """
    seen: dict[Diagnostic, None] = {}
    for found in islice(diagnostics, MAX_FINDINGS):
        seen.setdefault(found)
        if len(seen) >= MAX_DIAGNOSTICS:
            break
    return tuple(seen)
