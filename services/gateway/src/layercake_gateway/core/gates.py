"""The rules of the ten gates: their order, who works at each, and the proof each needs.

Pure data and functions. The `Project` aggregate asks these rules before it
decides; nothing here knows about storage or the bus.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from layercake_contracts.values import Gate, Role

if TYPE_CHECKING:
    from collections.abc import Iterable

GATE_ORDER: tuple[Gate, ...] = tuple(Gate)
DESIGN_OPTIONS = 3
FINDING = "accepted finding: "  # how a missing item names a finding a person has yet to accept


class GateState(StrEnum):
    """Where a gate stands."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    REJECTED = "rejected"  # recorded before rejections led anywhere (see `REWORKS`)
    AWAITING_REVISION = "awaiting_revision"  # G0 rejected: the intake is to be revised


class ArtifactKind(StrEnum):
    """The kinds of proof a gate can require."""

    INTAKE = "intake"
    INTAKE_REVIEW = "intake_review"
    PRD = "prd"
    OPENAPI = "openapi"
    DATA_SCHEMA = "data_schema"
    DESIGN_OPTION = "design_option"
    SELECTED_DESIGN = "selected_design"
    BUILD = "build"
    COVERAGE = "coverage"
    SECURITY_REVIEW = "security_review"
    AUDIT = "audit"
    DEPLOYMENT = "deployment"
    RELEASE = "release"


@dataclass(frozen=True)
class Requirement:
    """`count` artifacts of `kind` must be recorded for a gate."""

    kind: ArtifactKind
    count: int = 1


REQUIREMENTS: dict[Gate, tuple[Requirement, ...]] = {
    Gate.G0: (Requirement(ArtifactKind.INTAKE),),
    Gate.G1: (Requirement(ArtifactKind.INTAKE_REVIEW),),
    Gate.G2: (Requirement(ArtifactKind.PRD),),
    Gate.G3: (Requirement(ArtifactKind.OPENAPI), Requirement(ArtifactKind.DATA_SCHEMA)),
    Gate.G4: (
        Requirement(ArtifactKind.DESIGN_OPTION, DESIGN_OPTIONS),
        Requirement(ArtifactKind.SELECTED_DESIGN),
    ),
    Gate.G5: (Requirement(ArtifactKind.BUILD),),
    Gate.G6: (Requirement(ArtifactKind.COVERAGE),),
    Gate.G7: (Requirement(ArtifactKind.SECURITY_REVIEW), Requirement(ArtifactKind.AUDIT)),
    Gate.G8: (Requirement(ArtifactKind.DEPLOYMENT),),
    Gate.G9: (Requirement(ArtifactKind.RELEASE),),
}

_ROLES: dict[Gate, tuple[Role, ...]] = {
    Gate.G0: (),
    Gate.G1: (Role.PRODUCT_MANAGER,),
    Gate.G2: (Role.PRODUCT_MANAGER,),
    Gate.G3: (Role.ARCHITECT,),
    Gate.G4: (Role.DESIGNER,),
    Gate.G5: (Role.BACKEND_DEVELOPER, Role.FRONTEND_DEVELOPER),
    Gate.G6: (Role.QA_ENGINEER,),
    Gate.G7: (Role.SECURITY_ENGINEER,),
    Gate.G8: (Role.DEVOPS_ENGINEER,),
    Gate.G9: (),
}


# The gate whose agents work again when a gate of no agents of its own is rejected:
# a rejected release (G9) sends the deployment (G8) back; G0 waits for a revised intake.
REWORKS: dict[Gate, Gate] = {Gate.G9: Gate.G8}


def roles_for(gate: Gate, *, has_ui: bool) -> tuple[Role, ...]:
    """The agents that work at `gate`; G5 has a frontend developer only for a project with a UI."""
    roles = _ROLES[gate]
    if not has_ui:
        roles = tuple(r for r in roles if r is not Role.FRONTEND_DEVELOPER)
    return roles


def next_gate(gate: Gate) -> Gate | None:
    """The gate after `gate`, or None after G9."""
    index = GATE_ORDER.index(gate)
    return GATE_ORDER[index + 1] if index + 1 < len(GATE_ORDER) else None


def missing_artifacts(
    gate: Gate, recorded: Iterable[str], findings: Iterable[str] = ()
) -> tuple[str, ...]:
    """What `gate` still lacks, as readable items ("2 more design_option", "prd").

    Each of `findings` (open at `gate`) is lacking a person's acceptance.
    """
    have = Counter(recorded)
    missing = []
    for requirement in REQUIREMENTS[gate]:
        short = requirement.count - have[requirement.kind]
        if short > 0:
            missing.append(
                requirement.kind.value
                if requirement.count == 1
                else f"{short} more {requirement.kind}"
            )
    missing.extend(f"{FINDING}{finding}" for finding in findings)
    return tuple(missing)


def role_key(gate: Gate, role: Role) -> str:
    """Where a project keeps what one role did at one gate: `G5/backend_developer`."""
    return f"{gate.value}/{role.value}"
