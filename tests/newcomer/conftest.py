"""A new user's machine: a fresh copy of this repository, a home of their own, and none of
our settings; every documented command run as a subprocess, and recorded as run.

The copy holds the files git tracks (and new ones not ignored), as a clone of the
commit under test would. The user's environment is the machine's without any setting
of ours (no `LAYERCAKE_…`, no virtualenv, a HOME of its own, 80 columns), and with
uv's cache, so that setting up does not download again what this machine holds.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import typer

from layercake.cli import app

ROOT = Path(__file__).resolve().parents[2]
UP_PORTS = (4223, 8080)  # what `layercake up` takes with no settings


def command_tree() -> dict[str, set[str]]:
    """Each `layercake` command, and the sub-commands of each group (empty for a command)."""
    root = typer.main.get_command(app)
    context = typer.Context(root)
    return {  # asked for one by one: the umbrella imports each command when it is asked for
        name: set(getattr(root.get_command(context, name), "commands", ()))
        for name in root.list_commands(context)
    }


def command_of(words: list[str], tree: dict[str, set[str]]) -> str | None:
    """The command `layercake WORDS…` names ("token create", "status"), or None."""
    if not words or words[0] not in tree:
        return None
    group = tree[words[0]]
    if group and len(words) > 1 and words[1] in group:
        return f"{words[0]} {words[1]}"
    return words[0]


@dataclass
class Shown:
    """What a command showed the user."""

    argv: list[str]
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err

    @property
    def plain(self) -> str:
        """What was shown, read as a person does: box lines and wrapping left out."""
        return " ".join(re.sub(r"[│╭╮╰╯─]", " ", self.text).split())

    def __repr__(self) -> str:
        return f"$ {' '.join(self.argv)}  (exit {self.code})\n{self.out}\n--- stderr\n{self.err}"


@dataclass
class Newcomer:
    """A person with a fresh clone, a shell and nothing else of ours."""

    clone: Path
    home: Path
    env: dict[str, str]
    ran: set[str] = field(default_factory=set)
    background: list[subprocess.Popen[bytes]] = field(default_factory=list)
    tree: dict[str, set[str]] = field(default_factory=command_tree)

    def _note(self, argv: list[str]) -> None:
        for i, word in enumerate(argv[:-1]):
            if word == "layercake" and (found := command_of(argv[i + 1 :], self.tree)):
                self.ran.add(found)

    def sh(self, line: str, cwd: Path | None = None, timeout: float = 120) -> Shown:
        """Run a shell line as the user would type it."""
        self._note(line.split())
        done = subprocess.run(  # noqa: S603
            ["/bin/sh", "-c", line], cwd=cwd or self.clone, env=self.env,
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
        return Shown([line], done.returncode, done.stdout, done.stderr)

    def layercake(
        self, *args: str, cwd: Path | None = None, timeout: float = 60, stdin: str | None = None
    ) -> Shown:
        """`layercake ARGS` from `cwd` (the clone by default), as the README says (`_argv`)."""
        argv, env = self._argv(args, cwd)
        self._note(argv)
        done = subprocess.run(  # noqa: S603
            argv, cwd=cwd or self.clone, env=env, input=stdin,
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
        return Shown(argv, done.returncode, done.stdout, done.stderr)

    def start(self, *args: str, log: str, cwd: Path | None = None) -> subprocess.Popen[bytes]:
        """`layercake ARGS` in the background, its output in `log` under the user's home."""
        argv, env = self._argv(args, cwd)
        self._note(argv)
        return self._background(argv, env, cwd or self.clone, log)

    def start_sh(self, line: str, log: str) -> subprocess.Popen[bytes]:
        """A shell line in the background, from the clone, its output in `log`."""
        words = line.split()
        self._note(words)
        assignments = list(itertools.takewhile(lambda w: re.fullmatch(r"[A-Z_]+=\S*", w), words))
        command = " ".join(words[len(assignments) :])
        # `exec`: the signals sent to the process reach the command itself.
        argv = ["/bin/sh", "-c", f"{' '.join(assignments)} exec {command}"]
        return self._background(argv, self.env, self.clone, log)

    def _background(
        self, argv: list[str], env: dict[str, str], cwd: Path, log: str
    ) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(  # noqa: S603
            argv, cwd=cwd, env=env, stdout=(self.home / log).open("wb"), stderr=subprocess.STDOUT
        )
        self.background.append(process)
        return process

    def _argv(self, args: tuple[str, ...], cwd: Path | None) -> tuple[list[str], dict[str, str]]:
        """As the README says: in the clone `uv run --frozen`; outside any checkout (/tmp)
        `uv run --project CLONE`; elsewhere (the generated repository) the clone's
        virtualenv activated, its `bin/` first on PATH."""
        if cwd is None or cwd == self.clone:
            return ["uv", "run", "--frozen", "layercake", *args], self.env
        if not (cwd / ".git").exists():
            return ["uv", "run", "--frozen", "--project", str(self.clone), "layercake", *args], (
                self.env
            )
        venv = self.clone / ".venv"
        path = f"{venv / 'bin'}{os.pathsep}{self.env['PATH']}"
        return ["layercake", *args], {**self.env, "PATH": path, "VIRTUAL_ENV": str(venv)}

    def output(self, log: str) -> str:
        return (self.home / log).read_text(errors="replace")

    def wait_for(self, what: str, check, timeout: float = 120, every: float = 1.0):
        """Call `check` until it returns something true; fail naming `what`."""
        deadline = time.monotonic() + timeout
        while True:
            if found := check():
                return found
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}")
            time.sleep(every)


def _copy_of_the_repository(target: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],  # noqa: S607
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = ROOT / name
        if not source.is_file():  # a tracked file deleted in the working tree
            continue
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name)
    for argv in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "clone"]):
        subprocess.run(argv, cwd=target, check=True, capture_output=True)  # noqa: S603


# What this suite, not the machine, puts in the environment: a person's shell has none of it.
_OURS = ("LAYERCAKE_", "VIRTUAL_ENV", "PYTEST_", "XDG_STATE_HOME", "UV_", "COLUMNS")


def _user_environment(home: Path) -> dict[str, str]:
    """The machine's environment (its certificates, package mirrors) without ours, with a home
    of the person's own and an 80-column terminal."""
    ours = Path(sys.executable).parent  # the suite's virtualenv: not on a user's PATH
    path = [p for p in os.environ["PATH"].split(os.pathsep) if p and Path(p) != ours]
    cache = subprocess.run(
        ["uv", "cache", "dir"],  # noqa: S607  # the user's uv, found on PATH
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    kept = {k: v for k, v in os.environ.items() if not k.upper().startswith(_OURS)}
    return {
        **kept,
        "PATH": os.pathsep.join(path),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "COLUMNS": "80",
        "UV_CACHE_DIR": cache,  # what this machine has downloaded already
        "GIT_AUTHOR_NAME": "New User", "GIT_AUTHOR_EMAIL": "new@example.org",
        "GIT_COMMITTER_NAME": "New User", "GIT_COMMITTER_EMAIL": "new@example.org",
    }  # fmt: skip


def _taken(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def newcomer() -> Newcomer:
    """A fresh clone in a folder of its own, and the environment of a person with no settings."""
    if taken := [p for p in UP_PORTS if _taken(p)]:
        pytest.fail(f"ports {taken} are taken: the newcomer's `layercake up` needs them")
    base = Path(tempfile.mkdtemp(prefix="lc-newcomer-"))
    base.chmod(0o755)  # the builder's sandbox user must reach the workspaces inside
    clone, home = base / "layercake", base / "home"
    clone.mkdir()
    home.mkdir()
    _copy_of_the_repository(clone)
    person = Newcomer(clone, home, _user_environment(home))
    yield person
    for process in person.background:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    shutil.rmtree(base, ignore_errors=True)
