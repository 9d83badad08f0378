"""The published documents pass the validators an integrator would use.

docs/asyncapi.json through `@asyncapi/parser` (npm, on the machine's Node, its
version pinned by tests/docs/asyncapi/package-lock.json), docs/openapi.json
through `openapi-spec-validator`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from layercake_testing.npm import npm_installed

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
CHECKER = Path(__file__).resolve().parent / "asyncapi"


def tool(name: str) -> str:
    """The path of `name` on PATH; the test fails saying what is missing."""
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not on PATH: tests/docs needs the machine's Node 20 and npm")
    return found


@pytest.fixture(scope="module")
def asyncapi_parser(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The checker's folder with its locked packages installed by `npm ci`."""
    names = ("package.json", "package-lock.json", "validate-asyncapi.mjs")
    return npm_installed(tool("npm"), CHECKER, names, tmp_path_factory.mktemp("asyncapi-parser"))


def parse_asyncapi(checker: Path, document: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  # our own command line
        [tool("node"), "validate-asyncapi.mjs", str(document)],
        cwd=checker,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_asyncapi_document_is_valid_for_the_asyncapi_parser(asyncapi_parser):
    """@asyncapi/parser reads docs/asyncapi.json with no error."""
    result = parse_asyncapi(asyncapi_parser, DOCS / "asyncapi.json")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_asyncapi_parser_refuses_a_dangling_reference(asyncapi_parser, tmp_path):
    """The check can fail: a message whose payload points at no schema is an error."""
    document = json.loads((DOCS / "asyncapi.json").read_text(encoding="utf-8"))
    document["components"]["messages"]["GateApproved"]["payload"] = {
        "$ref": "#/components/schemas/NoSuchSchema"
    }
    broken = tmp_path / "asyncapi.json"
    broken.write_text(json.dumps(document), encoding="utf-8")
    result = parse_asyncapi(asyncapi_parser, broken)
    assert result.returncode == 1
    assert "NoSuchSchema" in result.stdout


def test_the_openapi_document_is_valid_for_openapi_spec_validator():
    """openapi-spec-validator finds nothing wrong in docs/openapi.json."""
    validate(json.loads((DOCS / "openapi.json").read_text(encoding="utf-8")))


def test_openapi_spec_validator_refuses_a_response_without_description():
    """The check can fail: a response without its required description is an error."""
    document = json.loads((DOCS / "openapi.json").read_text(encoding="utf-8"))
    del document["paths"]["/projects"]["post"]["responses"]["409"]["description"]
    with pytest.raises(OpenAPIValidationError, match="description"):
        validate(document)


def test_the_openapi_document_names_its_servers_and_each_refusal_with_its_body():
    """`servers` is set; every route that needs a token lists 401, every project route 404, each with its JSON body's schema."""
    document = json.loads((DOCS / "openapi.json").read_text(encoding="utf-8"))
    assert document["servers"][0]["url"].startswith("http")
    public = {"/healthz", "/metrics", "/signin"}
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            answers = operation["responses"]
            expected = {"413"} | ({"401"} if path not in public else set())
            if path.startswith("/projects/{project_id}"):
                expected |= {"404"}
            assert expected <= set(answers), f"{method} {path} lists {sorted(answers)}"
            for code in expected - {"401"} if path in public else expected:
                assert answers[code]["content"]["application/json"]["schema"], (method, path, code)
            refusals = {code: a for code, a in answers.items() if int(code) >= 400}
            for code, answer in refusals.items():
                assert set(answer.get("content", {})) <= {"application/json"}, (method, path, code)
