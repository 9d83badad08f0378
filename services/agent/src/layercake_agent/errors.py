"""The agent's errors: one root, each subclass carrying what was wrong.

`retryable` says whether asking again later may succeed; the service turns an
`AgentError` into `AgentFailed(reason=str(error), retryable=error.retryable)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


class AgentError(Exception):
    """Base of every error the agent service raises."""

    retryable = False


class TemplateInvalid(AgentError):
    """A prompt template cannot be read or filled."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"prompt template {name!r}: {problem}")
        self.name = name
        self.problem = problem


class ProviderNotConfigured(AgentError):
    """The chosen provider lacks a setting it needs."""

    def __init__(self, provider: str, setting: str) -> None:
        super().__init__(f"the {provider} provider needs {setting}")
        self.provider = provider
        self.setting = setting


class ProviderRejected(AgentError):
    """The model's API refused the request (400, 401, 403, 404, ...): asking again will not help."""

    def __init__(self, provider: str, status: int | None, message: str) -> None:
        super().__init__(f"{provider} refused the request (HTTP {status}): {message}")
        self.provider = provider
        self.status = status
        self.message = message


class ProviderUnavailable(AgentError):
    """The model's API is busy or out of reach (429, 5xx, 529, connection): try later."""

    retryable = True

    def __init__(
        self, provider: str, status: int | None, message: str, retry_after_s: float | None = None
    ) -> None:
        what = "no connection" if status is None else f"HTTP {status}"
        super().__init__(f"{provider} is unavailable ({what}): {message}")
        self.provider = provider
        self.status = status
        self.message = message
        self.retry_after_s = retry_after_s


class RetriesExhausted(AgentError):
    """Every attempt our retry policy allows met an unavailable API."""

    retryable = True

    def __init__(self, provider: str, attempts: int, last: ProviderUnavailable) -> None:
        super().__init__(f"{provider} did not answer after {attempts} attempts; last: {last}")
        self.provider = provider
        self.attempts = attempts
        self.last = last


class RecordingMissing(AgentError):
    """The replay provider has no recorded answer for a request."""

    def __init__(self, key: str, path: Path) -> None:
        super().__init__(f"no recorded answer for {key}: looked for {path}")
        self.key = key
        self.path = path


class BudgetExceeded(AgentError):
    """A request would take a project past its token or cost limit, so it was not sent."""

    def __init__(self, project_id: str, detail: str) -> None:
        super().__init__(f"project {project_id}: {detail}")
        self.project_id = project_id
        self.detail = detail


class RecordingsInvalid(AgentError):
    """A set of recordings cannot be keyed: its manifest is missing, broken or shared."""

    def __init__(self, where: Path, problem: str) -> None:
        super().__init__(f"recordings {where}: {problem}")
        self.where = where
        self.problem = problem


class NoRecording(AgentError):
    """The replay provider has no set of recordings made for a project: it must not stand in.

    Retryable only while the project's intake is unknown (its ProjectCreated not
    seen yet): then which set answers cannot be told yet.
    """

    def __init__(self, project: str, known: tuple[str, ...], *, intake_seen: bool) -> None:
        sets = ", ".join(known) or "none"
        unseen = "" if intake_seen else ", its intake was not seen yet"
        super().__init__(
            f"no recording for project {project!r}{unseen} (recordings exist for: {sets}); set"
            " LAYERCAKE_ANTHROPIC_API_KEY, or LAYERCAKE_OPENAI_BASE_URL, or"
            " LAYERCAKE_PROVIDER=manual"
        )
        self.project = project
        self.known = known
        self.retryable = not intake_seen
