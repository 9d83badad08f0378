"""A project folder as a manifest and an in-memory blob store: the CLI's `--context`.

Reading a folder this way lets `layercake agent ask` build its prompt through
the same code as the service, which reads trees from the blob store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from layercake_contracts.bus import sha256_of
from layercake_contracts.errors import BlobMissing
from layercake_contracts.materialise import project_files
from layercake_contracts.values import FileEntry, Manifest

if TYPE_CHECKING:
    from pathlib import Path


class MemoryBlobs:
    """Blobs by sha256 in a dict."""

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}

    async def get(self, digest: str) -> bytes:
        """The bytes stored under `digest`."""
        try:
            return self._data[digest]
        except KeyError as exc:
            raise BlobMissing(digest) from exc

    async def put(self, data: bytes) -> str:
        """Store `data` and return its sha256."""
        return self.add(data)

    def add(self, data: bytes) -> str:
        """Store `data` and return its sha256 (for callers outside an event loop)."""
        digest = sha256_of(data)
        self._data[digest] = data
        return digest


def read_folder(root: Path, blobs: MemoryBlobs) -> Manifest:
    """The manifest of `root`'s project files, their contents added to `blobs`."""
    entries = {}
    for path, full in project_files(root):
        data = full.read_bytes()
        entries[path] = FileEntry(sha256=blobs.add(data), size=len(data))
    return Manifest(entries)
