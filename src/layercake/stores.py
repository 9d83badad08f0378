"""What a home holds: each service's store, the API's signing key, and `up.json`.

`up.json` says what a running `layercake up` runs. Only the standard library here: every
`layercake` command reads these before it loads its own code (see `layercake.cli`), so a
command starts without loading the bus's code or the services'.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from layercake.home import alive, setting

SERVICES = ("parser", "builder", "agent", "git", "gateway")
STATE_FILE = "up.json"
SECRET_FILE = "jwt-secret"  # noqa: S105  # a file name, not a secret
RELEASES = "releases"
# Who the local commands and the demo act as when no token is given.
LOCAL_USER = "local"


def environment(name: str) -> str | None:
    """The variable `name` in any case, as the services' settings read it (pydantic-settings)."""
    return setting(os.environ, name)


def jwt_secret(home: Path) -> str:
    """The key the API signs tokens with: `LAYERCAKE_JWT_SECRET`, else one kept in `home`."""
    if key := environment("LAYERCAKE_JWT_SECRET"):
        return key
    path = home / SECRET_FILE
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def release_root(home: Path) -> Path:
    """Where the git service keeps the releases: `LAYERCAKE_GIT_RELEASE_ROOT`, else in `home`."""
    return Path(os.environ.get("LAYERCAKE_GIT_RELEASE_ROOT") or home / RELEASES)


def home_stores(home: Path) -> dict[str, str]:
    """Where each service keeps its store under `home` (also what the umbrella CLI fills in)."""
    return {
        "LAYERCAKE_LEDGER_URL": f"sqlite:///{home / 'ledger.db'}",
        "LAYERCAKE_WORKSPACES_ROOT": str(home / "workspaces"),
        "LAYERCAKE_GIT_RELEASE_ROOT": str(release_root(home)),
        "LAYERCAKE_AGENT_ROOT": str(home / "agent"),
        "LAYERCAKE_BUILDER_ROOT": str(home / "builder"),
    }


def read_state(home: Path) -> dict[str, object] | None:
    """What `up` wrote about the processes it runs, if it runs (None once it has stopped)."""
    try:
        state: dict[str, object] = json.loads((home / STATE_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return None
    pid = state.get("pid")
    return state if isinstance(pid, int) and alive(pid) else None
