"""How an answer cut at max_tokens is continued, and how the parts are joined.

Two ways, one per API. Anthropic continues from a prefill: the partial answer
as the assistant's turn, which the API refuses when it ends in white space, so
the trailing white space is taken off and the answer is the prefill the model
saw plus what it wrote after it. OpenAI-compatible servers, and Claude models
that refuse prefills (the 4.6 family), get the partial answer as the
assistant's message and a user turn asking to go on; a model told so often
begins by restating the line it was writing, which is dropped.
Pure text in, text out: the providers do the calls.
"""

from __future__ import annotations

CONTINUE = (
    "Continue exactly where you stopped, from the next character. Do not repeat anything"
    " you already wrote and do not start over: your answer will be appended to what you"
    " wrote."
)


def continued(partial: str, more: str, *, prefilled: bool) -> str:
    """The answer so far: `partial` continued by `more`, from a prefill or after a continue turn."""
    if prefilled:
        return prefill(partial) + more
    return partial + after_restated_line(partial, more)


def prefill(partial: str) -> str:
    """The partial answer as an Anthropic prefill: without the trailing white space it refuses."""
    return partial.rstrip()


def after_restated_line(partial: str, more: str) -> str:
    """`more` without a restatement of `partial`'s last line at its start.

    The last line is the one being written when the answer was cut (or, when
    the cut fell right after a newline, the last one finished). Only a whole
    restatement of it counts, and only one with more than white space.
    """
    if partial.endswith("\n"):
        start = partial.rfind("\n", 0, len(partial) - 1) + 1
    else:
        start = partial.rfind("\n") + 1
    last = partial[start:]
    if last.strip() and more.startswith(last):
        return more[len(last) :]
    return more
