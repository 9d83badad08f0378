"""Parser benchmark: a 1 MB answer with 200 files in mixed formats.

Prints the median time of `extract` and its ratio to a naive single-regex
extractor of ```lang:path fences measured in the same run (target: under
20 ms), and the time for a 10x larger answer as a ratio (linear is ~10x).

    uv run python benchmarks/parser_bench.py
"""

from __future__ import annotations

import re
import statistics
import time
from typing import TYPE_CHECKING

from layercake_parser.core.extract import extract

if TYPE_CHECKING:
    from collections.abc import Callable

FILES = 200
TARGET_BYTES = 1_000_000
NAIVE = re.compile(r"```\w+:(\S+)\n(.*?)```", re.DOTALL)


def make_answer(files: int, target_bytes: int) -> tuple[str, dict[str, str]]:
    """A realistic answer: prose, shell blocks, whole files in six forms, edits and diffs."""
    per_file = target_bytes // files
    body_line = "    value = compute(alpha, beta, gamma)  # a line of code\n"
    # Edits carry little text, so whole files carry more for the answer to reach its size.
    body = body_line * max(1, (per_file * 3 // 2 - 200) // len(body_line))
    base: dict[str, str] = {}
    parts: list[str] = []
    for n in range(files):
        path = f"src/pkg{n % 10}/module_{n}.py"
        parts.append(f"Now file number {n}, which does its part.\n\n")
        form = n % 6
        if form == 0:
            parts.append(f"```python:{path}\n{body}```\n\n")
        elif form == 1:
            parts.append(f"### File: {path}\n```python\n{body}```\n\n")
        elif form == 2:
            parts.append(f'<file path="{path}">\n{body}</file>\n\n')
        elif form == 3:
            parts.append(f"```python\n# file: {path}\n{body}```\n\n")
        elif form == 4:
            base[path] = "def f():\n    return 1\n" + body
            parts.append(
                f"{path}\n```python\n<<<<<<< SEARCH\n    return 1\n=======\n    return 2\n"
                f">>>>>>> REPLACE\n```\n\n"
            )
        else:
            base[path] = "a = 1\n" + body
            parts.append(
                f"```diff\n--- a/{path}\n+++ b/{path}\n@@ -1,2 +1,2 @@\n-a = 1\n+a = 2\n"
                f" {body_line}```\n\n"
            )
        parts.append("```bash\npytest -q\n```\n\n")
    return "".join(parts), base


def naive(answer: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in NAIVE.finditer(answer)}


def median_ms(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    answer, base = make_answer(FILES, TARGET_BYTES)
    result = extract(answer, base)
    assert len(result.files) == FILES, (len(result.files), result.rejected[:3])
    ours = median_ms(lambda: extract(answer, base), 21)
    baseline = median_ms(lambda: naive(answer), 21)
    big_answer, big_base = make_answer(FILES * 10, TARGET_BYTES * 10)
    big = median_ms(lambda: extract(big_answer, big_base), 5)
    print(f"answer: {len(answer) / 1e6:.2f} MB, {FILES} files in 6 forms plus shell blocks")
    print(f"extract median: {ours:.1f} ms (target < 20 ms)")
    print(f"naive single-regex median: {baseline:.1f} ms")
    print(f"ratio extract / naive: {ours / baseline:.1f}x")
    size = len(big_answer) / 1e6
    print(f"10x answer ({size:.1f} MB): {big:.1f} ms, {big / ours:.1f}x the 1 MB time")


if __name__ == "__main__":
    main()
