"""The browser session's rules: where a sign-in may send you, the cookie, and cross-site writes.

Core: values in, decisions out (no request, no clock, no key). A person opens a
one-time sign-in link (`core/tokens.py` says what a code is); the gateway then
keeps a normal expiring token in a cookie and redirects to a path of its own.

CSRF: a request carrying the cookie but no bearer header may read; it may change
state only when its `Origin` is the gateway's own. SameSite=Strict alone is not
enough here: every port of 127.0.0.1 is the same *site*, so a page served by any
other local program would send the cookie along. An Origin check needs no script
on our pages (a plain HTML form works) and browsers set `Origin` on every POST,
PUT, PATCH and DELETE; a cookie write without one is refused, not guessed at.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from urllib.parse import urlsplit

from layercake_gateway.core.tokens import Refused

SESSION_COOKIE = "layercake_session"
DEFAULT_NEXT = "/ui"  # the dashboard
MAX_NEXT_CHARS = 2_000
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Printable ASCII without the space and the backslash: browsers read `\` as `/` and drop
# tabs and newlines, so `/\evil.example` or `/<TAB>/evil.example` would leave the site.
_PATH_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@/?#%[]")


class UnsafeNext(Refused):
    """A sign-in's `next` that is not a path on this gateway; `reason` says why."""


class CrossSiteRefused(Refused):
    """A state-changing request signed in by cookie, not sent by the gateway's own pages."""


@dataclass(frozen=True)
class SessionCookie:
    """The session cookie, as `Set-Cookie` says it: script cannot read it, no other site gets it."""

    value: str
    max_age: int
    secure: bool
    key: str = SESSION_COOKIE
    path: str = "/"
    httponly: bool = True
    samesite: str = "strict"


def session_cookie(token: str, lifetime_s: int, *, https: bool) -> SessionCookie:
    """The cookie that holds `token` for `lifetime_s` seconds; Secure when it came over https."""
    return SessionCookie(value=token, max_age=lifetime_s, secure=https)


def safe_next(path: str | None) -> str:
    """Where a sign-in may redirect: a path on this gateway; `UnsafeNext` for anything else."""
    if path is None or path == "":
        return DEFAULT_NEXT
    if len(path) > MAX_NEXT_CHARS:
        raise UnsafeNext(f"'next' is over {MAX_NEXT_CHARS} characters")
    if not set(path) <= _PATH_CHARACTERS:
        bad = next(c for c in path if c not in _PATH_CHARACTERS)
        msg = f"'next' holds {bad!r}: only a URL path's characters (backslash and space are not)"
        raise UnsafeNext(msg)
    parts = urlsplit(path)
    if not path.startswith("/") or path.startswith("//") or parts.scheme or parts.netloc:
        raise UnsafeNext(f"'next' must be a path on this site, such as /projects, not {path!r}")
    return path


def cross_site_problem(method: str, origin: str | None, own_origin: str) -> str | None:
    """Why a cookie-signed `method` request from `origin` may not change state; None if it may."""
    if method.upper() in SAFE_METHODS:
        return None
    if origin is None:
        return f"a {method.upper()} signed in by cookie needs an Origin header (or a bearer token)"
    if origin.rstrip("/").lower() != own_origin.lower():
        return f"a {method.upper()} from {origin} may not use this gateway's session cookie"
    return None
