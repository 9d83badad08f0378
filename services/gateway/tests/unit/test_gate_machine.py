"""The gate machine and heal policy, as plain objects: every allowed and refused transition."""

from __future__ import annotations

import pytest

from layercake_contracts.values import Gate, Role
from layercake_gateway.core.gates import GateState, roles_for
from layercake_gateway.core.project import GateRuleBroken, LedgerError, MissingArtifacts, Project


def project(*, has_ui: bool = False, heal_limit: int = 3) -> Project:
    return Project(
        project_id="todo",
        name="todo",
        intake="a todo CLI",
        owner="ada",
        has_ui=has_ui,
        heal_limit=heal_limit,
    )


def through(p: Project, gate: Gate) -> None:
    """Record the proof for every gate before `gate` and approve them."""
    proofs = {
        Gate.G1: [("intake_review", "review.md")],
        Gate.G2: [("prd", "PRD.md")],
        Gate.G3: [("openapi", "openapi.yaml"), ("data_schema", "schema.sql")],
        Gate.G4: [("design_option", n) for n in ("a", "b", "c")],
    }
    for current in Gate:
        if current is gate:
            return
        for kind, name in proofs.get(current, []):
            p.record_artifact(current, kind, name, None, {})
        if current is Gate.G4:
            p.select_option("b", by="ada")
        for role in roles_for(current, has_ui=p.has_ui):
            p.record_work_done(current, role, 1, "t")
        extra = {Gate.G5: "build", Gate.G6: "coverage", Gate.G8: "deployment", Gate.G9: "release"}
        if current in extra:
            p.record_artifact(current, extra[current], "proof", None, {})
        if current is Gate.G7:
            p.record_artifact(current, "security_review", "review.md", None, {})
            p.record_artifact(current, "audit", "audit.json", None, {})
        p.approve(current, by="ada")


def test_a_new_project_awaits_approval_of_its_intake():
    """G0 holds the intake and awaits a person; every other gate is pending."""
    p = project()
    assert p.state_of(Gate.G0) is GateState.AWAITING_APPROVAL
    assert {p.state_of(g) for g in Gate if g is not Gate.G0} == {GateState.PENDING}


def test_approving_a_gate_opens_the_next_with_its_agents():
    """Approving G0 opens G1 for the product manager at attempt 1."""
    p = project()
    assert p.approve(Gate.G0, by="ada") is Gate.G1
    assert p.state_of(Gate.G0) is GateState.APPROVED
    assert p.state_of(Gate.G1) is GateState.IN_PROGRESS
    assert p.attempt_of(Gate.G1, Role.PRODUCT_MANAGER) == 1


def test_approval_without_proof_lists_what_is_missing():
    """G3 with only the OpenAPI document: refused, naming the data schema."""
    p = project()
    through(p, Gate.G3)
    p.record_artifact(Gate.G3, "openapi", "openapi.yaml", None, {})
    with pytest.raises(MissingArtifacts) as refused:
        p.approve(Gate.G3, by="ada")
    assert refused.value.missing == ("data_schema",)
    assert p.state_of(Gate.G3) is GateState.IN_PROGRESS


def test_g4_needs_three_options_and_a_selection():
    """Two options: '1 more design_option' and the selection are missing."""
    p = project()
    through(p, Gate.G4)
    p.record_artifact(Gate.G4, "design_option", "a", None, {})
    p.record_artifact(Gate.G4, "design_option", "b", None, {})
    assert p.missing(Gate.G4) == ("1 more design_option", "selected_design")
    p.record_artifact(Gate.G4, "design_option", "c", None, {})
    with pytest.raises(GateRuleBroken, match="one of the options"):
        p.select_option("z", by="ada")
    p.select_option("c", by="ada")
    assert p.state_of(Gate.G4) is GateState.IN_PROGRESS, "the designer's tree is not built yet"
    p.record_work_done(Gate.G4, Role.DESIGNER, 1, "t")
    assert p.state_of(Gate.G4) is GateState.AWAITING_APPROVAL
    assert p.selected_option == "c"


@pytest.mark.parametrize("gate", [Gate.G2, Gate.G9])
def test_a_pending_gate_can_be_neither_approved_nor_rejected(gate):
    """Only a gate that awaits approval (or is in progress, for approval) may be decided."""
    p = project()
    with pytest.raises(GateRuleBroken, match="pending"):
        p.approve(gate, by="ada")
    with pytest.raises(GateRuleBroken, match="expected awaiting_approval"):
        p.reject(gate, by="ada", reason="no")


def test_an_approved_gate_cannot_be_approved_again():
    """A second approval is a conflict, not a second transition."""
    p = project()
    p.approve(Gate.G0, by="ada")
    with pytest.raises(GateRuleBroken, match="G0 is approved"):
        p.approve(Gate.G0, by="bob")


def test_reject_sends_the_agents_back_to_work():
    """Rejecting G2 puts it in progress again, at the next attempt, for the product manager."""
    p = project()
    through(p, Gate.G2)
    p.record_artifact(Gate.G2, "prd", "PRD.md", None, {})
    p.record_work_done(Gate.G2, Role.PRODUCT_MANAGER, 1, "t1")
    assert p.state_of(Gate.G2) is GateState.AWAITING_APPROVAL
    assert p.reject(Gate.G2, by="ada", reason="too vague") == (Role.PRODUCT_MANAGER,)
    assert p.state_of(Gate.G2) is GateState.IN_PROGRESS
    p.record_artifact(Gate.G2, "prd", "PRD.md", "f" * 64, {})
    assert p.state_of(Gate.G2) is GateState.IN_PROGRESS, "the rework is not built yet"
    p.record_work_done(Gate.G2, Role.PRODUCT_MANAGER, 1, "t2")
    assert p.state_of(Gate.G2) is GateState.AWAITING_APPROVAL


def test_g5_has_a_frontend_only_with_a_ui_and_waits_for_every_role():
    """With a UI both developers must pass before G5 awaits approval."""
    p = project(has_ui=True)
    through(p, Gate.G5)
    assert p.attempt_of(Gate.G5, Role.FRONTEND_DEVELOPER) == 1
    p.record_artifact(Gate.G5, "build", "backend", None, {})
    p.record_work_done(Gate.G5, Role.BACKEND_DEVELOPER, 1, "t1")
    assert p.state_of(Gate.G5) is GateState.IN_PROGRESS
    p.record_work_done(Gate.G5, Role.FRONTEND_DEVELOPER, 2, "t2")
    assert p.state_of(Gate.G5) is GateState.AWAITING_APPROVAL
    without_ui = project()
    through(without_ui, Gate.G5)
    assert without_ui.attempt_of(Gate.G5, Role.FRONTEND_DEVELOPER) == 0


def test_heal_attempts_one_to_three_then_escalation():
    """Attempts 1 and 2 heal; the third failure escalates instead of healing."""
    p = project()
    through(p, Gate.G5)
    error = [{"tool": "pytest", "file": "calc.py", "line": 2, "message": "assert -1 == 5"}]
    first = p.record_failure(Gate.G5, Role.BACKEND_DEVELOPER, 1, error, "t1")
    second = p.record_failure(Gate.G5, Role.BACKEND_DEVELOPER, 2, error, "t2")
    third = p.record_failure(Gate.G5, Role.BACKEND_DEVELOPER, 3, error, "t3")
    assert (first.heal, first.next_attempt) == (True, 2)
    assert (second.heal, second.next_attempt) == (True, 3)
    assert not third.heal
    assert "heal limit is 3" in third.reason
    assert [(e["attempt"], e["resolved_at"]) for e in p.errors] == [(1, None), (2, None), (3, None)]
    assert len(p.escalations) == 1
    assert p.escalations[0]["role"] == "backend_developer"
    assert p.escalations[0]["kind"] == "heal_limit"


def test_a_persons_failed_files_are_neither_healed_nor_escalated():
    """The user's own tree failing keeps its errors, but no agent heals it and nothing escalates."""
    p = project()
    through(p, Gate.G5)
    error = [{"tool": "pytest", "file": "calc.py", "message": "assert -1 == 5"}]
    decision = p.record_failure(Gate.G5, Role.USER, 1, error, "t1", {"calc.py": {"x": 1}})
    assert not decision.heal
    assert "theirs to mend" in decision.reason
    assert p.escalations == []
    assert [e["role"] for e in p.errors] == ["user"]
    assert p.manifests["G5/user"] == {"calc.py": {"x": 1}}


def test_a_passing_build_keeps_its_tree_as_the_roles_latest():
    """The tree a passing build names is what a later build or file write starts from."""
    p = project()
    through(p, Gate.G5)
    tree = {"calc.py": {"sha256": "0" * 64, "size": 1, "mode": 420}}
    p.record_work_done(Gate.G5, Role.BACKEND_DEVELOPER, 1, "t1", tree)
    assert p.manifests["G5/backend_developer"] == tree


def test_a_passing_build_resolves_the_error_history_with_the_time():
    """The errors of the healed role get the time of the build that passed."""
    p = project()
    through(p, Gate.G5)
    p.record_failure(Gate.G5, Role.BACKEND_DEVELOPER, 1, [{"message": "boom"}], "t1")
    p.record_work_done(Gate.G5, Role.BACKEND_DEVELOPER, 2, "t9")
    assert [e["resolved_at"] for e in p.errors] == ["t9"]


def test_escalations_are_resolved_once_with_a_decision():
    """A person's decision closes an escalation; a second decision is refused."""
    p = project(heal_limit=1)
    through(p, Gate.G5)
    p.record_failure(Gate.G5, Role.BACKEND_DEVELOPER, 1, [], "t1")
    p.resolve_escalation(0, "retry with a smaller scope", by="ada", at="t2")
    assert p.escalations[0]["decision"] == "retry with a smaller scope"
    with pytest.raises(LedgerError, match="no open escalation"):
        p.resolve_escalation(0, "again", by="ada", at="t3")


def test_the_whole_flow_reaches_g9_and_replays_to_the_same_state():
    """G0 to G9 approved; the aggregate rebuilt from its own events equals the live one."""
    p = project(has_ui=True)
    through(p, Gate.G9)
    p.record_artifact(Gate.G9, "release", "push", None, {"sha": "abc"})
    p.approve(Gate.G9, by="ada")
    assert {p.state_of(g) for g in Gate} == {GateState.APPROVED}
    events = p.collect_events()
    rebuilt = None
    for domain_event in events:
        rebuilt = domain_event.mutate(rebuilt)
    assert rebuilt is not None
    assert rebuilt.__dict__ == p.__dict__


def test_g7_findings_can_be_accepted_with_a_reason_only():
    """The audit requirement is met by accepting the findings, with a reason and a name."""
    p = project()
    through(p, Gate.G7)
    p.record_artifact(Gate.G7, "security_review", "docs/security-review.md", None, {})
    p.record_work_done(Gate.G7, Role.SECURITY_ENGINEER, 1, "t")
    assert p.missing(Gate.G7) == ("audit",)
    with pytest.raises(LedgerError, match="needs a reason"):
        p.accept_findings(by="ada", reason=" ")
    p.accept_findings(by="ada", reason="dev-only dependency, not shipped")
    assert p.state_of(Gate.G7) is GateState.AWAITING_APPROVAL
    [audit] = [a for a in p.artifacts["G7"] if a["kind"] == "audit"]
    assert audit["facts"]["accepted_by"] == "ada"


def test_the_next_gate_starts_from_the_codebase_of_the_last_approved_gate():
    """G6 opens with the G5 trees merged (a person's files last); G1 with nothing."""
    p = project()
    through(p, Gate.G5)
    assert p.bases[Gate.G1.value] == {}
    backend = {"calc.py": {"sha256": "a" * 64, "size": 1, "mode": 420}}
    mine = {"calc.py": {"sha256": "b" * 64, "size": 2, "mode": 420}}
    p.record_work_done(Gate.G5, Role.BACKEND_DEVELOPER, 1, "t1", backend)
    p.record_work_done(Gate.G5, Role.USER, 1, "t2", {**backend, **mine})
    p.record_artifact(Gate.G5, "build", "backend_developer", None, {})
    p.approve(Gate.G5, by="ada")
    assert p.codebase() == mine
    assert p.bases[Gate.G6.value] == mine
    assert p.base_for(Gate.G6, Role.QA_ENGINEER) == mine
    qa = {**mine, "test_calc.py": {"sha256": "c" * 64, "size": 3, "mode": 420}}
    p.record_failure(Gate.G6, Role.QA_ENGINEER, 1, [], "t3", qa)
    assert p.base_for(Gate.G6, Role.QA_ENGINEER) == qa, "a role retries from its own tree"
