"""Settings of the git service (env vars `LAYERCAKE_...`, or a `.env` file)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Self

from pydantic import Field, SecretStr, field_validator, model_validator

from layercake_contracts.settings import BusSettings
from layercake_git.core.remotes import Address, address_of, token_rule
from layercake_git.errors import Refused

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable


class Settings(BusSettings):
    """The git service's settings: where repositories live, where pushes may go, how they log in.

    Lists are JSON in the environment: `LAYERCAKE_GIT_REMOTES='["https://github.com/acme/"]'`.
    """

    workspaces_root: Path = Path(".layercake/workspaces")
    # The only local folder pushed to: `<root>/<project>/<name>.git`, made by the service.
    git_release_root: Path = Path(".layercake/releases")
    # Network remotes an export may name: `https://github.com/acme/`, `git@github.com:acme/`.
    git_remotes: tuple[str, ...] = ()
    # For https remotes only; handed to git per push, never written or logged, and sent
    # only to the hosts (optionally path prefixes) in `git_token_hosts`: `github.com/acme/`.
    git_token: SecretStr | None = None
    git_token_hosts: tuple[str, ...] = ()
    git_username: str = "x-access-token"
    git_timeout_s: float = Field(default=120.0, gt=0)

    @field_validator("git_remotes")
    @classmethod
    def _remotes_are_remotes(cls, entries: tuple[str, ...]) -> tuple[str, ...]:
        _rules(entries, address_of)
        return entries

    @field_validator("git_token_hosts")
    @classmethod
    def _token_hosts_are_hosts(cls, entries: tuple[str, ...]) -> tuple[str, ...]:
        _rules(entries, token_rule)
        return entries

    @model_validator(mode="after")
    def _a_token_has_hosts(self) -> Self:
        if self.git_token is not None and not self.git_token_hosts:
            msg = "LAYERCAKE_GIT_TOKEN is set but LAYERCAKE_GIT_TOKEN_HOSTS names no host for it"
            raise ValueError(msg)
        return self

    def remote_rules(self) -> tuple[Address, ...]:
        """The remotes an export may push to, as rules."""
        return _rules(self.git_remotes, address_of)

    def token_rules(self) -> tuple[Address, ...]:
        """The hosts and path prefixes the token is bound to, as rules."""
        return _rules(self.git_token_hosts, token_rule)


def _rules(entries: Iterable[str], parse: Callable[[str], Address]) -> tuple[Address, ...]:
    try:
        return tuple(parse(entry) for entry in entries)
    except Refused as exc:  # pydantic names the setting when a validator raises ValueError
        raise ValueError(str(exc)) from exc
