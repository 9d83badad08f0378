"""Upgrading a running installation: gate books for the projects under way (issue #18).

Before records held the ledger's gate machine (`core/gates.py`), a record had no
`gates` key. Read as it is, it would get an empty book, and every approval of
that project would be ignored: its gates were opened before git followed them.
So, before the consumer starts, each such record gets a book rebuilt from what
git holds: the repository's `gN-approved` tags (approved), its gate branches and
the documents recorded (worked on); a tag the ledger cannot have decided
(past a gap) is not believed. A record with a book is left as it is, and so is
a project with no record and no repository: a new one (its ProjectCreated starts
its book), or one git holds nothing of (its approvals have nothing to act on).
The stream is not read again: the service may read only through its consumer,
which is past these events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from layercake_contracts.values import Gate
from layercake_git.core.gates import GateBook
from layercake_git.core.tree import branch_ref, tag_ref

if TYPE_CHECKING:
    from layercake_git.adapters.workspaces import Workspaces

log = structlog.get_logger(__name__)


def migrate_gate_books(workspaces: Workspaces) -> None:
    """Give every project whose record predates gate books the book its repository implies."""
    for project_id in workspaces.projects():
        record_file = workspaces.record(project_id)
        repo = workspaces.repository(project_id)
        unbooked = not record_file.path.exists() and repo.exists
        if not (unbooked or record_file.predates_gates()):
            continue
        record = record_file.load()
        refs = repo.refs() if repo.exists else set()
        approved = [gate for gate in Gate if tag_ref(gate) in refs]
        worked = [
            gate
            for gate in Gate
            if branch_ref(gate) in refs
            or gate in record.recorded
            or (gate is Gate.G4 and record.chosen_design is not None)
        ]
        book = GateBook.rebuilt(approved, worked)
        record_file.save(record.with_gates(book))
        log.info(
            "gate_book_migrated",
            project_id=project_id,
            approved=[str(gate) for gate in approved if gate in book.approvals],
            awaiting=book.awaiting and str(book.awaiting),
            # Tags of approvals the ledger cannot have decided (see `GateBook.rebuilt`).
            tags_not_believed=[str(gate) for gate in approved if gate not in book.approvals],
        )
