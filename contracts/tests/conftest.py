from __future__ import annotations

import uuid

import pytest

from layercake_contracts import events as ev
from layercake_contracts.values import (
    Diagnostic,
    EarlierAttempt,
    FileEntry,
    Gate,
    Manifest,
    RejectedPath,
    Role,
    Severity,
    Step,
    StepResult,
    TestCounts,
    Usage,
)

SHA = "a" * 64


def sample_events(project_id: str) -> list[ev.EventBase]:
    """One instance of every event type, with every optional part filled in."""
    manifest = Manifest(
        {
            "src/app.py": FileEntry(sha256=SHA, size=12, mode=0o644),
            "bin/run": FileEntry(sha256="b" * 64, size=3, mode=0o755),
        }
    )
    diagnostic = Diagnostic(
        tool="tsc",
        severity=Severity.ERROR,
        file="src/a.ts",
        line=3,
        column=7,
        code="TS2307",
        message="Cannot find module 'x'",
    )
    result = StepResult(
        step=Step.TEST,
        command=("pytest", "-q"),
        exit_code=1,
        duration_s=1.5,
        output="1 failed",
        log_blob=SHA,
        tests=TestCounts(passed=3, failed=1, skipped=0),
        coverage_percent=81.5,
        diagnostics=(diagnostic,),
    )
    usage = Usage(input_tokens=10, output_tokens=20, cost_usd=0.001)
    root = ev.ProjectCreated(project_id=project_id, name="todo", intake="a todo CLI", owner="ada")
    common = {"role": Role.BACKEND_DEVELOPER, "gate": Gate.G5}
    rejected = (RejectedPath(path="/etc/passwd", reason="absolute path"),)
    return [
        root,
        ev.IntakeRevised.follow(root, intake="a todo CLI, with due dates", by="ada", revision=2),
        ev.GateOpened.follow(root, gate=Gate.G1),
        ev.ArtifactRecorded.follow(
            root,
            gate=Gate.G2,
            kind="prd",
            name="PRD.md",
            blob=SHA,
            facts={"words": 900},
        ),
        ev.GateApproved.follow(root, gate=Gate.G1, by="ada"),
        ev.GateRejected.follow(root, gate=Gate.G2, by="ada", reason="too vague"),
        ev.OptionSelected.follow(root, gate=Gate.G4, option="b", by="ada"),
        ev.AgentRequested.follow(root, **common, instructions="go", base=manifest),
        ev.CodeGenerated.follow(
            root,
            **common,
            attempt=1,
            answer=SHA,
            base=manifest,
            model="m",
            usage=usage,
            duration_s=2.0,
        ),
        ev.AgentFailed.follow(root, **common, attempt=1, reason="429", retryable=True),
        ev.FilesWritten.follow(
            root,
            **common,
            attempt=1,
            manifest=manifest,
            changed=("src/app.py",),
            rejected=rejected,
            warnings=("dup",),
        ),
        ev.FilesRejected.follow(root, **common, attempt=1, rejected=rejected),
        ev.BuildRequested.follow(root, **common, manifest=manifest, steps=(Step.TEST,)),
        ev.BuildStarted.follow(
            root, **common, attempt=1, toolchains=("python",), steps=(Step.TEST,)
        ),
        ev.BuildSucceeded.follow(root, **common, attempt=1, manifest=manifest, results=(result,)),
        ev.BuildFailed.follow(
            root,
            **common,
            attempt=1,
            manifest=manifest,
            results=(result,),
            failed_step=Step.TEST,
        ),
        ev.HealRequested.follow(
            root,
            **common,
            attempt=2,
            base=manifest,
            failed_step=Step.TEST,
            diagnostics=(diagnostic,),
            rejected=rejected,
            history=(EarlierAttempt(attempt=1, outcome="1 failed"),),
        ),
        ev.EscalationRaised.follow(root, **common, attempt=3, reason="out of heals"),
        ev.CommitCreated.follow(
            root,
            **common,
            sha="c" * 40,
            branch="g5",
            files_changed=2,
            trailer=f"LayerCake-Event: {uuid.uuid4()}",
        ),
        ev.CommitSkipped.follow(root, gate=Gate.G5, sha="c" * 40, branch="g5"),
        ev.ExportRequested.follow(root, remote_url="file:///srv/x.git", branch="main"),
        ev.PushCompleted.follow(root, remote_url="file:///srv/x.git", branch="main", sha="d" * 40),
        ev.PushFailed.follow(
            root, remote_url="file:///srv/x.git", branch="main", reason="unreachable"
        ),
        ev.AnswerAwaited.follow(
            root,
            request_id=root.event_id,
            number=1,
            role=Role.ARCHITECT,
            gate=Gate.G3,
            attempt=1,
            prompt="e" * 64,
            size=1200,
            file="/srv/agent/manual/p/001.md",
        ),
        ev.AnswerGiven.follow(
            root, request_id=root.event_id, number=1, answer="f" * 64, size=300, by="ada"
        ),
        ev.ProcessingFailed.follow(
            root,
            service="parser",
            subject="lc.evt.p.CodeGenerated",
            stream_sequence=4,
            deliveries=5,
            original_event_id=root.event_id,
            original_type="CodeGenerated",
            error="boom",
        ),
    ]


@pytest.fixture
def project_id() -> str:
    return f"p-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def every_event(project_id: str) -> list[ev.EventBase]:
    return sample_events(project_id)
