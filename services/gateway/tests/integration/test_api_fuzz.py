"""schemathesis against the checked-in OpenAPI document: no 500, and no status it does not list."""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import status_code_conformance

from layercake_gateway.adapters.ledger import Ledger
from layercake_gateway.api import create_api, create_token
from layercake_gateway.core.policy import Policy
from layercake_testing.serving import serving

DOCUMENT = Path(__file__).resolve().parents[4] / "docs" / "openapi.json"
SECRET = "schemathesis-secret-of-thirty-two-b"  # noqa: S105  # a test key
schema = schemathesis.openapi.from_path(DOCUMENT)


@pytest.fixture(scope="module")
def base_url():
    """The API on a free port (no bus: routes that need it answer 503, which is fine)."""
    ledger = Ledger(f"sqlite:///{tempfile.mkdtemp()}/ledger.db", Policy())
    with serving(create_api(ledger, SECRET)) as url:
        headers = {"Authorization": f"Bearer {create_token(SECRET, 'ada')}"}
        httpx.post(f"{url}/projects", json={"project_id": "p1", "name": "n", "intake": "i"},
                   headers=headers, timeout=5)  # fmt: skip
        yield url


# One test per operation, parametrized by pytest itself: schemathesis's own `parametrize`
# collects its operations lazily, which under pytest-xdist ran one of the 29 and passed.
OPERATIONS = [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_no_input_makes_the_api_answer_500_or_a_status_its_document_does_not_list(
    operation, base_url
):
    """Generated paths, queries and bodies: never a server error, and each answer's status is one the route documents."""
    headers = {"Authorization": f"Bearer {create_token(SECRET, 'ada')}"}

    @given(case=operation.as_strategy())
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case):
        response = case.call(base_url=base_url, headers=headers, timeout=10)
        assert response.status_code < 500 or response.status_code == 503, (
            case.method, case.formatted_path, response.status_code, response.text[:300],
        )  # fmt: skip
        case.validate_response(response, checks=[status_code_conformance])

    check()


def test_every_operation_of_the_document_is_fuzzed():
    """The document's operations are all here: a collection that lost some would pass."""
    document = schemathesis.openapi.from_path(DOCUMENT).raw_schema
    listed = sum(1 for methods in document["paths"].values() for m in methods if m != "parameters")
    assert len(OPERATIONS) == listed > 20
