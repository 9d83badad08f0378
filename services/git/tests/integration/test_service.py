"""The git service on a real nats-server: builds become commits, exports become pushes."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
import structlog

from layercake_contracts.bus import STREAM_NAME
from layercake_contracts.events import (
    ArtifactRecorded,
    BuildSucceeded,
    CommitCreated,
    CommitSkipped,
    Event,
    ExportRequested,
    GateApproved,
    GateOpened,
    ProcessingFailed,
    PushCompleted,
    PushFailed,
)
from layercake_contracts.runtime import ServiceRuntime
from layercake_contracts.values import FileEntry, Gate, Manifest, Role
from layercake_git.adapters.releases import release_path
from layercake_git.app import create_runtime
from layercake_git.settings import Settings
from layercake_testing.waiting import eventually

pytestmark = pytest.mark.nats

ANSWERS = (CommitCreated, CommitSkipped, PushCompleted, PushFailed, ProcessingFailed)


@pytest.fixture
async def git_and_observer(nats_server, tmp_path):
    """The git service and an observer that keeps every answer it publishes."""
    settings = Settings(
        nats_url=nats_server.url,
        workspaces_root=tmp_path / "workspaces",
        git_release_root=tmp_path / "releases",
        git_remotes=("https://127.0.0.1:1/",),
    )
    git = create_runtime(settings)
    observer = ServiceRuntime("observer", nats_server.url)
    seen: list[Event] = []

    @observer.subscribe(observer.broker, None)
    async def keep(event: Event) -> None:
        if isinstance(event, ANSWERS):
            seen.append(event)

    await git.start()
    await observer.start()
    yield observer, seen, settings.workspaces_root
    await observer.stop()
    await git.stop()


async def build_succeeded(
    observer: ServiceRuntime, project, files: dict[str, bytes]
) -> BuildSucceeded:
    blobs = await observer.bus.blobs()
    manifest = Manifest(
        {
            path: FileEntry(sha256=await blobs.put(data), size=len(data))
            for path, data in files.items()
        }
    )
    return BuildSucceeded.follow(
        project, role=Role.BACKEND_DEVELOPER, gate=Gate.G5, attempt=1, manifest=manifest, results=()
    )


def opened_and_approved(cause, *gates: Gate) -> list[Event]:
    """What the ledger publishes as it approves `gates` in turn: each opened, then approved."""
    return [
        event
        for gate in gates
        for event in (
            GateOpened.follow(cause, gate=gate),
            GateApproved.follow(cause, gate=gate, by="ada"),
        )
    ]


async def answers(
    observer: ServiceRuntime, seen: list[Event], count: int, *requests
) -> list[Event]:
    """Publish `requests` in order; the service's answers, once there are `count` of them."""
    for request in requests:
        await observer.bus.publish(request)
    await eventually(lambda: len(seen) >= count)
    return seen


async def test_build_succeeded_gives_commit_created_for_the_branch_head(
    git_and_observer, project, inspect
):
    """The commit is on gate/g5 with the manifest's files; the event names it and its trigger."""
    observer, seen, root = git_and_observer
    request = await build_succeeded(observer, project, {"app.py": b"print(1)\n"})
    [created] = await answers(observer, seen, 1, request)
    assert isinstance(created, CommitCreated)
    assert created.causation_id == request.event_id
    assert (created.branch, created.files_changed) == ("gate/g5", 2)
    assert inspect(root / "shop.git", "rev-parse", "gate/g5").strip() == created.sha
    assert inspect(root / "shop.git", "show", "gate/g5:app.py") == "print(1)\n"


async def test_an_export_after_approval_pushes_main_to_a_release(
    git_and_observer, project, inspect, tmp_path
):
    """Build, approval (no documents: no answer), export, in order: PushCompleted with main's sha."""
    observer, seen, root = git_and_observer
    created, pushed = await answers(
        observer,
        seen,
        2,
        await build_succeeded(observer, project, {"app.py": b"x\n"}),
        *opened_and_approved(project, Gate.G5),
        ExportRequested.follow(project, remote_url="v1"),
    )
    assert isinstance(pushed, PushCompleted)
    assert pushed.sha == created.sha
    release = release_path(tmp_path / "releases", project.project_id, "v1")
    assert inspect(release, "rev-parse", "main").strip() == created.sha
    assert inspect(release, "log", "main") == inspect(root / "shop.git", "log", "main")


@pytest.mark.parametrize("export_first", [True, False], ids=["export-first", "approval-first"])
async def test_the_release_carries_g9_approved_whichever_comes_first(
    git_and_observer, project, inspect, tmp_path, export_first
):
    """GateApproved(G9) and the ExportRequested after it, in either order: the tag is released."""
    observer, seen, _root = git_and_observer
    g9 = GateApproved.follow(project, gate=Gate.G9, by="ada")
    push = ExportRequested.follow(g9, remote_url="v1")
    created, pushed = await answers(
        observer,
        seen,
        2,
        await build_succeeded(observer, project, {"app.py": b"x\n"}),
        *opened_and_approved(project, Gate.G5),
        GateOpened.follow(project, gate=Gate.G9),
        *((push, g9) if export_first else (g9, push)),
    )
    assert isinstance(pushed, PushCompleted)
    release = release_path(tmp_path / "releases", project.project_id, "v1")

    def tags() -> list[str]:
        return inspect(release, "tag").split()

    await eventually(lambda: "g9-approved" in tags())
    assert tags() == ["g5-approved", "g9-approved"]
    assert inspect(release, "rev-parse", "g9-approved^{commit}").strip() == created.sha


async def test_a_build_that_changes_nothing_gives_commit_skipped(git_and_observer, project):
    """The same tree built again (a rework, a test run): CommitSkipped names the head, no commit."""
    observer, seen, _root = git_and_observer
    first = await build_succeeded(observer, project, {"app.py": b"x\n"})
    again = first.model_copy(update={"event_id": uuid.uuid4(), "attempt": 2})
    created, skipped = await answers(observer, seen, 2, first, again)
    assert isinstance(skipped, CommitSkipped)
    assert (skipped.sha, skipped.branch, skipped.causation_id) == (
        created.sha, "gate/g5", again.event_id,
    )  # fmt: skip


async def test_an_export_to_an_unreachable_remote_gives_push_failed(git_and_observer, project):
    """The reason is git's own."""
    observer, seen, _ = git_and_observer
    _, failed = await answers(
        observer,
        seen,
        2,
        await build_succeeded(observer, project, {"app.py": b"x\n"}),
        ExportRequested.follow(project, remote_url="https://127.0.0.1:1/x.git", branch="gate/g5"),
    )
    assert isinstance(failed, PushFailed)
    assert failed.reason.startswith("git push failed (exit 128): ")
    assert "Failed to connect to 127.0.0.1 port 1" in failed.reason


async def test_a_manifest_into_a_git_folder_is_dead_lettered_at_once(git_and_observer, project):
    """`src/.GIT/config` breaks the contract's path rule: ProcessingFailed naming it, no commit."""
    observer, seen, root = git_and_observer
    request = await build_succeeded(observer, project, {"src/GIT/config": b"[core]\n"})
    forged = request.model_dump_json().replace("src/GIT/config", "src/.GIT/config")
    subject = f"lc.evt.{request.project_id}.BuildSucceeded"
    await observer.broker.publish(forged.encode(), subject, stream=STREAM_NAME)
    # The observer, which subscribes to everything, refuses the message too: git's is the one.
    await eventually(lambda: any(getattr(e, "service", "") == "git" for e in seen))
    [dead] = [e for e in seen if getattr(e, "service", "") == "git"]
    assert isinstance(dead, ProcessingFailed)
    assert dead.deliveries == 1
    assert "src/.GIT/config" in dead.error
    assert not (root / "shop.git").exists()


async def test_a_build_succeeded_not_from_the_builder_is_dead_lettered_and_not_committed(
    git_and_observer, project
):
    """A BuildSucceeded whose producer is the agent: git's ProcessingFailed names both services; no branch is made."""
    observer, seen, root = git_and_observer
    request = await build_succeeded(observer, project, {"app.py": b"print(1)\n"})
    forged = json.loads(request.model_dump_json())
    forged["producer"] = "agent"
    subject = f"lc.evt.{request.project_id}.BuildSucceeded"
    await observer.broker.publish(json.dumps(forged).encode(), subject, stream=STREAM_NAME)
    await eventually(lambda: any(getattr(e, "service", "") == "git" for e in seen))
    [dead] = [e for e in seen if getattr(e, "service", "") == "git"]
    assert isinstance(dead, ProcessingFailed)
    assert dead.original_event_id == request.event_id
    assert "produced by builder" in dead.error
    assert "'agent'" in dead.error
    assert not [e for e in seen if isinstance(e, CommitCreated)]
    assert not (root / "shop.git").exists()


async def recorded(observer: ServiceRuntime, project, gate: Gate, text: str) -> ArtifactRecorded:
    """A document of `gate`, its content in the blob store."""
    blob = await (await observer.bus.blobs()).put(text.encode())
    return ArtifactRecorded.follow(project, gate=gate, kind="doc", name=f"{gate}-doc", blob=blob)


async def handled(observer: ServiceRuntime) -> None:
    """Return once git's consumer has acknowledged every message on the stream."""
    js = observer.broker.connection.jetstream()

    async def caught_up() -> bool:
        info = await js.consumer_info(STREAM_NAME, "git-flow")
        return info.num_pending == 0 and info.num_ack_pending == 0

    deadline = asyncio.get_running_loop().time() + 10
    while not await caught_up():
        assert asyncio.get_running_loop().time() < deadline, "git never caught up"
        await asyncio.sleep(0.05)


async def test_an_approval_of_a_gate_the_ledger_never_opened_changes_nothing_in_the_repository(
    git_and_observer, project, inspect
):
    """GateApproved(G7) while G2 awaits: no tag, main stays; acked and logged; then G2..G7 go on."""
    observer, seen, root = git_and_observer
    repo = root / "shop.git"
    g1 = await answers(
        observer, seen, 1, project, GateApproved.follow(project, gate=Gate.G0, by="ada"),
        GateOpened.follow(project, gate=Gate.G1), await recorded(observer, project, Gate.G1, "ok"),
        GateApproved.follow(project, gate=Gate.G1, by="ada"),
    )  # fmt: skip
    [main_before] = [e.sha for e in g1 if isinstance(e, CommitCreated)]
    build = await build_succeeded(observer, project, {"app.py": b"x\n"})
    forged = GateApproved.follow(project, gate=Gate.G7, by="mallory")
    with structlog.testing.capture_logs() as logs:
        await answers(
            observer, seen, 2, GateOpened.follow(project, gate=Gate.G2), build,
            await recorded(observer, project, Gate.G7, "all clear"), forged,
        )  # fmt: skip
        await handled(observer)
    assert inspect(repo, "tag").split() == ["g1-approved"]
    assert inspect(repo, "rev-parse", "main").strip() == main_before
    assert not [e for e in seen if isinstance(e, ProcessingFailed)]
    [ignored] = [e for e in logs if e["event"] == "gate_approval_ignored"]
    assert (ignored["gate"], ignored["reason"]) == ("G7", "G7 was never opened: G2 awaits")

    # The ledger's own flow goes on: each gate tagged, G5's build merged, G7's document on main.
    await answers(
        observer, seen, 3, *opened_and_approved(project, Gate.G2, Gate.G3, Gate.G4, Gate.G5),
        *opened_and_approved(project, Gate.G6, Gate.G7),
    )  # fmt: skip
    await handled(observer)
    assert inspect(repo, "tag").split() == [f"g{n}-approved" for n in range(1, 8)]
    assert inspect(repo, "rev-parse", "main~2").strip() == main_before  # G7's, on G5's build
    assert inspect(repo, "show", "main:app.py") == "x\n"
    assert inspect(repo, "show", "main:docs/g7/G7-doc.md") == "all clear"


async def test_an_event_type_git_does_not_know_is_acked_and_ignored(git_and_observer, project):
    """An event of a type not in the catalogue (a later version's) gets no answer and no dead letter; the build after it is committed."""
    observer, seen, _ = git_and_observer
    later = {**json.loads(project.model_dump_json()), "type": "GateReopened", "gate": "G5"}
    subject = f"lc.evt.{project.project_id}.GateReopened"
    await observer.broker.publish(json.dumps(later).encode(), subject, stream=STREAM_NAME)
    [created] = await answers(
        observer, seen, 1, await build_succeeded(observer, project, {"app.py": b"x\n"})
    )
    assert isinstance(created, CommitCreated)
    await handled(observer)
    assert not [e for e in seen if isinstance(e, ProcessingFailed)]
    assert not [e for e in seen if isinstance(e, ProcessingFailed)]
