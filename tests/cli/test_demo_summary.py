"""The demo's summary at 80 columns: the commands to copy are whole lines outside the box."""

from __future__ import annotations

import io

from rich.console import Console

from layercake.demo import _print_summary

REPOSITORY = "/home/someone/work/layercake/.layercake/demo/tally-20261202-000000"


def test_at_80_columns_each_test_command_is_one_whole_line_outside_the_box():
    summary = {
        "project": "tally-20261202-000000", "gates": {"G0": "approved"}, "attempts": {"G5": 2},
        "failed_builds": 1, "diagnostics_fixed": 1, "commits": 9, "tokens": 0, "wall_s": 61.0,
        "tools_s": 40.0, "model_s": 0.0, "rest_s": 21.0, "repository": REPOSITORY,
        "tests": ["uv run --with pytest python -m pytest -q", "npm test --prefix frontend"],
    }  # fmt: skip
    out = io.StringIO()
    _print_summary(Console(file=out, width=80), summary)
    lines = out.getvalue().splitlines()
    for command in summary["tests"]:
        assert f"  cd {REPOSITORY} && {command}" in lines
    assert not any("│" in line and " && " in line for line in lines)
