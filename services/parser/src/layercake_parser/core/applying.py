"""The answer's operations applied, in order, to a copy of the base tree: the values it yields.

Every path passes `safe_path` first; a refused path or edit is listed with its
reason. When the answer was cut at the token limit, the one file or edit the
cut left unclosed is not written, and a warning names it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from layercake_parser.core.edits import (
    EditRejected,
    Patch,
    SearchReplace,
    apply_patch,
    apply_search_replace,
)
from layercake_parser.core.paths import safe_path


class Source(StrEnum):
    """Which form of the answer a file came from."""

    FENCE_INFO = "fence_info"
    FENCE_LABEL = "fence_label"
    MARKER_COMMENT = "marker_comment"
    FILE_TAG = "file_tag"
    SEARCH_REPLACE = "search_replace"
    UNIFIED_DIFF = "unified_diff"
    INFERRED = "inferred"


@dataclass(frozen=True)
class ExtractedFile:
    """A created or changed file, with its whole new content."""

    path: str
    content: str
    source: Source


@dataclass(frozen=True)
class Rejection:
    """A path or edit that was refused, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class Extraction:
    """What an answer yields against a base tree."""

    files: tuple[ExtractedFile, ...]
    rejected: tuple[Rejection, ...]
    warnings: tuple[str, ...]
    deleted: tuple[str, ...] = ()


@dataclass(frozen=True)
class Write:
    """A whole file the answer writes; `unclosed` when the answer ends inside it."""

    path: str
    content: str
    source: Source
    line: int
    unclosed: bool = False


Operation = Write | SearchReplace | Patch


@dataclass
class Tree:
    """The base tree with the answer's operations applied in order."""

    base: Mapping[str, str]
    warnings: list[str]
    cut: bool = False  # the answer was cut at the token limit
    current: dict[str, str] = field(init=False)
    sources: dict[str, Source] = field(default_factory=dict)
    written_at: dict[str, int] = field(default_factory=dict)
    rejected: list[Rejection] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.base = {path: _lf(text) for path, text in self.base.items()}
        self.current = dict(self.base)

    def apply(self, operation: Operation) -> None:
        """Apply one write or edit to the tree, or record why it was refused."""
        if isinstance(operation, Write):
            self._write(operation)
        elif isinstance(operation, SearchReplace):
            self._search_replace(operation)
        else:
            self._patch(operation)

    def _safe(self, raw: str | None, line: int) -> str | None:
        if raw is None:
            self.rejected.append(Rejection("", f"the edit at line {line} names no file"))
            return None
        verdict = safe_path(raw)
        if verdict.reason is not None:
            self.rejected.append(Rejection(raw, verdict.reason))
        return verdict.path

    def _write(self, write: Write) -> None:
        path = self._safe(write.path, write.line)
        if path is None:
            return
        if path in self.written_at:
            self.warnings.append(
                f"{path} is written at lines {self.written_at[path]} and {write.line}; "
                "the last one wins"
            )
        if write.unclosed and self.cut:
            self._drop(path)
            return
        if write.unclosed:
            self.warnings.append(
                f"the answer ends inside the block for {path} (line {write.line}); "
                "kept what was there, it may be incomplete"
            )
        self.written_at[path] = write.line
        self._set(path, write.content, write.source)

    def _search_replace(self, edit: SearchReplace) -> None:
        path = self._safe(edit.path, edit.line)
        if path is None:
            return
        if not edit.complete and self.cut:
            self._drop(path)
            return
        if not edit.complete:
            self.rejected.append(
                Rejection(path, f"the edit at line {edit.line} is cut off before its end")
            )
            return
        try:
            content = apply_search_replace(self.current.get(path), edit)
        except EditRejected as exc:
            self.rejected.append(Rejection(path, f"edit at line {edit.line}: {exc.reason}"))
            return
        self._set(path, content, Source.SEARCH_REPLACE)

    def _patch(self, patch: Patch) -> None:
        old = self._safe(patch.old_path, patch.line) if patch.old_path else None
        new = self._safe(patch.new_path, patch.line) if patch.new_path else None
        if (patch.old_path and old is None) or (patch.new_path and new is None):
            return
        target = new or old or ""
        if not patch.complete and self.cut:
            self._drop(target)
            return
        try:
            content = apply_patch(self.current.get(old) if old else None, patch)
        except EditRejected as exc:
            self.rejected.append(Rejection(target, f"diff at line {patch.line}: {exc.reason}"))
            return
        if old is not None and old != new:
            self.current.pop(old, None)
            self.sources[old] = Source.UNIFIED_DIFF
        if new is not None and content is not None:
            self._set(new, content, Source.UNIFIED_DIFF)

    def _drop(self, path: str) -> None:
        """The one file or edit the token limit cut: not written, and said so by name."""
        self.dropped.append(path)
        self.warnings.append(f"the answer was cut at the token limit; `{path}` was not written")

    def _set(self, path: str, content: str, source: Source) -> None:
        self.current[path] = content
        self.sources[path] = source

    def add_inferred(self, candidates: list[Write]) -> None:
        """Add the files read from content alone, unless the answer named them or one is unsure."""
        by_path: dict[str, list[Write]] = {}
        for candidate in candidates:
            if candidate.unclosed and self.cut:
                self._drop(candidate.path)
                continue
            by_path.setdefault(candidate.path, []).append(candidate)
        for path, writes in by_path.items():
            lines = ", ".join(str(w.line) for w in writes)
            if path in self.sources:
                self.warnings.append(
                    f"the block at line {lines} looks like {path}, which the answer names "
                    "elsewhere; not written"
                )
            elif len(writes) > 1:
                self.warnings.append(
                    f"blocks at lines {lines} all look like {path}; ambiguous, none written"
                )
            else:
                self.warnings.append(
                    f"{path} inferred from the content of the block at line {lines}"
                )
                self._set(path, writes[0].content, Source.INFERRED)

    def result(self, said: Callable[[], str]) -> Extraction:
        """The files that differ from the base, what was refused, and the warnings.

        `said()` is the answer's first line, quoted when nothing at all came out of it.
        """
        files = tuple(
            ExtractedFile(path, self.current[path], source)
            for path, source in self.sources.items()
            if path in self.current and self.base.get(path) != self.current[path]
        )
        deleted = tuple(p for p in self.sources if p in self.base and p not in self.current)
        warnings = list(self.warnings)
        if self.cut and not self.dropped:
            warnings.append(
                "the answer was cut at the token limit; the files and edits it finished "
                "are used, anything after them is missing"
            )
        if not (self.sources or self.rejected or self.dropped):
            warnings.append(f"the answer had no edits and no files: it said: {said()}")
        return Extraction(files, tuple(self.rejected), tuple(warnings), deleted)


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
