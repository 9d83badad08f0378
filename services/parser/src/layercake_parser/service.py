"""The parser's shell: fetch the answer and base from the blob store, extract, store the files."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import TYPE_CHECKING

from layercake_contracts.rpc import ParseAnswer, ParsedFile
from layercake_contracts.values import RejectedPath
from layercake_parser.core.answer import decode_answer
from layercake_parser.core.extract import Extraction, extract
from layercake_parser.core.outcome import outcome

if TYPE_CHECKING:
    from layercake_contracts.bus import BlobStore
    from layercake_contracts.events import CodeGenerated, FilesRejected, FilesWritten
    from layercake_contracts.rpc import ParseQuestion
    from layercake_contracts.values import Manifest

_EDIT_MARKERS = ("<<<<<<<", "\n@@ ", "\n--- ")


async def parse_generated(request: CodeGenerated, blobs: BlobStore) -> FilesWritten | FilesRejected:
    """Turn a CodeGenerated into the event that answers it, storing new contents as blobs."""
    text, decode_warnings = decode_answer(await blobs.get(request.answer))
    base = await _base_texts(request.base, blobs) if _has_edits(text) else None
    result = await asyncio.to_thread(extract, text, base, truncated=request.truncated)
    result = dataclasses.replace(result, warnings=decode_warnings + result.warnings)
    digests: dict[str, tuple[str, int]] = {}
    for file in result.files:
        data = file.content.encode()
        digests[file.path] = (await blobs.put(data), len(data))
    return outcome(request, result, digests)


async def answer_parse(question: ParseQuestion) -> ParseAnswer:
    """The HTTP API's synchronous parse: an answer against the texts it may edit."""
    return as_answer(await asyncio.to_thread(extract, question.answer, question.base))


def as_answer(result: Extraction) -> ParseAnswer:
    """An extraction as the contract's parse answer (also `layercake parse --json`)."""
    return ParseAnswer(
        files=tuple(ParsedFile(path=f.path, content=f.content, source=f.source.value)
                    for f in result.files),
        deleted=result.deleted,
        rejected=tuple(RejectedPath(path=r.path, reason=r.reason) for r in result.rejected),
        warnings=result.warnings,
    )  # fmt: skip


def _has_edits(text: str) -> bool:
    return any(marker in text for marker in _EDIT_MARKERS)


async def _base_texts(base: Manifest, blobs: BlobStore) -> dict[str, str]:
    paths = list(base)
    contents = await asyncio.gather(*(blobs.get(base[p].sha256) for p in paths))
    return {
        path: data.decode("utf-8", errors="replace")
        for path, data in zip(paths, contents, strict=True)
    }
