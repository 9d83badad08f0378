"""The one path rule: every spelling of an escape or of git's folder is refused with a reason."""

from __future__ import annotations

import posixpath
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from layercake_contracts.paths import MAX_DEPTH, project_path_problem
from layercake_contracts.values import FileEntry, Manifest
from layercake_testing.hostile_paths import HOSTILE_PATHS

# Pieces that make the interesting paths: separators, dots, git's folder in
# several spellings, controls and invisible characters, non-ASCII text.
PIECES = st.sampled_from(
    [*"ab./\\ ~:\x00\x85\u200c\u202e\ufeff\u00e9", ".git", "..", "GIT", "git~1", "C:"]
)


@pytest.mark.parametrize(("path", "reason"), HOSTILE_PATHS)
def test_each_hostile_spelling_is_refused_with_its_reason(path, reason):
    """Git's folder in any spelling, controls, bidi, escapes and overlong paths each say why."""
    problem = project_path_problem(path)
    assert problem is not None
    assert reason in problem


@pytest.mark.parametrize(("path", "reason"), HOSTILE_PATHS)
def test_a_manifest_never_holds_a_hostile_path(path, reason):
    """The manifest keeps the same rule, so no consumer has to trust a producer."""
    with pytest.raises(ValidationError, match=re.escape(reason)):
        Manifest({path: FileEntry(sha256="a" * 64, size=1)})


@pytest.mark.parametrize(
    "path",
    [
        "a.py", "src/app.ts", ".github/workflows/ci.yml", ".gitignore", ".gitattributes",
        "git/x", ".gits/x", "a.git/x", "docs/caf\u00e9.md", "\u4e2d\u6587/\u6587\u4ef6.txt",
        "a b/c d.txt", "d/" * (MAX_DEPTH - 1) + "x.py", "x" * 255,
    ],
)  # fmt: skip
def test_ordinary_paths_are_accepted(path):
    """Dotfiles other than git's folder, spaces, non-ASCII names and the bounds themselves pass."""
    assert project_path_problem(path) is None


@given(st.lists(PIECES, max_size=40).map("".join) | st.text(max_size=60))
def test_any_text_gets_an_answer_and_what_passes_stays_under_the_root(path):
    """Never a crash; an accepted path is relative, normalised and lands under the root."""
    problem = project_path_problem(path)
    if problem is not None:
        assert isinstance(problem, str)
        assert problem
        return
    root = "/srv/project"
    assert posixpath.normpath(posixpath.join(root, path)).startswith(root + "/")
    assert posixpath.normpath(path) == path
    assert path.encode()  # valid text, no lone surrogate
