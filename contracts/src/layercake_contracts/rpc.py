"""Questions a service answers while someone waits: core NATS request/reply beside the stream.

Work is events on JetStream. A few reads must be answered at once (the HTTP
API's parse and git history): a question goes to `lc.rpc.<service>.<operation>`
and whichever replica of that service is up answers (one queue group per
service). A question changes nothing, so nothing is recorded and nothing needs
an acknowledgement; a question nobody answers is an `Unanswered` error for the
one who asked, never a silent wait.

An answer is `{"answer": …}` or `{"error": "…"}`: a question that does not
validate is refused with the field it got wrong.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypeVar

from faststream.nats.annotations import NatsMessage  # noqa: TC002  # read when the handler runs
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout
from pydantic import BaseModel, Field, ValidationError

from layercake_contracts.events import PROJECT_ID_PATTERN
from layercake_contracts.values import Frozen, RejectedPath

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from faststream.nats import NatsBroker, NatsRouter
    from nats.aio.client import Client

Q = TypeVar("Q", bound=BaseModel)
A = TypeVar("A", bound=BaseModel)
RPC_ROOT = "lc.rpc"
# NATS's default payload limit is 1 MiB; an answer to parse must leave room for its files.
MAX_QUESTION_CHARS = 400_000
# A history answer's diffs: each cut at the first, all of them together at the second.
MAX_DIFF_CHARS = 20_000
MAX_DIFFS_CHARS = 300_000


def rpc_subject(service: str, operation: str) -> str:
    """The subject a service answers one kind of question on."""
    return f"{RPC_ROOT}.{service}.{operation}"


PARSE_SUBJECT = rpc_subject("parser", "extract")
HISTORY_SUBJECT = rpc_subject("git", "history")


class ParseQuestion(Frozen):
    """An answer to extract files from, against the text of the files it may edit."""

    answer: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    base: dict[str, str] = Field(default_factory=dict)


class ParsedFile(Frozen):
    """A file the answer creates or changes, whole, and the form it was written in."""

    path: str
    content: str
    source: str


class ParseAnswer(Frozen):
    """What the parser's core made of an answer."""

    files: tuple[ParsedFile, ...]
    deleted: tuple[str, ...]
    rejected: tuple[RejectedPath, ...]
    warnings: tuple[str, ...]


class HistoryQuestion(Frozen):
    """The newest commits of a project's repository."""

    project_id: str = Field(pattern=PROJECT_ID_PATTERN)
    limit: int = Field(default=100, ge=1, le=1000)
    diffs: bool = Field(default=False, description="each commit with its diff (bounded)")


class CommitEntry(Frozen):
    """One commit, with the trailers that say which gate, role and event made it."""

    sha: str
    refs: tuple[str, ...]
    date: str
    author: str
    subject: str
    gate: str | None
    role: str | None
    event_id: str | None
    files: int
    trailers: dict[str, str]
    # Asked for (`diffs`): the patch against the first parent, at most MAX_DIFF_CHARS of it;
    # None when not asked, or when the answer's MAX_DIFFS_CHARS were spent on newer commits.
    diff: str | None = None
    diff_truncated: bool = False


class HistoryAnswer(Frozen):
    """A project's commits, newest first (none when it has no repository yet)."""

    commits: tuple[CommitEntry, ...]


class Unanswered(Exception):
    """No service answered a question, or it refused it."""


def answer_questions(
    router: NatsBroker | NatsRouter,
    subject: str,
    question_type: type[Q],
    answer: Callable[[Q], Awaitable[BaseModel]],
) -> None:
    """Answer questions on `subject` with `answer`, in the service's queue group."""
    service = subject.split(".")[2]

    @router.subscriber(subject, queue=service)
    async def on_question(message: NatsMessage) -> bytes:
        try:
            question = question_type.model_validate_json(message.body)
        except ValidationError as exc:
            return _reply({"error": _first_problem(exc)})
        return _reply({"answer": (await answer(question)).model_dump(mode="json")})


async def ask(
    connection: Client, subject: str, question: BaseModel, answer_type: type[A], timeout_s: float
) -> A:
    """Ask `question` on `subject`; the answer, or `Unanswered` saying why there is none."""
    try:
        reply = await connection.request(
            subject, question.model_dump_json().encode(), timeout=timeout_s
        )
    except NoRespondersError as exc:
        raise Unanswered(f"no service answers {subject}") from exc
    except NatsTimeout as exc:
        raise Unanswered(f"no answer on {subject} within {timeout_s:g} s") from exc
    body = json.loads(reply.data)
    if "error" in body:
        raise Unanswered(f"{subject} refused the question: {body['error']}")
    return answer_type.model_validate(body["answer"])


def _reply(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


def _first_problem(exc: ValidationError) -> str:
    problem = exc.errors()[0]
    where = ".".join(str(part) for part in problem["loc"]) or "body"
    return f"{where}: {problem['msg']}"
