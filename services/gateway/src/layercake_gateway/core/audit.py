"""What an audit replay shows of a project: its gates, attempts, artifacts and escalations.

Pure: a `Project` (as it stood at some position) in, a plain document out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from layercake_contracts.values import Gate

if TYPE_CHECKING:
    from layercake_gateway.core.project import Project

_VOLATILE = {"_created_on", "_modified_on"}


def project_document(project: Project) -> dict[str, Any]:
    """Every field of the project's state as JSON values (the library's timestamps aside)."""
    document = {
        key.lstrip("_"): value for key, value in project.__dict__.items() if key not in _VOLATILE
    }
    document["id"] = str(project.id)
    document["missing"] = {gate.value: list(project.missing(gate)) for gate in Gate}
    return document
