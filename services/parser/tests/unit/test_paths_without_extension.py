"""Paths without an extension in a fence's info string (issue #16, item 8): `sh scripts/run`
is a file, `text .git/config` is refused by path safety, and a block that seems to name a file
but yields none says so."""

from __future__ import annotations

import pytest

from layercake_contracts.events import CodeGenerated, FilesRejected, FilesWritten, ProjectCreated
from layercake_contracts.values import (
    EXECUTABLE_FILE_MODE,
    REGULAR_FILE_MODE,
    FileEntry,
    Gate,
    Manifest,
    Role,
    Usage,
)
from layercake_parser.core.extract import Source, extract
from layercake_parser.core.outcome import outcome
from layercake_parser.core.paths import path_in_info

SCRIPT = "#!/bin/sh\nexec python -m app\n"


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        ("sh scripts/run", ("sh", "scripts/run")),
        ("text .git/config", ("text", ".git/config")),
        ("scripts/run", (None, "scripts/run")),
        ("sh:scripts/run", ("sh", "scripts/run")),
        ("bash bin/deploy-all", ("bash", "bin/deploy-all")),
        ("sh run", ("sh", None)),
        ("python -m", ("python", None)),
        ("sh https://example.com/x", ("sh", None)),
    ],
)
def test_an_info_string_names_a_path_with_a_folder_even_without_an_extension(info, expected):
    """A word with a folder after the language (or alone) is a path; a bare word or a URL is not."""
    assert path_in_info(info) == expected


def test_a_shell_block_named_by_a_path_without_an_extension_is_that_file():
    """```` ```sh scripts/run ````: the script is written, named by its info string."""
    result = extract(f"Add the runner:\n\n```sh scripts/run\n{SCRIPT}```\n")
    assert [(f.path, f.content, f.source) for f in result.files] == [
        ("scripts/run", SCRIPT, Source.FENCE_INFO)
    ]
    assert result.warnings == ()


def test_a_text_block_named_git_config_is_rejected_naming_the_path_and_why():
    """```` ```text .git/config ````: no file, a rejection by the shared path rule."""
    result = extract("```text .git/config\n[core]\n\tbare = false\n```\n")
    assert result.files == ()
    [rejection] = result.rejected
    assert rejection.path == ".git/config"
    assert "inside .git" in rejection.reason


def test_a_shell_block_with_a_word_after_its_language_that_is_no_path_warns_naming_it():
    """```` ```sh run ````: not read as a file (no folder, no extension), and the answer says so."""
    result = extract("```py:a.py\nx = 1\n```\n\n```sh run\necho hi\n```\n")
    assert [f.path for f in result.files] == ["a.py"]
    assert result.warnings == (
        (
            "the sh block at line 5 has `run` after its language, which is not read as a file "
            "path (it has no folder and no extension); not written"
        ),
    )


def test_an_unnamed_shell_session_stays_silent():
    """A plain ```` ```bash ```` block is a command to run, not a file: no warning."""
    assert extract("```py:a.py\nx = 1\n```\n\n```bash\nuv run pytest\n```\n").warnings == ()


def generated(base: Manifest) -> CodeGenerated:
    root = ProjectCreated(project_id="calc", name="calc", intake="a calculator", owner="ada")
    return CodeGenerated.follow(
        root, role=Role.DEVOPS_ENGINEER, gate=Gate.G8, attempt=1, answer="a" * 64, base=base,
        model="m", usage=Usage(), duration_s=0,
    )  # fmt: skip


def test_a_new_file_with_a_shebang_is_executable_and_one_without_is_not():
    """The parser sets modes: `#!` makes a new file 0755; an existing file keeps its mode."""
    base = Manifest({"bin/kept": FileEntry(sha256="b" * 64, size=1, mode=EXECUTABLE_FILE_MODE)})
    answer = (
        f"```sh scripts/run\n{SCRIPT}```\n\n```text notes/plain\nno shebang\n```\n\n"
        "```sh bin/kept\necho still\n```\n"
    )
    result = extract(answer)
    digests = {f.path: ("c" * 64, len(f.content)) for f in result.files}
    event = outcome(generated(base), result, digests)
    assert isinstance(event, FilesWritten)
    assert {path: event.manifest[path].mode for path in event.changed} == {
        "scripts/run": EXECUTABLE_FILE_MODE,
        "notes/plain": REGULAR_FILE_MODE,
        "bin/kept": EXECUTABLE_FILE_MODE,
    }


def test_an_answer_whose_only_block_is_git_config_is_files_rejected_naming_it():
    """Nothing usable: FilesRejected, whose rejected path is `.git/config` with its reason."""
    result = extract("```text .git/config\n[core]\n```\n")
    event = outcome(generated(Manifest()), result, {})
    assert isinstance(event, FilesRejected)
    assert [(r.path, "inside .git" in r.reason) for r in event.rejected] == [(".git/config", True)]


@pytest.mark.parametrize("label", ["`scripts/run`:", "**`scripts/run`**", "### File: scripts/run"])
def test_a_marked_label_names_a_path_with_a_folder_and_a_shebang_makes_a_shell_block_a_file(label):
    """Backticks or `File:` mark the line as a name: `scripts/run`, whose `#!` is no session."""
    result = extract(f"{label}\n```sh\n{SCRIPT}```\n")
    assert [(f.path, f.content) for f in result.files] == [("scripts/run", SCRIPT)]


def test_a_marked_label_naming_a_shell_session_is_not_written_and_says_so():
    """`scripts/run` over a prompt's output: not that file, and the warning names it."""
    result = extract("`scripts/run`:\n```sh\n$ ./scripts/run\nok\n```\n")
    assert result.files == ()
    assert any("scripts/run" in w and "not written" in w for w in result.warnings)


@pytest.mark.parametrize("prose", ["and/or", "## CI/CD", "**Client/Server**", "Input/Output:"])
def test_prose_with_a_slash_before_a_block_names_no_file(prose):
    """A heading or a line of prose with a slash is no name: the block is warned of as unnamed."""
    result = extract(f"{prose}\n```python\nx = 1\n```\n")
    assert result.files == ()
    assert "the python block at line 2 names no file; not written" in result.warnings
