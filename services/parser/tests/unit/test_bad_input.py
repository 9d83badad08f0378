"""Hostile and broken answers: no crash, a clear warning, and time that grows linearly."""

from __future__ import annotations

import os

import pytest

from layercake_parser.core.answer import decode_answer
from layercake_parser.core.extract import extract

# A generous bound against quadratic blow-up (10 MB quadratic would take hours);
# the real figures are in benchmarks/parser_bench.py.
pytestmark = pytest.mark.timeout(60)


def test_ten_megabyte_answer_of_mixed_blocks():
    """A 10 MB answer with thousands of blocks parses completely."""
    block = "Some prose.\n\n```py:pkg/m{n}.py\n" + "x = 1\n" * 40 + "```\n\n```bash\nls\n```\n"
    answer = "".join(block.format(n=n) for n in range(35_000))
    assert len(answer) > 10_000_000
    result = extract(answer)
    assert len(result.files) == 35_000
    assert result.rejected == ()


def test_binary_garbage_is_decoded_with_a_warning_and_yields_nothing():
    """Random bytes: a warning naming the undecodable bytes, no files, no exception."""
    data = os.urandom(2_000_000)
    text, warnings = decode_answer(data)
    assert warnings
    assert "not valid UTF-8" in warnings[0]
    result = extract(text)
    assert result.files == ()


def test_unclosed_fence_keeps_the_file_with_a_warning():
    """An answer that never closes its fence keeps what it has and says so."""
    result = extract("```py:a.py\n" + "y = 2\n" * 200_000)
    assert result.files[0].content.count("\n") == 200_000
    assert any("ends inside" in w for w in result.warnings)


def warned(fragment: str):
    return lambda r: any(fragment in w for w in r.warnings)


def refused(fragment: str):
    return lambda r: any(fragment in x.reason for x in r.rejected)


def no_files(r):
    return r.files == ()


PATHOLOGICAL = {
    "one-line-of-backticks": ("`" * 10_000_000, warned("never closed")),
    "bare-fences": ("```\n" * 500_000, no_files),
    "nested-fences": ("````\n```\n" * 250_000, no_files),
    "tildes": ("~~~" + "~" * 5_000_000 + "\n", warned("never closed")),
    "search-heads": ("<<<<<<< SEARCH\n" * 500_000, refused("names no file")),
    "diff-headers": ("--- a\n+++ b\n@@ -1 +1 @@\n" * 100_000, lambda r: len(r.files) <= 1),
    "open-file-tags": ('<file path="a">\n' * 500_000, warned("ends inside")),
    "marker-floods": ("```\n" + "// file: a.js\n" * 200_000 + "```\n", warned("the last one wins")),
    "markdown-wrappers": ("```markdown\n```py\n" * 250_000, warned("never closed")),
    "indent-shifted-edits": (
        "a.py\n" + "<<<<<<< SEARCH\n  x\n=======\n  y\n>>>>>>> REPLACE\n" * 2_000,
        refused("matches 2 places"),
    ),
}


@pytest.mark.parametrize("case", list(PATHOLOGICAL))
def test_pathological_answers_finish_with_a_clear_outcome(case):
    """Fences of only backticks, floods of openers, edit headers with nothing after: each ends, and says what it saw."""
    answer, expected = PATHOLOGICAL[case]
    base = {"a": "x\n", "b": "y\n", "a.py": "def f():\n    x\n" * 2 + "z = 1\n" * 5_000}
    result = extract(answer, base)
    assert expected(result), (result.files[:2], result.rejected[:2], result.warnings[:2])


def test_edit_against_a_huge_repetitive_file_is_bounded():
    """The search for 'the first line that did not match' has a budget."""
    base = {"big.txt": "same\n" * 500_000}
    answer = (
        "big.txt\n<<<<<<< SEARCH\n" + "same\n" * 1000 + "different\n=======\nx\n>>>>>>> REPLACE\n"
    )
    result = extract(answer, base)
    assert "'different'" in result.rejected[0].reason or "'same'" in result.rejected[0].reason
