"""Paths in model answers: recognising them in prose, and deciding if they are safe.

`safe_path` is the one gate every path passes before anything is written: it
normalises (`./`, backslashes, `a/../b`), then applies the rule every service
shares (`layercake_contracts.paths`): nothing that could leave the project tree,
touch git's own files or read differently on another filesystem.
`path_in_label` reads the path out of the line a model writes before a block
(`### File: src/a.ts`, `` `a.py`: ``), `path_in_info` out of a fence's info
string, where a path with a folder needs no extension (`sh scripts/run`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from layercake_contracts.paths import MAX_PATH_BYTES, project_path_problem

# Files that are commonly written without an extension and are never prose.
BARE_FILE_NAMES = frozenset(
    {
        "Dockerfile",
        "Containerfile",
        "Makefile",
        "GNUmakefile",
        "Procfile",
        "Gemfile",
        "Rakefile",
        "Jenkinsfile",
        "Vagrantfile",
        "Brewfile",
        "Justfile",
        "justfile",
        "LICENSE",
        "CODEOWNERS",
        "README",
    }
)

_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")
_EXTENSION = re.compile(r"\.[A-Za-z0-9_+-]*[A-Za-z][A-Za-z0-9_+-]*$")
_PATH_TOKEN = re.compile(r"^[\w@+~\-./\\\[\]()]+$")
_LIST_MARKER = re.compile(r"^(?:[-*+]|\d{1,3}[.)])\s+")
_HEADING = re.compile(r"^#{1,6}\s+")
_LABEL_WORDS = re.compile(
    r"^(?:new\s+|updated\s+|create\s+|edit\s+)?(?:file(?:name)?|path)(?:\s+\d{1,3})?\s*[:=-]\s*",
    re.IGNORECASE,
)
# `(new)`, `(updated)` after the path: a note on the file, not part of its name.
_TRAILING_NOTE = re.compile(r"\s+\([^()`]*\)\s*:?\s*$")
_ATTRIBUTE = re.compile(
    r"""\b(title|file|filename|path)\s*=\s*["']?([^"'\s}]+)["']?""", re.IGNORECASE
)
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
_MARKER_STARTS = ("//", "#", "--", ";", "/*", "<!--")
_TRAILING_BACKTICKED = re.compile(r"`([^`\s]+)`\s*:?\s*$")


@dataclass(frozen=True)
class PathVerdict:
    """A normalised path, or the reason it was refused (exactly one is set)."""

    path: str | None
    reason: str | None


def safe_path(raw: str) -> PathVerdict:
    """Normalise `raw`, then apply the one path rule every service shares."""
    path = _resolved(raw.strip().replace("\\", "/"))
    problem = project_path_problem(path)
    if problem is not None:
        return PathVerdict(None, problem)
    return PathVerdict(path, None)


def _resolved(candidate: str) -> str:
    """`candidate` with `./` and inner `a/..` resolved; what cannot be resolved stays for the rule.

    A leading `/`, an empty segment, a `..` past the top and a last segment of
    `.` or `..` (a folder, not a file) are kept as written, so the rule names
    them rather than this quietly repairing them.
    """
    if candidate.startswith("/"):
        return candidate
    *parents, name = candidate.split("/")
    segments: list[str] = []
    for segment in parents:
        if segment == ".." and segments and segments[-1] not in {"", ".."}:
            segments.pop()
        elif segment != ".":
            segments.append(segment)
    return "/".join([*segments, name])


def looks_like_path(token: str) -> bool:
    """True for a token a model means as a file path (not a word, a URL or a number)."""
    if not token or "://" in token or not _PATH_TOKEN.match(token):
        return False
    name = token.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    if not name:
        return False
    if name in BARE_FILE_NAMES or (name.startswith(".") and len(name) > 1 and name != ".."):
        return True
    return bool(_EXTENSION.search(name))


def looks_like_named_path(token: str) -> bool:
    """`looks_like_path`, or a path with a folder, where a file's name goes (`scripts/run`).

    In a fence's info string a word with a folder names a file even without an
    extension; in prose (`and/or`) it need not.
    """
    if looks_like_path(token):
        return True
    name = token.rsplit("/", 1)[-1]
    return "/" in token and bool(name) and "://" not in token and bool(_PATH_TOKEN.match(token))


def path_in_label(line: str) -> str | None:
    """The path a label line names.

    Forms: `src/a.ts`, `` `a.ts` ``, `**a.ts**`, `### File: a.ts`, `a.ts:`, numbered
    and bold headings (`### 2. `a.ts``, `**1. a.ts**`, `**File**: a.ts`, `a.ts (new)`).
    A name in backticks or after `File:` may be a path with a folder and no
    extension (`scripts/run`); prose may not (`## CI/CD`, `**Client/Server**`).
    """
    text = line.strip()
    if not text or len(text) > MAX_PATH_BYTES:
        return None
    marked = "`" in text
    text = _HEADING.sub("", text).replace("**", "")  # no path holds `**`: it is emphasis
    text = _TRAILING_NOTE.sub("", _LIST_MARKER.sub("", text.strip()))
    trailing = _TRAILING_BACKTICKED.search(text)
    if trailing and text.count("`") == 2:  # noqa: PLR2004  # exactly one backticked token
        candidate = trailing.group(1)
        return candidate if looks_like_named_path(candidate) else None
    unwrapped = _unwrap(text)
    text = _unwrap(_LABEL_WORDS.sub("", unwrapped))
    named = looks_like_named_path if marked or text != unwrapped else looks_like_path
    return text if named(text) else None


def _unwrap(text: str) -> str:
    """Remove a trailing colon and emphasis or code marks around the whole text.

    Only matching pairs go, so `__init__.py` keeps its underscores.
    """
    text = text.strip().removesuffix(":").strip()
    changed = True
    while changed:
        changed = False
        for mark in ("**", "__", "*", "_", "`"):
            if len(text) > 2 * len(mark) and text.startswith(mark) and text.endswith(mark):
                text = text[len(mark) : -len(mark)].strip().removesuffix(":").strip()
                changed = True
    return text


def path_in_info(info: str) -> tuple[str | None, str | None]:
    """The language and path of a fence's info string.

    Forms: `ts:src/a.ts`, `ts src/a.ts`, `src/a.ts`, `ts title="src/a.ts"` (or file, path).
    """
    attributes = {key.lower(): value for key, value in _ATTRIBUTE.findall(info)}
    words = info.replace("{", " ").replace("}", " ").split()
    language = words[0].lower() if words and "=" not in words[0] else None
    for key in ("path", "file", "filename", "title"):
        if key in attributes:
            return _language_only(language), attributes[key]
    if not words:
        return None, None
    first = words[0]
    if ":" in first and not _WINDOWS_DRIVE.match(first):
        lang, _, path = first.partition(":")
        if path:
            return lang.lower() or None, path
    if len(words) > 1 and looks_like_named_path(words[1]):
        return first.lower(), words[1]
    if looks_like_named_path(first):
        return None, first
    return language, None


def unread_name_in_info(info: str) -> str | None:
    """The word after the language that may be meant as a file's name but is not read as one.

    `sh run`: `run`, so a block that writes nothing can say what it did not take.
    Flags (`-m`) and attributes are not names.
    """
    words = info.replace("{", " ").replace("}", " ").split()
    if len(words) < 2 or _ATTRIBUTE.search(info) or path_in_info(info)[1] is not None:  # noqa: PLR2004  # the language, then the word
        return None
    word = words[1]
    return word if _PATH_TOKEN.match(word) and not word.startswith("-") else None


def _language_only(language: str | None) -> str | None:
    if language is None or ":" in language:
        return None
    return language


def path_in_marker(line: str) -> str | None:
    """The path a marker comment names: `// file: a.ts`, `# a.py`, `<!-- path: a.html -->`."""
    if not line.lstrip().startswith(_MARKER_STARTS):
        return None
    for marker in _MARKERS:
        found = marker.match(line)
        if found and looks_like_path(found.group("path")):
            return found.group("path")
    return None
