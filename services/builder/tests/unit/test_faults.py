"""The project's fault, or ours: the classifier on what real npm, uv and pip-audit printed.

The fixtures are real outputs; tests/fixtures/faults/README.md says how each was made.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from layercake_builder.core.faults import classify
from layercake_builder.core.plan import NPM, PIP_AUDIT, UV
from layercake_contracts.values import FaultCause, Step

FIXTURES = Path(__file__).parents[1] / "fixtures" / "faults"
NPM_INSTALL = (NPM, "install", "--no-audit", "--no-fund")
NPM_AUDIT = (NPM, "audit", "--json")
UV_INSTALL = (UV, "pip", "install", "--python", ".venv/bin/python", "-e", ".")
AUDIT_PY = (*PIP_AUDIT, "-r", ".layercake/reports/frozen.txt", "-f", "json")


def fixture(name: str) -> str:
    return (FIXTURES / f"{name}.txt").read_text()


@pytest.mark.parametrize(
    ("name", "step", "argv", "exit_code", "cause", "said"),
    [
        ("npm-install-proxy-403", Step.INSTALL, NPM_INSTALL, 1, FaultCause.REGISTRY, "403"),
        ("npm-install-upstream-502", Step.INSTALL, NPM_INSTALL, 1, FaultCause.REGISTRY, "502"),
        ("npm-install-no-network", Step.INSTALL, NPM_INSTALL, 1, FaultCause.NETWORK, "EAI_AGAIN"),
        ("uv-install-proxy-403", Step.INSTALL, UV_INSTALL, 2, FaultCause.REGISTRY, "pypi.org"),
        ("uv-install-no-network", Step.INSTALL, UV_INSTALL, 2, FaultCause.NETWORK, "DNS"),
        ("npm-audit-405", Step.AUDIT, NPM_AUDIT, 1, FaultCause.ADVISORY, "405"),
        ("npm-audit-proxy-403", Step.AUDIT, NPM_AUDIT, 1, FaultCause.ADVISORY, "403"),
        ("npm-audit-enolock", Step.AUDIT, NPM_AUDIT, 1, FaultCause.ADVISORY, "lockfile"),
        ("pip-audit-proxy-403", Step.AUDIT, AUDIT_PY, 1, FaultCause.ADVISORY, "ProxyError"),
        (
            "pip-audit-nothing-found",
            Step.AUDIT,
            AUDIT_PY,
            0,
            FaultCause.ADVISORY,
            "none of 8 dependencies: its vulnerability service answered for none of them",
        ),
    ],
)
def test_a_registry_or_advisory_service_that_refused_or_was_unreachable_is_a_fault(
    name, step, argv, exit_code, cause, said
):
    """Each real refusal is a fault of its cause, whose detail quotes what the tool said."""
    fault = classify(step, argv, exit_code, timed_out=False, output=fixture(name))
    assert fault is not None, name
    assert fault.cause is cause
    assert said in fault.detail, fault.detail


@pytest.mark.parametrize(
    ("name", "argv", "exit_code"),
    [
        ("npm-install-e404", NPM_INSTALL, 1),
        ("npm-install-etarget", NPM_INSTALL, 1),
        ("uv-install-no-version", UV_INSTALL, 1),
        ("uv-install-no-package", UV_INSTALL, 1),
    ],
)
def test_a_dependency_that_does_not_exist_is_the_projects_fault(name, argv, exit_code):
    """npm E404 and ETARGET, uv's "No solution found": the model declared it, the model heals it."""
    assert classify(Step.INSTALL, argv, exit_code, timed_out=False, output=fixture(name)) is None


def test_a_failing_test_or_a_syntax_error_is_the_projects_fault():
    """Output that names none of our services' troubles is the project's, whatever the exit code."""
    pytest_out = "FAILED tests/test_calc.py::test_add - assert -1 == 5\n1 failed in 0.05s\n"
    assert (
        classify(
            Step.TEST, (".venv/bin/python", "-m", "pytest"), 1, timed_out=False, output=pytest_out
        )
        is None
    )
    syntax = '  File "app.py", line 1\n    def (:\nSyntaxError: invalid syntax\n'
    assert (
        classify(
            Step.BUILD, (".venv/bin/python", "-m", "compileall"), 1, timed_out=False, output=syntax
        )
        is None
    )


def test_a_tool_of_ours_the_sandbox_could_not_exec_is_a_toolchain_fault():
    """The trampoline's FileNotFoundError for our own uv is a missing toolchain, naming the path."""
    argv = ("/opt/layercake/bin/uvx", "pip")
    fault = classify(Step.INSTALL, argv, 1, timed_out=False, output=fixture("exec-missing-tool"))
    assert fault is not None
    assert fault.cause is FaultCause.TOOLCHAIN
    assert "/opt/layercake/bin/uvx" in fault.detail


def test_bubblewraps_exec_failure_of_a_tool_on_the_path_is_a_toolchain_fault():
    """bwrap says `execvp npm: No such file or directory` (its die_with_error): npm is missing."""
    output = "bwrap: execvp npm: No such file or directory\n"
    fault = classify(Step.LINT, ("npm", "run", "lint"), 1, timed_out=False, output=output)
    assert fault is not None
    assert fault.cause is FaultCause.TOOLCHAIN


def test_a_project_binary_that_is_missing_is_the_projects_fault():
    """node_modules/.bin/jest absent means jest was never declared: the project's to fix."""
    output = "bwrap: execvp node_modules/.bin/jest: No such file or directory\n"
    argv = ("node_modules/.bin/jest", "--json")
    assert classify(Step.TEST, argv, 1, timed_out=False, output=output) is None


def test_a_network_step_that_timed_out_is_a_timeout_fault_and_a_test_that_did_is_not():
    """An install out of time is ours (downloading); a test out of time is the project's."""
    fault = classify(Step.INSTALL, NPM_INSTALL, None, timed_out=True, output="")
    assert fault is not None
    assert fault.cause is FaultCause.TIMEOUT
    assert "install" in fault.detail
    assert classify(Step.TEST, ("npm", "test"), None, timed_out=True, output="") is None


def test_a_passing_step_is_no_fault_even_when_it_printed_a_retry():
    """Exit 0 from an install that once retried a fetch says nothing is wrong."""
    output = "npm warn retry will retry, error on last attempt: Error: getaddrinfo EAI_AGAIN\n"
    assert classify(Step.INSTALL, NPM_INSTALL, 0, timed_out=False, output=output) is None


def test_a_pip_audit_that_audited_some_dependencies_is_no_fault():
    """Only an audit that looked nothing up failed for lack of its service; one skip is normal."""
    output = (
        '{"dependencies": [{"name": "iniconfig", "version": "2.0.0", "vulns": []}, '
        '{"name": "-e file:///workspace", "skip_reason": "could not deduce package version"}], '
        '"fixes": []}\n'
    )
    assert classify(Step.AUDIT, AUDIT_PY, 0, timed_out=False, output=output) is None


def test_a_system_python_that_is_not_where_the_plan_says_is_a_toolchain_fault():
    """uv's "No interpreter found at path" for our --python: the machine lacks it, not the project."""
    argv = (UV, "venv", "--allow-existing", "--python", "/usr/bin/python9", ".venv")
    fault = classify(Step.INSTALL, argv, 2, timed_out=False, output=fixture("uv-venv-no-python"))
    assert fault is not None
    assert fault.cause is FaultCause.TOOLCHAIN
    assert "/usr/bin/python9" in fault.detail
