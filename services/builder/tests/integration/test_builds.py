"""Whole builds in the sandbox: a broken TypeScript and a broken Python project fail with the
diagnostics a model can heal from; fixed, both pass with test counts and coverage."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from layercake_builder.app import create_runner
from layercake_builder.core.plan import cache_key, plan_build
from layercake_builder.settings import Settings
from layercake_contracts.values import Step

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="slot users need root")

TS_PACKAGE = {
    "name": "ts-app",
    "version": "1.0.0",
    "private": True,
    "scripts": {"build": "tsc -p .", "test": "jest"},
    "devDependencies": {"typescript": "^5.6.0", "jest": "^29.7.0"},
    "jest": {"testMatch": ["**/test/**/*.test.js"], "collectCoverageFrom": ["dist/**/*.js"]},
}
TS_FILES = {
    "package.json": json.dumps(TS_PACKAGE, indent=2),
    "tsconfig.json": json.dumps(
        {
            "compilerOptions": {
                "strict": True,
                "outDir": "dist",
                "module": "commonjs",
                "target": "es2020",
                "types": [],
            },
            "include": ["src"],
        }
    ),
    "src/index.ts": 'import { add } from "./math";\nexport const total = add(2, 3);\n',
    "test/math.test.js": (
        'const { add } = require("../dist/math");\nconst { total } = require("../dist/index");\n'
        'test("adds", () => { expect(add(2, 3)).toBe(5); expect(total).toBe(5); });\n'
    ),
}
PY_FILES = {
    "requirements.txt": "",
    "calc.py": "def add(a, b):\n    return a - b\n",
    "tests/test_calc.py": (
        "from calc import add\n\n\ndef test_add_two_numbers():\n    assert add(2, 3) == 5\n"
    ),
}


@pytest.fixture(scope="module")
def runner():
    base = Path(tempfile.mkdtemp(prefix="lc-builds-"))
    base.chmod(0o755)

    async def store(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    yield base, create_runner(Settings(builder_root=base / "builder", max_builds=1), store)
    shutil.rmtree(base, ignore_errors=True)


async def build(runner, name: str, files: dict[str, str], steps: tuple[Step, ...]):
    base, step_runner = runner
    tree, cache = base / name / "tree", base / name / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_text(text)
    plan = plan_build(list(files), files, steps)
    results = await step_runner.run(plan, tree, cache, cache_key(files, {}), base / name / "own")
    return {r.step: r for r in results}


async def test_typescript_missing_import_fails_with_ts2307_then_passes_when_fixed(runner):
    """tsc reports file, line and TS2307; with the module written, build and jest pass with counts and coverage."""
    steps = (Step.INSTALL, Step.BUILD, Step.TEST)
    broken = await build(runner, "ts", TS_FILES, steps)
    assert broken[Step.INSTALL].ok, broken[Step.INSTALL].output
    assert not broken[Step.BUILD].ok
    assert Step.TEST not in broken, "a failed build stops the later steps"
    ts2307 = [d for d in broken[Step.BUILD].diagnostics if d.code == "TS2307"]
    assert ts2307, broken[Step.BUILD].output
    assert (ts2307[0].tool, ts2307[0].file, ts2307[0].line) == ("tsc", "src/index.ts", 1)
    assert "./math" in ts2307[0].message

    fixed = {
        **TS_FILES,
        "src/math.ts": "export const add = (a: number, b: number): number => a + b;\n",
    }
    passed = await build(runner, "ts", fixed, steps)
    assert passed[Step.INSTALL].cached, "unchanged package.json: install skipped"
    assert passed[Step.BUILD].ok, passed[Step.BUILD].output
    test = passed[Step.TEST]
    assert test.ok, test.output
    assert (test.tests.passed, test.tests.failed) == (1, 0)
    assert test.coverage_percent == 100.0


async def test_python_failing_test_names_test_file_line_and_assertion_then_passes(runner):
    """pytest's failure carries the test's name, file, line and message; fixed, counts and coverage."""
    steps = (Step.INSTALL, Step.BUILD, Step.TEST)
    broken = await build(runner, "py", PY_FILES, steps)
    test = broken[Step.TEST]
    assert not test.ok
    assert (test.tests.passed, test.tests.failed) == (0, 1)
    [failure] = [d for d in test.diagnostics if d.tool == "pytest"]
    assert "test_add_two_numbers" in failure.message
    assert (failure.file, failure.line) == ("tests/test_calc.py", 5)
    assert "assert -1 == 5" in failure.message

    fixed = {**PY_FILES, "calc.py": "def add(a, b):\n    return a + b\n"}
    passed = await build(runner, "py", fixed, steps)
    test = passed[Step.TEST]
    assert test.ok, test.output
    assert (test.tests.passed, test.tests.failed) == (1, 0)
    assert test.coverage_percent == 100.0
