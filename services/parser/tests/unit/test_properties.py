"""Property tests: accepted paths never escape; rendered files always parse back."""

from __future__ import annotations

import os
import posixpath

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layercake_contracts.values import project_path_problem
from layercake_parser.core.extract import extract
from layercake_parser.core.paths import safe_path

PATH_ALPHABET = st.sampled_from([*"ab./\\-_ ~:\x00\n\t", ".git", "..", "GIT", "é"])


@given(st.lists(PATH_ALPHABET, max_size=30).map("".join))
def test_an_accepted_path_is_relative_normalised_and_inside(raw):
    """Whatever the input, a path that passes is safe by the contract's own rules."""
    verdict = safe_path(raw)
    if verdict.path is None:
        assert verdict.reason
        return
    path = verdict.path
    assert not path.startswith("/")
    assert posixpath.normpath(path) == path
    assert ".." not in path.split("/")
    assert ".git" not in path.lower().split("/")
    assert project_path_problem(path) is None


SEGMENT = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=8)
EXTENSION = st.sampled_from(["py", "ts", "md", "json", "txt", "css", "html", "toml"])
PATH = st.builds(
    lambda folders, name, ext: "/".join([*folders, f"{name}.{ext}"]),
    st.lists(SEGMENT, max_size=3),
    SEGMENT,
    EXTENSION,
) | st.builds(  # no extension, in a folder: a file only where an info string names it
    lambda folders, name: "/".join([*folders, name]),
    st.lists(SEGMENT, min_size=1, max_size=3),
    SEGMENT,
)
LINE = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc"), blacklist_characters="\r\n\x85\u2028\u2029"
    ),
    max_size=40,
) | st.sampled_from(["```", "```python", "~~~", "    ```js", "# heading", "", "  ", "`x`"])
CONTENT = st.lists(LINE, max_size=12).filter(
    lambda lines: not any("<<<<<" in ln or ln.startswith(("--- ", "+++ ", "@@ ")) for ln in lines)
)
INFO_FORMATS = ("info_colon", "info_space", "title")
FORMATS = ["info_colon", "info_space", "title", "label_bare", "label_backtick", "label_heading",
           "label_bold", "label_numbered", "label_numbered_heading", "label_bold_file", "tag",
           "search_replace", "marker_block"]  # fmt: skip
MARKER_STARTS = ("//", "#", "--", ";", "/*", "<!--")


def fence_for(lines: list[str], char: str) -> str:
    longest = max((len(ln) - len(ln.lstrip(" \t").lstrip(char)) for ln in lines), default=0)
    return char * max(3, longest + 1)


def render(path: str, lines: list[str], form: str, char: str) -> str:
    fence = fence_for(lines, char)
    body = "".join(f"{ln}\n" for ln in lines)
    if form == "tag":
        return f'<file path="{path}">\n{body}</file>\n'
    if form == "search_replace":
        return f"{path}\n<<<<<<< SEARCH\n=======\n{body}>>>>>>> REPLACE\n"
    info = {
        "info_colon": f"txt:{path}",
        "info_space": f"txt {path}",
        "title": f'txt title="{path}"',
    }
    if form in info:
        return f"{fence}{info[form]}\n{body}{fence}\n"
    label = {
        "label_bare": path,
        "label_backtick": f"`{path}`:",
        "label_heading": f"### File: {path}",
        "label_bold": f"**{path}**",
        "label_numbered": f"1. **{path}**",
        "label_numbered_heading": f"### 2. `{path}`",
        "label_bold_file": f"**File: {path}**",
    }[form]
    return f"{label}\n{fence}python\n{body}{fence}\n"


def render_marker_block(files: list[tuple[str, list[str]]], char: str) -> str:
    """Several files in one fence, each under a `// file:` marker line, a blank line between."""
    fence = fence_for([ln for _, lines in files for ln in lines], char)
    parts = [f"// file: {path}\n" + "".join(f"{ln}\n" for ln in lines) for path, lines in files]
    return f"{fence}\n" + "\n".join(parts) + f"{fence}\n"


def expected_in_marker_block(lines: list[str], *, last: bool) -> str:
    """A file before the next marker loses its trailing blank lines; the last keeps them."""
    while not last and lines and not lines[-1].strip():
        lines = lines[:-1]
    return "".join(f"{ln}\n" for ln in lines)


@settings(
    max_examples=int(os.environ.get("LC_PROPERTY_EXAMPLES", "300")),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.dictionaries(PATH, CONTENT, min_size=1, max_size=6),
    st.data(),
)
def test_files_rendered_in_any_format_parse_back_the_same(files, data):
    """Any set of files, each written in any supported format, comes back byte for byte.

    The files in the marker form share one block; the whole answer may be wrapped in a
    ```markdown fence.
    """
    parts = ["Here is the change.\n\n"]
    in_block: list[tuple[str, list[str]]] = []
    expected = {path: "".join(f"{ln}\n" for ln in lines) for path, lines in files.items()}
    for path, lines in files.items():
        form = data.draw(st.sampled_from(FORMATS))
        first = next((ln for ln in lines if ln.strip()), "")
        if form == "tag" and first.lstrip().startswith(("`", "~")):
            form = "info_colon"  # a tag's body that starts with a fence is read as fenced content
        if form == "search_replace" and not any(ln.strip() for ln in lines):
            form = "info_colon"  # an empty SEARCH with empty REPLACE makes an empty file either way
        if form == "marker_block" and any(ln.lstrip().startswith(MARKER_STARTS) for ln in lines):
            form = "info_colon"  # a line that may be a marker would start another file
        if "." not in path.rsplit("/", 1)[-1] and form not in INFO_FORMATS:
            form = data.draw(st.sampled_from(INFO_FORMATS))  # prose never names such a path
        char = data.draw(st.sampled_from("`~"))
        if form == "marker_block":
            in_block.append((path, lines))
            continue
        parts.append(render(path, lines, form, char))
        parts.append("\nNext:\n\n")
    if in_block:
        parts.append(render_marker_block(in_block, data.draw(st.sampled_from("`~"))))
        for index, (path, lines) in enumerate(in_block):
            expected[path] = expected_in_marker_block(lines, last=index == len(in_block) - 1)
    answer = "".join(parts)
    if data.draw(st.booleans()):
        answer = f"```markdown\n{answer}```\n"
    result = extract(answer, {})
    assert {f.path: f.content for f in result.files} == expected
    assert result.rejected == ()


FRAGMENT = st.sampled_from(
    [
        "```", "```markdown", "```md", "````", "~~~", "```python:a.py", "```js web/app.js",
        "// file: web/a.js", "# path: ../escape.py", "<!-- file: /etc/passwd -->",
        "# .git/config", "/* ..\\..\\x.css */", "1. **server/app.py**", "### 2. `../up.py`",
        "**File: .GIT/hooks/pre-commit**", "<<<<<<< SEARCH", "=======", ">>>>>>> REPLACE",
        "--- a/a.py", "+++ b/a.py", "@@ -1 +1 @@", "-x", "+y", " x", '<file path="../t.py">',
        "</file>", "x", "", "    indented", "\t", "server/app.py (new)", "```sh scripts/run",
        "```text .git/config", "```sh run", "#!/bin/sh",
    ]
)  # fmt: skip


@settings(
    max_examples=int(os.environ.get("LC_PROPERTY_EXAMPLES", "300")),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.lists(FRAGMENT | LINE, max_size=40),
    st.booleans(),
    st.dictionaries(st.sampled_from(["a.py", "web/a.js", "x"]), st.sampled_from(["x\n", ""])),
)
def test_any_answer_ends_with_files_inside_the_root_and_reasons_for_the_rest(lines, cut, base):
    """Fragments of every form, in any order, cut or not: no crash, no path outside the root."""
    result = extract("\n".join(lines), base, truncated=cut)
    for file in result.files:
        assert project_path_problem(file.path) is None, file.path
        assert posixpath.normpath(file.path) == file.path
    for path in result.deleted:
        assert path in base
    assert all(rejection.reason for rejection in result.rejected)


@settings(max_examples=int(os.environ.get("LC_PROPERTY_EXAMPLES", "300")))
@given(
    st.lists(st.text(alphabet="abcxyz()+:", min_size=1, max_size=6), min_size=2, max_size=8,
             unique=True),
    st.data(),
)  # fmt: skip
def test_a_search_shifted_by_one_indentation_applies_as_its_exact_twin_would(tokens, data):
    """SEARCH indented less or more than the file, trailing spaces lost or added: same result."""
    file_lines = [f"    {token}" for token in tokens]
    start = data.draw(st.integers(0, len(tokens) - 1))
    end = data.draw(st.integers(start + 1, len(tokens)))
    shift = data.draw(st.sampled_from(["cut", "add"]))
    trailing = data.draw(st.sampled_from(["", " ", "\t "]))
    window = file_lines[start:end]
    search = [(ln[4:] if shift == "cut" else "  " + ln) + trailing for ln in window]
    indent = "" if shift == "cut" else "      "
    replace = [*search, f"{indent}added"]
    answer = "a.py\n<<<<<<< SEARCH\n" + "".join(f"{ln}\n" for ln in search)
    answer += "=======\n" + "".join(f"{ln}\n" for ln in replace) + ">>>>>>> REPLACE\n"
    base = {"a.py": "".join(f"{ln}\n" for ln in file_lines)}
    result = extract(answer, base)
    assert result.rejected == ()
    rewritten = [ln + trailing for ln in window]  # REPLACE's lines as written, shifted back
    expected = [*file_lines[:start], *rewritten, "    added", *file_lines[end:]]
    assert [f.content for f in result.files] == ["".join(f"{ln}\n" for ln in expected)]
