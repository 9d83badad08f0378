"""SEARCH/REPLACE blocks and unified diffs against a base tree: every outcome.

The tolerance is aider's (trailing white space, one uniform indentation shift) and no
fuzzier; an ambiguous SEARCH is refused, never applied to the first place.
"""

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


SERVER = (
    "class Store:\n"
    "    def get(self, key):\n"
    "        value = self.data.get(key)\n"
    "        return value\n"
    "\n"
    "    def put(self, key, value):\n"
    "        self.data[key] = value\n"
)


def test_an_edit_whose_search_lost_the_files_trailing_white_space_applies():
    """The file's lines end in spaces the model did not copy: the edit still applies."""
    base = {"a.py": "x = 1   \ny = 2\t\nz = 3\n"}
    result = extract(sr("a.py", "x = 1\ny = 2\n", "x = 10\ny = 20\n"), base)
    assert result.rejected == ()
    assert result.files[0].content == "x = 10\ny = 20\nz = 3\n"


def test_an_edit_indented_four_less_than_the_file_applies_and_its_replacement_is_reindented():
    """SEARCH written at column 0 for a method body: REPLACE gets the file's four spaces back."""
    search = "def get(self, key):\n    value = self.data.get(key)\n    return value\n"
    replace = (
        "def get(self, key):\n    if key not in self.data:\n        raise KeyError(key)\n"
        "\n    return self.data[key]\n"
    )
    result = extract(sr("server/store.py", search, replace), {"server/store.py": SERVER})
    assert result.rejected == ()
    assert result.files[0].content == (
        "class Store:\n"
        "    def get(self, key):\n"
        "        if key not in self.data:\n"
        "            raise KeyError(key)\n"
        "\n"
        "        return self.data[key]\n"
        "\n"
        "    def put(self, key, value):\n"
        "        self.data[key] = value\n"
    )


def test_an_edit_indented_more_than_the_file_applies_and_its_replacement_is_dedented():
    """SEARCH copied from inside a list item, two spaces too deep: REPLACE loses the same two."""
    base = {"a.py": "def f():\n    return 1\n"}
    result = extract(
        sr("a.py", "  def f():\n      return 1\n", "  def f():\n      return 2\n"), base
    )
    assert result.rejected == ()
    assert result.files[0].content == "def f():\n    return 2\n"


def test_an_ambiguous_search_is_refused_naming_both_lines_and_the_file_is_unchanged():
    """Found twice: refused with both line numbers, and the first place is not edited."""
    base = {"a.py": "def f():\n    x = 1\n\ndef g():\n    x = 1\n"}
    result = extract(sr("a.py", "x = 1\n", "x = 2\n"), base)
    assert result.files == ()
    [rejection] = result.rejected
    assert rejection.path == "a.py"
    assert "matches 2 places" in rejection.reason
    assert "lines 2 and 5" in rejection.reason


def test_an_exact_search_found_twice_is_refused_too():
    """Exact text at two places is as ambiguous as loose text: not applied to the first."""
    base = {"a.py": "x = 1\nx = 1\n"}
    result = extract(sr("a.py", "x = 1\n", "x = 2\n"), base)
    assert result.files == ()
    assert "lines 1 and 2" in result.rejected[0].reason


def test_an_exact_match_wins_over_a_looser_one_elsewhere():
    """The exact place is used even when an indentation-shifted copy exists too."""
    base = {"a.py": "x = 1\nif y:\n    x = 1\n"}
    result = extract(sr("a.py", "x = 1\n", "x = 2\n"), base)
    assert result.files[0].content == "x = 2\nif y:\n    x = 1\n"


def test_a_fuzzier_near_miss_is_refused_with_the_first_line_that_did_not_match():
    """A changed word is not a white-space difference: refused, naming the line."""
    search = "def get(self, key):\n    value = self.data.get(name)\n    return value\n"
    result = extract(sr("server/store.py", search, "x\n"), {"server/store.py": SERVER})
    assert result.files == ()
    reason = result.rejected[0].reason
    assert "first line that did not match: '    value = self.data.get(name)'" in reason


def test_an_uneven_indentation_difference_is_refused_and_says_so():
    """Every line is there, but shifted by different amounts: not one uniform shift, refused."""
    base = {"a.py": "if a:\n    b()\n    c()\n"}
    result = extract(sr("a.py", "if a:\n  b()\n    c()\n", "pass\n"), base)
    assert result.files == ()
    assert "not by one uniform indentation shift" in result.rejected[0].reason


def test_a_diff_whose_context_lost_its_indentation_applies_with_the_shift():
    """The same tolerance for a unified diff's context lines: its added lines are re-indented."""
    answer = (
        "```diff\n--- a/server/store.py\n+++ b/server/store.py\n@@ -6,2 +6,3 @@\n"
        " def put(self, key, value):\n-    self.data[key] = value\n"
        "+    self.data[key] = value\n+    self.save()\n```\n"
    )
    result = extract(answer, {"server/store.py": SERVER})
    assert result.rejected == ()
    assert result.files[0].content.endswith(
        "    def put(self, key, value):\n        self.data[key] = value\n        self.save()\n"
    )
