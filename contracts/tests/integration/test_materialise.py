from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import tempfile
from pathlib import Path

import pytest
from faststream.nats import NatsBroker

from layercake_contracts.bus import Bus, sha256_of
from layercake_contracts.errors import BlobMissing, UnsafeTree
from layercake_contracts.materialise import materialise, project_files, write_tree
from layercake_contracts.values import FileEntry, Manifest
from layercake_contracts.walk import remove_entry
from layercake_testing.hostile_paths import HOSTILE_PATHS

pytestmark = pytest.mark.nats


class CountingBlobs:
    """The real blob store, counting how many contents materialise fetched."""

    def __init__(self, store) -> None:
        self.store = store
        self.fetched: list[str] = []

    async def get(self, digest: str) -> bytes:
        self.fetched.append(digest)
        return await self.store.get(digest)


@pytest.fixture
async def blobs(nats_server):
    broker = NatsBroker(nats_server.url)
    await broker.connect()
    yield await Bus(broker).blobs()
    await broker.stop()


async def manifest_of(blobs, files: dict[str, bytes | tuple[bytes, int]]) -> Manifest:
    entries = {}
    for path, value in files.items():
        data, mode = value if isinstance(value, tuple) else (value, 0o644)
        entries[path] = FileEntry(sha256=await blobs.put(data), size=len(data), mode=mode)
    return Manifest(entries)


async def test_blob_store_put_get_exists(blobs):
    """put returns the sha256, get returns the bytes, exists tells; a second put stores nothing new."""
    data = b"hello\n" * 1000
    digest = await blobs.put(data)
    assert digest == sha256_of(data)
    assert await blobs.exists(digest)
    assert await blobs.get(digest) == data
    assert await blobs.put(data) == digest
    assert not await blobs.exists("0" * 64)
    with pytest.raises(BlobMissing, match="0000"):
        await blobs.get("0" * 64)


async def test_newer_manifest_writes_only_what_changed(blobs, tmp_path):
    """On top of an older tree, only changed and added files are written, deleted ones removed, others untouched."""
    counting = CountingBlobs(blobs)
    old = await manifest_of(
        blobs,
        {
            "keep.txt": b"same\n",
            "src/change.py": b"v1\n",
            "src/gone.py": b"bye\n",
            "old/only/file.txt": b"x\n",
            "run.sh": b"#!/bin/sh\n",
        },
    )
    first = await materialise(old, tmp_path, counting)
    assert len(first.written) == 5
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "dep.js").write_text("untracked")
    before = os.stat(tmp_path / "keep.txt")

    new = await manifest_of(
        blobs,
        {
            "keep.txt": b"same\n",
            "src/change.py": b"v2\n",
            "src/new.py": b"hi\n",
            "run.sh": (b"#!/bin/sh\n", 0o755),
        },
    )
    counting.fetched.clear()
    report = await materialise(new, tmp_path, counting, previous=old)

    assert report.written == ("run.sh", "src/change.py", "src/new.py")
    assert len(counting.fetched) == 3
    assert report.removed == ("old/only/file.txt", "src/gone.py")
    assert report.unchanged == ("keep.txt",)
    after = os.stat(tmp_path / "keep.txt")
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert (tmp_path / "src/change.py").read_bytes() == b"v2\n"
    assert os.stat(tmp_path / "run.sh").st_mode & 0o777 == 0o755
    assert not (tmp_path / "src/gone.py").exists()
    assert not (tmp_path / "old").exists(), "emptied folders are pruned"
    assert (tmp_path / "node_modules/dep.js").read_text() == "untracked"

    counting.fetched.clear()
    again = await materialise(new, tmp_path, counting, previous=new)
    assert again.written == ()
    assert counting.fetched == []


async def test_file_edited_on_disk_is_rewritten(blobs, tmp_path):
    """The disk, not memory, decides what is stale: a file a build step changed is restored."""
    manifest = await manifest_of(blobs, {"a.txt": b"original\n"})
    await materialise(manifest, tmp_path, blobs)
    (tmp_path / "a.txt").write_text("tampered\n")
    report = await materialise(manifest, tmp_path, blobs, previous=manifest)
    assert report.written == ("a.txt",)
    assert (tmp_path / "a.txt").read_bytes() == b"original\n"


async def test_planted_symlinks_are_replaced_not_followed(blobs, tmp_path):
    """A symlinked folder or file inside the target is replaced; the outside files stay as they were."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("keep me")
    target = tmp_path / "work"
    target.mkdir()
    os.symlink(outside, target / "src")
    os.symlink(outside / "secret.txt", target / "top.txt")

    manifest = await manifest_of(blobs, {"src/secret.txt": b"overwritten?\n", "top.txt": b"mine\n"})
    report = await materialise(manifest, target, blobs)

    assert sorted(report.written) == ["src/secret.txt", "top.txt"]
    assert (outside / "secret.txt").read_text() == "keep me"
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert not (target / "src").is_symlink()
    assert not (target / "top.txt").is_symlink()
    assert (target / "src/secret.txt").read_bytes() == b"overwritten?\n"


async def test_removal_does_not_follow_a_symlinked_folder(blobs, tmp_path):
    """Deleting a path whose folder became a symlink removes nothing outside."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "gone.py").write_text("outside file")
    target = tmp_path / "work"
    old = await manifest_of(blobs, {"src/gone.py": b"bye\n"})
    await materialise(old, target, blobs)
    (target / "src/gone.py").unlink()
    (target / "src").rmdir()
    os.symlink(outside, target / "src")

    await materialise(Manifest({}), target, blobs, previous=old)
    assert (outside / "gone.py").read_text() == "outside file"


async def test_missing_blob_writes_nothing(blobs, tmp_path):
    """If any content is missing, materialise fails before touching the folder."""
    good = await manifest_of(blobs, {"a.txt": b"a\n"})
    broken = Manifest({**good.root, "b.txt": FileEntry(sha256="f" * 64, size=1)})
    with pytest.raises(BlobMissing):
        await materialise(broken, tmp_path, blobs)
    assert list(tmp_path.iterdir()) == []


async def finished_or_released(work, fifos: list[Path], within: float = 60.0):
    """Await `work`; if it blocks on a FIFO past `within` s, unblock it and fail.

    The time is only a safety net so a regression fails instead of hanging the run.
    """
    try:
        return await asyncio.wait_for(work, within)
    except TimeoutError:
        for fifo in fifos:
            with contextlib.suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail(f"materialise blocked on a FIFO ({fifos})")


async def test_a_fifo_where_a_file_goes_is_replaced_without_blocking(blobs, tmp_path):
    """A build step's `mkfifo package.json` (or a FIFO for a folder) never holds materialise."""
    manifest = await manifest_of(blobs, {"package.json": b"{}\n", "src/a.py": b"a\n"})
    await materialise(manifest, tmp_path, blobs)
    fifos = [tmp_path / "package.json", tmp_path / "src"]
    (tmp_path / "package.json").unlink()
    (tmp_path / "src/a.py").unlink()
    (tmp_path / "src").rmdir()
    for fifo in fifos:
        os.mkfifo(fifo)

    report = await finished_or_released(
        materialise(manifest, tmp_path, blobs, previous=manifest), fifos
    )

    assert sorted(report.written) == ["package.json", "src/a.py"]
    assert (tmp_path / "package.json").read_bytes() == b"{}\n"
    assert (tmp_path / "src/a.py").read_bytes() == b"a\n"
    assert stat.S_ISREG((tmp_path / "package.json").lstat().st_mode)
    os.mkfifo(tmp_path / "stray.json")  # readers of project_files open what it lists
    assert [path for path, _ in project_files(tmp_path)] == ["package.json", "src/a.py"]


def nest(root: Path, depth: int, name: str = "a") -> None:
    """`mkdir -p a/a/…` `depth` deep, one level at a time (the whole path is past PATH_MAX)."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(depth):
            os.mkdir(name, dir_fd=fd)
            deeper = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = deeper
        os.close(os.open("deepest.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
    finally:
        os.close(fd)


@pytest.fixture
def deep_root():
    """A folder of the test's own, removed with `remove_entry`: pytest's rmtree recurses."""
    folder = Path(tempfile.mkdtemp(prefix="lc-deep-"))
    yield folder
    parent = os.open(folder.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        remove_entry(folder.name, parent)
    finally:
        os.close(parent)
    assert not folder.exists()


async def test_three_thousand_nested_folders_do_not_stop_materialise_or_project_files(
    blobs, deep_root
):
    """No recursion limit, no path-length limit: a folder where a file goes is removed whole."""
    manifest = await manifest_of(blobs, {"a": b"a file now\n", "b/c.txt": b"c\n"})
    nest(deep_root, 3000)
    (deep_root / "b").mkdir()
    nest(deep_root / "b", 3000, name="d")

    report = await materialise(manifest, deep_root, blobs)

    assert sorted(report.written) == ["a", "b/c.txt"]
    assert (deep_root / "a").read_bytes() == b"a file now\n"
    # The deep folder beside a manifest file is left alone, and walked past without error.
    assert [path for path, _ in project_files(deep_root)] == ["a", "b/c.txt"]
    assert (deep_root / "b/d/d/d").is_dir()


def test_write_tree_refuses_a_path_the_rule_refuses_before_writing_anything(tmp_path):
    """Every hostile spelling is an UnsafeTree naming it; nothing is written, in the tree or above."""
    root = tmp_path / "up" / "two" / "root"
    for path, reason in HOSTILE_PATHS:
        with pytest.raises(UnsafeTree) as refused:
            write_tree(root, {"ok.txt": (b"ok\n", 0o644), path: (b"[core]\n", 0o644)})
        assert (refused.value.path, reason in refused.value.reason) == (path, True)
    assert [files for _, _, files in os.walk(tmp_path) if files] == []


def test_project_files_of_a_folder_that_is_not_there_is_empty(tmp_path):
    """As with os.walk before it: a missing folder, or a file, holds no project files."""
    (tmp_path / "file").write_text("x")
    assert list(project_files(tmp_path / "missing")) == []
    assert list(project_files(tmp_path / "file")) == []
