"""Which gate approvals git acts on: the ledger's gate machine, followed from the bus (issue #18).

The ledger announces its own decisions in stream order: ProjectCreated (G0 awaits),
GateOpened (only after recording the approval of the gate before), GateApproved and
GateRejected of the gate that awaited, IntakeRevised. `GateBook` follows them, so git
acts only on an approval of the gate awaiting: one of a gate never opened, approved
already or not the one awaiting changes nothing in the repository, and `refusal`
says why. An event seen before (the same id, a copy stored again at a later position)
changes nothing either. Pure values: no I/O; `core/record.py` keeps the book in the
project's record. A project under way when git began to keep books gets one
`rebuilt` from its repository (see `upgrade.py`).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from pydantic import Field

from layercake_contracts.events import GateOpened, GateRejected, IntakeRevised, ProjectCreated
from layercake_contracts.values import Frozen, Gate

if TYPE_CHECKING:
    from collections.abc import Iterable

# The ledger's announcements that move its gate machine (GateApproved aside: see `refusal`).
GateNews = ProjectCreated | GateOpened | GateRejected | IntakeRevised

# The gateway's rule (its `REWORKS`): a gate of no agents of its own sends the one
# before back to work, whose approval opens it again. Rejected G0 awaits a revised intake.
REWORKS: dict[Gate, Gate] = {Gate.G9: Gate.G8}


class GateBook(Frozen):
    """The gate awaiting a decision, the gates ever opened, and each gate's approval."""

    awaiting: Gate | None = None
    opened: frozenset[Gate] = frozenset()
    # The last approval acted on; None: one before the book was kept (see `rebuilt`).
    approvals: dict[Gate, uuid.UUID | None] = Field(default_factory=dict)
    seen: frozenset[uuid.UUID] = frozenset()  # every gate event followed or acted on

    @classmethod
    def rebuilt(cls, approved: Iterable[Gate], worked: Iterable[Gate]) -> GateBook:
        """The book of a project git followed before it kept one, from what it holds.

        `approved`: the gates its repository tags as approved; `worked`: those it
        holds work of (a gate branch, documents). The ledger opens gates in order,
        each after the approval of the one before: the gate awaiting is the one after
        the last approved, or the last worked on if that is later (its GateOpened may
        be still to come: following it changes nothing), G0 if neither; every gate
        before it was approved. None awaits once G9 is approved.

        Once one approval is tagged, main exists and every later one is tagged too:
        a tag past a gap, and work past the gate after the last tag, come of an
        approval the ledger never decided (the old version acted on any, issue #18),
        and are not believed.
        """
        order = list(Gate)
        tagged = sorted({order.index(gate) for gate in approved})
        believed = tagged[:1]
        for index in tagged[1:]:
            if index != believed[-1] + 1:
                break
            believed.append(index)
        ceiling = believed[-1] + 1 if believed else len(order) - 1
        work = (order.index(gate) for gate in worked)
        reached = max([i + 1 for i in believed] + [i for i in work if i <= ceiling], default=0)
        awaiting = order[reached] if reached < len(order) else None
        return cls(
            awaiting=awaiting,
            opened=frozenset(order[: reached + 1]),
            approvals=dict.fromkeys(order[:reached]),
        )

    def following(self, news: GateNews) -> GateBook:
        """The book once the ledger announced `news` (a copy of one seen changes nothing)."""
        if news.event_id in self.seen:
            return self
        match news:
            case ProjectCreated():
                book = self.started()
            case GateOpened():
                book = self.opening(news.gate)
            case GateRejected():
                book = self.rejecting(news.gate)
            case IntakeRevised():
                book = self.revising()
        return book.model_copy(update={"seen": book.seen | {news.event_id}})

    def started(self) -> GateBook:
        """The book once the project was created: G0 awaits (a later copy changes nothing)."""
        if self.opened:
            return self
        return self.opening(Gate.G0)

    def opening(self, gate: Gate) -> GateBook:
        """The book once the ledger opened `gate`."""
        return self.model_copy(update={"awaiting": gate, "opened": self.opened | {gate}})

    def rejecting(self, gate: Gate) -> GateBook:
        """The book once the ledger rejected `gate`: it, the gate it reworks, or none awaits."""
        if gate is not self.awaiting:
            return self
        after = None if gate is Gate.G0 else REWORKS.get(gate, gate)
        return self.model_copy(update={"awaiting": after})

    def revising(self) -> GateBook:
        """The book once the intake was revised: G0 awaits again, unless it was approved."""
        if Gate.G0 in self.approvals:
            return self
        return self.opening(Gate.G0)

    def refusal(self, gate: Gate, event_id: uuid.UUID) -> str | None:
        """Why git must not act on approval `event_id` of `gate`; None when it must.

        It acts on an approval of the gate awaiting, and again on the same approval
        redelivered before anything else happened (its git work finds what it did).
        """
        if event_id in self.seen:
            redelivered = self.awaiting is None and self.approvals.get(gate) == event_id
            return None if redelivered else f"{gate}'s approval was handled already"
        if gate is self.awaiting:
            return None
        awaits = f"{self.awaiting} awaits" if self.awaiting else "no gate awaits"
        if gate not in self.opened:
            return f"{gate} was never opened: {awaits}"
        if gate in self.approvals:
            return f"{gate} is approved already: {awaits}"
        return f"{gate} does not await approval: {awaits}"

    def approving(self, gate: Gate, event_id: uuid.UUID) -> GateBook:
        """The book once git acted on approval `event_id` of `gate`: none awaits until one opens."""
        return self.model_copy(
            update={
                "awaiting": None,
                "approvals": {**self.approvals, gate: event_id},
                "seen": self.seen | {event_id},
            }
        )
