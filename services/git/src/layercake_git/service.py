"""The git service's shell: fetch contents, ask the core what to commit, drive the repository.

One request at a time per project (a lock); the git work of each runs in a
thread. A commit is looked up by its trailer before it is made, so a
redelivered request makes no second commit and gets the same answer.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

from layercake_contracts.events import GateApproved
from layercake_contracts.rpc import MAX_DIFF_CHARS, MAX_DIFFS_CHARS, CommitEntry, HistoryAnswer
from layercake_contracts.values import Role
from layercake_git.adapters.record import RecordFile
from layercake_git.adapters.releases import Releases
from layercake_git.adapters.repository import Repository
from layercake_git.core.checks import check_branch, check_tree_paths, shown_remote
from layercake_git.core.designs import choice_for_build, unchosen_designs, without
from layercake_git.core.history import (
    COMMITTER,
    approval_message,
    author_for,
    bounded_patch,
    build_message,
)
from layercake_git.core.outcome import (
    commit_created,
    commit_skipped,
    push_completed,
    push_failed,
)
from layercake_git.core.record import ProjectRecord
from layercake_git.core.remotes import Address, Release, export_target
from layercake_git.core.tree import (
    GIT_MODES,
    GITIGNORE,
    MAIN,
    MAIN_REF,
    REGULAR,
    RefUpdate,
    TreeEntry,
    approval_updates,
    blob_id,
    branch_ref,
    build_parent,
    count_changes,
    gitignore_for,
    layered,
    plan_approval,
    short_name,
    tag_ref,
)
from layercake_git.errors import BranchMissing, GitFailed, Refused, RepositoryMissing

if TYPE_CHECKING:
    import uuid
    from collections.abc import Iterable
    from datetime import datetime

    from layercake_contracts.events import (
        ArtifactRecorded,
        BuildSucceeded,
        CommitCreated,
        CommitSkipped,
        ExportRequested,
        OptionSelected,
        PushCompleted,
        PushFailed,
    )
    from layercake_contracts.materialise import BlobSource
    from layercake_contracts.rpc import HistoryQuestion
    from layercake_git.adapters.workspaces import Workspaces
    from layercake_git.core.gates import GateNews
    from layercake_git.core.history import Identity, LogEntry
    from layercake_git.core.tree import ApprovalPlan, Tree

log = structlog.get_logger(__name__)

# Approvals are a person's act: their commits are authored by the user role.
APPROVER = Role.USER


class GitService:
    """Commits builds and approved documents, and exports, for every project."""

    def __init__(self, workspaces: Workspaces, exports: Exports) -> None:
        self._workspaces = workspaces
        self._exports = exports
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def commit_build(
        self, event: BuildSucceeded, blobs: BlobSource
    ) -> CommitCreated | CommitSkipped:
        """Commit `event`'s manifest exactly on its gate's branch, once however often it comes.

        A tree its branch (or main, for a new run) already holds is not committed
        again: the answer is a CommitSkipped naming that commit.
        """
        check_tree_paths(event.manifest)
        branch = short_name(branch_ref(event.gate))
        async with self._locks[event.project_id]:
            repo = self._workspaces.repository(event.project_id)
            record_file = self._workspaces.record(event.project_id)
            found = await asyncio.to_thread(_create_and_find, repo, event.event_id)
            if found is not None:
                log.info("commit_found_again", sha=found.sha, branch=branch)
                return commit_created(
                    event, role=event.role, sha=found.sha, branch=branch, files=found.files
                )
            record = await asyncio.to_thread(record_file.load)
            files = {
                **{path: (digest, 0o644) for path, digest in record.carried.items()},
                **{path: (entry.sha256, entry.mode) for path, entry in event.manifest.items()},
            }
            chosen = choice_for_build(record.chosen_design, event.gate)
            files = without(files, unchosen_designs(files, chosen))
            fetched = await _fetch(blobs, (digest for digest, _ in files.values()), record)
            sha, count = await asyncio.to_thread(
                _commit_build, repo, record_file, record, event, files, fetched
            )
        if count is None:
            log.info("commit_skipped", sha=sha, branch=branch)
            return commit_skipped(event, sha=sha, branch=branch)
        log.info("commit_created", sha=sha, branch=branch, files=count)
        return commit_created(event, role=event.role, sha=sha, branch=branch, files=count)

    async def history(self, question: HistoryQuestion) -> HistoryAnswer:
        """The project's newest commits (none before its first)."""
        repo = self._workspaces.repository(question.project_id)
        entries = await asyncio.to_thread(repo.log) if repo.exists else []
        commits = [commit_entry(e) for e in entries[: question.limit]]
        if question.diffs:
            commits = await asyncio.to_thread(_with_patches, repo, commits)
        return HistoryAnswer(commits=tuple(commits))

    async def record_artifact(self, event: ArtifactRecorded) -> None:
        """Remember `event`'s document (if it is one) for its gate's approval."""
        await self._amend(event.project_id, lambda record: record.with_artifact(event))

    async def select(self, event: OptionSelected) -> None:
        """Remember the design chosen at G4: only that one goes on from G4's approval."""
        await self._amend(event.project_id, lambda record: record.choosing(event))

    async def follow_gate(self, news: GateNews) -> None:
        """Follow the ledger's gate machine: which gate awaits, so only its approval is acted on."""
        await self._amend(
            news.project_id, lambda record: record.with_gates(record.gates.following(news))
        )

    async def _amend(
        self, project_id: str, change: Callable[[ProjectRecord], ProjectRecord]
    ) -> None:
        """Change the project's record, writing it only when something changed."""
        async with self._locks[project_id]:
            await asyncio.to_thread(_amend_file, self._workspaces.record(project_id), change)

    async def approve(self, event: GateApproved, blobs: BlobSource) -> CommitCreated | None:
        """Commit the gate's documents, merge its branch into main and tag it.

        Only the approval of the gate the ledger opened and awaits (see
        `core/gates.py`): any other changes nothing, and is logged with the reason.
        From G4 on, the designs not chosen are left out of main. The tag is also
        pushed to each earlier export whose commit it marks (G9's approval comes
        after its release was pushed, or before). Returns the commit's event, or
        None when no commit was needed (main could simply move to the branch).
        """
        async with self._locks[event.project_id]:
            repo = self._workspaces.repository(event.project_id)
            record_file = self._workspaces.record(event.project_id)
            record = await asyncio.to_thread(record_file.load)
            refusal = record.gates.refusal(event.gate, event.event_id)
            if refusal is not None:
                log.warning("gate_approval_ignored", gate=event.gate, reason=refusal)
                return None
            # Recorded first: redelivered, the same approval is acted on again (and finds its work).
            record = record.with_gates(record.gates.approving(event.gate, event.event_id))
            documents = record.documents(event.gate)
            if documents:  # carried from now on: a later build keeps them in its tree
                record = record.approving(event.gate)
            await asyncio.to_thread(record_file.save, record)
            if not documents and not repo.exists:
                return None
            found = await asyncio.to_thread(_create_and_find, repo, event.event_id)
            fetched = {} if found else await _fetch(blobs, documents.values(), record)
            approval = _Approval(repo, record_file, record, event, documents)
            made = await asyncio.to_thread(approval.run, found, fetched)
            await asyncio.to_thread(self._push_tag, repo, event, record.exports)
        if made is None:
            log.info("gate_merged_without_commit", gate=event.gate)
            return None
        sha, count = made
        log.info("commit_created", sha=sha, branch=MAIN, files=count)
        return commit_created(event, role=APPROVER, sha=sha, branch=MAIN, files=count)

    async def export(self, event: ExportRequested) -> PushCompleted | PushFailed:
        """Push the branch and the approval tags to a release or an allowed remote, or say why."""
        try:
            target = export_target(event.remote_url, self._exports.remotes)
            branch = check_branch(event.branch)
        except Refused as exc:
            log.warning("export_refused", reason=str(exc))
            return push_failed(event, str(exc))
        async with self._locks[event.project_id]:
            repo = self._workspaces.repository(event.project_id)
            record_file = self._workspaces.record(event.project_id)
            try:
                sha = await asyncio.to_thread(self._export, repo, event.project_id, target, branch)
            except (Refused, GitFailed, RepositoryMissing, BranchMissing) as exc:
                log.warning("push_failed", reason=str(exc))
                return push_failed(event, str(exc))
            record = await asyncio.to_thread(record_file.load)  # a RemoteUrl holds no password
            await asyncio.to_thread(record_file.save, record.exported(event.remote_url, sha))
        log.info("push_completed", sha=sha, branch=branch)
        return push_completed(event, sha)

    def _export(self, repo: Repository, project_id: str, target: Release | str, branch: str) -> str:
        if not repo.exists:
            raise RepositoryMissing(project_id)
        ref = f"refs/heads/{branch}"
        sha = repo.resolve(ref)
        if sha is None:
            raise BranchMissing(branch)
        self._push(repo, project_id, target, (f"{ref}:{ref}", "refs/tags/*:refs/tags/*"))
        return sha

    def _push_tag(self, repo: Repository, event: GateApproved, exports: Mapping[str, str]) -> None:
        """Push the approval's tag to each export whose pushed commit holds the commit it marks.

        A remote no longer allowed is skipped (retrying cannot change that); a
        failed push raises, so the approval is delivered again.
        """
        ref = tag_ref(event.gate)
        tagged = repo.resolve(ref) if exports else None
        for remote, pushed in exports.items():
            if tagged is None or not repo.is_ancestor(tagged, pushed):
                continue
            try:
                target = export_target(remote, self._exports.remotes)
                self._push(repo, event.project_id, target, (f"{ref}:{ref}",))
            except Refused as exc:
                log.warning("tag_not_pushed", remote=shown_remote(remote), reason=str(exc))
                continue
            log.info("tag_pushed", tag=ref, remote=shown_remote(remote))

    def _push(
        self, repo: Repository, project_id: str, target: Release | str, refspecs: tuple[str, ...]
    ) -> None:
        if isinstance(target, Release):
            release = self._exports.releases.repository(project_id, target.name)
            repo.push_to_release(release, refspecs)
        else:
            repo.push(target, refspecs, self._exports.credentials(target))


@dataclass(frozen=True)
class Exports:
    """Where exports may go: the release folder, the allowed remotes, and credentials per URL."""

    releases: Releases
    remotes: tuple[Address, ...]
    credentials: Callable[[str], Mapping[str, str]]


async def _fetch(
    blobs: BlobSource, digests: Iterable[str], record: ProjectRecord
) -> dict[str, bytes]:
    """The contents the repository does not hold yet, by sha256."""
    missing = sorted(set(digests) - record.blob_ids.keys())
    contents = await asyncio.gather(*(blobs.get(digest) for digest in missing))
    return dict(zip(missing, contents, strict=True))


def commit_entry(entry: LogEntry) -> CommitEntry:
    """One commit as the contract says it (also `layercake log --json`)."""
    return CommitEntry(
        sha=entry.sha, refs=entry.refs, date=entry.date, author=entry.author,
        subject=entry.subject, gate=entry.gate, role=entry.role, event_id=entry.event_id,
        files=entry.files, trailers=dict(entry.trailers),
    )  # fmt: skip


def _with_patches(repo: Repository, commits: list[CommitEntry]) -> list[CommitEntry]:
    """Each commit with its patch, cut to fit (see `bounded_patch`), newest first."""
    budget, patched = MAX_DIFFS_CHARS, []
    for entry in commits:
        if budget <= 0:  # spent on newer commits: this one's patch is left out
            patched.append(entry.model_copy(update={"diff_truncated": True}))
            continue
        patch, cut = bounded_patch(repo.patch(entry.sha), min(MAX_DIFF_CHARS, budget))
        budget -= len(patch)
        patched.append(entry.model_copy(update={"diff": patch, "diff_truncated": cut}))
    return patched


def _create_and_find(repo: Repository, event_id: uuid.UUID) -> LogEntry | None:
    repo.create()
    return repo.find(event_id)


def _amend_file(record_file: RecordFile, change: Callable[[ProjectRecord], ProjectRecord]) -> None:
    record = record_file.load()
    updated = change(record)
    if updated != record:
        record_file.save(updated)


def _store(
    repo: Repository,
    record_file: RecordFile,
    record: ProjectRecord,
    fetched: Mapping[str, bytes],
    generated: bytes,
) -> ProjectRecord:
    """Write the fetched contents and a generated file as blobs; remember their ids."""
    repo.write_blobs([*fetched.values(), generated])
    if not fetched:
        return record
    record = record.with_blob_ids({digest: blob_id(data) for digest, data in fetched.items()})
    record_file.save(record)
    return record


def _gitignore_layer(data: bytes) -> Tree:
    return {GITIGNORE: TreeEntry(REGULAR, blob_id(data))}


def _commit(
    repo: Repository,
    tree: Tree,
    parents: tuple[str, ...],
    message: Callable[[int], str],
    author: Identity,
    when: datetime,
) -> tuple[str, int | None]:
    """Commit `tree` on `parents`: its sha and the count of files changed against the first parent.

    When `tree` is its only parent's, nothing is committed (an empty commit says
    nothing): that parent's sha, and None. A merge is made even so, since it
    records that the branch was brought in.
    """
    count = count_changes(repo.tree(parents[0] if parents else None), tree)
    if count == 0 and len(parents) == 1:
        return parents[0], None
    sha = repo.commit(
        repo.write_tree(tree),
        parents,
        message(count),
        author=author,
        committer=COMMITTER,
        when=when,
    )
    return sha, count


def _commit_build(
    repo: Repository,
    record_file: RecordFile,
    record: ProjectRecord,
    event: BuildSucceeded,
    files: Mapping[str, tuple[str, int]],
    fetched: Mapping[str, bytes],
) -> tuple[str, int | None]:
    """The build's commit and its file count; or the commit holding its tree already, and None."""
    gitignore = gitignore_for(event.manifest)
    record = _store(repo, record_file, record, fetched, gitignore)
    tree = layered(
        _gitignore_layer(gitignore),
        {
            path: TreeEntry(GIT_MODES[mode], record.blob_ids[digest])
            for path, (digest, mode) in files.items()
        },
    )
    ref = branch_ref(event.gate)
    main, tip = repo.resolve(MAIN_REF), repo.resolve(ref)
    parent = build_parent(main, tip, repo.relation(main, tip))
    sha, count = _commit(
        repo,
        tree,
        () if parent is None else (parent,),
        lambda n: build_message(event, n),
        author_for(event.role),
        event.occurred_at,
    )
    if count is not None:
        repo.update_refs([RefUpdate(ref, sha, tip)])
    return sha, count


@dataclass(frozen=True)
class _Approval:
    """One approval's git work: its commit when one is needed, then main, branch and tag."""

    repo: Repository
    record_file: RecordFile
    record: ProjectRecord
    event: GateApproved
    documents: Mapping[str, str]

    def run(self, found: LogEntry | None, fetched: Mapping[str, bytes]) -> tuple[str, int] | None:
        """Move the refs; the commit made (or found made before) and its file count, if any."""
        repo, gate = self.repo, self.event.gate
        main, tip, tag = (repo.resolve(ref) for ref in (MAIN_REF, branch_ref(gate), tag_ref(gate)))
        target: str | None
        left_out = False
        if found is not None:
            made: tuple[str, int] | None = (found.sha, found.files)
            target = found.sha
        else:
            plan = plan_approval(main, tip, repo.relation(main, tip))
            if self.documents or plan.parents:
                made, left_out = self._commit(plan, fetched)
            else:
                made = None
            target = made[0] if made else plan.start
        if target is None:
            return None
        main_moves = target != main and (main is None or not repo.is_ancestor(target, main))
        repo.update_refs(
            approval_updates(
                gate, target, main=main, tip=tip, tag=tag, main_moves=main_moves,
                branch_moves=not left_out,  # the gate's branch keeps what main leaves out
            )
        )  # fmt: skip
        return made

    def _commit(
        self, plan: ApprovalPlan, fetched: Mapping[str, bytes]
    ) -> tuple[tuple[str, int] | None, bool]:
        """The approval's commit, and whether it left unchosen designs out.

        No commit (None) when main may move to the plan's start as it is.
        """
        repo = self.repo
        base = repo.tree(repo.merge_trees(*plan.parents) if plan.merge else plan.start)
        gitignore = gitignore_for(base)
        record = _store(repo, self.record_file, self.record, fetched, gitignore)
        documents = {
            path: TreeEntry(REGULAR, record.blob_ids[d]) for path, d in self.documents.items()
        }
        tree = layered(_gitignore_layer(gitignore), base, documents)
        unchosen = unchosen_designs(tree, self.record.chosen_design)
        sha, count = _commit(
            repo,
            without(tree, unchosen),
            plan.parents,
            lambda n: approval_message(
                self.event,
                APPROVER,
                len(documents),
                n,
                chosen=self.record.chosen_design if unchosen else None,
            ),
            author_for(APPROVER),
            self.event.occurred_at,
        )
        return (None if count is None else (sha, count)), bool(unchosen)
