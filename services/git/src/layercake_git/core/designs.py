"""G4's design options: once a person chose one, only that one goes on.

The designer writes each option as `design/option-<x>.html` (the paths its
role template asks for, and the ledger's G4 proof). The gate's branch keeps
every option; from G4's approval on, main and every later gate's tree hold the
chosen one only. Pure: paths in, paths out.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, TypeVar

from layercake_contracts.values import Gate

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

DESIGN_OPTION = re.compile(r"^design/(option-[a-z0-9]+)\.html$", re.IGNORECASE)
_Entry = TypeVar("_Entry")


def choice_for_build(chosen: str | None, gate: Gate) -> str | None:
    """The choice a build of `gate` keeps to: none at G4, whose branch holds every option."""
    return None if gate is Gate.G4 else chosen


def unchosen_designs(paths: Iterable[str], chosen: str | None) -> set[str]:
    """The design options among `paths` other than `chosen` (none before a choice)."""
    if chosen is None:
        return set()
    return {
        path
        for path in paths
        if (found := DESIGN_OPTION.match(path)) and found.group(1).lower() != chosen.lower()
    }


def without(tree: Mapping[str, _Entry], paths: set[str]) -> dict[str, _Entry]:
    """`tree` less `paths`."""
    return {path: entry for path, entry in tree.items() if path not in paths}
