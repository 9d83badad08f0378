"""The ledger's reactions to bus events: documents become artifacts, builds prove gates."""

from __future__ import annotations

import uuid

from layercake_contracts.events import (
    BuildFailed,
    BuildSucceeded,
    FilesWritten,
    GateApproved,
    OptionSelected,
    ProjectCreated,
)
from layercake_contracts.values import (
    Diagnostic,
    FileEntry,
    Gate,
    Manifest,
    Role,
    Severity,
    Step,
    StepResult,
)
from layercake_gateway.core.gates import GateState
from layercake_gateway.core.policy import Policy, react

ROOT = ProjectCreated(project_id="calc", name="calc", intake="i", owner="ada")


def written(gate: Gate, role: Role, paths: dict[str, str]) -> FilesWritten:
    manifest = Manifest({p: FileEntry(sha256=c * 64, size=1) for p, c in paths.items()})
    return FilesWritten.follow(ROOT, role=role, gate=gate, attempt=1, manifest=manifest,
                               changed=tuple(paths))  # fmt: skip


def at(gate: Gate):
    project = react(None, ROOT, Policy())
    for g in Gate:
        if g is gate:
            return project
        project.gates[g.value] = GateState.APPROVED.value
    return project


def test_architecture_documents_written_by_the_architect_complete_g3():
    """docs/openapi.yaml and docs/schema.sql become G3's proof, their blobs kept."""
    project = react(None, ROOT, Policy())
    for gate in (Gate.G0, Gate.G1, Gate.G2):
        project = react(
            project,
            written(gate, Role.PRODUCT_MANAGER, {"docs/prd.md": "b", "docs/intake-review.md": "c"}),
            Policy(),
        )
        project = react(project, GateApproved.follow(ROOT, gate=gate, by="ada"), Policy())
    assert project.state_of(Gate.G2) is GateState.APPROVED
    project = react(
        project,
        written(
            Gate.G3,
            Role.ARCHITECT,
            {"docs/openapi.yaml": "d", "docs/schema.sql": "e", "src/x.py": "f"},
        ),
        Policy(),
    )
    assert project.state_of(Gate.G3) is GateState.IN_PROGRESS, "awaits the architect's build"
    built = BuildSucceeded.follow(ROOT, role=Role.ARCHITECT, gate=Gate.G3, attempt=1,
                                  manifest=Manifest(), results=())  # fmt: skip
    project = react(project, built, Policy())
    assert project.state_of(Gate.G3) is GateState.AWAITING_APPROVAL
    kinds = {a["kind"]: a["blob"] for a in project.artifacts["G3"]}
    assert kinds == {"openapi": "d" * 64, "data_schema": "e" * 64}
    assert set(project.manifests["G3/architect"]) == {
        "docs/openapi.yaml",
        "docs/schema.sql",
        "src/x.py",
    }, "the written tree is kept, and a build reporting no tree does not erase it"
    assert set(project.bases["G3"]) == {"docs/prd.md", "docs/intake-review.md"}


def test_the_designers_three_options_await_a_selection():
    """design/option-a..c.html are the G4 options, named by their stem."""
    project = at(Gate.G4)
    project.gates["G4"] = GateState.IN_PROGRESS.value
    project = react(
        project,
        written(Gate.G4, Role.DESIGNER, {f"design/option-{c}.html": c for c in "abc"}),
        Policy(),
    )
    assert sorted(a["name"] for a in project.artifacts["G4"]) == [
        "option-a",
        "option-b",
        "option-c",
    ]
    assert project.missing(Gate.G4) == ("selected_design",)


def test_the_ledgers_own_selection_read_back_off_the_bus_is_not_recorded_again():
    """A person chose option B; the gateway announced it and read it back: one decision, one proof."""
    project = at(Gate.G4)
    project.gates["G4"] = GateState.IN_PROGRESS.value
    project = react(
        project,
        written(Gate.G4, Role.DESIGNER, {f"design/option-{c}.html": c for c in "abc"}),
        Policy(),
    )
    project.select_option("option-b", "ada", announce=True)
    echo = OptionSelected.follow(ROOT, gate=Gate.G4, option="option-b", by="ada")
    project = react(project, echo, Policy())
    assert [d["decision"] for d in project.decisions] == ["selected option-b"]
    chosen = [a for a in project.artifacts["G4"] if a["kind"] == "selected_design"]
    assert [a["name"] for a in chosen] == ["option-b"]
    project = react(project, OptionSelected.follow(ROOT, gate=Gate.G4, option="option-c",
                                                   by="ada"), Policy())  # fmt: skip
    assert project.selected_option == "option-c", "another choice is still a choice"


def test_coverage_below_the_setting_fails_g6_and_above_proves_it():
    """A passing G6 build under the coverage floor counts as a failure to heal."""
    project = at(Gate.G6)
    project.gates["G6"] = GateState.IN_PROGRESS.value

    def build(percent: float, attempt: int) -> BuildSucceeded:
        result = StepResult(step=Step.TEST, command=("pytest",), exit_code=0, duration_s=1,
                            coverage_percent=percent)  # fmt: skip
        return BuildSucceeded.follow(ROOT, role=Role.QA_ENGINEER, gate=Gate.G6, attempt=attempt,
                                     manifest=Manifest(), results=(result,))  # fmt: skip

    project = react(project, build(61.0, 1), Policy(coverage_min=80))
    assert "coverage 61.0% is below 80.0%" in project.errors[-1]["message"]
    assert project.state_of(Gate.G6) is GateState.IN_PROGRESS
    project = react(project, build(92.5, 2), Policy(coverage_min=80))
    assert project.state_of(Gate.G6) is GateState.AWAITING_APPROVAL


def test_the_same_event_twice_changes_the_project_once():
    """A failed build published twice (same event id) records its errors and one heal only."""
    project = at(Gate.G5)
    project.gates["G5"] = GateState.IN_PROGRESS.value
    result = StepResult(
        step=Step.TEST, command=("pytest",), exit_code=1, duration_s=1.0,
        diagnostics=(Diagnostic(tool="pytest", severity=Severity.ERROR, message="boom"),),
    )  # fmt: skip
    failed = BuildFailed.follow(ROOT, role=Role.BACKEND_DEVELOPER, gate=Gate.G5, attempt=1,
                                manifest=Manifest(), results=(result,), failed_step=Step.TEST)  # fmt: skip
    project = react(project, failed, Policy())
    version = project.version + len(project.pending_events)
    project = react(project, failed, Policy())
    assert project.version + len(project.pending_events) == version, "no new aggregate event"
    assert [e["message"] for e in project.errors] == ["boom"]
    assert project.attempt_of(Gate.G5, Role.BACKEND_DEVELOPER) == 2
    other = failed.model_copy(update={"event_id": uuid.uuid4(), "attempt": 2})
    project = react(project, other, Policy())
    assert len(project.errors) == 2, "a different event still counts"
