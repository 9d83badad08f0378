"""`extract(answer, base)`: the files a model's answer writes, and what it refused.

Pure: text in, values out. The scanner splits the answer into segments; this
module decides what each segment means (a whole file, edits, a diff, a shell
session that is not a file) and applies the results, in order, to a copy of
`base`. Every path passes `safe_path` first; a refused path or edit is listed
with its reason and the rest of the answer is still used.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from layercake_parser.core.edits import (
    EditRejected,
    Patch,
    SearchReplace,
    apply_patch,
    apply_search_replace,
    has_search_replace,
    looks_like_diff,
    parse_patches,
    parse_search_replace,
)
from layercake_parser.core.paths import looks_like_path, path_in_info, path_in_label, safe_path
from layercake_parser.core.scan import Fenced, Loose, Segment, Tagged, scan, split_lines

SHELL_LANGUAGES = frozenset(
    {
        "bash", "sh", "shell", "zsh", "fish", "console", "terminal", "shell-session",
        "shellsession", "powershell", "pwsh", "ps", "ps1", "cmd", "bat", "batch",
    }
)  # fmt: skip
TEXT_LANGUAGES = frozenset({"text", "txt", "plaintext", "plain", "output", "log"})
DIFF_LANGUAGES = frozenset({"diff", "patch", "udiff"})
SCRIPT_SUFFIXES = (".sh", ".bash", ".zsh", ".fish", ".ps1", ".bat", ".cmd")
_CONSOLE_PROMPT = re.compile(r"^\s*(?:\$|>|PS [^>]*>|C:\\[^>]*>)\s")
_MARKERS = (
    re.compile(
        r"^\s*(?://|#|--|;)\s*(?:(?:file(?:name)?|path)\s*:\s*)?(?P<path>\S+)\s*$", re.IGNORECASE
    ),
    re.compile(
        r"^\s*/\*\s*(?:(?:file(?:name)?|path)\s*:\s*)?(?P<path>\S+)\s*\*/\s*$", re.IGNORECASE
    ),
    re.compile(
        r"^\s*<!--\s*(?:(?:file(?:name)?|path)\s*:\s*)?(?P<path>\S+)\s*-->\s*$", re.IGNORECASE
    ),
)
_PYPROJECT = re.compile(r"^\[(?:project|build-system|tool\.poetry)\]\s*$", re.MULTILINE)
_PACKAGE_JSON_KEYS = frozenset({"scripts", "dependencies", "devDependencies"})


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
class _Write:
    path: str
    content: str
    source: Source
    line: int
    truncated: bool = False


_Operation = _Write | SearchReplace | Patch


def extract(answer: str, base: Mapping[str, str] | None = None) -> Extraction:
    """The files `answer` writes (whole or as edits of `base`), what it refused, and warnings."""
    operations: list[_Operation] = []
    inferred: list[_Write] = []
    warnings: list[str] = []
    for segment in scan(split_lines(answer)):
        _interpret(segment, operations, inferred, warnings)
    tree = _Tree(base or {}, warnings)
    for operation in operations:
        tree.apply(operation)
    tree.add_inferred(inferred)
    return tree.result()


def _interpret(
    segment: Segment, operations: list[_Operation], inferred: list[_Write], warnings: list[str]
) -> None:
    if isinstance(segment, Loose):
        if has_search_replace(segment.body):
            operations.extend(parse_search_replace(segment.body, segment.line, None))
        if looks_like_diff(segment.body):
            operations.extend(parse_patches(segment.body, segment.line, None))
    elif isinstance(segment, Tagged):
        if has_search_replace(segment.body):
            operations.extend(parse_search_replace(segment.body, segment.line + 1, segment.path))
        else:
            operations.append(
                _Write(
                    segment.path, _text(segment.body), Source.FILE_TAG, segment.line,
                    truncated=not segment.closed,
                )
            )  # fmt: skip
    else:
        _interpret_fenced(segment, operations, inferred, warnings)


def _interpret_fenced(
    block: Fenced, operations: list[_Operation], inferred: list[_Write], warnings: list[str]
) -> None:
    language, info_path = path_in_info(block.info)
    label_path = path_in_label(block.label) if block.label else None
    named = info_path or label_path
    text = _text(block.body)
    if "<<<<<" in text and has_search_replace(block.body):
        operations.extend(parse_search_replace(block.body, block.line + 1, named))
        return
    maybe_diff = "+++ " in text or "@@ -" in text
    if language in DIFF_LANGUAGES or (
        info_path is None and maybe_diff and looks_like_diff(block.body)
    ):
        operations.extend(parse_patches(block.body, block.line + 1, named))
        return
    path, source, body = _name_of(block, info_path, label_path)
    if path is None:
        _unnamed(block, language, body, inferred, warnings)
    elif source is not Source.FENCE_INFO and not _may_be_file(language, path, body):
        warnings.append(
            f"the {language or 'unlabelled'} block at line {block.line} looks like a shell "
            f"session or output, not the content of {path}; not written"
        )
    else:
        operations.append(_Write(path, _text(body), source, block.line, truncated=not block.closed))


def _name_of(
    block: Fenced, info_path: str | None, label_path: str | None
) -> tuple[str | None, Source, tuple[str, ...]]:
    """The block's path, where it came from, and its content (without a marker line)."""
    body = block.body
    path, source = info_path, Source.FENCE_INFO
    if path is None and label_path is not None:
        path, source = label_path, Source.FENCE_LABEL
    marker = _marker_path(body[0]) if body else None
    if marker is not None and (path is None or marker == path):
        if path is None:
            path, source = marker, Source.MARKER_COMMENT
        body = body[1:]
    return path, source, body


def _unnamed(
    block: Fenced,
    language: str | None,
    body: tuple[str, ...],
    inferred: list[_Write],
    warnings: list[str],
) -> None:
    """A block that names no file: inferred from its content, or not a file at all."""
    if not block.closed:
        warnings.append(
            f"the block opened at line {block.line} is never closed; "
            "it names no file, so nothing was written"
        )
    guess = _infer_path(language, body)
    if guess is not None:
        inferred.append(_Write(guess, _text(body), Source.INFERRED, block.line))
    elif language and language not in SHELL_LANGUAGES | TEXT_LANGUAGES:
        warnings.append(f"the {language} block at line {block.line} names no file; not written")


def _may_be_file(language: str | None, path: str, body: tuple[str, ...]) -> bool:
    """Whether a block whose path came from prose may really be that file."""
    if language in SHELL_LANGUAGES:
        return path.endswith(SCRIPT_SUFFIXES)
    first = next((line for line in body if line.strip()), "")
    return not (_CONSOLE_PROMPT.match(first) and not path.endswith(SCRIPT_SUFFIXES))


def _marker_path(first_line: str) -> str | None:
    for marker in _MARKERS:
        found = marker.match(first_line)
        if found and looks_like_path(found.group("path")):
            return found.group("path")
    return None


def _infer_path(language: str | None, body: tuple[str, ...]) -> str | None:
    """A path read from content, only where the content cannot be anything else."""
    text = "\n".join(body)
    if language == "json":
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if isinstance(data, dict) and "name" in data and _PACKAGE_JSON_KEYS & data.keys():
            return "package.json"
    if language in {"dockerfile", "docker", "containerfile"}:
        first = next((ln for ln in body if ln.strip() and not ln.lstrip().startswith("#")), "")
        if first.upper().startswith(("FROM ", "ARG ")):
            return "Dockerfile"
    if language == "toml" and _PYPROJECT.search(text):
        return "pyproject.toml"
    return None


def _text(lines: tuple[str, ...]) -> str:
    return "\n".join(lines) + "\n" if lines else ""


@dataclass
class _Tree:
    """The base tree with the answer's operations applied in order."""

    base: Mapping[str, str]
    warnings: list[str]
    current: dict[str, str] = field(init=False)
    sources: dict[str, Source] = field(default_factory=dict)
    written_at: dict[str, int] = field(default_factory=dict)
    rejected: list[Rejection] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.base = {path: _lf(text) for path, text in self.base.items()}
        self.current = dict(self.base)

    def apply(self, operation: _Operation) -> None:
        if isinstance(operation, _Write):
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

    def _write(self, write: _Write) -> None:
        path = self._safe(write.path, write.line)
        if path is None:
            return
        if path in self.written_at:
            self.warnings.append(
                f"{path} is written at lines {self.written_at[path]} and {write.line}; "
                "the last one wins"
            )
        if write.truncated:
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

    def _set(self, path: str, content: str, source: Source) -> None:
        self.current[path] = content
        self.sources[path] = source

    def add_inferred(self, candidates: list[_Write]) -> None:
        by_path: dict[str, list[_Write]] = {}
        for candidate in candidates:
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

    def result(self) -> Extraction:
        files = tuple(
            ExtractedFile(path, self.current[path], source)
            for path, source in self.sources.items()
            if path in self.current and self.base.get(path) != self.current[path]
        )
        deleted = tuple(p for p in self.sources if p in self.base and p not in self.current)
        return Extraction(files, tuple(self.rejected), tuple(self.warnings), deleted)


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
