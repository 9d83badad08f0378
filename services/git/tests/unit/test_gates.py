"""The ledger's gate machine as git follows it: which approvals it acts on, and why not the others."""

from __future__ import annotations

import uuid

from layercake_contracts.events import (
    GateOpened,
    GateRejected,
    IntakeRevised,
    ProjectCreated,
)
from layercake_contracts.values import Gate
from layercake_git.core.gates import GateBook
from layercake_git.core.record import ProjectRecord

PROJECT = ProjectCreated(project_id="p", name="p", intake="x", owner="ada")
ORDER = tuple(Gate)


def through(*gates: Gate) -> GateBook:
    """The book once the ledger approved `gates` in turn and opened the gate after each."""
    book = GateBook().following(PROJECT)
    for gate in gates:
        book = book.approving(gate, uuid.uuid4())
        following = ORDER[ORDER.index(gate) + 1]
        book = book.following(GateOpened.follow(PROJECT, gate=following))
    return book


def rejected(book: GateBook, gate: Gate) -> GateBook:
    return book.following(GateRejected.follow(PROJECT, gate=gate, by="ada", reason="no"))


def test_a_new_project_awaits_g0_and_nothing_else_is_acted_on():
    """G0 may be approved; G1, never opened, may not."""
    book = GateBook().following(PROJECT)
    assert book.refusal(Gate.G0, uuid.uuid4()) is None
    assert book.refusal(Gate.G1, uuid.uuid4()) == "G1 was never opened: G0 awaits"


def test_an_approval_of_a_gate_never_opened_is_refused_naming_the_gate_awaiting():
    """G7 while G2 awaits: refused; G2 is acted on."""
    book = through(Gate.G0, Gate.G1)
    assert book.refusal(Gate.G7, uuid.uuid4()) == "G7 was never opened: G2 awaits"
    assert book.refusal(Gate.G2, uuid.uuid4()) is None


def test_a_second_approval_of_an_approved_gate_is_refused():
    """Another GateApproved of G1, once G2 awaits or right after G1's: refused."""
    assert through(Gate.G0, Gate.G1).refusal(Gate.G1, uuid.uuid4()) == (
        "G1 is approved already: G2 awaits"
    )
    just_approved = through(Gate.G0).approving(Gate.G1, uuid.uuid4())
    assert just_approved.refusal(Gate.G1, uuid.uuid4()) == "G1 is approved already: no gate awaits"


def test_the_same_approval_redelivered_is_acted_on_again_until_the_next_gate_opens():
    """Its git work finds what it did; once G2 opened, the same event is handled already."""
    approval = uuid.uuid4()
    book = GateBook().following(PROJECT).following(GateOpened.follow(PROJECT, gate=Gate.G1))
    book = book.approving(Gate.G1, approval)
    assert book.refusal(Gate.G1, approval) is None
    book = book.following(GateOpened.follow(PROJECT, gate=Gate.G2))
    assert book.refusal(Gate.G1, approval) == "G1's approval was handled already"


def test_a_rejected_g9_sends_g8_back_and_g9_awaits_once_it_opens_again():
    """After G9's rejection only G8 is acted on; G9 does not await until it is opened again."""
    book = rejected(through(*ORDER[:9]), Gate.G9)
    assert book.awaiting is Gate.G8
    assert book.refusal(Gate.G9, uuid.uuid4()) == "G9 does not await approval: G8 awaits"
    assert book.refusal(Gate.G8, uuid.uuid4()) is None
    book = book.approving(Gate.G8, uuid.uuid4()).following(GateOpened.follow(PROJECT, gate=Gate.G9))
    assert book.refusal(Gate.G9, uuid.uuid4()) is None


def test_another_rejected_gate_still_awaits_and_a_rejection_of_another_changes_nothing():
    """G3 rejected: its agents rework, G3 is still the one awaiting; a G5 rejection is ignored."""
    book = through(Gate.G0, Gate.G1, Gate.G2)
    assert rejected(book, Gate.G3).awaiting is Gate.G3
    assert rejected(book, Gate.G5).awaiting is Gate.G3


def test_a_rejected_g0_awaits_a_revised_intake():
    """G0 rejected: nothing awaits; the revised intake makes G0 await again."""
    book = rejected(GateBook().following(PROJECT), Gate.G0)
    assert book.refusal(Gate.G0, uuid.uuid4()) == "G0 does not await approval: no gate awaits"
    revised = book.following(IntakeRevised.follow(PROJECT, intake="y", by="ada", revision=2))
    assert revised.refusal(Gate.G0, uuid.uuid4()) is None
    approved = revised.approving(Gate.G0, uuid.uuid4())
    late = IntakeRevised.follow(PROJECT, intake="z", by="a", revision=3)
    assert approved.following(late).refusal(Gate.G0, uuid.uuid4()) == (
        "G0 is approved already: no gate awaits"
    )


def test_a_project_created_again_does_not_reset_the_book():
    """A second ProjectCreated, a copy or another id, leaves G2 awaiting."""
    book = through(Gate.G0, Gate.G1)
    assert book.following(PROJECT) == book
    other = PROJECT.model_copy(update={"event_id": uuid.uuid4()})
    assert book.following(other).awaiting is Gate.G2


def test_the_book_survives_the_record_file_as_json():
    """Written and read back, the record's gates refuse and accept the same approvals."""
    record = ProjectRecord().with_gates(through(Gate.G0, Gate.G1))
    again = ProjectRecord.model_validate_json(record.model_dump_json())
    assert again == record
    assert again.gates.refusal(Gate.G7, uuid.uuid4()) == "G7 was never opened: G2 awaits"


def test_a_copy_of_an_opening_or_a_rejection_seen_before_changes_nothing():
    """Every event stored twice (same id, later position): G3 still awaits, G9 is not sent back."""
    book = through(Gate.G0, Gate.G1)
    g2_opened = GateOpened.follow(PROJECT, gate=Gate.G2)
    book = book.following(g2_opened).approving(Gate.G2, uuid.uuid4())
    book = book.following(GateOpened.follow(PROJECT, gate=Gate.G3))
    assert book.following(g2_opened) == book
    g9_rejected = GateRejected.follow(PROJECT, gate=Gate.G9, by="ada", reason="no")
    sent_back = through(*ORDER[:9]).following(g9_rejected)
    reopened = sent_back.approving(Gate.G8, uuid.uuid4()).following(
        GateOpened.follow(PROJECT, gate=Gate.G9)
    )
    assert reopened.following(g9_rejected) == reopened
    assert reopened.awaiting is Gate.G9


def test_a_copy_of_an_earlier_approval_of_the_gate_awaiting_again_is_refused():
    """G8 approved, G9 rejected, G8 awaits again: the first G8 approval's copy is not acted on."""
    first_g8 = uuid.uuid4()
    book = through(*ORDER[:8]).approving(Gate.G8, first_g8)
    book = rejected(book.following(GateOpened.follow(PROJECT, gate=Gate.G9)), Gate.G9)
    assert book.awaiting is Gate.G8
    assert book.refusal(Gate.G8, first_g8) == "G8's approval was handled already"
    assert book.refusal(Gate.G8, uuid.uuid4()) is None


def test_a_book_rebuilt_from_approved_gates_awaits_the_next():
    """Tagged G0..G2: G3 awaits; G7, never opened, and G2, approved, are refused."""
    book = GateBook.rebuilt([Gate.G0, Gate.G1, Gate.G2], [Gate.G2])
    assert book.refusal(Gate.G3, uuid.uuid4()) is None
    assert book.refusal(Gate.G7, uuid.uuid4()) == "G7 was never opened: G3 awaits"
    assert book.refusal(Gate.G2, uuid.uuid4()) == "G2 is approved already: G3 awaits"


def test_a_rebuilt_book_awaits_the_gate_worked_on_past_the_last_tag():
    """No tags before G4 (no repository then), work on gate/g5: G5 awaits, G0..G4 approved."""
    book = GateBook.rebuilt([Gate.G4], [Gate.G5])
    assert book.awaiting is Gate.G5
    assert set(book.approvals) == {Gate.G0, Gate.G1, Gate.G2, Gate.G3, Gate.G4}


def test_a_rebuilt_book_of_nothing_awaits_g0_and_of_everything_nothing():
    """No evidence: G0 awaits; G9 tagged: the project is released, no gate awaits."""
    assert GateBook.rebuilt([], []).awaiting is Gate.G0
    done = GateBook.rebuilt(ORDER, ORDER)
    assert done.awaiting is None
    assert done.refusal(Gate.G9, uuid.uuid4()) == "G9 is approved already: no gate awaits"


def test_a_tag_past_a_gap_is_not_believed():
    """g7-approved made by the old version while G2 awaited (issue #18): G2 still awaits."""
    book = GateBook.rebuilt([Gate.G0, Gate.G1, Gate.G7], [Gate.G7])
    assert book.awaiting is Gate.G2
    assert Gate.G7 not in book.approvals
    assert book.refusal(Gate.G7, uuid.uuid4()) == "G7 was never opened: G2 awaits"
