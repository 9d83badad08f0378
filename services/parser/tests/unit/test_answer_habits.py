"""Habits of real answers: several files in one block, paths in numbered or bold headings,
a whole answer wrapped in a markdown fence, a README whose fence holds fences."""

from __future__ import annotations

import pytest

from layercake_parser.core.extract import extract


def contents(answer: str) -> dict[str, str]:
    result = extract(answer)
    return {f.path: f.content for f in result.files}


@pytest.mark.parametrize(
    ("marker", "a", "b"),
    [
        ("// file: {}", "web/a.js", "web/b.js"),
        ("# path: {}", "server/a.py", "server/b.py"),
        ("<!-- file: {} -->", "web/a.html", "web/b.html"),
        ("# {}", "server/a.py", "server/b.py"),
        ("/* {} */", "web/a.css", "web/b.css"),
    ],
)
def test_several_files_in_one_block_each_under_its_own_marker_line(marker, a, b):
    """Each marker line starts the next file; the blank line between them is no part of either."""
    first, second = marker.format(a), marker.format(b)
    answer = f"Both files:\n\n```\n{first}\nalpha\n  more\n\n{second}\nbeta\n```\n"
    assert contents(answer) == {a: "alpha\n  more\n", b: "beta\n"}


def test_a_marker_line_naming_another_file_inside_a_labelled_block_starts_that_file():
    """A block named by its label whose first line repeats the name splits at the next marker."""
    answer = (
        "**server/app.py**\n```python\n# server/app.py\nimport db\n\n# server/db.py\nX = 1\n```\n"
    )
    assert contents(answer) == {"server/app.py": "import db\n", "server/db.py": "X = 1\n"}


def test_a_comment_naming_a_file_inside_code_that_starts_without_a_marker_is_content():
    """Only a block that opens with a marker is split: a lone path comment later is code."""
    answer = "```python:server/app.py\nimport db\n# config.py\nX = 1\n```\n"
    assert contents(answer) == {"server/app.py": "import db\n# config.py\nX = 1\n"}


@pytest.mark.parametrize(
    "label",
    [
        "1. **server/app.py**",
        "### 2. `server/app.py`",
        "**File: server/app.py**",
        "**1. server/app.py**",
        "### File 2: server/app.py",
        "### server/app.py (updated)",
        "**server/app.py** (new)",
        "**File**: server/app.py",
        "#### 3) `server/app.py`:",
    ],
)
def test_a_path_in_a_numbered_or_bold_heading_names_the_next_block(label):
    """Headings as models number and embolden them name the file below them."""
    answer = f"{label}\n\n```python\nprint(1)\n```\n"
    assert contents(answer) == {"server/app.py": "print(1)\n"}


def test_a_whole_answer_wrapped_in_a_markdown_fence_is_read_as_the_answer():
    """Unwrapped: the files inside come out, even an inner block opened by a bare fence."""
    answer = (
        "```markdown\nHere are the files.\n\n### server/app.py\n```python\nprint(1)\n```\n\n"
        "web/index.html\n```\n<p>hi</p>\n```\n```\n"
    )
    assert contents(answer) == {"server/app.py": "print(1)\n", "web/index.html": "<p>hi</p>\n"}


def test_an_unnamed_md_block_holding_named_blocks_is_read_as_part_of_the_answer():
    """A ```md block that names no file, after prose, is an answer in a wrapper too."""
    answer = "Sure:\n\n```md\n`a.py`\n```py\nx = 1\n```\n```\n\nDone.\n"
    result = extract(answer)
    assert {f.path: f.content for f in result.files} == {"a.py": "x = 1\n"}
    assert not any("names no file" in w for w in result.warnings)


def test_a_named_markdown_block_is_a_file_not_a_wrapper():
    """`README.md` in a markdown fence stays a file, with its inner blocks as content."""
    answer = "README.md\n```markdown\n# App\n\n```sh\nnpm test\n```\n\nMore.\n```\n"
    assert contents(answer) == {"README.md": "# App\n\n```sh\nnpm test\n```\n\nMore.\n"}


def test_a_readme_fence_holding_fences_ends_at_the_bare_fence_that_balances_it():
    """Openers with an info string inside are nested; the file after the README is its own."""
    answer = (
        "`README.md`\n```markdown\n# Tally\n\n```sh\nuv run tally\n```\n\n```python\nimport tally\n"
        "```\n```\n\n`tally/cli.py`\n```python\nprint(2)\n```\n"
    )
    assert contents(answer) == {
        "README.md": "# Tally\n\n```sh\nuv run tally\n```\n\n```python\nimport tally\n```\n",
        "tally/cli.py": "print(2)\n",
    }


def test_a_markdown_block_that_opens_with_a_marker_is_that_file_not_a_wrapper():
    """`<!-- file: README.md -->` first in an unnamed markdown fence: the README, nested blocks and all."""
    answer = "```markdown\n<!-- file: README.md -->\n# App\n\n```sh\nnpm test\n```\n```\n"
    assert contents(answer) == {"README.md": "# App\n\n```sh\nnpm test\n```\n"}
