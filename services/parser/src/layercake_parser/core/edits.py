"""Edits a model writes against existing files: SEARCH/REPLACE blocks and unified diffs.

Parsing turns lines into edit values; applying finds each edit's lines in the
file's current text (after line-ending normalisation) with aider's tolerance
(`matching`: exact, then trailing white space, then one uniform indentation
shift). An edit that does not match, or a SEARCH that matches at two places,
is refused with the reason: never applied fuzzily, never dropped in silence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from layercake_parser.core.matching import (
    MAX_PLACES,
    Place,
    describe_places,
    find_places,
    first_unmatched_line,
    shifted,
)
from layercake_parser.core.paths import path_in_label
from layercake_parser.core.scan import REPLACE_END, SEARCH_HEAD

_DIVIDER = re.compile(r"^\s*={5,9}\s*$")
_OLD_HEADER = re.compile(r"^--- (?P<path>\S[^\t]*?)(?:\t.*)?\s*$")
_NEW_HEADER = re.compile(r"^\+\+\+ (?P<path>\S[^\t]*?)(?:\t.*)?\s*$")
_HUNK = re.compile(r"^@@ -(?P<old>\d+)(?:,\d+)? \+(?P<new>\d+)(?:,\d+)? @@")
_DEV_NULL = "/dev/null"


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
    complete: bool = True  # False: the answer may end inside its last hunk

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


def apply_search_replace(content: str | None, edit: SearchReplace) -> str:
    """The file's text after the edit; refused unless SEARCH stands at exactly one place."""
    if not any(line.strip() for line in edit.search):
        if content:
            raise EditRejected("empty SEARCH on a file that already has content")
        return _text(edit.replace)
    if content is None:
        raise EditRejected("SEARCH/REPLACE on a file that does not exist")
    lines = _lines(content)
    found = find_places(lines, edit.search, edit.replace)
    if found.level is None:
        raise EditRejected(f"SEARCH text not found; {_mismatch(lines, edit.search)}")
    if len(found.places) > 1:
        count = f"{len(found.places)}{'+' if len(found.places) == MAX_PLACES else ''}"
        raise EditRejected(
            f"SEARCH text matches {count} places {found.level} "
            f"({describe_places(found.places)} of the file); not applied: make it match one"
        )
    [place] = found.places
    lines[place.start : place.start + len(edit.search)] = shifted(edit.replace, place)
    return _text(tuple(lines))


def _mismatch(lines: list[str], wanted: tuple[str, ...]) -> str:
    first = first_unmatched_line(lines, wanted)
    if first is None:
        return "its lines are all there, but not by one uniform indentation shift"
    return f"first line that did not match: {first!r}"


def looks_like_diff(lines: tuple[str, ...]) -> bool:
    """True when the lines hold a unified diff header followed by a hunk."""
    if any(_is_file_header(lines, index) for index in range(len(lines))):
        return True
    return any(line.startswith("@@ -") and _HUNK.match(line) for line in lines)


def parse_patches(
    lines: tuple[str, ...], first_line: int, default_path: str | None, *, closed: bool
) -> list[Patch]:
    """The unified diffs in `lines`; bare hunks belong to `default_path`.

    `closed`: something follows `lines` in the answer, so a diff that runs to their end is whole.
    """
    patches: list[Patch] = []
    index = 0
    while index < len(lines):
        old = _OLD_HEADER.match(lines[index])
        new = _NEW_HEADER.match(lines[index + 1]) if index + 1 < len(lines) else None
        if old and new:
            start = index
            hunks, index = _read_hunks(lines, index + 2)
            old_path, new_path = _strip_prefixes(old.group("path"), new.group("path"))
            complete = closed or index < len(lines)
            patches.append(Patch(old_path, new_path, hunks, first_line + start, complete))
            continue
        if default_path is not None and _HUNK.match(lines[index]):
            start = index
            hunks, index = _read_hunks(lines, index)
            complete = closed or index < len(lines)
            patches.append(Patch(default_path, default_path, hunks, first_line + start, complete))
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
        place = _locate(lines, hunk, expected)
        if place is None:
            raise EditRejected(
                f"hunk {number} (@@ -{hunk.old_start}) does not apply; {_mismatch(lines, hunk.old)}"
            )
        lines[place.start : place.start + len(hunk.old)] = shifted(hunk.new, place)
        offset += place.start - expected + len(hunk.new) - len(hunk.old)
    return _text(tuple(lines))


def _locate(lines: list[str], hunk: Hunk, expected: int) -> Place | None:
    """Where the hunk's old lines stand: at `expected` if they are there, else the nearest place.

    The hunk's line numbers say which place is meant, so several are no ambiguity here.
    """
    old = hunk.old
    if not old:
        return Place(min(expected, len(lines)))
    if lines[expected : expected + len(old)] == list(old):
        return Place(expected)
    places = find_places(lines, old, hunk.new).places
    return min(places, key=lambda place: abs(place.start - expected)) if places else None


def _lines(content: str) -> list[str]:
    if not content:
        return []
    return content.split("\n")[:-1] if content.endswith("\n") else content.split("\n")


def _text(lines: tuple[str, ...]) -> str:
    return "\n".join(lines) + "\n" if lines else ""
