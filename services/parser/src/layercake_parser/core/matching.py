"""Where the lines an edit names stand in a file: aider's tolerance, and no fuzzier.

Three levels, tried in order, and the first that finds the lines anywhere decides:
exact; then ignoring trailing white space; then one uniform indentation shift
(every line of the wanted text indented by the same extra or missing prefix
relative to the file). At the indentation level the replacement gets the same
shift. A changed word, a dropped line or an uneven shift matches nowhere.
Every search is a substring search over the joined lines, so the time stays
linear in the file's length; the check of a shift is bounded by a budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

# How many places are counted before "it matches many places" is enough to say.
MAX_PLACES = 100
# Bounds the line comparisons spent on candidates of the indentation level, and the
# search for "the first line that did not match", on hostile input.
_SCAN_BUDGET = 2_000_000


class Level(StrEnum):
    """How loosely the wanted lines matched."""

    EXACT = "exactly"
    TRAILING = "after ignoring trailing white space"
    INDENTATION = "after ignoring one uniform indentation shift"


@dataclass(frozen=True)
class Place:
    """Where the wanted lines start (0-based line index), and the shift that made them match.

    The replacement's lines lose the prefix `cut` and gain `add`.
    """

    start: int
    cut: str = ""
    add: str = ""


@dataclass(frozen=True)
class Found:
    """The places of the first level that matched anywhere (none: no level did)."""

    level: Level | None
    places: tuple[Place, ...]


def find_places(lines: Sequence[str], wanted: Sequence[str], replacement: Sequence[str]) -> Found:
    """Each place (up to MAX_PLACES) of `wanted` in `lines`, at the strictest level with one."""
    for level, normal in ((Level.EXACT, _same), (Level.TRAILING, str.rstrip)):
        starts = _occurrences(lines, wanted, normal, MAX_PLACES)
        if starts:
            return Found(level, tuple(Place(start) for start in starts))
    places = _shifted_places(lines, wanted, replacement)
    return Found(Level.INDENTATION if places else None, places)


def shifted(replacement: Sequence[str], place: Place) -> tuple[str, ...]:
    """The replacement's lines with the place's indentation shift applied."""
    if not place.cut and not place.add:
        return tuple(replacement)
    return tuple(place.add + line[len(place.cut) :] if line.strip() else "" for line in replacement)


def first_unmatched_line(lines: Sequence[str], wanted: Sequence[str]) -> str | None:
    """The first wanted line no run of `lines` reaches, ignoring white space around each line.

    None when every line is there in order, only not by one uniform shift.
    """
    target = [line.strip() for line in wanted]
    best = 0
    budget = _SCAN_BUDGET
    for start, line in enumerate(lines):
        if line.strip() != target[0]:
            continue
        reach = 1
        while (
            reach < len(target)
            and start + reach < len(lines)
            and lines[start + reach].strip() == target[reach]
        ):
            reach += 1
        best = max(best, reach)
        budget -= reach
        if best == len(target) or budget <= 0:
            break
    return None if best == len(target) else wanted[best]


def describe_places(places: Sequence[Place]) -> str:
    """`lines 2 and 5` (1-based), or `lines 1, 2, 3, 4, 5, ...` when there are more."""
    numbers = [str(place.start + 1) for place in places[:5]]
    if len(places) > len(numbers):
        return "lines " + ", ".join(numbers) + ", ..."
    return "lines " + ", ".join(numbers[:-1]) + " and " + numbers[-1]


def _same(line: str) -> str:
    return line


def _occurrences(
    lines: Sequence[str], wanted: Sequence[str], normal: Callable[[str], str], limit: int
) -> list[int]:
    """The first `limit` line indexes where `wanted` starts, comparing lines after `normal`."""
    text = "\n" + "\n".join(map(normal, lines)) + "\n"
    needle = "\n" + "\n".join(map(normal, wanted)) + "\n"
    starts: list[int] = []
    line, counted = 0, 0
    at = text.find(needle)
    while at >= 0 and len(starts) < limit:
        line += text.count("\n", counted, at)  # the newline at `at` starts line `line`
        counted = at
        starts.append(line)
        at = text.find(needle, at + 1)
    return starts


def _shifted_places(
    lines: Sequence[str], wanted: Sequence[str], replacement: Sequence[str]
) -> tuple[Place, ...]:
    """The places where `wanted` matches with one indentation shift (aider's rule).

    The indentation common to the wanted and replacement lines is cut; each
    candidate (the lines equal once stripped) must then hold every wanted line
    under one and the same prefix of white space.
    """
    cut = _common_indent([*wanted, *replacement])
    dedented = [line[len(cut) :].rstrip() for line in wanted]
    # Each candidate costs a check of every wanted line: their number is what bounds the time.
    candidates = _occurrences(lines, wanted, str.strip, _SCAN_BUDGET // len(wanted))
    places: list[Place] = []
    for start in candidates:
        if len(places) == MAX_PLACES:
            break
        add = _uniform_prefix(lines[start : start + len(wanted)], dedented)
        if add is not None:
            places.append(Place(start, cut, add))
    return tuple(places)


def _uniform_prefix(window: Sequence[str], dedented: Sequence[str]) -> str | None:
    """The one white-space prefix that turns each dedented wanted line into the file's line."""
    prefix: str | None = None
    for line, want in zip(window, dedented, strict=True):
        if not want:
            continue  # a blank line matches a blank line (the stripped search saw to it)
        have = line.rstrip()
        if not have.endswith(want):
            return None
        head = have[: len(have) - len(want)]
        if head.strip() or (prefix is not None and head != prefix):
            return None
        prefix = head
    return prefix


def _common_indent(lines: Sequence[str]) -> str:
    """The leading white space every non-blank line shares."""
    indents = [line[: len(line) - len(line.lstrip(" \t"))] for line in lines if line.strip()]
    if not indents:
        return ""
    first, last = min(indents), max(indents)
    size = 0
    while size < len(first) and first[size] == last[size]:
        size += 1
    return first[:size]
