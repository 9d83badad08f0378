"""A failed step always names what failed (issue #19): whole builds on a real nats-server.

A Python project whose conftest cannot import stops pytest before any test
(exit 4, no JUnit report): the test step still carries the error, placed in
the project. A build command whose output no parser reads still gets one
diagnostic that says how it exited and quotes its error line.
"""

from __future__ import annotations

import json
import os

import pytest

from layercake_builder.core.diagnostics.fallback import CODE
from layercake_contracts.events import BuildFailed
from layercake_contracts.values import Step

pytestmark = [
    pytest.mark.nats,
    pytest.mark.timeout(900),
    pytest.mark.skipif(os.geteuid() != 0, reason="slot users need root"),
]


async def test_tests_stopped_at_a_conftest_import_error_name_it_in_the_test_step(builds):
    files = {
        "requirements.txt": b"",
        "app/__init__.py": b"",
        "app/client.py": b"import os\nimport httpx_is_not_installed\n",
        "tests/conftest.py": b"from app.client import os\n",
        "tests/test_api.py": b"def test_api():\n    assert True\n",
    }

    outcome = await builds.build("conftest", files, (Step.INSTALL, Step.TEST))

    assert isinstance(outcome, BuildFailed)
    test = next(r for r in outcome.results if r.step is Step.TEST)
    assert test.exit_code == 4, test.output
    (error,) = test.diagnostics
    assert (error.tool, error.code, error.file, error.line) == (
        "pytest", "ModuleNotFoundError", "app/client.py", 2
    )  # fmt: skip
    assert error.message == (
        "ImportError while loading conftest 'tests/conftest.py': "
        "ModuleNotFoundError: No module named 'httpx_is_not_installed'"
    )


async def test_a_build_whose_output_no_parser_reads_is_named_by_its_exit_and_error_line(builds):
    script = "console.log('bundling'); console.error('bundle: cannot open entry web/app'); process.exit(2);"
    manifest = {"name": "p", "version": "1.0.0", "private": True, "scripts": {"build": "node b.js"}}
    files = {"package.json": json.dumps(manifest).encode(), "b.js": script.encode()}

    outcome = await builds.build("unparsed", files, (Step.INSTALL, Step.BUILD))

    build = next(r for r in outcome.results if r.step is Step.BUILD)
    assert build.exit_code == 2, build.output
    (named,) = build.diagnostics
    assert (named.code, named.message) == (
        CODE, "`npm run build` exited 2: bundle: cannot open entry web/app"
    )  # fmt: skip
