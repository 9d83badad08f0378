"""SEARCH/REPLACE blocks and unified diffs against a base tree: every outcome."""

from __future__ import annotations

from layercake_parser.core.extract import extract

BASE = {
    "app/calc.py": "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n",
    "README.md": "# Calc\r\nOld line\r\n",
}


def sr(path: str, search: str, replace: str) -> str:
    return f"{path}\n```python\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```\n"


def test_search_replace_applies_in_order_several_per_file():
    """Two edits to one file, the second seeing the first's result."""
    answer = (
        sr("app/calc.py", "    return a - b\n", "    return a + b\n")
        + "\nand then\n\n"
        + sr("app/calc.py", "    return a + b\n", "    return b + a\n")
    )
    [file] = extract(answer, BASE).files
    assert file.path == "app/calc.py"
    assert file.source.value == "search_replace"
    assert file.content.startswith("def add(a, b):\n    return b + a\n")


def test_several_blocks_in_one_fence_and_without_a_fence():
    """Blocks inside one fence share its path; loose blocks take the line before them."""
    answer = (
        "app/calc.py\n```\n<<<<<<< SEARCH\n    return a - b\n=======\n    return a + b\n"
        ">>>>>>> REPLACE\n<<<<<<< SEARCH\n    return a * b\n=======\n    return b * a\n"
        ">>>>>>> REPLACE\n```\n\nREADME.md\n<<<<<<< SEARCH\nOld line\n=======\nNew line\n"
        ">>>>>>> REPLACE\n"
    )
    files = {f.path: f.content for f in extract(answer, BASE).files}
    assert "return a + b" in files["app/calc.py"]
    assert "return b * a" in files["app/calc.py"]
    assert files["README.md"] == "# Calc\nNew line\n", "CRLF in the base is normalised first"


def test_empty_search_creates_a_file():
    """An empty SEARCH makes a new file from REPLACE."""
    [file] = extract(sr("app/new.py", "", "x = 1\n"), BASE).files
    assert (file.path, file.content) == ("app/new.py", "x = 1\n")


def test_empty_search_on_an_existing_file_is_refused():
    """It would silently overwrite content, so it is rejected."""
    result = extract(sr("app/calc.py", "", "x = 1\n"), BASE)
    assert result.files == ()
    assert "already has content" in result.rejected[0].reason


def test_search_text_not_in_file_names_path_and_first_unmatched_line():
    """No fuzzy application: the edit is rejected with the first line that did not match."""
    answer = sr("app/calc.py", "def add(a, b):\n    return a + b  # wrong\n", "x\n")
    result = extract(answer, BASE)
    assert result.files == ()
    [rejection] = result.rejected
    assert rejection.path == "app/calc.py"
    assert "first line that did not match: '    return a + b  # wrong'" in rejection.reason


def test_whitespace_difference_is_not_matched_fuzzily():
    """A SEARCH with different indentation is refused, not applied."""
    result = extract(sr("app/calc.py", "  return a - b\n", "  return a + b\n"), BASE)
    assert result.files == ()
    assert "'  return a - b'" in result.rejected[0].reason


def test_failed_edit_does_not_stop_the_rest():
    """One bad edit is listed; the good edit and the new file still come out."""
    answer = (
        sr("app/calc.py", "nope\n", "x\n")
        + sr("app/calc.py", "    return a - b\n", "    return a + b\n")
        + "```py:app/extra.py\ny = 2\n```\n"
    )
    result = extract(answer, BASE)
    assert sorted(f.path for f in result.files) == ["app/calc.py", "app/extra.py"]
    assert len(result.rejected) == 1


def test_edit_on_a_missing_file_and_edit_without_a_path_are_rejected():
    """Both are refused with a reason."""
    missing = extract(sr("app/ghost.py", "x\n", "y\n"), BASE)
    assert "does not exist" in missing.rejected[0].reason
    nameless = extract("<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n", BASE)
    assert "names no file" in nameless.rejected[0].reason


def test_ambiguous_search_replaces_the_first_with_a_warning():
    """SEARCH text found twice: the first occurrence is replaced and the answer says so."""
    base = {"a.py": "x = 1\nx = 1\n"}
    result = extract(sr("a.py", "x = 1\n", "x = 2\n"), base)
    assert result.files[0].content == "x = 2\nx = 1\n"
    assert any("occurs 2 times" in w for w in result.warnings)


def test_cut_off_edit_is_rejected():
    """An answer that ends inside a SEARCH/REPLACE block does not half-apply it."""
    result = extract("app/calc.py\n<<<<<<< SEARCH\n    return a - b\n=======\n    return", BASE)
    assert result.files == ()
    assert "cut off" in result.rejected[0].reason


def test_unified_diff_applies_with_context_checked():
    """A git-style diff changes the file; a later hunk applies after an earlier one moved lines."""
    answer = (
        "```diff\n--- a/app/calc.py\n+++ b/app/calc.py\n@@ -1,2 +1,3 @@\n"
        " def add(a, b):\n-    return a - b\n+    # fixed\n+    return a + b\n"
        "@@ -5,2 +6,2 @@\n def mul(a, b):\n-    return a * b\n+    return b * a\n```\n"
    )
    [file] = extract(answer, BASE).files
    assert file.source.value == "unified_diff"
    assert file.content == (
        "def add(a, b):\n    # fixed\n    return a + b\n\n\ndef mul(a, b):\n    return b * a\n"
    )


def test_unified_diff_with_wrong_line_numbers_finds_its_context():
    """The hunk's context is found elsewhere in the file (offset), exactly."""
    answer = "--- a/app/calc.py\n+++ b/app/calc.py\n@@ -40,1 +40,1 @@\n-    return a * b\n+    return 0\n"
    [file] = extract(answer, BASE).files
    assert file.content.endswith("def mul(a, b):\n    return 0\n")


def test_unified_diff_whose_context_is_absent_is_rejected():
    """Context that is not in the file: rejected with the first unmatched line."""
    answer = "--- a/app/calc.py\n+++ b/app/calc.py\n@@ -1,2 +1,2 @@\n def add(x, y):\n-    return a - b\n+    return 1\n"
    result = extract(answer, BASE)
    assert result.files == ()
    assert "'def add(x, y):'" in result.rejected[0].reason


def test_unified_diff_creates_and_deletes_files():
    """/dev/null on the old side creates, on the new side deletes."""
    answer = (
        "--- /dev/null\n+++ b/app/new.py\n@@ -0,0 +1,2 @@\n+a = 1\n+b = 2\n\n"
        "--- a/README.md\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-# Calc\n-Old line\n"
    )
    result = extract(answer, BASE)
    assert [(f.path, f.content) for f in result.files] == [("app/new.py", "a = 1\nb = 2\n")]
    assert result.deleted == ("README.md",)
