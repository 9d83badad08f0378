"""Answers cut at the token limit, and answers with nothing to write."""

from __future__ import annotations

from layercake_parser.core.extract import extract

CUT_FENCE = "```js:web/a.js\nexport const a = 1;\n```\n\n```js:web/app.js\nfunction go() {\n  ret"
BASE = {"server/app.py": "def f():\n    return 1\n"}


def test_without_the_flag_an_unclosed_last_fence_is_kept_with_a_warning():
    """A model that forgot its last closing fence: the file is kept, and the answer says so."""
    result = extract(CUT_FENCE)
    assert {f.path for f in result.files} == {"web/a.js", "web/app.js"}
    assert any("web/app.js" in w and "ends inside" in w for w in result.warnings)


def test_a_truncated_answer_does_not_write_its_unclosed_last_file_and_says_so():
    """Cut at the token limit: the closed file is written, the cut one is not, by name."""
    result = extract(CUT_FENCE, truncated=True)
    assert {f.path: f.content for f in result.files} == {"web/a.js": "export const a = 1;\n"}
    assert "the answer was cut at the token limit; `web/app.js` was not written" in result.warnings


def test_a_truncated_answer_does_not_write_a_cut_file_tag_or_the_last_file_of_a_split_block():
    """The cut part of a many-file block is dropped; the parts before it are whole."""
    answer = "```\n// file: web/a.js\nA\n\n// file: web/b.js\nB\n"
    result = extract(answer, truncated=True)
    assert {f.path: f.content for f in result.files} == {"web/a.js": "A\n"}
    assert any("`web/b.js` was not written" in w for w in result.warnings)
    tagged = extract('<file path="web/c.js">\nC', truncated=True)
    assert tagged.files == ()
    assert any("`web/c.js` was not written" in w for w in tagged.warnings)


def test_a_truncated_answer_applies_no_cut_search_replace_or_diff():
    """An edit cut before its end is not applied, and the warning names its file."""
    cut_edit = "server/app.py\n<<<<<<< SEARCH\n    return 1\n=======\n    return"
    result = extract(cut_edit, BASE, truncated=True)
    assert result.files == ()
    assert any("`server/app.py` was not written" in w for w in result.warnings)
    cut_diff = "```diff\n--- a/server/app.py\n+++ b/server/app.py\n@@ -1,2 +1,2 @@\n def f():\n-    return 1\n"
    result = extract(cut_diff, BASE, truncated=True)
    assert result.files == ()
    assert any("`server/app.py` was not written" in w for w in result.warnings)


def test_a_truncated_answer_cut_after_its_last_block_keeps_every_file():
    """Cut in the closing prose: nothing is dropped, and the warning says it was cut."""
    result = extract("```js:web/a.js\nA\n```\n\nNext I will", truncated=True)
    assert [f.path for f in result.files] == ["web/a.js"]
    assert any("anything after them is missing" in w for w in result.warnings)


def test_a_truncated_answer_infers_no_file_from_a_cut_block():
    """A cut Dockerfile block is not guessed into a Dockerfile; a whole one still is."""
    cut = extract("```dockerfile\nFROM python:3.12-slim\nRUN pip ins", truncated=True)
    assert cut.files == ()
    assert any("`Dockerfile` was not written" in w for w in cut.warnings)
    whole = extract("```dockerfile\nFROM python:3.12-slim\n```\n", truncated=True)
    assert [f.path for f in whole.files] == ["Dockerfile"]


def test_an_answer_with_no_edits_and_no_files_says_what_it_said():
    """ "Nothing to fix" comes back as a warning quoting the answer's first line."""
    result = extract("\nNothing to fix here: the tests pass on my side.\n\nRun them again.\n", BASE)
    assert result.files == ()
    said = "Nothing to fix here: the tests pass on my side."
    assert result.warnings == (f"the answer had no edits and no files: it said: {said}",)


def test_an_answer_with_only_refused_edits_is_not_called_empty():
    """Refused edits explain themselves: no 'no edits' warning over them."""
    result = extract("server/app.py\n<<<<<<< SEARCH\nnope\n=======\nx\n>>>>>>> REPLACE\n", BASE)
    assert result.rejected
    assert not any("no edits and no files" in w for w in result.warnings)
