"""Edits a model writes against existing files: SEARCH/REPLACE blocks and unified diffs.

Parsing turns lines into edit values; applying checks each edit against the
file's current text exactly (after line-ending normalisation). An edit that
does not match is refused with the first line that did not match: never
applied fuzzily, never dropped in silence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from layercake_parser.core.paths import path_in_label
from layercake_parser.core.scan import REPLACE_END, SEARCH_HEAD

_DIVIDER = re.compile(r"^\s*={5,9}\s*$")
_OLD_HEADER = re.compile(r"^--- (?P<path>\S[^\t]*?)(?:\t.*)?\s*$")
_NEW_HEADER = re.compile(r"^\+\+\+ (?P<path>\S[^\t]*?)(?:\t.*)?\s*$")
_HUNK = re.compile(r"^@@ -(?P<old>\d+)(?:,\d+)? \+(?P<new>\d+)(?:,\d+)? @@")
_DEV_NULL = "/dev/null"
# Bounds the search for "the first line that did not match" on hostile input.
_MISMATCH_SCAN_BUDGET = 2_000_000
_MAX_COUNTED = 100


class EditRejected(Exception):  # an outcome of an edit, named for what happened
    """An edit that cannot be applied; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SearchReplace:
    """Replace `search` with `replace` in `path`; an empty `search` creates the file."""

    path: str | None
    search: tuple[str, ...]
    replace: tuple[str, ...]
    line: int
    complete: bool


@dataclass(frozen=True)
class Hunk:
    """One hunk: the old lines (context and removed) and the new (context and added)."""

    old_start: int
    old: tuple[str, ...]
    new: tuple[str, ...]


@dataclass(frozen=True)
class Patch:
    """A unified diff for one file; a None path is /dev/null (create or delete)."""

    old_path: str | None
    new_path: str | None
    hunks: tuple[Hunk, ...]
    line: int

    @property
    def path(self) -> str | None:
        """The file the patch is about."""
        return self.new_path or self.old_path


def has_search_replace(lines: tuple[str, ...]) -> bool:
    """True when the lines hold a SEARCH/REPLACE block."""
    return any("<<<<<" in line and SEARCH_HEAD.match(line) for line in lines)


def parse_search_replace(
    lines: tuple[str, ...], first_line: int, default_path: str | None
) -> list[SearchReplace]:
    """The SEARCH/REPLACE blocks in `lines`, each with the path named before it."""
    edits: list[SearchReplace] = []
    path = default_path
    index = 0
    while index < len(lines):
        line = lines[index]
        if not SEARCH_HEAD.match(line):
            label = path_in_label(line) if line.strip() else None
            path = label or path
            index += 1
            continue
        start = index
        search, index = _until(lines, index + 1, _DIVIDER)
        replace, index = (
            _until(lines, index + 1, REPLACE_END) if index < len(lines) else ([], index)
        )
        complete = index < len(lines)
        edits.append(
            SearchReplace(path, tuple(search), tuple(replace), first_line + start, complete)
        )
        index += 1
    return edits


def _until(lines: tuple[str, ...], index: int, end: re.Pattern[str]) -> tuple[list[str], int]:
    taken: list[str] = []
    while index < len(lines) and not end.match(lines[index]):
        taken.append(lines[index])
        index += 1
    return taken, index


def apply_search_replace(content: str | None, edit: SearchReplace) -> tuple[str, int]:
    """The file's text after the edit, and how many times SEARCH occurred."""
    replace = _text(edit.replace)
    if not any(line.strip() for line in edit.search):
        if content:
            raise EditRejected("empty SEARCH on a file that already has content")
        return replace, 1
    if content is None:
        raise EditRejected("SEARCH/REPLACE on a file that does not exist")
    # Matches start at a line start: "  x" must not match inside "    x".
    search, haystack = "\n" + _text(edit.search), "\n" + content
    position = haystack.find(search)
    if position < 0:
        first = first_unmatched_line(content.split("\n"), list(edit.search))
        raise EditRejected(f"SEARCH text not found; first line that did not match: {first!r}")
    occurrences, at = 0, position
    while at >= 0 and occurrences < _MAX_COUNTED:
        occurrences += 1
        at = haystack.find(search, at + 1)
    end = position + len(search) - 1
    return content[:position] + replace + content[end:], occurrences


def first_unmatched_line(content: list[str], wanted: list[str]) -> str:
    """The first line of `wanted` that no run of `content` reaches, matching from its start."""
    best = 0
    budget = _MISMATCH_SCAN_BUDGET
    for start, line in enumerate(content):
        if line != wanted[0]:
            continue
        reach = 1
        while (
            reach < len(wanted)
            and start + reach < len(content)
            and content[start + reach] == wanted[reach]
        ):
            reach += 1
        best = max(best, reach)
        budget -= reach
        if best == len(wanted) or budget <= 0:
            break
    return wanted[min(best, len(wanted) - 1)]


def looks_like_diff(lines: tuple[str, ...]) -> bool:
    """True when the lines hold a unified diff header followed by a hunk."""
    if any(_is_file_header(lines, index) for index in range(len(lines))):
        return True
    return any(line.startswith("@@ -") and _HUNK.match(line) for line in lines)


def parse_patches(lines: tuple[str, ...], first_line: int, default_path: str | None) -> list[Patch]:
    """The unified diffs in `lines`; bare hunks belong to `default_path`."""
    patches: list[Patch] = []
    index = 0
    while index < len(lines):
        old = _OLD_HEADER.match(lines[index])
        new = _NEW_HEADER.match(lines[index + 1]) if index + 1 < len(lines) else None
        if old and new:
            start = index
            hunks, index = _read_hunks(lines, index + 2)
            old_path, new_path = _strip_prefixes(old.group("path"), new.group("path"))
            patches.append(Patch(old_path, new_path, hunks, first_line + start))
            continue
        if default_path is not None and _HUNK.match(lines[index]):
            start = index
            hunks, index = _read_hunks(lines, index)
            patches.append(Patch(default_path, default_path, hunks, first_line + start))
            continue
        index += 1
    return patches


def _strip_prefixes(old: str, new: str) -> tuple[str | None, str | None]:
    if old.startswith("a/") and new.startswith("b/"):
        old, new = old[2:], new[2:]
    elif old.startswith("a/") and new == _DEV_NULL:
        old = old[2:]
    elif old == _DEV_NULL and new.startswith("b/"):
        new = new[2:]
    return (None if old == _DEV_NULL else old), (None if new == _DEV_NULL else new)


def _read_hunks(lines: tuple[str, ...], index: int) -> tuple[tuple[Hunk, ...], int]:
    hunks: list[Hunk] = []
    while index < len(lines):
        header = _HUNK.match(lines[index])
        if header is None:
            break
        old: list[str] = []
        new: list[str] = []
        index += 1
        while index < len(lines) and _is_hunk_line(lines, index):
            line = lines[index]
            tag, text = (line[:1], line[1:]) if line else (" ", "")
            if tag in " -":
                old.append(text)
            if tag in " +":
                new.append(text)
            index += 1
        hunks.append(Hunk(int(header.group("old")), tuple(old), tuple(new)))
    return tuple(hunks), index


def _is_hunk_line(lines: tuple[str, ...], index: int) -> bool:
    line = lines[index]
    if line.startswith("\\") or _is_file_header(lines, index):
        return (
            False  # "\ No newline at end of file" (our files always end in one), or the next file
        )
    if line == "":
        # A blank context line whose space the model dropped, if the hunk goes on.
        return (
            index + 1 < len(lines)
            and lines[index + 1][:1] in {" ", "+", "-"}
            and not _is_file_header(lines, index + 1)
        )
    return line[0] in " +-"


def _is_file_header(lines: tuple[str, ...], index: int) -> bool:
    return (
        lines[index].startswith("--- ")
        and index + 1 < len(lines)
        and lines[index + 1].startswith("+++ ")
    )


def apply_patch(content: str | None, patch: Patch) -> str | None:
    """The file's text after the patch; None when the patch deletes the file."""
    if patch.new_path is None:
        if content is None:
            raise EditRejected("diff deletes a file that does not exist")
        return None
    if patch.old_path is None and content:
        raise EditRejected("diff creates a file that already exists")
    lines = _lines(content or "")
    offset = 0
    for number, hunk in enumerate(patch.hunks, start=1):
        expected = max(hunk.old_start - 1, 0) + offset
        position = _locate(lines, hunk.old, expected)
        if position is None:
            first = first_unmatched_line(lines, list(hunk.old))
            raise EditRejected(
                f"hunk {number} (@@ -{hunk.old_start}) does not apply; "
                f"first line that did not match: {first!r}"
            )
        lines[position : position + len(hunk.old)] = hunk.new
        offset += position - expected + len(hunk.new) - len(hunk.old)
    return _text(tuple(lines))


def _locate(lines: list[str], old: tuple[str, ...], expected: int) -> int | None:
    """Where `old` stands in `lines`: at `expected` if it is there, else the nearest match."""
    if not old:
        return min(expected, len(lines))
    width = len(old)
    if lines[expected : expected + width] == list(old):
        return expected
    first = old[0]
    matches = [
        start
        for start, line in enumerate(lines)
        if line == first and tuple(lines[start : start + width]) == old
    ]
    return min(matches, key=lambda start: abs(start - expected)) if matches else None


def _lines(content: str) -> list[str]:
    if not content:
        return []
    return content.split("\n")[:-1] if content.endswith("\n") else content.split("\n")


def _text(lines: tuple[str, ...]) -> str:
    return "\n".join(lines) + "\n" if lines else ""
