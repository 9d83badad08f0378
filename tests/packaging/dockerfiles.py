"""Reading docker-compose.yml, the services' Dockerfiles and their ignore files, as Docker does.

No Docker engine runs here, so nothing is built: `tests/packaging/test_images.py` reads the
files with these helpers and looks what they name up where it lives (the build context less
what its ignore file leaves out, the services' Settings, their console scripts).
"""

from __future__ import annotations

import importlib
import json
import re
import shlex
import subprocess
import tomllib
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from typer.testing import CliRunner

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
EMPTY_DEFAULT = re.compile(r"\$\{\w+:?-\}")


@cache
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def compose_service(name: str) -> dict[str, Any]:
    return compose()["services"][name]


def built_services() -> list[str]:
    return sorted(name for name, spec in compose()["services"].items() if "build" in spec)


def build(name: str) -> dict[str, Any]:
    """A compose service's build section, as a mapping."""
    spec = compose_service(name)["build"]
    return {"context": spec} if isinstance(spec, str) else spec


def build_paths(name: str) -> tuple[Path, Path]:
    """The build context and Dockerfile of a compose service, as compose resolves them."""
    spec = build(name)
    context = COMPOSE.parent / spec.get("context", ".")
    return context, context / spec.get("dockerfile", "Dockerfile")


def environment(name: str) -> dict[str, str | None]:
    """A compose service's variables; None for a bare name (passed on from the host, if set)."""
    env = compose_service(name).get("environment") or {}
    if isinstance(env, list):  # the `- KEY=value` / `- KEY` spelling
        pairs = [item.split("=", 1) for item in env]
        return {pair[0]: pair[1] if len(pair) == 2 else None for pair in pairs}
    return {key: None if value is None else str(value) for key, value in env.items()}


def instructions(dockerfile_text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction, continuations joined, comments dropped."""
    found: list[tuple[str, str]] = []
    pending = ""
    for raw in dockerfile_text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):  # also inside a continuation, as Docker reads it
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        found.append((keyword.upper(), arguments.strip()))
        pending = ""
    return found


def words(arguments: str) -> list[str]:
    """An instruction's arguments, in exec (JSON) or shell form."""
    return json.loads(arguments) if arguments.startswith("[") else shlex.split(arguments)


def last(dockerfile_text: str, keyword: str) -> list[str]:
    """The words of the last `keyword` instruction (CMD, ENTRYPOINT, USER …); [] if none."""
    found = [a for k, a in instructions(dockerfile_text) if k == keyword]
    return words(found[-1]) if found else []


def stages(dockerfile_text: str) -> dict[str, tuple[str, str]]:
    """Each stage by name (its image, if unnamed): the image it starts from, and its text."""
    found: dict[str, tuple[str, str]] = {}
    for part in re.split(r"(?m)^(?=FROM\s)", dockerfile_text):
        if not part.startswith("FROM"):
            continue
        words_ = [w for w in part.splitlines()[0].split()[1:] if not w.startswith("--")]
        name = words_[2] if len(words_) == 3 and words_[1].lower() == "as" else words_[0]
        found[name] = (words_[0], part)
    return found


def target_text(dockerfile_text: str, target: str) -> str:
    """What makes a target's image: its stage and those it starts from, the first first."""
    named = stages(dockerfile_text)
    chain: list[str] = []
    while target in named:
        target, text = named[target]
        chain.insert(0, text)
    return "\n".join(chain)


def healthcheck(dockerfile_text: str) -> list[str]:
    """The command of the last HEALTHCHECK (its options dropped); [] if none."""
    found = [a for k, a in instructions(dockerfile_text) if k == "HEALTHCHECK"]
    if not found:
        return []
    command = found[-1][found[-1].index("CMD") + len("CMD") :].strip()
    return words(command)


def env_names(dockerfile_text: str) -> set[str]:
    """The variables the ENV instructions set (`ENV A=1 B=2` form)."""
    return {
        pair.split("=", 1)[0]
        for keyword, arguments in instructions(dockerfile_text)
        if keyword == "ENV"
        for pair in shlex.split(arguments)
    }


def sources_read(dockerfile_text: str) -> list[str]:
    """What COPY, ADD and RUN bind mounts read from the build context (not another stage)."""
    read: list[str] = []
    for keyword, arguments in instructions(dockerfile_text):
        flags = [w for w in shlex.split(arguments) if w.startswith("--")]
        if keyword in {"COPY", "ADD"} and not any(f.startswith("--from=") for f in flags):
            read += [w for w in words(arguments) if not w.startswith("--")][:-1]
        for flag in (f.removeprefix("--mount=") for f in flags if f.startswith("--mount=")):
            mount = dict(option.partition("=")[::2] for option in flag.split(","))
            if mount.get("type", "bind") == "bind" and "from" not in mount:
                read.append(mount.get("source", "."))
    return read


def sources_from(dockerfile_text: str, context_name: str) -> list[str]:
    """What COPY --from=NAME instructions read from the named context NAME."""
    read: list[str] = []
    for keyword, arguments in instructions(dockerfile_text):
        parts = words(arguments)
        if keyword == "COPY" and f"--from={context_name}" in parts:
            read += [w for w in parts if not w.startswith("--")][:-1]
    return read


def missing_sources(dockerfile_text: str, context: Path, ignored: Sequence[str]) -> list[str]:
    """What the Dockerfile reads from `context` that is absent, or left out by `ignored`."""
    read = sources_read(dockerfile_text)
    return [source for source in read if not exists_in(context, source, ignored)]


def exists_in(context: Path, source: str, ignored: Sequence[str] = ()) -> bool:
    """Whether a source (a path or a glob, relative to the context) names something sent of it."""
    pattern = source.strip("/")
    if ".." in Path(pattern).parts:  # Docker refuses a source outside the context
        return False
    if pattern in {"", "."}:
        return context.is_dir()
    found = (path.relative_to(context).as_posix() for path in context.glob(pattern))
    return any(not is_ignored(path, ignored) for path in found)


def dockerignore(context: Path, dockerfile: Path) -> list[str]:
    """The ignore patterns of a build, in order (`!` ones re-include).

    BuildKit takes `<Dockerfile>.dockerignore` beside the Dockerfile, if there is one,
    instead of the context's `.dockerignore`.
    """
    own = dockerfile.with_name(dockerfile.name + ".dockerignore")
    file = own if own.is_file() else context / ".dockerignore"
    lines = file.read_text().splitlines() if file.is_file() else []
    patterns = (line.strip() for line in lines)
    return [line for line in patterns if line and not line.startswith("#")]


def is_ignored(path: str, patterns: Sequence[str]) -> bool:
    """Docker's rule: the last pattern that matches the path or a folder above it decides."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pattern in patterns:
        exclude = not pattern.startswith("!")
        regex = ignore_regex(pattern.removeprefix("!").strip().strip("/"))
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            ignored = exclude
    return ignored


def ignore_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go's filepath.Match, plus `**` for any folders) as a regex."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            out, i = out + pattern[i : end + 1], end + 1  # a class, `^` negating, as in Go
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


@cache
def repository_files() -> tuple[str, ...]:
    """The checkout's files that git tracks or would (untracked, not git-ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],  # noqa: S607
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return tuple(path for path in listed.splitlines() if (ROOT / path).is_file())


def sent(patterns: Sequence[str]) -> list[str]:
    """The checkout's files a build with the root as context sends, given its ignore patterns."""
    return [path for path in repository_files() if not is_ignored(path, patterns)]


def outside(paths: Sequence[str], allowed: Sequence[str]) -> list[str]:
    """The paths that are neither one of `allowed` nor inside one (`allowed` folders end in /)."""
    return [p for p in paths if not any(p == a.rstrip("/") or p.startswith(a) for a in allowed)]


def unresolved_bases(dockerfile_text: str) -> list[str]:
    """The FROM images that are neither an earlier stage nor pinned to a tag or digest."""
    named: set[str] = set()
    unresolved = []
    for keyword, arguments in instructions(dockerfile_text):
        if keyword != "FROM":
            continue
        parts = [w for w in arguments.split() if not w.startswith("--")]
        image = parts[0]
        if image not in named and image != "scratch" and not re.search(r"[:@][^/]*$", image):
            unresolved.append(image)
        if len(parts) == 3 and parts[1].lower() == "as":  # IMAGE AS NAME
            named.add(parts[2])
    return unresolved


def pyproject(folder: Path) -> dict[str, Any]:
    return tomllib.loads((folder / "pyproject.toml").read_text())


def script_help_exit_code(service: str, script: str, command: list[str]) -> int:
    """How `SCRIPT COMMAND --help` exits: the Typer app the service's pyproject names for it."""
    target = pyproject(ROOT / "services" / service)["project"]["scripts"][script]
    module, _, attribute = target.partition(":")
    app = getattr(importlib.import_module(module), attribute)
    return CliRunner().invoke(app, [*command, "--help"]).exit_code


def settings_class(service: str) -> type[BaseSettings]:
    package = pyproject(ROOT / "services" / service)["project"]["name"].replace("-", "_")
    return importlib.import_module(f"{package}.settings").Settings


def setting_names(settings: type[BaseSettings] | None) -> set[str]:
    """The environment names a Settings class reads: its prefix plus each field, upper-cased."""
    if settings is None:
        return set()
    prefix = settings.model_config.get("env_prefix", "")
    return {f"{prefix}{field}".upper() for field in settings.model_fields}


def unknown_layercake_names(
    env: dict[str, str | None], settings: type[BaseSettings] | None
) -> list[str]:
    valid = setting_names(settings)
    return sorted(key for key in env if key.startswith("LAYERCAKE_") and key not in valid)


def empty_defaults(env: dict[str, str | None]) -> list[str]:
    """Variables whose host fallback is "": pydantic reads that as a value, not as unset."""
    return sorted(key for key, value in env.items() if value and EMPTY_DEFAULT.search(value))
