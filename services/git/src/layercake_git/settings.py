"""Settings of the git service (env vars `LAYERCAKE_...`, or a `.env` file)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from layercake_contracts.runtime import BusSettings


class Settings(BusSettings):
    """The git service's settings: where repositories live, how pushes authenticate."""

    workspaces_root: Path = Path(".layercake/workspaces")
    # For https remotes only; handed to git per push, never written or logged.
    git_token: SecretStr | None = None
    git_username: str = "x-access-token"
    git_timeout_s: float = Field(default=120.0, gt=0)
