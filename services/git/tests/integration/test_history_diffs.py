"""The history answer with each commit's diff, bounded: what the dashboard's commits section shows."""

from __future__ import annotations

from layercake_contracts.rpc import MAX_DIFF_CHARS, HistoryQuestion
from layercake_git.core.history import bounded_patch

APP = b"print('hello')\n"


async def test_history_with_diffs_gives_each_commit_its_patch_against_its_parent(
    service, build, blobs
):
    """The second build's diff shows its one changed line; without `diffs` there is none."""
    await service.commit_build(build({"app.py": APP}), blobs)
    await service.commit_build(build({"app.py": b"print('bye')\n"}, attempt=2), blobs)
    plain = await service.history(HistoryQuestion(project_id="shop"))
    assert [c.diff for c in plain.commits] == [None, None]
    newest, first = (await service.history(HistoryQuestion(project_id="shop", diffs=True))).commits
    assert "-print('hello')\n+print('bye')\n" in newest.diff
    assert ".gitignore" not in newest.diff
    assert "+++ b/app.py" in first.diff
    assert "+++ b/.gitignore" in first.diff
    assert not newest.diff_truncated


async def test_a_huge_diff_is_cut_at_a_line_with_a_note(service, build, blobs):
    """A file of 50 000 characters: the patch stops within the bound and says what it left out."""
    big = "".join(f"line {n}\n" for n in range(6000)).encode()
    await service.commit_build(build({"big.txt": big}), blobs)
    (commit,) = (await service.history(HistoryQuestion(project_id="shop", diffs=True))).commits
    assert commit.diff_truncated
    body, note = commit.diff.rsplit("\n", 2)[0], commit.diff.splitlines()[-1]
    assert len(body) <= MAX_DIFF_CHARS
    assert note.startswith("… ")
    assert note.endswith("more characters of this diff not shown")


def test_a_patch_within_its_bound_is_kept_whole():
    """Nothing is cut, and nothing is said, when the patch fits."""
    assert bounded_patch("a\nb\n", 10) == ("a\nb\n", False)
    assert bounded_patch("abc\ndef\n", 6) == (
        "abc\n… 4 more characters of this diff not shown\n",
        True,
    )
