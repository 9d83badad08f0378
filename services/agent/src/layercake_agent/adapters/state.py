"""The agent's folder: per project, what it remembers and the outcome of each request.

`<root>/<project_id>/record.json` is the project's `ProjectRecord`;
`<root>/<project_id>/done/<request id>.json` is the event that answered a
request, so a redelivered request is answered again without a model call;
`<root>/<project_id>/paid/<request id>.json` is the model's answer, kept the
moment it arrives, so a failure before the outcome is kept (the blob store
unreachable, a crash) does not pay for the answer again. Files are written
whole (temp file, then rename).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import TypeAdapter

from layercake_agent.core.outcome import Answer
from layercake_agent.core.record import ProjectRecord
from layercake_contracts.events import AgentFailed, CodeGenerated, parse_event
from layercake_contracts.materialise import write_tree
from layercake_contracts.values import REGULAR_FILE_MODE

if TYPE_CHECKING:
    import uuid
    from pathlib import Path

_RECORD = TypeAdapter(ProjectRecord)
_ANSWER = TypeAdapter(Answer)
RECORD_FILE = "record.json"


class ProjectStore:
    """Project records and request outcomes on disk."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def record(self, project_id: str) -> ProjectRecord:
        """What the agent remembers of `project_id` (empty for a project it never saw)."""
        path = self._root / project_id / RECORD_FILE
        return _RECORD.validate_json(path.read_bytes()) if path.exists() else ProjectRecord()

    def save(self, project_id: str, record: ProjectRecord) -> None:
        """Keep `record` as the project's."""
        self._write(project_id, RECORD_FILE, _RECORD.dump_json(record, indent=2))

    def outcome(self, project_id: str, request_id: uuid.UUID) -> CodeGenerated | AgentFailed | None:
        """The event that answered a request, if it was answered."""
        path = self._root / project_id / _done(request_id)
        if not path.exists():
            return None
        event = parse_event(path.read_bytes())
        return event if isinstance(event, CodeGenerated | AgentFailed) else None

    def keep(self, request_id: uuid.UUID, outcome: CodeGenerated | AgentFailed) -> None:
        """Keep the event that answered a request."""
        self._write(outcome.project_id, _done(request_id), outcome.model_dump_json().encode())

    def paid(self, project_id: str, request_id: uuid.UUID) -> Answer | None:
        """The model's answer to a request, if one was paid for."""
        path = self._root / project_id / _paid(request_id)
        return _ANSWER.validate_json(path.read_bytes()) if path.exists() else None

    def keep_paid(self, project_id: str, request_id: uuid.UUID, answer: Answer) -> None:
        """Keep the model's answer to a request, before anything else can fail."""
        self._write(project_id, _paid(request_id), _ANSWER.dump_json(answer))

    def _write(self, project_id: str, name: str, data: bytes) -> None:
        write_tree(self._root / project_id, {name: (data, REGULAR_FILE_MODE)})


def _done(request_id: uuid.UUID) -> str:
    return f"done/{request_id}.json"


def _paid(request_id: uuid.UUID) -> str:
    return f"paid/{request_id}.json"
