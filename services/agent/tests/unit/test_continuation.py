"""Joining the parts of an answer cut at max_tokens."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from layercake_agent.core.continuation import after_restated_line, continued, prefill

TEXT = st.text(alphabet=st.sampled_from("ab \n\t}"), max_size=40)


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


@given(partial=TEXT, more=TEXT)
def test_a_joined_answer_keeps_what_was_written_and_loses_at_most_one_restated_line(partial, more):
    """After a continue turn the partial answer stays whole and the continuation loses only
    a prefix of itself that repeats the partial's last line."""
    joined = continued(partial, more, prefilled=False)
    assert joined.startswith(partial)
    kept = joined[len(partial) :]
    assert more.endswith(kept)
    dropped = more[: len(more) - len(kept)]
    assert dropped == "" or (dropped.strip() and partial.endswith(dropped))


@given(partial=TEXT, more=TEXT)
def test_a_prefilled_answer_is_the_prefill_the_model_saw_and_all_it_wrote(partial, more):
    """From a prefill nothing of the continuation is dropped, and the prefill ends in no white
    space, as the API demands."""
    joined = continued(partial, more, prefilled=True)
    sent = prefill(partial)
    assert partial.startswith(sent)
    assert partial[len(sent) :].strip() == ""
    assert sent == "" or not sent[-1].isspace()
    assert joined.startswith(sent)
    assert joined.endswith(more)
