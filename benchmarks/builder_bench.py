"""Builder benchmarks: sandbox overhead, and install with an unchanged key.

1. A small TypeScript project (tsc --noEmit, node --test) and a small Python
   project (pytest): the build and test commands run in the sandbox and bare,
   in the same run, on the same folder; prints the medians and the ratio
   (target: sandbox under 5% slower).
2. The same project's install, cold (no cache, no node_modules/.venv) and with
   an unchanged key (skipped); prints both and the ratio (target: at least 10x).

    sudo uv run python benchmarks/builder_bench.py   (root: slot users)
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from layercake_builder.app import SANDBOX_PATH, create_runner, create_sandbox
from layercake_builder.core.confinement import sandbox_env
from layercake_builder.core.plan import cache_key, plan_build
from layercake_builder.settings import Settings
from layercake_contracts.values import Step

REPEATS = 7
TS_PROJECT = {
    "package.json": json.dumps(
        {
            "name": "bench-ts",
            "version": "1.0.0",
            "private": True,
            "scripts": {"test": "node --test test/"},
            "devDependencies": {"typescript": "^5.6.0"},
        }
    ),
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
    "src/math.ts": "export const add = (a: number, b: number): number => a + b;\n" * 1,
    "test/math.test.js": (
        'const { add } = require("../dist/math");\nconst test = require("node:test");\n'
        'test("adds", () => require("node:assert").strictEqual(add(2, 3), 5));\n'
    ),
}
PY_PROJECT = {
    "requirements.txt": "",
    "calc.py": "def add(a, b):\n    return a + b\n",
    "test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
}
TS_COMMANDS = (("node_modules/.bin/tsc", "-p", "."), ("node", "--test", "test/"))
PY_COMMANDS = ((".venv/bin/python", "-m", "pytest", "-q", "-p", "no:cacheprovider"),)


def write(folder: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)


async def main() -> None:
    base = Path(tempfile.mkdtemp(prefix="lc-bench-"))
    base.chmod(0o755)
    settings = Settings(builder_root=base / "builder", max_builds=1)
    sandbox = create_sandbox(settings)

    async def store(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    runner = create_runner(settings, store)
    print(f"sandbox back-end: {sandbox.backend}")
    for name, files, commands in (("typescript", TS_PROJECT, TS_COMMANDS),
                                  ("python", PY_PROJECT, PY_COMMANDS)):  # fmt: skip
        tree, cache = base / name / "tree", base / name / "cache"
        tree.mkdir(parents=True)
        cache.mkdir()
        write(tree, files)
        plan = plan_build(list(files), files, (Step.INSTALL,))
        key = cache_key(files, {})
        start = time.perf_counter()
        cold = await runner.run(plan, tree, cache, key, base / name / "own")
        cold_s = time.perf_counter() - start
        assert all(r.ok for r in cold), [r.output[-400:] for r in cold]
        start = time.perf_counter()
        warm = await runner.run(plan, tree, cache, key, base / name / "own")
        warm_s = time.perf_counter() - start
        assert all(r.cached for r in warm)
        confined, bare = [], []
        env = sandbox_env(("/usr/bin", "/bin"), {})
        env["HOME"] = str(cache)
        for _ in range(REPEATS):
            async with sandbox.slot(tree, cache) as slot:
                start = time.perf_counter()
                for command in commands:
                    done = await sandbox.run(command, slot=slot, project=tree, cache=cache,
                                             network=False, timeout_s=300, path=SANDBOX_PATH)  # fmt: skip
                    assert done.exit_code == 0, done.output[-400:]
                confined.append(time.perf_counter() - start)
            start = time.perf_counter()
            for command in commands:
                subprocess.run(command, cwd=tree, env=env, check=True, capture_output=True)
            bare.append(time.perf_counter() - start)
        c, b = statistics.median(confined), statistics.median(bare)
        print(f"{name}: build+test bare {b * 1000:.0f} ms, sandboxed {c * 1000:.0f} ms, "
              f"overhead {(c / b - 1) * 100:+.1f}% (target < 5%)")  # fmt: skip
        print(f"{name}: install cold {cold_s:.2f} s, unchanged key {warm_s * 1000:.1f} ms, "
              f"{cold_s / warm_s:.0f}x faster (target >= 10x)")  # fmt: skip
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
