"""The project record's file beside the repository, written whole (temp file, then rename)."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING

from layercake_git.core.record import ProjectRecord

if TYPE_CHECKING:
    from pathlib import Path


class RecordFile:
    """`<project>.json` under the workspaces root."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> ProjectRecord:
        """The record, or an empty one before the project's first event."""
        if not self.path.exists():
            return ProjectRecord()
        return ProjectRecord.model_validate_json(self.path.read_bytes())

    def predates_gates(self) -> bool:
        """True when the file was written before records held a gate book (no `gates` key)."""
        if not self.path.exists():
            return False
        found = json.loads(self.path.read_bytes())
        return isinstance(found, dict) and "gates" not in found

    def save(self, record: ProjectRecord) -> None:
        """Replace the file with `record`; a reader sees the old or the new, never half."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}")
        temp.write_bytes(record.model_dump_json().encode())
        temp.replace(self.path)
