"""CLI startup benchmark: how long a `layercake` command takes before it does its work.

Each figure is the median of REPEATS fresh processes, wall time and CPU time (user +
system, which a busy machine inflates less), against two baselines run alongside:
`python -c pass` (the interpreter) and `python -c "import typer"` (the floor of any
Typer command). The commands do next to nothing: `parse -` of a one-file answer, an
`approve` whose API is a closed port (it fails at once, after loading the gateway's
commands), a service's `run --help`, and the top-level `--help` (which lists, and so
loads, every command). `import layercake.cli` is the umbrella alone, as a test imports it.

    uv run python benchmarks/cli_startup.py
"""

from __future__ import annotations

import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REPEATS = 7
ANSWER = "```python src/hello.py\nprint('hello')\n```\n"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(argv: list[str], env: dict[str, str], stdin: str | None) -> tuple[float, float]:
    """One process: its wall time and its CPU time (user + system), in seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, env=env, input=stdin, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _median(argv: list[str], env: dict[str, str], stdin: str | None = None) -> tuple[float, float]:
    runs = [_run(argv, env, stdin) for _ in range(REPEATS)]
    return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)


def main() -> None:
    python = sys.executable
    layercake = [python, "-m", "layercake"]
    with tempfile.TemporaryDirectory() as home:
        env = {
            **os.environ,
            "LAYERCAKE_HOME": home,
            "LAYERCAKE_API_URL": f"http://127.0.0.1:{_closed_port()}",
            "COLUMNS": "100",
        }
        cases = {
            "python -c pass": ([python, "-c", "pass"], None),
            "import typer": ([python, "-c", "import typer"], None),
            "import layercake.cli": ([python, "-c", "import layercake.cli"], None),
            "layercake parse -": ([*layercake, "parse", "-"], ANSWER),
            "layercake approve (API down)": ([*layercake, "approve", "p", "G0"], None),
            "layercake parser run --help": ([*layercake, "parser", "run", "--help"], None),
            "layercake --help": ([*layercake, "--help"], None),
        }
        figures = {name: _median(argv, env, stdin) for name, (argv, stdin) in cases.items()}
    floor_wall, floor_cpu = figures["import typer"]
    print(f"median of {REPEATS} runs; ratios to `import typer` ({floor_wall:.3f} s wall)")
    print(f"{'':32} {'wall s':>8} {'cpu s':>8} {'wall x':>7} {'cpu x':>7}")
    for name, (wall, cpu) in figures.items():
        print(f"{name:32} {wall:8.3f} {cpu:8.3f} {wall / floor_wall:7.2f} {cpu / floor_cpu:7.2f}")


if __name__ == "__main__":
    main()
