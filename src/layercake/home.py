"""Which LayerCake home a command works on, found the way git finds its repository.

In order: `LAYERCAKE_HOME`; else the nearest `.layercake/` from the current folder
upwards that `up` made (it holds `jwt-secret` or `creds/`: a stray folder, such as
the `/.layercake/ledger.db` an old parsing bug left at the root, is no home); else
the home of the last `up` this user started, running or not (its record under
`$XDG_STATE_HOME/layercake/`, else `~/.local/state/layercake/`, written when `up`
starts and kept after it stops, so that after the demo its ledger and repositories
are found from anywhere; a record of a home that is gone is ignored); else, for the
commands that make one (`up`, `demo`, `creds`), `./.layercake`. The commands that start
LayerCake (`up`, `demo`) skip a stopped `up`'s record: started in a second clone, they
make that clone's own home rather than write into the first one's ledger. Each answer
says where it came from, and a search that finds nothing names every place it looked.

It reads the disk and the given environment, and never makes a home; `record_up` writes
the one file it owns, the user's record.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

FOLDER = ".layercake"
RECORD = "last-up.json"
MARKS = ("jwt-secret", "creds")  # what `up` (or `creds init`) writes into a home first
FROM_ENV = "LAYERCAKE_HOME"
UPWARDS = "upwards from cwd"
RUNNING = "the running up"
LAST = "the last up you started, stopped now"
CREATED = "new, in cwd"


@dataclass(frozen=True)
class Home:
    """A home folder, and which rule found it."""

    path: Path
    found: str

    def __str__(self) -> str:
        return f"home {self.path} (found: {self.found})"


class NoHome(Exception):
    """No home anywhere a command looks; names each place."""

    def __init__(self, looked_at: tuple[str, ...]) -> None:
        self.looked_at = looked_at
        super().__init__(
            f"no LayerCake home found (looked at {'; '.join(looked_at)}): start one with"
            " `layercake up`, or set LAYERCAKE_HOME"
        )


def find_home(
    cwd: Path, env: Mapping[str, str], *, create: bool = False, starting: bool = False
) -> Home:
    """The home to use from `cwd`; with `create`, `./.layercake` when none exists yet.

    `starting` (implies `create`): for a command that starts LayerCake, which follows a
    running `up`'s record but not a stopped one's.
    """
    create = create or starting
    if given := setting(env, FROM_ENV):
        return Home((cwd / given).resolve(), FROM_ENV)
    cwd = cwd.resolve()
    for folder in (cwd, *cwd.parents):
        if any((folder / FOLDER / mark).exists() for mark in MARKS):
            return Home(folder / FOLDER, UPWARDS)
    record = record_path(env)
    if (last := last_up(record)) is not None and (last[1] or not starting):
        home, running = last
        return Home(home, RUNNING if running else LAST)
    if create:
        return Home(cwd / FOLDER, CREATED)
    raise NoHome(
        (
            f"{FROM_ENV} (unset)",
            f"{FOLDER}/ holding {' or '.join(MARKS)} in {cwd} and each folder above",
            f"{record} (no up started yet, or its home is gone)",
        )
    )


def record_path(env: Mapping[str, str]) -> Path:
    """Where this user's running `up` is recorded."""
    state = setting(env, "XDG_STATE_HOME") or str(
        Path(setting(env, "HOME") or Path.home()) / ".local" / "state"
    )
    return Path(state) / "layercake" / RECORD


def last_up(record: Path) -> tuple[Path, bool] | None:
    """The home of the last `up` the record names, and whether it still runs.

    None without a record, or when that home is gone.
    """
    try:
        facts = json.loads(record.read_text())
        home, pid = Path(facts["home"]), facts["pid"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not any((home / mark).exists() for mark in MARKS):
        return None
    return home, isinstance(pid, int) and alive(pid)


def running_home(record: Path) -> Path | None:
    """The home the record names, if the `up` that wrote it still runs."""
    last = last_up(record)
    return last[0] if last is not None and last[1] else None


def record_up(record: Path, home: Path) -> bool:
    """Record this process as the user's last `up`, of `home`; whether it was recorded.

    The record of another `up` that still runs is kept (the first one up is the one
    found); it stays after this one stops, naming the home last used.
    """
    if running_home(record) is not None:
        return False
    pid = os.getpid()
    try:
        record.parent.mkdir(parents=True, exist_ok=True)
        temporary = record.with_suffix(f".{pid}.tmp")
        temporary.write_text(json.dumps({"home": str(home), "pid": pid}))
        temporary.replace(record)
    except OSError:
        return False  # an unwritable state folder costs only the finding from elsewhere
    return True


def alive(pid: int) -> bool:
    """Whether a process with this id runs (and is not a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()
        return fields[0] != "Z"
    return True


def setting(env: Mapping[str, str], name: str) -> str | None:
    """`name` in any case, as pydantic-settings reads it; empty counts as unset."""
    return next((value for key, value in env.items() if key.upper() == name and value), None)
