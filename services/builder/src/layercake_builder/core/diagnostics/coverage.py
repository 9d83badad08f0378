"""Total coverage from a coverage report, as a percentage.

Pure. pytest-cov's JSON (`--cov-report=json`, coverage.py's `totals.percent_covered`)
and the `coverage-summary.json` Jest and Vitest write (`total.lines.pct`).
None when the report has no usable figure (no lines to cover gives "Unknown").
"""

from __future__ import annotations

from layercake_builder.core.diagnostics.common import field, load_json


def parse_coverage_json(text: str) -> float | None:
    """The covered percentage in coverage.py's JSON report."""
    return _percent(field(load_json(text), "totals", "percent_covered"))


def parse_coverage_summary(text: str) -> float | None:
    """The percentage of lines covered in an istanbul `coverage-summary.json`."""
    return _percent(field(load_json(text), "total", "lines", "pct"))


def _percent(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 100:  # noqa: PLR2004
        return float(value)
    return None
