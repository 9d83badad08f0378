"""Split a model's answer into segments: fenced blocks, `<file>` tags and loose text.

One pass over the lines, each line looked at a bounded number of times, so the
time is linear in the answer's length whatever it holds (an unclosed fence, a
line of ten thousand backticks). Nothing here decides what is a file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from layercake_parser.core.paths import path_in_info, path_in_label, path_in_marker

if TYPE_CHECKING:
    from collections.abc import Sequence

_OPENER = re.compile(r"^(?P<indent>[ \t]{0,16})(?P<fence>`{3,}(?=[^`]*$)|~{3,})(?P<info>.*)$")
_FILE_TAG = re.compile(r"^\s*<file\b(?P<attrs>[^>]*)>(?P<rest>.*)$", re.IGNORECASE)
_FILE_PATH_ATTR = re.compile(r"""\bpath\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_FILE_END = "</file>"
SEARCH_HEAD = re.compile(r"^\s*<{5,9} ?SEARCH\b.*$")
REPLACE_END = re.compile(r"^\s*>{5,9} ?REPLACE\b.*$")
# A label may sit on the line before a fence, with at most this many blank lines between.
_LABEL_REACH = 1
_CHEAP_OPENERS = ("```", "~~~")
WRAPPER_LANGUAGES = frozenset({"markdown", "md"})


@dataclass(frozen=True)
class Fenced:
    """A fenced code block: its info string, its lines, and the prose line just before it."""

    line: int
    info: str
    body: tuple[str, ...]
    closed: bool
    label: str | None


@dataclass(frozen=True)
class Tagged:
    """A `<file path="...">...</file>` block."""

    line: int
    path: str
    body: tuple[str, ...]
    closed: bool


@dataclass(frozen=True)
class Loose:
    """Lines outside any block: prose, and maybe SEARCH/REPLACE blocks or diffs."""

    line: int
    body: tuple[str, ...]


Segment = Fenced | Tagged | Loose


def split_lines(answer: str) -> list[str]:
    """The answer's lines with CRLF and CR made LF; no trailing empty line."""
    text = answer.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def read(lines: list[str]) -> list[Segment]:
    """The answer's segments, with a markdown wrapper around the answer (or part of it) removed.

    A whole answer in one ```` ```markdown ```` (or `md`) fence is unwrapped first, by its
    first and last lines, so an inner block opened by a bare fence cannot close the
    wrapper early. Then an unnamed markdown block that holds blocks or edits is read as
    part of the answer. The wrapper's fence lines become blank, so line numbers stay.
    """
    lines = _unwrap_whole(lines)
    segments = scan(lines)
    wrappers = [s for s in segments if isinstance(s, Fenced) and _is_wrapper(s)]
    if not wrappers:
        return segments
    lines = list(lines)  # the caller's lines stay as they were
    for wrapper in wrappers:
        lines[wrapper.line - 1] = ""
        if wrapper.closed:
            lines[wrapper.line + len(wrapper.body)] = ""
    return scan(lines)


def _unwrap_whole(lines: list[str]) -> list[str]:
    start = next((index for index, line in enumerate(lines) if line.strip()), None)
    if start is None or not lines[start].lstrip().startswith(_CHEAP_OPENERS):
        return lines
    opener = _OPENER.match(lines[start])
    if opener is None or opener.group("info").strip().lower() not in WRAPPER_LANGUAGES:
        return lines
    end = next(index for index in range(len(lines) - 1, -1, -1) if lines[index].strip())
    fence, last = opener.group("fence"), lines[end].strip()
    closed = end > start and last.startswith(fence) and not last.strip(fence[0])
    if not _holds_answer(lines[start + 1 : end if closed else len(lines)]):
        return lines
    unwrapped = list(lines)
    unwrapped[start] = ""
    if closed:
        unwrapped[end] = ""
    return unwrapped


def _is_wrapper(block: Fenced) -> bool:
    """An unnamed markdown block that holds blocks, tags or edits: an answer in a wrapper."""
    if not block.info.lower().startswith(("md", "markdown")):  # the cheap test first
        return False
    language, path = path_in_info(block.info)
    if language not in WRAPPER_LANGUAGES or path is not None:
        return False
    if block.label is not None and path_in_label(block.label) is not None:
        return False
    return _holds_answer(block.body)


def _holds_answer(body: Sequence[str]) -> bool:
    """Lines that open no file of their own (no marker first) and hold blocks, tags or edits."""
    first = next((line for line in body if line.strip()), "")
    if path_in_marker(first) is not None:
        return False
    return any(
        line.lstrip(" \t").startswith(_CHEAP_OPENERS)
        or SEARCH_HEAD.match(line)
        or _FILE_TAG.match(line)
        for line in body
    )


def scan(lines: list[str]) -> list[Segment]:
    """The answer's segments, in order."""
    segments: list[Segment] = []
    loose: list[str] = []
    loose_start = 0
    index = 0
    last_prose: int | None = None  # index of the last non-blank loose line

    def flush() -> None:
        if loose:
            segments.append(Loose(loose_start + 1, tuple(loose)))
            loose.clear()

    while index < len(lines):
        line = lines[index]
        stripped = line.lstrip(" \t")
        opener = _OPENER.match(line) if stripped.startswith(_CHEAP_OPENERS) else None
        tag = _FILE_TAG.match(line) if stripped[:5].lower() == "<file" else None
        if opener is not None:
            label = None
            if last_prose is not None and index - last_prose <= _LABEL_REACH + 1:
                label = lines[last_prose]
            flush()
            block, index = _read_fenced(lines, index, opener, label)
            segments.append(block)
            last_prose = None
            loose_start = index
            continue
        if tag is not None and (path := _tag_path(tag.group("attrs"))) is not None:
            flush()
            tagged, index = _read_tagged(lines, index, path, tag.group("rest"))
            segments.append(tagged)
            last_prose = None
            loose_start = index
            continue
        if not loose:
            loose_start = index
        end = _loose_run_end(lines, index)
        loose.extend(lines[index:end])
        if line.strip():
            last_prose = end - 1
        index = end
    flush()
    return segments


def _loose_run_end(lines: list[str], index: int) -> int:
    """Where the loose run starting at `index` ends: the next line, or past a whole edit block.

    A loose SEARCH/REPLACE block is read whole, so fences inside it are its text.
    """
    end = index + 1
    if "<<<<<" in lines[index] and SEARCH_HEAD.match(lines[index]):
        while end < len(lines) and not REPLACE_END.match(lines[end - 1]):
            end += 1
    return end


def _read_fenced(
    lines: list[str], start: int, opener: re.Match[str], label: str | None
) -> tuple[Fenced, int]:
    indent = len(opener.group("indent"))
    fence = opener.group("fence")
    char, length = fence[0], len(fence)
    prefix = char * length
    info = opener.group("info").strip()
    depth = 0
    end = len(lines)
    closed = False
    for index in range(start + 1, len(lines)):
        line = lines[index]
        if prefix not in line:  # the cheap test first: most lines hold no fence at all
            continue
        stripped = line.lstrip(" \t")
        if not stripped.startswith(prefix):
            continue
        stripped = stripped.rstrip()
        rest = stripped.lstrip(char).strip()
        if not rest:
            if depth == 0:
                end, closed = index, True
                break
            depth -= 1
        elif char == "~" or "`" not in rest:
            # A labelled fence inside: a README showing code. Its bare closer is content.
            depth += 1
    body = lines[start + 1 : end]
    if indent:
        body = [_dedent(line, indent) for line in body]
    return Fenced(start + 1, info, tuple(body), closed, label), end + 1 if closed else end


def _read_tagged(lines: list[str], start: int, path: str, rest: str) -> tuple[Tagged, int]:
    body: list[str] = []
    index, text = start, rest
    while True:
        end = text.find(_FILE_END)
        if end >= 0:
            if text[:end].strip():
                body.append(text[:end])
            return Tagged(start + 1, path, _unwrap_fence(body), closed=True), index + 1
        if index > start or text.strip():
            body.append(text)
        index += 1
        if index == len(lines):
            return Tagged(start + 1, path, _unwrap_fence(body), closed=False), index
        text = lines[index]


def _tag_path(attrs: str) -> str | None:
    found = _FILE_PATH_ATTR.search(attrs)
    if found is None:
        return None
    return next(group for group in found.groups() if group is not None)


def _unwrap_fence(body: list[str]) -> tuple[str, ...]:
    """`<file>` content wrapped in a fence is the fence's content."""
    start = next((i for i, line in enumerate(body) if line.strip()), None)
    end = next((i for i in range(len(body) - 1, -1, -1) if body[i].strip()), None)
    if start is None or end is None or start == end:
        return tuple(body)
    opener = _OPENER.match(body[start])
    closer = body[end].strip()
    if opener and closer.startswith(opener.group("fence")) and not closer.strip(closer[0]):
        return tuple(body[start + 1 : end])
    return tuple(body)


def _dedent(line: str, width: int) -> str:
    """Remove up to `width` leading spaces or tabs (a fence indented in a list)."""
    if width == 0:
        return line
    cut = 0
    while cut < width and cut < len(line) and line[cut] in " \t":
        cut += 1
    return line[cut:]
