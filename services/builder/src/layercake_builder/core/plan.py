"""Which toolchains a tree uses, where, and which commands each build step runs.

Pure: a tree's file list and the text of its manifests (package.json,
pyproject.toml) in, a `Plan` out. Each toolchain builds in the folder that
holds its manifest (the root, `server/`, `apps/web/`): its commands run there,
inside the sandbox at `/workspace/<folder>` (issue #19). What an install makes
never sits where another toolchain's tools scan: the Python venv lives in the
cache (`/cache/venvs/<folder>/.venv`), outside the tree; coverage data goes to
the report folder, linters keep no cache in the tree. Test counts and
coverage come only from runners the builder starts by its own command line
(never the project's script text), writing their reports into a folder the
builder makes fresh for that one command, outside the project, at
`REPORT_FOLDER` (issue #14, finding 9).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import posixpath
import re
import shlex
import tomllib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from layercake_builder.core.confinement import (
    CACHE,
    REPORT_FOLDER,
    SYSTEM_PYTHON,
    WORKSPACE,
    workdir,
)
from layercake_contracts.values import Step

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

REPORTS = ".layercake/reports"  # scratch in the tree for the audit; the builder reads none of it
NODE = "node"
NODE_BIN = "/usr/bin/node"  # the system's: node_modules/.bin, first on PATH, is the project's
PYTHON = "python"
VENVS = f"{CACHE}/venvs"  # one venv per Python folder, outside every toolchain's tree
# The builder's own tools, by absolute path from places the sandbox cannot write (never a
# PATH lookup, which finds the project's node_modules/.bin and its venv's bin first).
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
SHELL = "/bin/sh"
# npm audit reads only a lock (else ENOLOCK); the tree may have lost the one a lockless
# install wrote while node_modules stayed (a cached install): this makes it again, of the
# installed tree, offline. Failing, it leaves npm audit to say ENOLOCK.
LOCK_OF_INSTALLED_TREE = (
    SHELL,
    "-c",
    (
        "test -e package-lock.json || test -e npm-shrinkwrap.json || "
        f"exec {NPM} install --package-lock-only --offline --ignore-scripts --no-audit --no-fund"
    ),
)
# A word of a `node --test` script the builder passes on: paths, globs, flags; no shell syntax.
_PLAIN_WORD = re.compile(r"[\w./*?\[\]{}=:@+,-]+")
NODE_TEST_REPORTERS = (
    *("--test-reporter=spec", "--test-reporter-destination=stdout"),
    *("--test-reporter=junit", f"--test-reporter-destination={REPORT_FOLDER}/junit.xml"),
)
LOCK_FILES = (
    "package.json",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "pyproject.toml",
    "requirements.txt",
    "requirements-dev.txt",
    "requirements-test.txt",
    "uv.lock",
)
MANIFESTS = {NODE: ("package.json",), PYTHON: ("pyproject.toml", "requirements.txt")}
LOOKED_FOR = "looked for " + ", ".join(name for names in MANIFESTS.values() for name in names)
# Files a build would compile or run: a tree with some and no manifest has code nothing builds.
SOURCE_SUFFIXES = (".py", ".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx")
# Why a toolchain has no command for a step (install and audit it always has).
NOTHING_TO_RUN = {
    (NODE, Step.BUILD): "no build script and no TypeScript (tsconfig.json) in package.json",
    (NODE, Step.LINT): "no lint script in package.json",
    (NODE, Step.TEST): "no test script in package.json",
    (PYTHON, Step.LINT): (
        "no linter configured (ruff or mypy: [tool.ruff] or [tool.mypy] in pyproject.toml, "
        "ruff.toml, mypy.ini)"
    ),
    (PYTHON, Step.TEST): "no test files (test_*.py, *_test.py)",
}
# What a project declares for its tests: optional-dependency extras, PEP 735 groups.
TEST_EXTRAS = ("dev", "test", "tests", "testing")
TEST_GROUPS = ("dev", "test", "tests")
TEST_REQUIREMENTS = ("requirements-dev.txt", "requirements-test.txt")
# A manifest under one of these is someone else's (installed, vendored), not a toolchain of ours.
NOT_TOOLCHAIN_FOLDERS = frozenset(
    {"node_modules", "venv", "site-packages", "vendor", "vendored", "third_party", "dist"}
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
    env: tuple[tuple[str, str], ...] = ()  # set for this command only


@dataclass(frozen=True)
class Toolchain:
    """One toolchain of a tree, and the folder of its manifest ("" for the root)."""

    kind: str  # NODE or PYTHON
    folder: str = ""

    @property
    def name(self) -> str:
        """`node`, `python` at the root; `node:web`, `python:server` in a folder."""
        return f"{self.kind}:{self.folder}" if self.folder else self.kind

    @property
    def workdir(self) -> str:
        """Where its commands run inside the sandbox."""
        return workdir(self.folder)

    @property
    def venv(self) -> str:
        """The Python venv of this folder, in the cache: no tool of the tree scans it."""
        return posixpath.join(VENVS, self.folder, ".venv")


@dataclass(frozen=True)
class StepPlan:
    """The commands of one step for one toolchain."""

    step: Step
    toolchain: str
    commands: tuple[Command, ...]
    installs: tuple[str, ...] = ()  # sandbox paths an install makes (its cache must be there)
    folder: str = ""  # the toolchain's folder in the tree: the commands' working directory
    bins: tuple[str, ...] = ()  # the toolchain's own bin folders, first on a local step's PATH


@dataclass(frozen=True)
class Skipped:
    """A step asked for that a toolchain (or, with none found, the tree: "") has nothing to run."""

    step: Step
    toolchain: str
    reason: str


@dataclass(frozen=True)
class Plan:
    """What a build of this tree runs, in order; after BUILD the steps run in parallel.

    `skipped` names each step asked for that a toolchain has no command for;
    `code` the files a build would compile or run when no toolchain was found.
    """

    toolchains: tuple[str, ...]
    steps: tuple[StepPlan, ...]
    skipped: tuple[Skipped, ...] = ()
    code: tuple[str, ...] = ()

    def of(self, step: Step) -> tuple[StepPlan, ...]:
        """The plans for one step (one per toolchain that has it)."""
        return tuple(p for p in self.steps if p.step is step)


def plan_build(
    paths: Collection[str], texts: Mapping[str, str], wanted: Collection[Step] = tuple(Step)
) -> Plan:
    """The plan for a tree; `texts` holds the content of its manifests (`manifest_paths`)."""
    steps: list[StepPlan] = []
    chains = find_toolchains(paths)
    if not chains:
        code = tuple(sorted(p for p in paths if p.endswith(SOURCE_SUFFIXES)))
        reason = f"no toolchain found ({LOOKED_FOR})"
        reason += "" if code else ": documents only, nothing to build"
        return Plan((), (), tuple(Skipped(s, "", reason) for s in Step if s in wanted), code)
    for chain in chains:
        local = _inside(paths, chain.folder)
        text = texts.get(posixpath.join(chain.folder, MANIFESTS[chain.kind][0]), "")
        found = (
            _node_steps(local, _json_object(text), chain)
            if chain.kind == NODE
            else _python_steps(local, _toml_table(text), chain)
        )
        steps += [_placed(s, chain) for s in found]
    order = list(Step)
    chosen = [s for s in steps if s.step in wanted or s.step is Step.INSTALL]
    chosen.sort(key=lambda s: order.index(s.step))
    skipped = [
        Skipped(step, chain.name, NOTHING_TO_RUN[chain.kind, step])
        for step in Step
        if step in wanted
        for chain in chains
        if not any(s.step is step and s.toolchain == chain.name for s in steps)
    ]
    return Plan(tuple(c.name for c in chains), tuple(chosen), tuple(skipped))


def find_toolchains(paths: Collection[str]) -> tuple[Toolchain, ...]:
    """Each folder holding a manifest, Node's first; one inside another of its kind is part of it.

    A workspace member or a test fixture below a toolchain's folder is that
    toolchain's business (npm workspaces, a fixture package); installed and
    vendored folders and dot-folders hold no toolchain of the project's.
    """
    found: list[Toolchain] = []
    for kind, names in MANIFESTS.items():
        folders = sorted(
            {folder for path in paths if (folder := _manifest_folder(path, names)) is not None},
            key=lambda f: (f.count("/"), f),
        )
        kept: list[str] = []
        for folder in folders:
            if not any(_within(folder, outer) for outer in kept):
                kept.append(folder)
        found += [Toolchain(kind, folder) for folder in sorted(kept)]
    return tuple(found)


def manifest_paths(paths: Collection[str]) -> tuple[str, ...]:
    """The files whose text the plan and the install key read, wherever a toolchain is."""
    return tuple(sorted(p for p in paths if _manifest_folder(p, LOCK_FILES) is not None))


def file_name(toolchain: str) -> str:
    """A toolchain's name as one file name (a folder's `/` quoted): install keys, scratch files."""
    return quote(toolchain, safe="")


def project_file(folder: str, path: str) -> str:
    """A path a toolchain's tool reported (relative to its folder) relative to the project root."""
    return posixpath.join(folder, path) if folder else path


def _manifest_folder(path: str, names: Collection[str]) -> str | None:
    folder, _, name = path.rpartition("/")
    parts = folder.split("/") if folder else []
    if name not in names or any(p.startswith(".") or p in NOT_TOOLCHAIN_FOLDERS for p in parts):
        return None
    return folder


def _within(folder: str, outer: str) -> bool:
    return not outer or folder == outer or folder.startswith(f"{outer}/")


def _inside(paths: Collection[str], folder: str) -> list[str]:
    """The paths under `folder`, relative to it."""
    if not folder:
        return list(paths)
    prefix = f"{folder}/"
    return [p.removeprefix(prefix) for p in paths if p.startswith(prefix)]


def _placed(step: StepPlan, chain: Toolchain) -> StepPlan:
    """A toolchain's step, run in its folder with its own tools first on PATH."""
    node_bin = posixpath.join(chain.workdir, "node_modules", ".bin")
    bins = (node_bin,) if chain.kind == NODE else (f"{chain.venv}/bin",)
    return dataclasses.replace(step, toolchain=chain.name, folder=chain.folder, bins=bins)


def _node_steps(
    paths: Collection[str], package: dict[str, Any], chain: Toolchain
) -> list[StepPlan]:
    scripts = package.get("scripts") if isinstance(package.get("scripts"), dict) else {}
    scripts = {str(k): str(v) for k, v in (scripts or {}).items()}
    dependencies = {
        str(name)
        for key in ("dependencies", "devDependencies")
        if isinstance(package.get(key), dict)
        for name in package[key]
    }
    locked = "package-lock.json" in paths or "npm-shrinkwrap.json" in paths
    # `--include=dev` wins over an `omit=dev` or `NODE_ENV=production` the project's .npmrc sets.
    install = (NPM, "ci") if locked else (NPM, "install")
    steps = [
        StepPlan(
            Step.INSTALL,
            NODE,
            (Command((*install, "--include=dev", "--no-audit", "--no-fund"), "npm", network=True),),
            installs=(posixpath.join(chain.workdir, "node_modules"),),
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
    lock = () if locked else (Command(LOCK_OF_INSTALLED_TREE, "none", tolerate_exit=True),)
    steps.append(StepPlan(Step.AUDIT, NODE, (*lock, audit)))
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
    try:
        words = shlex.split(script)
    except ValueError:  # an unclosed quote: npm's shell will say so
        words = []
    runner = words[0] if words else ""
    if runner in {"jest", "vitest"} and runner in dependencies:
        return _node_runner(runner)
    if words[:2] == ["node", "--test"] and _plain_node_test_arguments(words[2:]):
        arguments = tuple(words[2:])
        if not any(_is_glob(w) for w in arguments):
            return Command(
                (NODE_BIN, "--test", *NODE_TEST_REPORTERS, *arguments), "node-test", "junit.xml"
            )
        # Node 20 takes no patterns; the shell expanded them for `npm test`, so it does here:
        # unquoted "$@" is only split and globbed, never read as shell syntax.
        expand = f"exec {NODE_BIN} --test {' '.join(NODE_TEST_REPORTERS)} $@"
        return Command((SHELL, "-c", expand, "sh", *arguments), "node-test", "junit.xml")
    return Command(("npm", "test"), "node")


def _plain_node_test_arguments(words: list[str]) -> bool:
    """Paths, globs and flags only: no shell syntax, and no reporter of the project's own."""
    return all(_PLAIN_WORD.fullmatch(w) and not w.startswith("--test-reporter") for w in words)


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


def _python_steps(
    paths: Collection[str], pyproject: dict[str, Any], chain: Toolchain
) -> list[StepPlan]:
    tool = pyproject.get("tool") if isinstance(pyproject.get("tool"), dict) else {}
    tool = tool or {}
    ruff = "ruff" in tool or "ruff.toml" in paths or ".ruff.toml" in paths
    mypy = "mypy" in tool or "mypy.ini" in paths
    has_tests = any(_is_test_file(p) for p in paths)
    tools = [*PYTHON_TEST_TOOLS, *(["ruff"] if ruff else []), *(["mypy"] if mypy else [])]
    python = f"{chain.venv}/bin/python"
    uv_pip = (UV, "pip", "install", "--python", python)
    install = (
        Command((UV, "venv", "--allow-existing", "--python", SYSTEM_PYTHON, chain.venv), "uv",
                network=True),
        Command((*uv_pip, *_python_sources(paths, pyproject), *tools), "uv", network=True),
    )  # fmt: skip
    compile_all = (python, "-m", "compileall", "-q", "-x", r"/(node_modules|\.venv)/", ".")
    steps = [
        StepPlan(Step.INSTALL, PYTHON, install, installs=(chain.venv,)),
        StepPlan(Step.BUILD, PYTHON, (Command(compile_all, "python"),)),
    ]
    lint: list[Command] = []
    if ruff:
        ruff_argv = (f"{chain.venv}/bin/ruff", "check", "--no-cache", "--output-format", "json")
        lint.append(Command((*ruff_argv, "."), "ruff"))
    if mypy:
        mypy_argv = (f"{chain.venv}/bin/mypy", "--show-column-numbers", "--cache-dir", "/dev/null")
        lint.append(Command((*mypy_argv, "."), "mypy"))
    if lint:
        steps.append(StepPlan(Step.LINT, PYTHON, tuple(lint)))
    if has_tests:
        junit, coverage = "junit.xml", "coverage.json"
        pytest = (
            python,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--junitxml={REPORT_FOLDER}/{junit}",
        )
        with_coverage = (*pytest, "--cov=.", f"--cov-report=json:{REPORT_FOLDER}/{coverage}")
        data = (("COVERAGE_FILE", f"{REPORT_FOLDER}/.coverage"),)  # not in the tree
        test = Command(with_coverage, "pytest", junit, coverage=coverage, env=data)
        steps.append(StepPlan(Step.TEST, PYTHON, (test,)))
    freeze = f"{WORKSPACE}/{REPORTS}/{file_name(chain.name)}-frozen.txt"
    audit = (
        Command(("/bin/sh", "-c", f"{UV} pip freeze --python {python} > {freeze}"), "uv"),
        Command(
            (*PIP_AUDIT, "-r", freeze, "--no-deps", "--disable-pip", "-f", "json", "-s", "pypi"),
            "pip-audit", network=True, tolerate_exit=True,
        ),
    )  # fmt: skip
    steps.append(StepPlan(Step.AUDIT, PYTHON, audit))
    return steps


def _python_sources(paths: Collection[str], pyproject: dict[str, Any]) -> tuple[str, ...]:
    """What to install besides the test tools: the project with its test extras and groups.

    `-e .[dev,test]` when pyproject.toml declares a project (with those of
    TEST_EXTRAS it defines), each TEST_GROUPS group it defines (PEP 735,
    `uv pip install --group`), and the requirements files present.
    """
    project = pyproject.get("project")
    sources: list[str] = []
    if isinstance(project, dict):
        optional = project.get("optional-dependencies")
        extras = [e for e in TEST_EXTRAS if isinstance(optional, dict) and e in optional]
        sources += ["-e", f".[{','.join(extras)}]" if extras else "."]
    groups = pyproject.get("dependency-groups")
    for group in TEST_GROUPS:
        if isinstance(groups, dict) and group in groups:
            sources += ["--group", group]
    for requirements in ("requirements.txt", *TEST_REQUIREMENTS):
        if requirements in paths:
            sources += ["-r", requirements]
    return tuple(sources)


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
    """What decides whether installed dependencies can be reused: every manifest, by its path."""
    parts = [f"{path}\n{texts[path]}" for path in manifest_paths(texts)]
    parts += [f"{k}={v}" for k, v in sorted(toolchain_versions.items())]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()
