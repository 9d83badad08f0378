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
FORMATS = ["info_colon", "info_space", "title", "label_bare", "label_backtick", "label_heading",
           "label_bold", "tag", "search_replace"]  # fmt: skip


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
    }[form]
    return f"{label}\n{fence}python\n{body}{fence}\n"


@settings(
    max_examples=int(os.environ.get("LC_PROPERTY_EXAMPLES", "300")),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.dictionaries(PATH, CONTENT, min_size=1, max_size=6),
    st.data(),
)
def test_files_rendered_in_any_format_parse_back_the_same(files, data):
    """Any set of files, each written in any supported format, comes back byte for byte."""
    parts = ["Here is the change.\n\n"]
    for path, lines in files.items():
        form = data.draw(st.sampled_from(FORMATS))
        first = next((ln for ln in lines if ln.strip()), "")
        if form == "tag" and first.lstrip().startswith(("`", "~")):
            form = "info_colon"  # a tag's body that starts with a fence is read as fenced content
        if form == "search_replace" and not any(ln.strip() for ln in lines):
            form = "info_colon"  # an empty SEARCH with empty REPLACE makes an empty file either way
        char = data.draw(st.sampled_from("`~"))
        parts.append(render(path, lines, form, char))
        parts.append("\nNext:\n\n")
    result = extract("".join(parts), {})
    assert {f.path: f.content for f in result.files} == {
        path: "".join(f"{ln}\n" for ln in lines) for path, lines in files.items()
    }
    assert result.rejected == ()
