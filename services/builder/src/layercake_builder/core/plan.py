"""Which toolchains a tree uses and which commands each build step runs.

Pure: a tree's file list and the text of its manifests (package.json,
pyproject.toml) in, a `Plan` out. Commands run inside the sandbox at
`/workspace`. Test counts and coverage come only from runners the builder
starts by its own command line (never the project's script text), writing
their reports into a folder the builder makes fresh for that one command,
outside the project, at `REPORT_FOLDER` (issue #14, finding 9).
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from layercake_builder.core.confinement import REPORT_FOLDER, SYSTEM_PYTHON
from layercake_contracts.values import Step

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

REPORTS = ".layercake/reports"  # scratch in the tree for the audit; the builder reads none of it
NODE = "node"
NODE_BIN = "/usr/bin/node"  # the system's: node_modules/.bin, first on PATH, is the project's
PYTHON = "python"
VENV_PYTHON = ".venv/bin/python"
# The builder's own tools, by absolute path from places the sandbox cannot write (never a
# PATH lookup, which finds the project's node_modules/.bin and .venv/bin first).
NPM = "/usr/bin/npm"
SANDBOX_TOOLS = "/opt/layercake/bin"  # the builder's uv, mounted read-only
UV = f"{SANDBOX_TOOLS}/uv"
AUDIT_SITE = "/opt/layercake/audit"  # pip-audit and what it imports, from our env, read-only
# `-I`: neither the project's folder nor PYTHONPATH is on sys.path, only the builder's packages.
PIP_AUDIT = (
    SYSTEM_PYTHON,
    "-I",
    "-c",
    (
        f"import sys; sys.path[:0] = [{AUDIT_SITE!r}]; sys.argv[0] = 'pip-audit'; "
        "from pip_audit._cli import audit; audit()"
    ),
)
# Whatever the project pins, the builder needs these to report tests and coverage.
PYTHON_TEST_TOOLS = ("pytest", "pytest-cov")
LOCK_FILES = (
    "package.json",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "pyproject.toml",
    "requirements.txt",
    "requirements-dev.txt",
    "uv.lock",
)


@dataclass(frozen=True)
class Command:
    """One command of a step, the parser for what it prints, and the reports it writes.

    `report` and `coverage` are paths in the command's own report folder; a
    command naming either gets one, fresh, at `REPORT_FOLDER`.
    """

    argv: tuple[str, ...]
    parser: str
    report: str | None = None
    coverage: str | None = None
    network: bool = False
    tolerate_exit: bool = False  # the exit code says nothing; the diagnostics decide


@dataclass(frozen=True)
class StepPlan:
    """The commands of one step for one toolchain."""

    step: Step
    toolchain: str
    commands: tuple[Command, ...]
    installs: tuple[str, ...] = ()  # what an install puts in the tree (its cache must be there)


@dataclass(frozen=True)
class Plan:
    """What a build of this tree runs, in order; after BUILD the steps run in parallel."""

    toolchains: tuple[str, ...]
    steps: tuple[StepPlan, ...]

    def of(self, step: Step) -> tuple[StepPlan, ...]:
        """The plans for one step (one per toolchain that has it)."""
        return tuple(p for p in self.steps if p.step is step)


def plan_build(
    paths: Collection[str], texts: Mapping[str, str], wanted: Collection[Step] = tuple(Step)
) -> Plan:
    """The plan for a tree; `texts` holds the content of its package.json and pyproject.toml."""
    steps: list[StepPlan] = []
    toolchains: list[str] = []
    if "package.json" in paths:
        toolchains.append(NODE)
        steps += _node_steps(paths, _json_object(texts.get("package.json", "")))
    if "pyproject.toml" in paths or "requirements.txt" in paths:
        toolchains.append(PYTHON)
        steps += _python_steps(paths, _toml_table(texts.get("pyproject.toml", "")))
    order = list(Step)
    chosen = [s for s in steps if s.step in wanted or s.step is Step.INSTALL]
    chosen.sort(key=lambda s: order.index(s.step))
    return Plan(tuple(toolchains), tuple(chosen))


def _node_steps(paths: Collection[str], package: dict[str, Any]) -> list[StepPlan]:
    scripts = package.get("scripts") if isinstance(package.get("scripts"), dict) else {}
    scripts = {str(k): str(v) for k, v in (scripts or {}).items()}
    dependencies = {
        str(name)
        for key in ("dependencies", "devDependencies")
        if isinstance(package.get(key), dict)
        for name in package[key]
    }
    locked = "package-lock.json" in paths or "npm-shrinkwrap.json" in paths
    install = (NPM, "ci") if locked else (NPM, "install")
    steps = [
        StepPlan(
            Step.INSTALL,
            NODE,
            (Command((*install, "--no-audit", "--no-fund"), "npm", network=True),),
            installs=("node_modules",),
        )
    ]
    build: list[Command] = []
    if "tsconfig.json" in paths and "typescript" in dependencies:
        build.append(Command(("node_modules/.bin/tsc", "--noEmit", "--pretty", "false"), "tsc"))
    if "build" in scripts:
        build.append(Command(("npm", "run", "build"), "node-build"))
    if build:
        steps.append(StepPlan(Step.BUILD, NODE, tuple(build)))
    if "lint" in scripts:
        steps.append(StepPlan(Step.LINT, NODE, (_node_lint(scripts["lint"]),)))
    if "test" in scripts:
        steps.append(StepPlan(Step.TEST, NODE, (_node_test(scripts["test"], dependencies),)))
    audit = Command((NPM, "audit", "--json"), "npm-audit", network=True, tolerate_exit=True)
    steps.append(StepPlan(Step.AUDIT, NODE, (audit,)))
    return steps


def _node_lint(script: str) -> Command:
    if "eslint" in script:
        report = "eslint.json"
        argv = ("npm", "run", "lint", "--", "-f", "json", "-o", f"{REPORT_FOLDER}/{report}")
        return Command(argv, "eslint", report)
    return Command(("npm", "run", "lint"), "none")


def _node_test(script: str, dependencies: Collection[str]) -> Command:
    """The runner the test script calls, run by the builder itself; else `npm test`, uncounted.

    Jest and Vitest only when the project declares them, Node's own runner by
    its system path: a script that merely mentions one (`node fake.js # jest`)
    gets pass or fail from its exit code and no counts or coverage.
    """
    words = script.split()
    runner = words[0] if words else ""
    if runner in {"jest", "vitest"} and runner in dependencies:
        return _node_runner(runner)
    paths = words[2:]
    if words[:2] == ["node", "--test"] and not any(w[0] == "-" or _is_glob(w) for w in paths):
        report = "junit.xml"
        argv = (
            *(NODE_BIN, "--test", "--test-reporter=spec", "--test-reporter-destination=stdout"),
            *("--test-reporter=junit", f"--test-reporter-destination={REPORT_FOLDER}/{report}"),
        )
        return Command((*argv, *paths), "node-test", report)
    return Command(("npm", "test"), "node")


def _node_runner(runner: str) -> Command:
    binary = f"node_modules/.bin/{runner}"
    if runner == "vitest":
        report = "vitest.json"
        vitest = (binary, "run", "--reporter=default", "--reporter=json")
        return Command((*vitest, f"--outputFile.json={REPORT_FOLDER}/{report}"), runner, report)
    report, coverage = "jest.json", "coverage/coverage-summary.json"
    argv = (
        *(binary, "--json", f"--outputFile={REPORT_FOLDER}/{report}", "--coverage"),
        *("--coverageReporters=json-summary", f"--coverageDirectory={REPORT_FOLDER}/coverage"),
    )
    return Command(argv, runner, report, coverage=coverage)


def _is_glob(word: str) -> bool:
    return any(c in word for c in "*?[{")  # Node 20's --test takes no patterns; the shell did


def _python_steps(paths: Collection[str], pyproject: dict[str, Any]) -> list[StepPlan]:
    tool = pyproject.get("tool") if isinstance(pyproject.get("tool"), dict) else {}
    tool = tool or {}
    ruff = "ruff" in tool or "ruff.toml" in paths or ".ruff.toml" in paths
    mypy = "mypy" in tool or "mypy.ini" in paths
    has_tests = any(_is_test_file(p) for p in paths)
    extras = [*PYTHON_TEST_TOOLS, *(["ruff"] if ruff else []), *(["mypy"] if mypy else [])]
    source = ("-r", "requirements.txt") if "requirements.txt" in paths else ("-e", ".")
    uv_pip = (UV, "pip", "install", "--python", VENV_PYTHON)
    install = (
        Command((UV, "venv", "--allow-existing", "--python", SYSTEM_PYTHON, ".venv"), "uv",
                network=True),
        Command((*uv_pip, *source, *extras), "uv", network=True),
    )  # fmt: skip
    steps = [
        StepPlan(Step.INSTALL, PYTHON, install, installs=(".venv",)),
        StepPlan(
            Step.BUILD,
            PYTHON,
            (Command((VENV_PYTHON, "-m", "compileall", "-q", "-x", r"/\.venv/", "."), "python"),),
        ),
    ]
    lint: list[Command] = []
    if ruff:
        lint.append(Command((".venv/bin/ruff", "check", "--output-format", "json", "."), "ruff"))
    if mypy:
        mypy_argv = (".venv/bin/mypy", "--show-column-numbers", "--exclude", r"^\.venv/", ".")
        lint.append(Command(mypy_argv, "mypy"))
    if lint:
        steps.append(StepPlan(Step.LINT, PYTHON, tuple(lint)))
    if has_tests:
        junit, coverage = "junit.xml", "coverage.json"
        pytest = (
            VENV_PYTHON,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--junitxml={REPORT_FOLDER}/{junit}",
        )
        with_coverage = (*pytest, "--cov=.", f"--cov-report=json:{REPORT_FOLDER}/{coverage}")
        test = Command(with_coverage, "pytest", junit, coverage=coverage)
        steps.append(StepPlan(Step.TEST, PYTHON, (test,)))
    freeze = f"{REPORTS}/frozen.txt"
    audit = (
        Command(("/bin/sh", "-c", f"{UV} pip freeze --python {VENV_PYTHON} > {freeze}"), "uv"),
        Command(
            (*PIP_AUDIT, "-r", freeze, "--no-deps", "--disable-pip", "-f", "json", "-s", "pypi"),
            "pip-audit", network=True, tolerate_exit=True,
        ),
    )  # fmt: skip
    steps.append(StepPlan(Step.AUDIT, PYTHON, audit))
    return steps


def _is_test_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _toml_table(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return {}


def cache_key(texts: Mapping[str, str], toolchain_versions: Mapping[str, str]) -> str:
    """What decides whether installed dependencies can be reused."""
    parts = [f"{name}\n{texts[name]}" for name in LOCK_FILES if name in texts]
    parts += [f"{k}={v}" for k, v in sorted(toolchain_versions.items())]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()
