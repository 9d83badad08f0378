"""What the git service remembers about a project, beside its repository.

- `recorded`: per gate, the documents recorded so far (ArtifactRecorded events
  that carry a blob), as `docs/<gate>/<name>` → sha256. A later document of the
  same name replaces the earlier one: the rewritten PRD, not both.
- `carried`: the documents of approved gates; every later tree keeps them.
- `blob_ids`: sha256 → git blob id of contents already in the repository, so a
  commit fetches only contents it has not seen.
- `chosen_design`: the G4 option a person selected (see `core/designs.py`).
- `exports`: where the project was pushed, and its branch's sha then, so a later
  approval's tag follows the release it marks (G9's, approved after its push).
- `gates`: the ledger's gate machine as git followed it (see `core/gates.py`), so an
  approval git must not act on is known after a restart too.
Pure values; `adapters/record.py` reads and writes the file.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydantic import Field

from layercake_contracts.values import Frozen, Gate, Sha256
from layercake_git.core.gates import GateBook

if TYPE_CHECKING:
    from collections.abc import Mapping

    from layercake_contracts.events import ArtifactRecorded, OptionSelected

# The designs a person did not choose; the chosen one is recorded again as
# `selected_design` (the gateway's G4 proof), and that one is committed.
UNCHOSEN_KINDS = frozenset({"design_option"})
_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9._-]+")
MAX_NAME_LENGTH = 100


class ProjectRecord(Frozen):
    """Documents recorded and carried, and the blob ids already in the repository."""

    recorded: dict[Gate, dict[str, Sha256]] = Field(default_factory=dict)
    carried: dict[str, Sha256] = Field(default_factory=dict)
    blob_ids: dict[Sha256, str] = Field(default_factory=dict)
    chosen_design: str | None = None
    exports: dict[str, str] = Field(default_factory=dict)  # remote (no password) → sha pushed
    gates: GateBook = Field(default_factory=GateBook)

    def with_artifact(self, event: ArtifactRecorded) -> ProjectRecord:
        """This record with `event`'s document, if it is one worth committing."""
        if event.blob is None or event.kind in UNCHOSEN_KINDS:
            return self
        documents = {
            **self.documents(event.gate),
            document_path(event.gate, event.name): event.blob,
        }
        return self.model_copy(update={"recorded": {**self.recorded, event.gate: documents}})

    def documents(self, gate: Gate) -> dict[str, str]:
        """The documents recorded for `gate`: path → sha256."""
        return dict(self.recorded.get(gate, {}))

    def approving(self, gate: Gate) -> ProjectRecord:
        """This record with `gate`'s documents carried into every later tree."""
        return self.model_copy(update={"carried": {**self.carried, **self.documents(gate)}})

    def choosing(self, event: OptionSelected) -> ProjectRecord:
        """This record knowing the design a person chose at G4."""
        if event.gate is not Gate.G4:
            return self
        return self.model_copy(update={"chosen_design": event.option})

    def exported(self, remote: str, sha: str) -> ProjectRecord:
        """This record knowing that `sha` was pushed to `remote`."""
        return self.model_copy(update={"exports": {**self.exports, remote: sha}})

    def with_gates(self, gates: GateBook) -> ProjectRecord:
        """This record with the gate machine at `gates`."""
        return self.model_copy(update={"gates": gates})

    def with_blob_ids(self, ids: Mapping[str, str]) -> ProjectRecord:
        """This record knowing more sha256 → blob id pairs."""
        return self.model_copy(update={"blob_ids": {**self.blob_ids, **ids}})


def document_path(gate: Gate, name: str) -> str:
    """Where a document named `name` lives: `docs/g2/PRD.md`."""
    stem = _UNSAFE_IN_NAME.sub("-", name).strip(".-")[:MAX_NAME_LENGTH] or "document"
    return f"docs/{gate.lower()}/{stem if '.' in stem else stem + '.md'}"
