from __future__ import annotations

import pytest
from pydantic import ValidationError

from layercake_contracts.values import (
    FileEntry,
    Manifest,
    Usage,
    project_path_problem,
)


def entry(char: str, mode: int = 0o644) -> FileEntry:
    return FileEntry(sha256=char * 64, size=1, mode=mode)


def test_diff_gives_added_changed_and_deleted():
    """Content and mode changes count as changed; the lists are sorted."""
    old = Manifest({"a": entry("a"), "b": entry("b"), "c": entry("c"), "d": entry("d")})
    new = Manifest({"a": entry("a"), "b": entry("f"), "d": entry("d", 0o755), "e": entry("e")})
    diff = old.diff(new)
    assert diff.added == ("e",)
    assert diff.changed == ("b", "d")
    assert diff.deleted == ("c",)
    assert not diff.is_empty
    assert new.diff(new).is_empty


def test_updated_applies_changes_and_deletions():
    """updated() returns a new manifest and leaves the old one alone."""
    old = Manifest({"a": entry("a"), "b": entry("b")})
    new = old.updated({"c": entry("c")}, deleted=frozenset({"a"}))
    assert sorted(new) == ["b", "c"]
    assert sorted(old) == ["a", "b"]


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/etc/passwd", "absolute"),
        ("../x", "'..'"),
        ("a/../../x", "'..'"),
        ("a//b", "empty path segment"),
        ("./a", "not normalised"),
        (".git/hooks/post-commit", ".git"),
        ("a\\b", "backslash"),
        ("a\x00b", "control"),
        ("", "empty"),
        ("a/" + "x" * 300, "segment longer"),
    ],
)
def test_unsafe_manifest_paths_are_refused(path, problem):
    """A manifest never names a path outside its tree; the error says why."""
    assert problem in (project_path_problem(path) or "")
    with pytest.raises(ValidationError, match="manifest path"):
        Manifest({path: entry("a")})


def test_file_modes_are_regular_or_executable():
    """Only 0644 and 0755 travel; a setuid mode is refused."""
    with pytest.raises(ValidationError, match="mode"):
        FileEntry(sha256="a" * 64, size=1, mode=0o4755)  # type: ignore[arg-type]


def test_usage_adds_up():
    """Usage sums field by field and totals every token."""
    total = Usage(input_tokens=1, output_tokens=2, cost_usd=0.5) + Usage(
        input_tokens=3, cache_read_tokens=4, cost_usd=0.25
    )
    assert (total.input_tokens, total.output_tokens, total.cache_read_tokens) == (
        4,
        2,
        4,
    )
    assert total.total_tokens == 10
    assert total.cost_usd == pytest.approx(0.75)
