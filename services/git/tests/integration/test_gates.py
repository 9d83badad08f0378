"""Gates on a real repository: documents committed on approval, branches merged, tags set."""

from __future__ import annotations

import structlog

from layercake_contracts.events import GateOpened, OptionSelected
from layercake_contracts.values import Gate, Role
from layercake_git.service import Exports, GitService

APP = b"print('hello')\n"


def refs(inspect, repo):
    """`ref -> sha` of every branch and tag."""
    lines = inspect(repo, "for-each-ref", "--format=%(refname) %(objectname)").splitlines()
    return dict(line.split(" ") for line in lines)


async def test_an_approval_commits_the_gates_documents_merges_into_main_and_tags(
    approve, service, document, approval, blobs, inspect, repo_path
):
    """G2's documents land under docs/g2/ on main, and g2-approved marks that commit."""
    await service.record_artifact(document(Gate.G2, "PRD", "# What we build\n"))
    await service.record_artifact(
        document(Gate.G2, "glossary.txt", "cart: a list\n", kind="glossary")
    )
    created = await approve(service, approval(Gate.G2))
    assert created is not None
    assert (created.branch, created.role, created.gate, created.files_changed) == (
        "main",
        Role.USER,
        Gate.G2,
        3,
    )
    assert refs(inspect, repo_path) == {
        "refs/heads/main": created.sha,
        "refs/heads/gate/g2": created.sha,
        "refs/tags/g2-approved": created.sha,
    }
    assert inspect(repo_path, "show", "main:docs/g2/PRD.md") == "# What we build\n"
    assert inspect(repo_path, "show", "main:docs/g2/glossary.txt") == "cart: a list\n"
    assert inspect(repo_path, "log", "-1", "--format=%an", "main").strip() == "LayerCake user"


async def test_a_gate_without_documents_fast_forwards_main_with_no_commit(
    approve, service, build, approval, blobs, inspect, repo_path
):
    """G5 approved: main moves to the branch's last build, tagged; no commit, no event."""
    built = await service.commit_build(build({"app.py": APP}), blobs)
    assert await approve(service, approval(Gate.G5)) is None
    assert refs(inspect, repo_path) == {
        "refs/heads/main": built.sha,
        "refs/heads/gate/g5": built.sha,
        "refs/tags/g5-approved": built.sha,
    }
    assert inspect(repo_path, "rev-list", "--all", "--count").strip() == "1"


async def test_an_approval_with_nothing_committed_yet_makes_no_repository(
    approve, service, approval, blobs, repo_path
):
    """G0 approved before any commit and without documents: nothing to do, nothing made."""
    assert await approve(service, approval(Gate.G0)) is None
    assert not repo_path.exists()


async def test_unchosen_designs_stay_out_and_the_selected_one_is_committed(
    approve, service, document, approval, blobs, inspect, repo_path
):
    """Of G4's artifacts, design options are left out; the selected design goes in."""
    for name in ("calm", "bold"):
        await service.record_artifact(
            document(Gate.G4, name, f"{name} design\n", kind="design_option")
        )
    await service.record_artifact(
        document(Gate.G4, "design", "calm design\n", kind="selected_design")
    )
    created = await approve(service, approval(Gate.G4))
    listing = inspect(repo_path, "ls-tree", "-r", "--name-only", created.sha).split()
    assert listing == [".gitignore", "docs/g4/design.md"]


async def test_a_later_build_keeps_approved_documents_and_history_reads_in_order(
    approve, service, build, document, approval, blobs, inspect, repo_path
):
    """G5's branch starts at main with G2's PRD; its approval fast-forwards main over both."""
    await service.record_artifact(document(Gate.G2, "PRD", "# PRD\n"))
    prd = await approve(service, approval(Gate.G2))
    built = await service.commit_build(build({"app.py": APP}), blobs)
    assert await approve(service, approval(Gate.G5)) is None
    assert inspect(repo_path, "rev-parse", f"{built.sha}^").strip() == prd.sha
    assert inspect(repo_path, "ls-tree", "-r", "--name-only", "main").split() == [
        ".gitignore", "app.py", "docs/g2/PRD.md",
    ]  # fmt: skip
    assert inspect(repo_path, "rev-list", "main").split() == [built.sha, prd.sha]
    assert refs(inspect, repo_path)["refs/tags/g2-approved"] == prd.sha
    assert refs(inspect, repo_path)["refs/tags/g5-approved"] == built.sha


async def test_a_branch_behind_main_is_merged_with_a_merge_commit(
    approve, service, build, document, approval, blobs, inspect, repo_path
):
    """G5 began before G3's documents reached main: approval merges, keeping both sides."""
    await service.commit_build(build({"app.py": APP}, gate=Gate.G3, role=Role.ARCHITECT), blobs)
    await approve(service, approval(Gate.G3))
    built = await service.commit_build(build({"app.py": APP, "api.py": b"x\n"}), blobs)
    await service.record_artifact(document(Gate.G4, "design", "calm\n", kind="selected_design"))
    g4 = await approve(service, approval(Gate.G4))
    merged = await approve(service, approval(Gate.G5))
    assert merged is not None
    parents = inspect(repo_path, "log", "-1", "--format=%P", merged.sha).split()
    assert parents == [g4.sha, built.sha]
    assert inspect(repo_path, "ls-tree", "-r", "--name-only", "main").split() == [
        ".gitignore", "api.py", "app.py", "docs/g4/design.md",
    ]  # fmt: skip
    assert refs(inspect, repo_path)["refs/tags/g5-approved"] == merged.sha


async def test_the_same_approval_twice_commits_once_and_answers_the_same(
    approve, service, document, approval, blobs, inspect, repo_path
):
    """A redelivered GateApproved finds its commit by trailer and republishes the same event."""
    await service.record_artifact(document(Gate.G2, "PRD", "# PRD\n"))
    event = approval(Gate.G2)
    first = await approve(service, event)
    again = await service.approve(event, blobs)
    assert again.model_dump(exclude={"occurred_at"}) == first.model_dump(exclude={"occurred_at"})
    assert inspect(repo_path, "rev-list", "--all", "--count").strip() == "1"


async def test_an_event_named_in_a_message_is_not_taken_for_its_commit(
    approve, service, build, document, approval, blobs, inspect, repo_path
):
    """An approver's name quoting a build's trailer does not stop that build's commit."""
    event = build({"app.py": APP})
    await service.record_artifact(document(Gate.G2, "PRD", "# PRD\n"))
    await approve(service, approval(Gate.G2, by=f"eve LayerCake-Event: {event.event_id}"))
    created = await service.commit_build(event, blobs)
    assert inspect(repo_path, "rev-list", "--all", "--count").strip() == "2"
    assert inspect(repo_path, "rev-parse", "gate/g5").strip() == created.sha


DESIGNS = {f"design/option-{x}.html": f"<p>{x}</p>\n".encode() for x in "abc"}


async def test_only_the_chosen_design_reaches_main_and_its_branch_keeps_all_three(
    approve, service, build, approval, project, blobs, inspect, repo_path
):
    """G4 approved after option-b was chosen: main holds option-b; gate/g4 still holds a, b, c."""
    designed = await service.commit_build(build(DESIGNS, gate=Gate.G4, role=Role.DESIGNER), blobs)
    await service.select(OptionSelected.follow(project, gate=Gate.G4, option="option-b", by="ada"))
    approved = await approve(service, approval(Gate.G4))
    assert approved is not None
    assert approved.files_changed == 2
    assert inspect(repo_path, "ls-tree", "-r", "--name-only", "main").split() == [
        ".gitignore", "design/option-b.html",
    ]  # fmt: skip
    assert refs(inspect, repo_path)["refs/heads/gate/g4"] == designed.sha
    assert refs(inspect, repo_path)["refs/tags/g4-approved"] == approved.sha
    assert len(inspect(repo_path, "ls-tree", "--name-only", "gate/g4:design").split()) == 3
    assert inspect(repo_path, "log", "-1", "--format=%s", "main").strip() == (
        "G4 approved by ada: 0 document(s), 2 files changed, only option-b of the designs"
    )


async def test_a_later_build_does_not_bring_the_unchosen_designs_back(
    approve, service, build, approval, project, blobs, inspect, repo_path
):
    """G5's tree started from G4's (all three designs): its commit and main keep only option-b."""
    await service.commit_build(build(DESIGNS, gate=Gate.G4, role=Role.DESIGNER), blobs)
    await service.select(OptionSelected.follow(project, gate=Gate.G4, option="option-b", by="ada"))
    await approve(service, approval(Gate.G4))
    built = await service.commit_build(build({**DESIGNS, "app.py": APP}), blobs)
    await approve(service, approval(Gate.G5))
    listing = [".gitignore", "app.py", "design/option-b.html"]
    assert inspect(repo_path, "ls-tree", "-r", "--name-only", built.sha).split() == listing
    assert inspect(repo_path, "ls-tree", "-r", "--name-only", "main").split() == listing


async def test_a_gates_documents_stay_where_its_role_wrote_them(
    approve, service, build, approval, blobs, inspect, repo_path
):
    """The product manager's docs/prd.md is on main at docs/prd.md after G2: no docs/g2/ copy."""
    await service.commit_build(
        build({"docs/prd.md": b"# PRD\n"}, gate=Gate.G2, role=Role.PRODUCT_MANAGER), blobs
    )
    assert await approve(service, approval(Gate.G2)) is None
    assert inspect(repo_path, "ls-tree", "-r", "--name-only", "g2-approved").split() == [
        ".gitignore", "docs/prd.md",
    ]  # fmt: skip


async def test_a_second_approval_of_an_approved_gate_moves_nothing(
    approve, service, document, approval, blobs, inspect, repo_path
):
    """Another GateApproved of G2 after G2's was acted on: no commit, no ref moves; logged why."""
    await service.record_artifact(document(Gate.G2, "PRD", "# PRD\n"))
    await approve(service, approval(Gate.G2))
    before = refs(inspect, repo_path)
    await service.record_artifact(document(Gate.G2, "PRD", "# Another PRD\n"))
    with structlog.testing.capture_logs() as logs:
        assert await service.approve(approval(Gate.G2, by="eve"), blobs) is None
    assert refs(inspect, repo_path) == before
    assert inspect(repo_path, "show", "main:docs/g2/PRD.md") == "# PRD\n"
    assert [(entry["event"], entry["reason"]) for entry in logs] == [
        ("gate_approval_ignored", "G2 is approved already: no gate awaits")
    ]


async def test_after_a_restart_git_still_knows_which_gate_the_ledger_awaits(
    approve, service, workspaces, releases, document, approval, project, blobs, inspect, repo_path
):
    """A new service over the same workspaces: G7 changes nothing, G3 (opened before) is tagged."""
    await service.record_artifact(document(Gate.G2, "PRD", "# PRD\n"))
    await approve(service, approval(Gate.G2))
    await service.follow_gate(GateOpened.follow(project, gate=Gate.G3))
    restarted = GitService(workspaces, Exports(releases, (), lambda _url: {}))
    await restarted.record_artifact(document(Gate.G7, "security", "fine\n"))
    assert await restarted.approve(approval(Gate.G7), blobs) is None
    assert inspect(repo_path, "tag").split() == ["g2-approved"]
    await restarted.record_artifact(document(Gate.G3, "openapi.yaml", "openapi: 3.1.0\n"))
    created = await restarted.approve(approval(Gate.G3), blobs)
    assert created is not None
    assert refs(inspect, repo_path)["refs/tags/g3-approved"] == created.sha
    assert inspect(repo_path, "tag").split() == ["g2-approved", "g3-approved"]
