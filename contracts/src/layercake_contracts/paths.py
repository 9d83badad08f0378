"""The one rule for a path inside a project, shared by every service that takes one.

The parser, the HTTP API, every manifest, materialise and the git service all
ask `project_path_problem`; if they disagreed, a path one accepted and a later one
refused would stall the project for good (issue #14: the parser let
`.git./config` through, git refused it, and every later build of the project
was dead-lettered). So it is the strictest of their rules, and pure.
"""

from __future__ import annotations

import re
import unicodedata

MAX_PATH_BYTES = 4096
MAX_SEGMENT_BYTES = 255
MAX_DEPTH = 64

# C0 and C1 controls (Cc), invisible formatting, bidi and zero-width characters
# (Cf: HFS+ ignores some in names, so `.g\u200cit` is `.git` there), lone
# surrogates (Cs), the line and paragraph separators (Zl, Zp), and unassigned
# code points (Cn), which a newer Unicode may make invisible.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp", "Cn"})
_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")
# `git~1` is NTFS's short name for `.git`; git itself refuses both.
_GIT_FOLDER_NAMES = frozenset({".git", "git~1"})
_GIT_FOLDER_STARTS = frozenset(".gG")
_DOT_SEGMENTS = {
    "": "empty path segment",
    "..": "'..' leaves the project tree",
    ".": "path is not normalised ('.' segment)",
}


def project_path_problem(path: str) -> str | None:
    """Say why `path` is not a safe, normalised path of a file inside a project, or None."""
    whole = (
        (not path, "empty path"),
        (_bytes(path) > MAX_PATH_BYTES, f"path longer than {MAX_PATH_BYTES} bytes"),
        (_invisible(path), "NUL, control, bidi, invisible or unassigned character in path"),
        ("\\" in path, "backslash in path"),
        (path.startswith("/"), "absolute path"),
        (bool(_WINDOWS_DRIVE.match(path)), "absolute path (drive letter)"),
        (path.startswith("~"), "path relative to a home folder"),
        (path.endswith("/"), "path names a folder, not a file"),
        (path.count("/") >= MAX_DEPTH, f"path deeper than {MAX_DEPTH} levels"),
    )
    problem = next((problem for broken, problem in whole if broken), None)
    return problem or next(filter(None, map(_segment_problem, path.split("/"))), None)


def _segment_problem(segment: str) -> str | None:
    if segment in _DOT_SEGMENTS:
        return _DOT_SEGMENTS[segment]
    if _bytes(segment) > MAX_SEGMENT_BYTES:
        return f"path segment longer than {MAX_SEGMENT_BYTES} bytes"
    if _is_git_folder(segment):
        return f"path inside .git, git's own folder (segment {segment!r})"
    return None


def _is_git_folder(segment: str) -> bool:
    """`.git` in any spelling a filesystem git runs on reads as `.git`.

    Case (`.GIT`), NTFS's dropped trailing dots and spaces (`.git. `) and its
    alternate streams (`.git::$INDEX_ALLOCATION`), and the short name `git~1`.
    """
    # Every spelling starts as `.git` or `git~1` do; the check is run on each segment.
    return segment[:1] in _GIT_FOLDER_STARTS and (
        segment.split(":", 1)[0].rstrip(". ").casefold() in _GIT_FOLDER_NAMES
    )


def _invisible(path: str) -> bool:
    # Most paths are ASCII, whose only such characters are the C0 controls and DEL.
    if path.isascii():
        return bool(_ASCII_CONTROL.search(path))
    return any(unicodedata.category(c) in _REFUSED_CATEGORIES for c in path)


def _bytes(text: str) -> int:
    if text.isascii():
        return len(text)
    # A lone surrogate has no UTF-8 form; it is refused as invisible, so count it as 3.
    return len(text.encode(errors="surrogatepass"))
