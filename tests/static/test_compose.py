"""docker-compose.yml and the services' Dockerfiles, checked against the repository itself.

No Docker engine runs here, so nothing is built or started: the files are read, and what they
name is looked up where it lives: paths in the build context (less what its .dockerignore leaves
out), `LAYERCAKE_*` variables in the services' pydantic Settings classes, commands in the
`layercake` Typer app, the program in the scripts of the package the image installs, and the image
a `FROM` names in the compose service that builds it. Each service's Dockerfile starts from a
shared image (docker/base/Dockerfile) that compose builds as a build-only service and passes in
as a named build context (`additional_contexts: {base: "service:base"}`); what an image holds is
read along that chain. Each checker is also shown to catch a made-up fault.
"""

from __future__ import annotations

import importlib
import json
import re
import shlex
import tomllib
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from typer.testing import CliRunner

from layercake.cli import app

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
# The workspace's services, from the tree: a new one must get a container too.
SERVICES = sorted(p.parent.name for p in ROOT.glob("services/*/pyproject.toml"))
EMPTY_DEFAULT = re.compile(r"\$\{\w+:?-\}")
SERVICE_PREFIX = "service:"  # an additional build context that is another compose service's image


@cache
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def compose_service(name: str) -> dict[str, Any]:
    return compose()["services"][name]


def built_services() -> list[str]:
    return sorted(name for name, spec in compose()["services"].items() if "build" in spec)


def build_contexts(name: str) -> dict[str, str]:
    """A compose service's additional build contexts, by name (mapping or `NAME=VALUE` list)."""
    build = compose_service(name).get("build")
    contexts = (build.get("additional_contexts") or {}) if isinstance(build, dict) else {}
    if isinstance(contexts, list):
        return dict(item.split("=", 1) for item in contexts)
    return {key: str(value) for key, value in contexts.items()}


def base_builds() -> list[str]:
    """The built services whose image another service's build takes as a context: base images."""
    named = {
        value.removeprefix(SERVICE_PREFIX)
        for name in built_services()
        for value in build_contexts(name).values()
        if value.startswith(SERVICE_PREFIX)
    }
    return sorted(named & set(built_services()))


def service_builds() -> list[str]:
    """The built services that run: every built one but the base images."""
    return sorted(set(built_services()) - set(base_builds()))


def build_paths(name: str) -> tuple[Path, Path]:
    """The build context and Dockerfile of a compose service, as compose resolves them."""
    build = compose_service(name)["build"]
    context = COMPOSE.parent / (build if isinstance(build, str) else build.get("context", "."))
    dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
    return context, context / dockerfile


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


def missing_sources(
    dockerfile_text: str, context: Path, ignored: list[str] | None = None
) -> list[str]:
    """What COPY, ADD and RUN bind mounts read from `context` that is not there.

    Not there: absent, or left out of what is sent to the builder by a .dockerignore pattern
    (`ignored`; by default the context's own .dockerignore).
    """
    patterns = dockerignore(context) if ignored is None else ignored
    read: list[str] = []
    for keyword, arguments in instructions(dockerfile_text):
        flags = [w for w in shlex.split(arguments) if w.startswith("--")]
        if keyword in {"COPY", "ADD"} and not any(f.startswith("--from=") for f in flags):
            read += [w for w in words(arguments) if not w.startswith("--")][:-1]
        for flag in (f.removeprefix("--mount=") for f in flags if f.startswith("--mount=")):
            mount = dict(option.partition("=")[::2] for option in flag.split(","))
            if mount.get("type", "bind") == "bind" and "from" not in mount:
                read.append(mount.get("source", "."))
    return [source for source in read if not exists_in(context, source, patterns)]


def exists_in(context: Path, source: str, ignored: Sequence[str] = ()) -> bool:
    """Whether a source (a path or a glob, relative to the context) names something sent of it."""
    pattern = source.strip("/")
    if ".." in Path(pattern).parts:  # Docker refuses a source outside the context
        return False
    if pattern in {"", "."}:
        return context.is_dir()
    found = (path.relative_to(context).as_posix() for path in context.glob(pattern))
    return any(not is_ignored(path, ignored) for path in found)


def dockerignore(context: Path) -> list[str]:
    """The patterns of the context's .dockerignore, in order (`!` ones re-include)."""
    file = context / ".dockerignore"
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


def base_images(dockerfile_text: str) -> list[str]:
    """What each FROM builds on, global ARG defaults filled in (`--platform` dropped)."""
    args: dict[str, str] = {}
    images: list[str] = []
    for keyword, arguments in instructions(dockerfile_text):
        if keyword == "ARG" and not images:
            name, _, default = arguments.partition("=")
            args[name.strip()] = default.strip().strip('"')
        if keyword == "FROM":
            ref = next(w for w in arguments.split() if not w.startswith("--"))
            images.append(re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m[1], ""), ref))
    return images


def stage_names(dockerfile_text: str) -> set[str]:
    return {
        words(arguments)[-1]
        for keyword, arguments in instructions(dockerfile_text)
        if keyword == "FROM" and " as " in f" {arguments.lower()} "
    }


def unresolved_bases(
    dockerfile_text: str, contexts: dict[str, str], services: dict[str, Any]
) -> list[str]:
    """The FROM images no build provides, and `service:` contexts naming no built service.

    A FROM resolves to an earlier stage, to a named build context (which, given as `service:X`,
    must be a compose service X that has a build), or to a registry image, which carries a tag
    or digest. A bare name such as `base` that is neither stage nor context would be looked for
    on Docker Hub as `library/base`.
    """
    unresolved = [
        f"{key}={value}"
        for key, value in contexts.items()
        if value.startswith(SERVICE_PREFIX)
        and "build" not in services.get(value.removeprefix(SERVICE_PREFIX), {})
    ]
    stages = stage_names(dockerfile_text)
    for image in base_images(dockerfile_text):
        pinned = re.search(r"[:@][^/]*$", image) is not None
        if image not in stages and image not in contexts and image != "scratch" and not pinned:
            unresolved.append(image)
    return unresolved


def image_dockerfiles(name: str) -> list[Path]:
    """The Dockerfiles an image is made of: those of the services it builds on, then its own."""
    dockerfile = build_paths(name)[1]
    contexts = build_contexts(name)
    chain: list[Path] = []
    for image in base_images(dockerfile.read_text()):
        if contexts.get(image, "").startswith(SERVICE_PREFIX):
            chain += image_dockerfiles(contexts[image].removeprefix(SERVICE_PREFIX))
    return [*chain, dockerfile]


def image_text(name: str) -> str:
    """The instructions that made a service's image, base images' first."""
    return "\n".join(path.read_text() for path in image_dockerfiles(name))


def kept_from_running(spec: dict[str, Any]) -> bool:
    """Whether `up` leaves a service stopped: it has a profile (none is active by default), or it
    only runs `true` and is not restarted."""
    command = spec.get("command")
    no_op = command in (["true"], "true") and spec.get("restart", "no") == "no"
    return bool(spec.get("profiles")) or no_op


def dockerfile_command(dockerfile_text: str) -> list[str]:
    cmds = [arguments for keyword, arguments in instructions(dockerfile_text) if keyword == "CMD"]
    return words(cmds[-1]) if cmds else []


def service_command(name: str) -> list[str]:
    """What the container runs: compose's `command`, else the image's last CMD."""
    command = compose_service(name).get("command")
    if command is not None:
        return command if isinstance(command, list) else shlex.split(command)
    return dockerfile_command(image_text(name))


def help_exit_code(command_path: list[str]) -> int:
    return CliRunner().invoke(app, [*command_path, "--help"]).exit_code


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


def pyproject(folder: Path) -> dict[str, Any]:
    return tomllib.loads((folder / "pyproject.toml").read_text())


def workspace_packages() -> dict[str, Path]:
    """Every workspace package's name, with its folder: the root and its members."""
    members = pyproject(ROOT)["tool"]["uv"]["workspace"]["members"]
    folders = [ROOT, *(f for pattern in members for f in ROOT.glob(pattern))]
    return {pyproject(f)["project"]["name"]: f for f in folders if (f / "pyproject.toml").is_file()}


def installed_scripts(dockerfile_text: str) -> set[str]:
    """The scripts of the package the Dockerfile's last `uv sync` installs (default: the root)."""
    syncs = [words(a) for k, a in instructions(dockerfile_text) if k == "RUN" and "uv sync" in a]
    last = syncs[-1] if syncs else []
    package = (
        last[last.index("--package") + 1]
        if "--package" in last
        else pyproject(ROOT)["project"]["name"]
    )
    return set(pyproject(workspace_packages()[package])["project"].get("scripts", {}))


def test_every_workspace_service_is_built_from_its_own_dockerfile():
    """Compose runs an image of exactly the workspace's services, each from its own Dockerfile."""
    assert SERVICES, "no services/*/pyproject.toml: the list to check against is empty"
    assert service_builds() == SERVICES
    for name in SERVICES:
        assert build_paths(name)[1] == ROOT / "services" / name / "Dockerfile"


def test_base_builds_are_the_images_other_builds_name():
    """A `service:` context makes its service a base image, not a container of its own."""
    assert base_builds() == ["base"]
    assert "base" not in service_builds()


@pytest.mark.parametrize("name", base_builds())
def test_a_base_image_is_built_but_never_run(name):
    """`docker compose up` builds a base image for the services on it but starts no container."""
    assert kept_from_running(compose_service(name))


def test_running_check_tells_a_build_only_service_from_a_started_one():
    """A profile or a one-off `true` keeps a service from running; a bare service would run."""
    assert kept_from_running({"profiles": ["build"], "build": "."})
    assert kept_from_running({"command": ["true"], "build": "."})
    assert not kept_from_running({"build": "."})
    assert not kept_from_running({"command": "true", "restart": "unless-stopped"})


@pytest.mark.parametrize("name", built_services())
def test_build_context_and_dockerfile_exist(name):
    """The build context is a folder and the Dockerfile a file in it."""
    context, dockerfile = build_paths(name)
    assert context.is_dir()
    assert dockerfile.is_file()
    assert context.resolve() in dockerfile.resolve().parents


@pytest.mark.parametrize("name", built_services())
def test_every_file_a_dockerfile_reads_is_in_its_context(name):
    """Each COPY, ADD and RUN bind-mount source exists in the build context (base images too)."""
    context, dockerfile = build_paths(name)
    assert missing_sources(dockerfile.read_text(), context) == []


@pytest.mark.parametrize("name", built_services())
def test_every_image_a_dockerfile_starts_from_is_built_or_pulled(name):
    """`FROM base` names an additional context that is a compose service with a build."""
    dockerfile = build_paths(name)[1]
    contexts = build_contexts(name)
    assert unresolved_bases(dockerfile.read_text(), contexts, compose()["services"]) == []


def test_base_check_reports_an_image_no_build_provides():
    """A bare FROM without its context, or a context naming an image-only service, is reported."""
    services = {"base": {"build": "."}, "nats": {"image": "nats:2.11-alpine"}}
    text = "FROM base\n"
    assert unresolved_bases(text, {"base": "service:base"}, services) == []
    assert unresolved_bases(text, {}, services) == ["base"]
    assert unresolved_bases(text, {"base": "service:nats"}, services) == ["base=service:nats"]
    assert unresolved_bases(text, {"base": "service:gone"}, services) == ["base=service:gone"]
    staged = "ARG PY=python:3.11-slim\nFROM ${PY} AS deps\nFROM deps\nFROM scratch\n"
    assert unresolved_bases(staged, {}, services) == []


def test_source_check_reports_a_missing_file_and_skips_other_stages():
    """A missing source is reported; copies from another image or stage are not checked."""
    text = (
        "COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /bin/\n"
        "COPY pyproject.toml \\\n  no-such-folder/ ./\n"
        "RUN --mount=type=bind,source=no-such.lock,target=uv.lock \\\n"
        "    --mount=type=cache,target=/root/.cache/uv true\n"
    )
    assert missing_sources(text, ROOT) == ["no-such-folder/", "no-such.lock"]


def test_source_check_reports_a_file_the_dockerignore_leaves_out():
    """A source excluded by a pattern, or inside an excluded folder, is not sent: reported."""
    text = "COPY README.md src/ ./\n"
    assert missing_sources(text, ROOT, ["*.md"]) == ["README.md"]
    assert missing_sources(text, ROOT, ["**/README.md", "src"]) == ["README.md", "src/"]
    assert missing_sources(text, ROOT, ["*.md", "!README.md"]) == []
    assert missing_sources(text, ROOT, ["**/__pycache__", "docs/*.md"]) == []


@pytest.mark.parametrize("name", sorted(compose()["services"]))
def test_every_layercake_variable_is_a_setting_of_its_service(name):
    """A `LAYERCAKE_*` name that no field of the service's Settings reads would be ignored."""
    settings = settings_class(name) if name in SERVICES else None
    assert unknown_layercake_names(environment(name), settings) == []


def test_variable_check_reports_a_name_that_is_no_setting():
    """A made-up name is reported; the shared bus setting is accepted."""
    env = {"LAYERCAKE_NATS_URL": "nats://nats:4222", "LAYERCAKE_NO_SUCH_SETTING": "1"}
    assert unknown_layercake_names(env, settings_class("git")) == ["LAYERCAKE_NO_SUCH_SETTING"]
    assert unknown_layercake_names(env, None) == sorted(env)


@pytest.mark.parametrize("name", sorted(compose()["services"]))
def test_no_variable_falls_back_to_an_empty_string(name):
    """`${X:-}` would set an optional secret to "" when the host lacks it, not leave it unset."""
    assert empty_defaults(environment(name)) == []


def test_empty_fallback_check_reports_it():
    """An empty fallback is reported; a real one and a pass-through are not."""
    env = {"A": "${KEY:-}", "B": "${KEY-}", "C": "${KEY:-replay}", "D": None}
    assert empty_defaults(env) == ["A", "B"]


@pytest.mark.parametrize("name", service_builds())
def test_service_command_is_a_real_cli_command(name):
    """The container's command is a `layercake` sub-command that exists (its --help exits 0)."""
    program, *command_path = service_command(name)
    assert program == "layercake"
    assert command_path == [name, "run"]
    assert help_exit_code(command_path) == 0


def test_command_check_fails_for_a_command_that_does_not_exist():
    """A sub-command the app lacks is a usage error, not a help page."""
    assert help_exit_code(["parser", "no-such-command"]) != 0


@pytest.mark.parametrize("name", service_builds())
def test_image_installs_the_package_that_provides_its_program(name):
    """The image's last `uv sync` (its base image's, here) installs the command's program."""
    assert image_dockerfiles(name)[0] == ROOT / "docker" / "base" / "Dockerfile"
    assert service_command(name)[0] in installed_scripts(image_text(name))


def test_script_check_sees_that_a_service_package_has_no_layercake_script():
    """Syncing only a service's own package would leave the image without `layercake`."""
    assert "layercake" not in installed_scripts("RUN uv sync --frozen --package layercake-parser")
    assert "layercake" in installed_scripts("RUN uv sync --frozen --no-dev")
