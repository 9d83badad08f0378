"""Running git: never the host's configuration, hooks, fsmonitor, prompts or unlisted protocols.

Every invocation gets a fresh environment (HOME an empty folder, no system or
global config, no terminal or askpass prompt) and `-c` settings that switch
hooks and fsmonitor off and allow only the https and ssh protocols, over
whatever a repository's own config says. The file protocol is allowed only for
a push to a release repository the service made (`ALLOW_FILE`): a local remote
runs its own config and hooks. Arguments are a list, never a shell
line; callers check anything that comes from an event first (`core/checks.py`).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

from layercake_git.core.credentials import redact
from layercake_git.errors import GitFailed

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

HARDENING: tuple[str, ...] = (
    "-c", "core.hooksPath=/dev/null",
    "-c", "core.fsmonitor=false",
    "-c", "credential.helper=",
    "-c", "protocol.allow=never",
    "-c", "protocol.file.allow=never",
    "-c", "protocol.https.allow=always",
    "-c", "protocol.ssh.allow=always",
)  # fmt: skip
ALLOW_FILE = (("protocol.file.allow", "always"),)  # after HARDENING, so it wins
# What a push may need from the host: where git is, an ssh agent, a proxy, a private CA.
_PASSED_THROUGH = (
    "PATH", "SSH_AUTH_SOCK", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "GIT_SSL_CAINFO",
)  # fmt: skip
_MAX_DETAIL = 2000


def git_environment(home: Path, host: Mapping[str, str]) -> dict[str, str]:
    """The environment of every git invocation: nothing of the host's git setup leaks in."""
    env = {name: host[name] for name in _PASSED_THROUGH if name in host}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home),
        LC_ALL="C",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_TERMINAL_PROMPT="0",
        GIT_ASKPASS="/bin/false",
        SSH_ASKPASS="/bin/false",
        GIT_SSH_COMMAND="ssh -o BatchMode=yes",
    )
    return env


@dataclass(frozen=True)
class Completed:
    """What a git command printed, and how it exited."""

    returncode: int
    stdout: bytes


class Git:
    """Runs hardened git commands; stderr that leaves here has every secret redacted."""

    def __init__(self, home: Path, *, timeout_s: float, secrets: tuple[str, ...] = ()) -> None:
        self._env = git_environment(home, os.environ)
        self._timeout_s = timeout_s
        self._secrets = secrets

    def run(
        self,
        *args: str,
        git_dir: Path | None = None,
        stdin: bytes = b"",
        env: Mapping[str, str] | None = None,
        accept: tuple[int, ...] = (0,),
        config: tuple[tuple[str, str], ...] = (),
    ) -> Completed:
        """Run `git <args>` (with `config` over the hardening); other exits raise `GitFailed`."""
        where = () if git_dir is None else (f"--git-dir={git_dir}",)
        extra = tuple(arg for key, value in config for arg in ("-c", f"{key}={value}"))
        try:
            done = subprocess.run(  # noqa: S603  # argv list from checked values, no shell
                ["git", *HARDENING, *extra, *where, *args],  # noqa: S607  # git from the host's PATH
                input=stdin,
                capture_output=True,
                env={**self._env, **(env or {})},
                timeout=self._timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise GitFailed(args[0], None, f"no answer within {self._timeout_s:g}s") from exc
        if done.returncode not in accept:
            detail = redact(done.stderr.decode(errors="replace").strip(), self._secrets)
            raise GitFailed(args[0], done.returncode, detail[-_MAX_DETAIL:])
        return Completed(done.returncode, done.stdout)
