"""`extract(answer, base)`: the files a model's answer writes, and what it refused.

Pure: text in, values out. The scanner splits the answer into segments; this
module decides what each segment means (a whole file, edits, a diff, a shell
session that is not a file) and applies the results, in order, to a copy of
`base`. Every path passes `safe_path` first; a refused path or edit is listed
with its reason and the rest of the answer is still used.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from layercake_parser.core.applying import (
    ExtractedFile,
    Extraction,
    Operation,
    Rejection,
    Source,
    Tree,
    Write,
)
from layercake_parser.core.edits import (
    has_search_replace,
    looks_like_diff,
    parse_patches,
    parse_search_replace,
)
from layercake_parser.core.paths import (
    path_in_info,
    path_in_label,
    path_in_marker,
    unread_name_in_info,
)
from layercake_parser.core.scan import Fenced, Loose, Segment, Tagged, read, split_lines

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["ExtractedFile", "Extraction", "Rejection", "Source", "extract"]

SHELL_LANGUAGES = frozenset(
    {
        "bash", "sh", "shell", "zsh", "fish", "console", "terminal", "shell-session",
        "shellsession", "powershell", "pwsh", "ps", "ps1", "cmd", "bat", "batch",
    }
)  # fmt: skip
TEXT_LANGUAGES = frozenset({"text", "txt", "plaintext", "plain", "output", "log"})
DIFF_LANGUAGES = frozenset({"diff", "patch", "udiff"})
SCRIPT_SUFFIXES = (".sh", ".bash", ".zsh", ".fish", ".ps1", ".bat", ".cmd")
_CONSOLE_PROMPT = re.compile(r"^\s*(?:\$|>|PS [^>]*>|C:\\[^>]*>)\s")
_QUOTED = 200  # characters of the answer quoted when nothing came out of it
_PYPROJECT = re.compile(r"^\[(?:project|build-system|tool\.poetry)\]\s*$", re.MULTILINE)
_PACKAGE_JSON_KEYS = frozenset({"scripts", "dependencies", "devDependencies"})


def extract(
    answer: str, base: Mapping[str, str] | None = None, *, truncated: bool = False
) -> Extraction:
    """The files `answer` writes (whole or as edits of `base`), what it refused, and warnings.

    `truncated`: the answer was cut at the token limit, so the file or edit it ends
    inside is not written (without it, such a file is kept with a warning).
    """
    lines = split_lines(answer)
    operations: list[Operation] = []
    inferred: list[Write] = []
    warnings: list[str] = []
    segments = read(lines)
    for index, segment in enumerate(segments):
        _interpret(segment, operations, inferred, warnings, last=index == len(segments) - 1)
    tree = Tree(base or {}, warnings, cut=truncated)
    for operation in operations:
        tree.apply(operation)
    tree.add_inferred(inferred)
    return tree.result(said=lambda: _first_words(lines))


def _first_words(lines: list[str]) -> str:
    """The answer's first line of prose (or of anything), cut to a readable length."""
    filled = (line.strip() for line in lines if line.strip())
    first = next(filled, "")
    if first.startswith(("```", "~~~")):
        first = next((line for line in filled if not line.startswith(("```", "~~~"))), first)
    if not first:
        return "nothing (the answer was empty)"
    return first if len(first) <= _QUOTED else first[: _QUOTED - 1] + "\u2026"


def _interpret(
    segment: Segment,
    operations: list[Operation],
    inferred: list[Write],
    warnings: list[str],
    *,
    last: bool,
) -> None:
    if isinstance(segment, Loose):
        if has_search_replace(segment.body):
            operations.extend(parse_search_replace(segment.body, segment.line, None))
        if looks_like_diff(segment.body):
            operations.extend(parse_patches(segment.body, segment.line, None, closed=not last))
    elif isinstance(segment, Tagged):
        if has_search_replace(segment.body):
            operations.extend(parse_search_replace(segment.body, segment.line + 1, segment.path))
        else:
            operations.append(
                Write(
                    segment.path, _text(segment.body), Source.FILE_TAG, segment.line,
                    unclosed=not segment.closed,
                )
            )  # fmt: skip
    else:
        _interpret_fenced(segment, operations, inferred, warnings)


def _interpret_fenced(
    block: Fenced, operations: list[Operation], inferred: list[Write], warnings: list[str]
) -> None:
    language, info_path = path_in_info(block.info)
    label_path = path_in_label(block.label) if block.label else None
    named = info_path or label_path
    text = _text(block.body)
    if "<<<<<" in text and has_search_replace(block.body):
        operations.extend(parse_search_replace(block.body, block.line + 1, named))
        return
    maybe_diff = "+++ " in text or "@@ -" in text
    if language in DIFF_LANGUAGES or (
        info_path is None and maybe_diff and looks_like_diff(block.body)
    ):
        operations.extend(parse_patches(block.body, block.line + 1, named, closed=block.closed))
        return
    for part in _parts_of(block, info_path, label_path):
        if part.path is None:
            _unnamed(block, language, part.body, inferred, warnings)
        elif part.source is not Source.FENCE_INFO and not _may_be_file(
            language, part.path, part.body
        ):
            warnings.append(
                f"the {language or 'unlabelled'} block at line {block.line} looks like a shell "
                f"session or output, not the content of {part.path}; not written"
            )
        else:
            content = _text(part.body)
            unclosed = not part.closed
            operations.append(Write(part.path, content, part.source, block.line, unclosed=unclosed))


@dataclass(frozen=True)
class _Part:
    """One file of a fenced block: its path (None: unnamed), where the path came from, content."""

    path: str | None
    source: Source
    body: tuple[str, ...]
    closed: bool


def _parts_of(block: Fenced, info_path: str | None, label_path: str | None) -> list[_Part]:
    """The block's files: one, or one per marker line when its first line is a marker.

    A block that opens with `// file: a.js` (or `# a.py`, `<!-- file: … -->`) may hold
    several files, each under its own marker line; the blank lines before a marker
    belong to neither file. A block that opens without one is one file, whatever
    comments it holds.
    """
    body = block.body
    path, source = info_path, Source.FENCE_INFO
    if path is None and label_path is not None:
        path, source = label_path, Source.FENCE_LABEL
    marker = path_in_marker(body[0]) if body else None
    if marker is None or (path is not None and marker != path):
        return [_Part(path, source, body, block.closed)]
    if path is None:
        path, source = marker, Source.MARKER_COMMENT
    parts: list[_Part] = []
    start = 1
    for index in range(1, len(body)):
        following = path_in_marker(body[index])
        if following is not None:
            parts.append(_Part(path, source, _without_blank_end(body[start:index]), closed=True))
            path, source, start = following, Source.MARKER_COMMENT, index + 1
    parts.append(_Part(path, source, body[start:], block.closed))
    return parts


def _without_blank_end(lines: tuple[str, ...]) -> tuple[str, ...]:
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    return lines[:end]


def _unnamed(
    block: Fenced,
    language: str | None,
    body: tuple[str, ...],
    inferred: list[Write],
    warnings: list[str],
) -> None:
    """A block that names no file: inferred from its content, or not a file at all."""
    if not block.closed:
        warnings.append(
            f"the block opened at line {block.line} is never closed; "
            "it names no file, so nothing was written"
        )
    guess = _infer_path(language, body)
    if guess is not None:
        unclosed = not block.closed
        inferred.append(Write(guess, _text(body), Source.INFERRED, block.line, unclosed=unclosed))
    elif word := unread_name_in_info(block.info):
        warnings.append(
            f"the {language} block at line {block.line} has `{word}` after its language, "
            "which is not read as a file path (it has no folder and no extension); not written"
        )
    elif language and language not in SHELL_LANGUAGES | TEXT_LANGUAGES:
        warnings.append(f"the {language} block at line {block.line} names no file; not written")


def _may_be_file(language: str | None, path: str, body: tuple[str, ...]) -> bool:
    """Whether a block whose path came from prose may really be that file."""
    first = next((line for line in body if line.strip()), "")
    if language in SHELL_LANGUAGES:  # a script says so by its name or its `#!`; a session not
        return path.endswith(SCRIPT_SUFFIXES) or first.startswith("#!")
    return not (_CONSOLE_PROMPT.match(first) and not path.endswith(SCRIPT_SUFFIXES))


def _infer_path(language: str | None, body: tuple[str, ...]) -> str | None:
    """A path read from content, only where the content cannot be anything else."""
    text = "\n".join(body)
    if language == "json":
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if isinstance(data, dict) and "name" in data and _PACKAGE_JSON_KEYS & data.keys():
            return "package.json"
    if language in {"dockerfile", "docker", "containerfile"}:
        first = next((ln for ln in body if ln.strip() and not ln.lstrip().startswith("#")), "")
        if first.upper().startswith(("FROM ", "ARG ")):
            return "Dockerfile"
    if language == "toml" and _PYPROJECT.search(text):
        return "pyproject.toml"
    return None


def _text(lines: tuple[str, ...]) -> str:
    return "\n".join(lines) + "\n" if lines else ""
