"""The ledger's errors: one root, and what the gate machine refuses, with what was wrong."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from layercake_contracts.values import Gate
    from layercake_gateway.core.gates import GateState


class LedgerError(Exception):
    """Base of every error the ledger raises."""


class GateRuleBroken(LedgerError):
    """A request that the gate machine refuses; `expected` says what would be allowed."""

    def __init__(self, gate: Gate, state: GateState, expected: str) -> None:
        super().__init__(f"{gate} is {state}; expected {expected}")
        self.gate, self.state, self.expected = gate, state, expected


class MissingArtifacts(LedgerError):
    """Approval refused: the gate lacks the proof it requires."""

    def __init__(self, gate: Gate, missing: tuple[str, ...]) -> None:
        super().__init__(f"{gate} cannot be approved; missing: {', '.join(missing)}")
        self.gate, self.missing = gate, missing
