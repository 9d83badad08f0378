"""Paths that could escape the tree are refused with a reason; the rest of the answer is used."""

from __future__ import annotations

import pytest

from layercake_contracts.paths import project_path_problem
from layercake_parser.core.extract import extract
from layercake_parser.core.paths import safe_path
from layercake_testing.hostile_paths import HOSTILE_PATHS


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("/etc/passwd", "absolute path"),
        ("C:\\Windows\\x.txt", "drive letter"),
        ("../x.py", "leaves the project tree"),
        ("a/../../x.py", "leaves the project tree"),
        (".git/hooks/post-commit", ".git"),
        ("src/.GIT/config", ".git"),
        ("a\x00b.py", "control"),
        ("a\x1bb.py", "control"),
        ("src//a.py", "empty path segment"),
        ("src/", "folder"),
        ("~/.ssh/authorized_keys", "home"),
        ("a/" + "x" * 300 + ".py", "longer than 255"),
        ("d/" * 2100 + "a.py", "longer than 4096"),
    ],
)
def test_unsafe_paths_are_refused_with_a_reason(raw, reason):
    """Each rule has its own clear reason."""
    verdict = safe_path(raw)
    assert verdict.path is None
    assert reason in (verdict.reason or "")


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("./src/a.py", "src/a.py"),
        ("src\\win\\a.py", "src/win/a.py"),
        ("src/./a.py", "src/a.py"),
        ("src/lib/../a.py", "src/a.py"),
        (" src/a.py ", "src/a.py"),
    ],
)
def test_harmless_forms_are_normalised_first(raw, normalised):
    """./, backslashes and inner .. are normalised, then accepted."""
    assert safe_path(raw).path == normalised


def test_rejected_paths_do_not_stop_the_rest_of_the_answer():
    """A bad path in the middle is listed; the files around it come out."""
    answer = (
        "```py:a.py\na\n```\n```sh:../../../etc/cron.d/x\nrm -rf /\n```\n"
        '<file path=".git/hooks/pre-commit">\nevil\n</file>\n```py:b.py\nb\n```\n'
    )
    result = extract(answer)
    assert [f.path for f in result.files] == ["a.py", "b.py"]
    assert [r.path for r in result.rejected] == ["../../../etc/cron.d/x", ".git/hooks/pre-commit"]


def test_edits_to_unsafe_paths_are_refused_too():
    """SEARCH/REPLACE and diffs pass the same path gate."""
    answer = (
        "../outside.py\n<<<<<<< SEARCH\n=======\nx\n>>>>>>> REPLACE\n"
        "--- /dev/null\n+++ b/.git/config\n@@ -0,0 +1 @@\n+[core]\n"
    )
    result = extract(answer, {})
    assert result.files == ()
    assert sorted(r.reason for r in result.rejected) == [
        "'..' leaves the project tree",
        "path inside .git, git's own folder (segment '.git')",
    ]


@pytest.mark.parametrize(("path", "reason"), HOSTILE_PATHS)
def test_each_spelling_git_or_a_filesystem_would_misread_is_refused_and_never_written(path, reason):
    """The parser applies the shared rule, so nothing it writes is refused later by git."""
    verdict = safe_path(path)
    assert verdict.path is None
    assert reason in (verdict.reason or "")
    result = extract(f'```txt title={path}\nx\n```\n<file path="{path}">\ny\n</file>\n')
    # A line separator inside the path ends the label line there: what is left is another path.
    assert path not in {f.path for f in result.files}
    assert all(project_path_problem(f.path) is None for f in result.files)
