"""Wiring of the git service: settings in, a runtime with its handlers out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from layercake_contracts.runtime import ServiceRuntime
from layercake_git import handlers
from layercake_git.adapters.git import Git
from layercake_git.adapters.releases import Releases
from layercake_git.adapters.workspaces import Workspaces
from layercake_git.core.credentials import basic_credentials, credential_env
from layercake_git.service import Exports, GitService
from layercake_git.upgrade import migrate_gate_books

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from layercake_git.settings import Settings

SERVICE = "git"
HOME = ".home"  # made by the worker; `layercake log` makes nothing, git needs no HOME to exist


def create_workspaces(settings: Settings) -> Workspaces:
    """The workspaces root with a hardened git whose HOME is an empty folder inside it."""
    root = settings.workspaces_root.resolve()
    token = settings.git_token.get_secret_value() if settings.git_token else ""
    secrets = (token, basic_credentials(settings.git_username, token)) if token else ()
    git = Git(root / HOME, timeout_s=settings.git_timeout_s, secrets=secrets)
    return Workspaces(root, git)


def push_env(settings: Settings) -> Callable[[str], Mapping[str, str]]:
    """The credentials environment for a push to a remote (none without a token or its hosts)."""
    token, scopes = settings.git_token, settings.token_rules()

    def env_for(url: str) -> Mapping[str, str]:
        if token is None:
            return {}
        return credential_env(url, settings.git_username, token.get_secret_value(), scopes)

    return env_for


def create_service(settings: Settings) -> GitService:
    """The git service over the settings' workspaces, release folder, remotes and token."""
    workspaces = create_workspaces(settings)
    releases = Releases(settings.git_release_root.resolve(), workspaces.git)
    exports = Exports(releases, settings.remote_rules(), push_env(settings))
    return GitService(workspaces, exports)


def create_runtime(settings: Settings) -> ServiceRuntime:
    """The git service's broker and its consumer, built from `settings`.

    Records of projects under way from before gate books get theirs first (see `upgrade`).
    """
    runtime = ServiceRuntime(
        SERVICE, settings.nats_url, settings.delivery_policy(), settings.nats_nkey_seed_file
    )
    service = create_service(settings)
    (settings.workspaces_root.resolve() / HOME).mkdir(parents=True, exist_ok=True)
    migrate_gate_books(create_workspaces(settings))
    handlers.register(runtime, service)
    return runtime
