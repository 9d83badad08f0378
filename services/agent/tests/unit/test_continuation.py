"""Joining the parts of an answer cut at max_tokens."""

from __future__ import annotations

from layercake_agent.core.continuation import after_restated_line, prefill


def test_a_prefill_loses_only_its_trailing_white_space():
    """Newlines and spaces at the end go (the API refuses them); those inside stay."""
    assert prefill("a\n\n  b  \n \t") == "a\n\n  b"


def test_a_restated_unfinished_line_is_dropped_from_the_continuation():
    """Cut inside `print(sys.ar`, the model writes the line again: it counts once."""
    assert after_restated_line("x = 1\nprint(sys.ar", "print(sys.argv)\n") == "gv)\n"


def test_a_restated_finished_line_is_dropped_when_the_cut_fell_after_a_newline():
    """Cut right after `import sys\\n`, the model begins with that line again."""
    more = after_restated_line("```python:a.py\nimport sys\n", "import sys\nprint(1)\n")
    assert more == "print(1)\n"


def test_a_continuation_that_goes_on_mid_line_is_kept_as_it_came():
    """No restatement: the text is appended unchanged."""
    assert after_restated_line("print(sys.ar", "gv)\n") == "gv)\n"


def test_a_blank_last_line_is_no_restatement():
    """A partial ending in a blank line matches any continuation's start: nothing is dropped."""
    assert after_restated_line("a\n\n", "\nb") == "\nb"


def test_a_continuation_restating_only_part_of_the_line_is_kept():
    """Only a whole restatement of the last line counts."""
    assert after_restated_line("print(sys.argv)", "sys.argv)\n") == "sys.argv)\n"
