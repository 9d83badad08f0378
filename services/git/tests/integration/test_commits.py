"""Build commits on a real repository: the tree is the manifest exactly, once per event."""

from __future__ import annotations

from layercake_contracts.values import Gate, Role

README = b"# shop\n"
APP = b"print('hello')\n"
RUN = b"#!/bin/sh\nexec python app.py\n"


def tree_of(inspect, repo, rev):
    """`path -> (mode, content)` of every file in a commit, read back with plain git."""
    listing = inspect(repo, "ls-tree", "-r", "--full-tree", rev).splitlines()
    tree = {}
    for line in listing:
        info, path = line.split("\t")
        mode, _, oid = info.split(" ")
        tree[path] = (mode, inspect(repo, "cat-file", "blob", oid).encode())
    return tree


async def test_a_first_build_commits_exactly_its_manifest_with_modes_and_a_gitignore(
    service, build, blobs, inspect, repo_path
):
    """Every file with its content and mode (100755 kept), plus a .gitignore for Python."""
    event = build(
        {
            "README.md": README,
            "app.py": APP,
            "bin/run": (RUN, 0o755),
            "pyproject.toml": b"[project]\n",
        }
    )
    created = await service.commit_build(event, blobs)
    assert tree_of(inspect, repo_path, created.sha) == {
        ".gitignore": ("100644", b".venv/\n__pycache__/\ndist/\n.layercake/\n"),
        "README.md": ("100644", README),
        "app.py": ("100644", APP),
        "bin/run": ("100755", RUN),
        "pyproject.toml": ("100644", b"[project]\n"),
    }
    assert created.branch == "gate/g5"
    assert inspect(repo_path, "rev-parse", "refs/heads/gate/g5").strip() == created.sha
    assert created.files_changed == 5


async def test_the_next_build_adds_changes_deletes_and_flips_modes(
    service, build, blobs, inspect, repo_path
):
    """A second manifest replaces the tree: added, changed, deleted and re-moded files all show.

    Names that merely contain "git" (.github/, git.py, x.git/) are ordinary files.
    """
    first = await service.commit_build(
        build({"README.md": README, "app.py": APP, "bin/run": (RUN, 0o755)}), blobs
    )
    next_files = {
        "README.md": b"# shop v2\n", "bin/run": (RUN, 0o644), "src/git.py": b"x = 1\n",
        ".github/ci.yml": b"on: push\n", "x.git/y": b"y\n",
    }  # fmt: skip
    second = await service.commit_build(build(next_files, attempt=2), blobs)
    assert tree_of(inspect, repo_path, second.sha) == {
        ".gitignore": ("100644", b".layercake/\n"),
        ".github/ci.yml": ("100644", b"on: push\n"),
        "README.md": ("100644", b"# shop v2\n"),
        "bin/run": ("100644", RUN),
        "src/git.py": ("100644", b"x = 1\n"),
        "x.git/y": ("100644", b"y\n"),
    }
    assert inspect(repo_path, "rev-parse", f"{second.sha}^").strip() == first.sha
    changed = inspect(repo_path, "diff-tree", "-r", "--name-status", first.sha, second.sha)
    assert sorted(changed.splitlines()) == [
        "A\t.github/ci.yml", "A\tsrc/git.py", "A\tx.git/y", "D\tapp.py", "M\tREADME.md",
        "M\tbin/run",
    ]  # fmt: skip
    assert second.files_changed == 6


async def test_author_message_and_trailer_name_the_role_gate_attempt_and_event(
    service, build, blobs, inspect, repo_path
):
    """The author is the role; the message gives gate, role, attempt, file count; the event ends it."""
    event = build({"app.py": APP}, gate=Gate.G6, role=Role.QA_ENGINEER, attempt=3)
    created = await service.commit_build(event, blobs)
    author = inspect(repo_path, "log", "-1", "--format=%an <%ae>", created.sha).strip()
    message = inspect(repo_path, "log", "-1", "--format=%B", created.sha).strip()
    assert author == "LayerCake qa engineer <qa_engineer@layercake.invalid>"
    assert message.splitlines()[0] == "G6: qa engineer build, attempt 3 (2 files changed)"
    assert message.splitlines()[-1] == f"LayerCake-Event: {event.event_id}"
    assert created.trailer == f"LayerCake-Event: {event.event_id}"
    trailers = inspect(repo_path, "log", "-1", "--format=%(trailers:only,unfold)", created.sha)
    assert (
        "LayerCake-Gate: G6\nLayerCake-Role: qa_engineer\nLayerCake-Attempt: 3\nLayerCake-Files: 2\n"
        in trailers
    )


async def test_the_same_event_twice_makes_one_commit_and_the_same_answer(
    service, build, blobs, inspect, repo_path
):
    """A redelivered BuildSucceeded finds its commit by trailer: one commit, an identical event."""
    event = build({"app.py": APP})
    first = await service.commit_build(event, blobs)
    again = await service.commit_build(event, blobs)
    assert inspect(repo_path, "rev-list", "--all", "--count").strip() == "1"
    assert again.model_dump(exclude={"occurred_at"}) == first.model_dump(exclude={"occurred_at"})


async def test_a_node_project_gets_node_entries_and_its_own_gitignore_wins(
    service, build, blobs, inspect, repo_path
):
    """package.json brings node_modules/, dist/, coverage/; a manifest's own .gitignore is kept as is."""
    node = await service.commit_build(
        build({"package.json": b"{}\n", "web/pyproject.toml": b""}), blobs
    )
    assert inspect(repo_path, "show", f"{node.sha}:.gitignore") == (
        "node_modules/\ndist/\ncoverage/\n.venv/\n__pycache__/\n.layercake/\n"
    )
    own = await service.commit_build(
        build({"package.json": b"{}\n", ".gitignore": b"*.log\n"}, attempt=2), blobs
    )
    assert inspect(repo_path, "show", f"{own.sha}:.gitignore") == "*.log\n"


async def test_unchanged_contents_are_not_fetched_again(service, build, blobs):
    """The second commit of a tree asks the blob store only for what is new."""
    await service.commit_build(build({"a.txt": b"a", "b.txt": b"b"}), blobs)
    asked = []
    real_get = blobs.get

    async def counting(digest):
        asked.append(digest)
        return await real_get(digest)

    blobs.get = counting
    event = build({"a.txt": b"a", "b.txt": b"b", "c.txt": b"c"}, attempt=2)
    await service.commit_build(event, blobs)
    assert asked == [event.manifest["c.txt"].sha256]


async def test_a_rework_whose_build_changes_nothing_commits_nothing_and_names_the_head(
    service, build, blobs, inspect, repo_path
):
    """A rejected gate's role works again, its tree as before: CommitSkipped at the branch's head."""
    first = await service.commit_build(build({"app.py": APP}), blobs)
    again = await service.commit_build(build({"app.py": APP}, attempt=2), blobs)
    assert again.type == "CommitSkipped"
    assert (again.sha, again.branch, again.gate) == (first.sha, "gate/g5", Gate.G5)
    assert inspect(repo_path, "rev-list", "--all", "--count").strip() == "1"
    assert inspect(repo_path, "rev-parse", "gate/g5").strip() == first.sha


async def test_a_test_run_after_approval_commits_nothing_and_names_main(
    approve, service, build, approval, blobs, inspect, repo_path
):
    """`steps: ["test"]` on the approved tree passes: nothing committed, the answer is main's head."""
    built = await service.commit_build(build({"app.py": APP}), blobs)
    await approve(service, approval(Gate.G5))
    event = build({"app.py": APP}, attempt=2)
    tested = await service.commit_build(event, blobs)
    again = await service.commit_build(event, blobs)
    assert (tested.type, tested.sha) == ("CommitSkipped", built.sha)
    assert again.model_dump(exclude={"occurred_at"}) == tested.model_dump(exclude={"occurred_at"})
    assert inspect(repo_path, "rev-list", "--all", "--count").strip() == "1"
    assert "(0 files changed)" not in inspect(repo_path, "log", "--all", "--format=%s")
