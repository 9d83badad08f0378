"""Each way a model names a file, one test each, through `extract`."""

from __future__ import annotations

import pytest

from layercake_parser.core.extract import Source, extract


def files_of(answer: str, base: dict[str, str] | None = None) -> dict[str, tuple[str, str]]:
    result = extract(answer, base)
    return {f.path: (f.content, f.source.value) for f in result.files}


@pytest.mark.parametrize(
    "info",
    [
        "ts:src/a.ts",
        "ts src/a.ts",
        "src/a.ts",
        'ts title="src/a.ts"',
        "ts file=src/a.ts",
        "ts filename='src/a.ts'",
        'ts {path="src/a.ts"}',
    ],
)
def test_path_in_the_info_string(info):
    """Every info-string form names the file."""
    answer = f"Intro.\n\n```{info}\nexport const a = 1;\n```\n"
    assert files_of(answer) == {"src/a.ts": ("export const a = 1;\n", "fence_info")}


@pytest.mark.parametrize(
    "label",
    [
        "src/a.ts",
        "`src/a.ts`",
        "**src/a.ts**",
        "### src/a.ts",
        "### File: src/a.ts",
        "src/a.ts:",
        "Create `src/a.ts`:",
        "1. `src/a.ts`",
        "**File:** `src/a.ts`",
    ],
)
def test_path_on_the_line_before_the_fence(label):
    """A label line just before the fence (one blank line allowed) names the file."""
    for gap in ("\n", "\n\n"):
        answer = f"{label}{gap}```ts\nexport const a = 1;\n```\n"
        assert files_of(answer) == {"src/a.ts": ("export const a = 1;\n", "fence_label")}, gap


def test_label_too_far_before_the_fence_is_not_used():
    """Two blank lines between label and fence: the label belongs to something else."""
    result = extract("src/a.ts\n\n\n```ts\nx\n```\n")
    assert result.files == ()
    assert any("names no file" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("first", "lang"),
    [
        ("// File: src/a.ts", "ts"),
        ("// src/a.ts", "ts"),
        ("# file: src/a.ts", "python"),
        ("/* src/a.ts */", "css"),
        ("<!-- src/a.ts -->", "html"),
        ("-- src/a.ts", "sql"),
    ],
)
def test_path_in_a_marker_comment_on_the_first_line(first, lang):
    """The marker line names the file and is not part of its content."""
    answer = f"```{lang}\n{first}\nbody line\n```\n"
    assert files_of(answer) == {"src/a.ts": ("body line\n", "marker_comment")}


def test_marker_naming_the_same_path_as_the_info_string_is_dropped():
    """A marker that repeats the path is not content; a different comment is kept."""
    same = files_of("```ts:src/a.ts\n// src/a.ts\nx\n```\n")
    assert same["src/a.ts"][0] == "x\n"
    other = files_of("```ts:src/a.ts\n// helpers.ts\nx\n```\n")
    assert other["src/a.ts"][0] == "// helpers.ts\nx\n"


def test_shebang_and_prose_comments_are_not_markers():
    """A first line like #!/bin/sh or '# Setup steps' keeps the block unnamed."""
    result = extract("```python\n# compute the totals\nx = 1\n```\n")
    assert result.files == ()


@pytest.mark.parametrize("fence", ["````", "~~~", "~~~~~", "``````"])
def test_longer_and_tilde_fences(fence):
    """Fences of 3+ backticks or tildes work; the closer must be at least as long."""
    answer = f"```py:a.py\nx\n```\n{fence}md:README.md\n# Demo\n```bash\nrun\n```\n{fence}\n"
    files = files_of(answer)
    assert files["a.py"][0] == "x\n"
    assert files["README.md"][0] == "# Demo\n```bash\nrun\n```\n"


def test_readme_with_same_length_inner_fences_keeps_them_as_content():
    """A labelled inner fence in a three-backtick block opens a nested block, not the end."""
    answer = (
        "```md:README.md\n# App\n\n```bash\nnpm test\n```\n\nDone.\n```\n\n```ts:b.ts\ny\n```\n"
    )
    files = files_of(answer)
    assert files["README.md"][0] == "# App\n\n```bash\nnpm test\n```\n\nDone.\n"
    assert files["b.ts"][0] == "y\n"


def test_fence_indented_in_a_list():
    """An indented fence inside a list item: indentation up to the fence's own is removed."""
    answer = "1. `src/a.py`:\n\n   ```python\n   def f():\n       return 1\n   ```\n"
    assert files_of(answer) == {"src/a.py": ("def f():\n    return 1\n", "fence_label")}


def test_file_tags():
    """<file path="..."> blocks, with and without an inner fence, in one answer."""
    answer = (
        'Files:\n<file path="src/a.py">\nx = 1\n</file>\n'
        "<file path='src/b.py'>\n```python\ny = 2\n```\n</file>\n"
    )
    assert files_of(answer) == {
        "src/a.py": ("x = 1\n", "file_tag"),
        "src/b.py": ("y = 2\n", "file_tag"),
    }


@pytest.mark.parametrize("lang", ["bash", "sh", "console", "text", "shell", ""])
def test_shell_sessions_and_unlabelled_blocks_are_never_files(lang):
    """Commands, output and unnamed examples are not written."""
    answer = f"Run this:\n\n```{lang}\n$ npm install\nadded 3 packages\n```\n"
    assert extract(answer).files == ()


def test_shell_block_after_a_prose_path_is_not_written_into_that_file():
    """'In `app.py`:' before a bash block does not turn the command into app.py."""
    result = extract("Now run `app.py`:\n```bash\npython app.py --port 80\n```\n")
    assert result.files == ()
    assert any("shell session" in w for w in result.warnings)


def test_shell_script_with_a_path_is_a_file():
    """A bash block explicitly named as a script is written."""
    files = files_of("scripts/setup.sh\n```bash\nset -e\nnpm ci\n```\n")
    assert files == {"scripts/setup.sh": ("set -e\nnpm ci\n", "fence_label")}


def test_content_rules_lf_empty_and_utf8():
    """CRLF becomes LF, an empty block is an empty file, UTF-8 stays as it is."""
    answer = "```txt:a.txt\r\nnaïve — 日本\r\n```\r\n```txt:empty.txt\n```\n"
    assert files_of(answer) == {
        "a.txt": ("naïve — 日本\n", "fence_info"),
        "empty.txt": ("", "fence_info"),
    }


def test_same_path_twice_last_wins_with_a_warning():
    """The later block replaces the earlier one, and the answer says so."""
    result = extract("```py:a.py\nold\n```\n```py:a.py\nnew\n```\n")
    assert [(f.path, f.content) for f in result.files] == [("a.py", "new\n")]
    assert any("the last one wins" in w for w in result.warnings)


def test_answer_cut_off_inside_its_last_block_keeps_the_file():
    """max_tokens mid-block: the file is kept, with a warning."""
    result = extract("```py:a.py\nx = 1\n```\n```py:b.py\ndef f(:\n    ret")
    assert {f.path: f.content for f in result.files} == {
        "a.py": "x = 1\n",
        "b.py": "def f(:\n    ret\n",
    }
    assert any("b.py" in w and "ends inside" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("lang", "content", "expected"),
    [
        ("json", '{"name": "app", "scripts": {"test": "jest"}}', "package.json"),
        ("dockerfile", "FROM python:3.12-slim\nCOPY . /app", "Dockerfile"),
        ("toml", '[project]\nname = "app"', "pyproject.toml"),
    ],
)
def test_path_inferred_only_where_unambiguous(lang, content, expected):
    """package.json, Dockerfile and pyproject.toml are recognised and marked inferred."""
    result = extract(f"```{lang}\n{content}\n```\n")
    assert [(f.path, f.source) for f in result.files] == [(expected, Source.INFERRED)]


def test_inference_never_guesses_between_two_candidates_or_over_an_explicit_file():
    """Two package.json-like blocks, or one plus an explicit package.json: nothing inferred."""
    pkg = '```json\n{"name": "a", "dependencies": {}}\n```\n'
    assert extract(pkg + pkg).files == ()
    explicit = extract(pkg + '```json:package.json\n{"name": "b"}\n```\n')
    assert [(f.path, f.content) for f in explicit.files] == [("package.json", '{"name": "b"}\n')]
    assert extract('```json\n{"compilerOptions": {}}\n```\n').files == ()


@pytest.mark.parametrize("name", ["__init__.py", "_private.py", "pkg/__main__.py"])
def test_underscores_in_a_label_are_part_of_the_name(name):
    """Emphasis marks are removed only as a matching pair around the whole label."""
    for label in (name, f"**{name}**", f"`{name}`", f"__{name}__"):
        assert list(files_of(f"{label}\n```python\nx\n```\n")) == [name], label
