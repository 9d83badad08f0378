"""What the dashboard makes of model-written text: Markdown, code, diffs, OpenAPI documents."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from layercake_gateway.dashboard.markup import (
    MAX_DIFF_LINES,
    code,
    cut,
    excerpt,
    markdown,
    unified_diff,
)
from layercake_gateway.dashboard.openapi import NotOpenApi, reference

CSS = Path(__file__).parents[2] / "src/layercake_gateway/dashboard/static/sections.css"


def test_markdown_renders_markup_but_shows_raw_html_as_text():
    page = markdown("# PRD\n\n**bold** <script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n")
    assert "<h1>PRD</h1>" in page
    assert "<strong>bold</strong>" in page
    assert "<script" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_javascript_link_is_not_a_link():
    page = markdown("[click](javascript:alert(1)) and [ok](https://example.com)")
    assert 'href="javascript' not in page
    assert 'href="https://example.com"' in page


@given(st.text(max_size=300))
def test_no_markdown_makes_a_tag_the_text_did_not_come_from_markdown(text):
    page = str(markdown(text))
    tags = set(re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", page))
    assert tags <= {"p", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "code", "pre",
                    "ul", "ol", "li", "blockquote", "hr", "br", "a", "img", "table", "thead",
                    "tbody", "tr", "th", "td", "s"}  # fmt: skip


def test_code_is_highlighted_by_its_file_name_and_escaped():
    sql = code("CREATE TABLE t (x TEXT); -- </pre><script>", "docs/schema.sql")
    assert '<span class="k">CREATE</span>' in sql
    assert "<script" not in sql
    plain = code("<b>not bold</b>", "notes.unknown-kind")
    assert "&lt;b&gt;not bold&lt;/b&gt;" in plain


def test_a_long_text_is_cut_and_says_so():
    assert cut("abcdef", 4) == "abcd\n… (2 more characters not shown)"
    assert cut("abc", 4) == "abc"


def test_a_diff_marks_removed_added_and_kept_lines():
    lines = unified_diff("a.py", "x = 1\ny = 2\n", "x = 1\ny = 3\n")
    assert [(d.kind, d.text) for d in lines] == [
        ("file", "--- a/a.py"), ("file", "+++ b/a.py"), ("hunk", "@@ -1,2 +1,2 @@"),
        ("same", " x = 1"), ("del", "-y = 2"), ("add", "+y = 3"),
    ]  # fmt: skip
    added = unified_diff("new.py", None, "z\n")
    assert added[0].text == "--- /dev/null"


def test_a_huge_diff_stops_with_a_note():
    lines = unified_diff("big.txt", "", "".join(f"{n}\n" for n in range(1000)))
    assert len(lines) == MAX_DIFF_LINES + 1
    assert lines[-1].kind == "note"


def test_an_excerpt_is_the_lines_around_one_and_none_past_the_end():
    found = excerpt("a.py", "1\n2\n3\n4\n5\n", 2, around=1)
    assert found.lines == ((1, "1"), (2, "2"), (3, "3"))
    assert excerpt("a.py", "1\n", 5) is None


def test_an_openapi_document_in_json_becomes_operations_and_schemas():
    document = {
        "openapi": "3.0.0", "info": {"title": "notes", "version": "1"},
        "paths": {"/notes/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": True}],
            "get": {"summary": "one note", "description": "**only** yours <b>x</b>",
                    "responses": {"404": {"description": "none"}}},
        }},
        "components": {"schemas": {"Note": {"type": "object"}}},
    }  # fmt: skip
    ref = reference(json.dumps(document))
    (op,) = ref.operations
    assert (op.method, op.path, op.summary) == ("GET", "/notes/{id}", "one note")
    assert op.description == "<p><strong>only</strong> yours &lt;b&gt;x&lt;/b&gt;</p>\n"
    assert op.parameters[0].name == "id"
    assert op.parameters[0].required
    assert op.responses[0].label == "404"
    assert ref.schemas == (("Note", '{\n  "type": "object"\n}'),)


@pytest.mark.parametrize(
    ("text", "why"),
    [("a: [", "does not parse"), ("just: a mapping", "no `openapi` field"), ("- a list", "no")],
)
def test_what_is_not_openapi_is_refused_saying_why(text, why):
    with pytest.raises(NotOpenApi, match=why):
        reference(text)


def _luminance(colour: str) -> float:
    hex_ = colour.lstrip("#")
    hex_ = "".join(c * 2 for c in hex_) if len(hex_) == 3 else hex_
    channels = [int(hex_[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def test_every_text_colour_of_the_stylesheet_has_a_contrast_of_4_5_or_more():
    """Each rule's colour against its own background (pygments' on #f8f8f8), as WCAG AA asks."""
    text = re.sub(r"/\*.*?\*/", "", CSS.read_text(), flags=re.DOTALL)
    rules = re.findall(r"([^{}]+)\{([^}]*)\}", text)
    checked = 0
    for selector, body in rules:
        colour = re.search(r"(?<![-\w])color:\s*(#[0-9a-fA-F]{3,6})", body)
        if colour is None or selector.strip().startswith(".code .w"):  # white space is unseen
            continue
        background = re.search(r"background(?:-color)?:\s*(#[0-9a-fA-F]{3,6})", body)
        inherited = "#f8f8f8" if selector.strip().startswith(".code") else "#ffffff"
        under = background.group(1) if background else inherited
        light, dark = sorted((_luminance(colour.group(1)), _luminance(under)), reverse=True)
        ratio = (light + 0.05) / (dark + 0.05)
        assert ratio >= 4.5, f"{selector.strip()}: {colour.group(1)} on {under} is {ratio:.2f}:1"
        checked += 1
    assert checked > 40


def test_a_schema_of_nested_yaml_aliases_is_shown_cut_not_expanded():
    """Nine levels of nine aliases would be 387 million leaves; the page shows the first few."""
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 10)]
    text = "openapi: 3.1.0\nx-bomb:\n" + "\n".join(f"  {line}" for line in levels)
    text += "\ncomponents:\n  schemas:\n    Bomb: *a9\n"
    ((name, shown),) = reference(text).schemas
    assert name == "Bomb"
    assert shown.endswith("… (the rest of this schema is not shown)")
    assert len(shown) < 21_000
