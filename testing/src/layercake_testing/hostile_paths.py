"""Spellings of paths that must be refused everywhere (issue #14), each with the reason's words.

Shared by the contract's, the parser's and the API's tests, so that all three
are tried on the same list; every one of these once passed one service and was
refused by another.
"""

from __future__ import annotations

HOSTILE_PATHS: tuple[tuple[str, str], ...] = (
    (".git./config", ".git"),  # NTFS drops the trailing dot
    (".git /config", ".git"),  # and the trailing space
    (".git::$INDEX_ALLOCATION/config", ".git"),  # an NTFS stream of .git
    ("git~1/config", ".git"),  # NTFS's short name of .git
    ("GIT~1/config", ".git"),
    (".GIT/config", ".git"),
    ("a/.git/config", ".git"),
    ("a/.Git./HEAD", ".git"),
    (".g\u200cit/config", "invisible"),  # HFS+ ignores the zero-width non-joiner
    ("a\u200bb.py", "invisible"),  # zero-width space
    ("a\ufeffb.py", "invisible"),  # byte-order mark
    (".git\u2065/config", "unassigned"),  # git's own check dropped all of U+2060..206F
    ("a\uffffb.py", "unassigned"),  # a noncharacter
    ("a\u202eyp.b", "bidi"),  # right-to-left override: shows as `ab.py`
    ("a\u2066b.py", "bidi"),  # left-to-right isolate
    ("a\x85b.py", "control"),  # C1: next line
    ("a\x9bb.py", "control"),  # C1: control sequence introducer
    ("a\x00b.py", "control"),
    ("a\x1bb.py", "control"),
    ("a\u2028b.py", "control"),  # line separator
    ("/etc/passwd", "absolute"),
    ("C:/x.py", "drive letter"),
    ("~/x.py", "home"),
    ("../x.py", "'..'"),
    ("a/../../x.py", "'..'"),
    ("a//b.py", "empty path segment"),
    ("a/", "folder"),
    ("a/" + "x" * 256, "segment longer than 255 bytes"),
    ("a/" + "\u00e9" * 128, "segment longer than 255 bytes"),  # 256 bytes in 128 characters
    ("d/" * 64 + "x.py", "deeper than 64 levels"),
    (("\u00e9" * 100 + "/") * 21 + "x.py", "longer than 4096 bytes"),  # 2,125 characters
)
