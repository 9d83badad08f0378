"""Where an export may go, and where the token may go: rules from the settings, matched on parts.

Pure. An export names one of its project's releases (a bare name such as
`v1`: a repository the service makes itself in its release folder) or a network
remote, which must lie under one of the configured remotes
(`LAYERCAKE_GIT_REMOTES`). The token is bound the same way, to hosts and
optionally path prefixes of its own (`LAYERCAKE_GIT_TOKEN_HOSTS`). Rules match
on form, host, port and whole path segments, never on a text prefix: a rule for
`github.com/acme` does not cover `github.com/acme-evil`, and a user part
(`github.com@evil.example`) cannot pass for the host.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from layercake_git.core.checks import check_remote, shown_remote
from layercake_git.errors import RemoteRefused

if TYPE_CHECKING:
    from collections.abc import Iterable

# No '/' and no ':': a release name can never be read as a path or a URL.
RELEASE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_DEFAULT_PORTS = {"https": 443, "ssh": 22}


@dataclass(frozen=True)
class Address:
    """The parts of a remote that rules match on; `form` is https, ssh or scp (user@host:path)."""

    form: str
    host: str
    port: int | None
    path: str

    def within(self, rule: Address) -> bool:
        """True when this address is on `rule`'s host and port, under its path."""
        same = (self.form, self.host, self.port) == (rule.form, rule.host, rule.port)
        return same and _under(self.path, rule.path)

    @property
    def https_url(self) -> str:
        """This https address as a URL (how git's `http.<url>.*` settings name it)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if self.port is None else f":{self.port}"
        return f"https://{host}{port}{self.path}"


@dataclass(frozen=True)
class Release:
    """An export to the project's own release repository `name`."""

    name: str


def address_of(url: str) -> Address:
    """Where the remote `url` points; `RemoteRefused` when it is no well-formed remote."""
    check_remote(url)
    if "://" not in url:
        user_and_host, _, path = url.partition(":")
        return Address("scp", user_and_host.rpartition("@")[2].lower(), None, path)
    parts = urlsplit(url)
    form = parts.scheme.lower()
    port = None if parts.port == _DEFAULT_PORTS[form] else parts.port
    return Address(form, (parts.hostname or "").lower(), port, parts.path)


def token_rule(entry: str) -> Address:
    """A configured token host (`github.com`, or `github.com/acme/` for one owner) as a rule."""
    return address_of(f"https://{entry}")


def export_target(remote: str, allowed: Iterable[Address]) -> Release | str:
    """What an export's `remote` names: a release, or a URL under an allowed remote.

    Anything else raises `RemoteRefused` saying which rule it broke.
    """
    if RELEASE_NAME.match(remote):
        return Release(remote)
    address = address_of(remote)
    if not any(address.within(rule) for rule in allowed):
        raise RemoteRefused(
            shown_remote(remote),
            "it is under none of the remotes LAYERCAKE_GIT_REMOTES allows "
            "(or name one of the project's releases)",
        )
    return remote


def token_scope(url: str, scopes: Iterable[Address]) -> Address | None:
    """The token host rule an https `url` lies under, if any: the token goes there only."""
    address = address_of(url)
    return next((scope for scope in scopes if address.within(scope)), None)


def _under(path: str, prefix: str) -> bool:
    if prefix in {"", "/"} or path == prefix:
        return True
    return path.startswith(prefix if prefix.endswith("/") else f"{prefix}/")
