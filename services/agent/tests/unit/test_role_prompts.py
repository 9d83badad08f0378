"""Role prompts that fit the project: each gate's own task, the selected design, the product's kind.

The prompts are assembled by the service's own `assemble_prompt` from a record
and a tree whose texts sit in an in-memory blob store.
"""

from __future__ import annotations

import pytest

from layercake_agent.adapters.folder import MemoryBlobs
from layercake_agent.core.fit import Kind, product_kind
from layercake_agent.core.heal import what_failed
from layercake_agent.core.record import ProjectRecord, remember
from layercake_agent.service import assemble_prompt
from layercake_contracts.events import (
    AgentRequested,
    ArtifactRecorded,
    BuildSucceeded,
    HealRequested,
    OptionSelected,
    ProjectCreated,
)
from layercake_contracts.values import (
    FaultCause,
    FileEntry,
    Gate,
    InfrastructureFault,
    Manifest,
    Role,
    Step,
    StepResult,
    TestCounts,
)

PRD = "# PRD: notes\n\n## US-1 Add a note\n\nGiven a title, When I save, Then it is listed.\n"
DESIGN_A = "<!doctype html><title>A</title><p>calm and dense direction</p>\n"
DESIGN_B = "<!doctype html><title>B</title><p>bold and friendly direction</p>\n"
CLI_ARCHITECTURE = "# Architecture\n\nKind: cli\n\nOne Python package, argparse, no framework.\n"
WEB_ARCHITECTURE = "# Architecture\n\nKind: full-stack\n\nA JSON API in FastAPI and a page.\n"
TREE = {"docs/prd.md": PRD, "design/option-a.html": DESIGN_A, "design/option-b.html": DESIGN_B}


def created(*, has_ui: bool = True) -> ProjectCreated:
    return ProjectCreated(
        project_id="notes", name="notes", intake="Keep notes.", owner="ada", has_ui=has_ui
    )


async def prompt_for(templates, role, gate, *, tree=TREE, events=(), instructions="", has_ui=True):
    blobs = MemoryBlobs()
    base = Manifest(
        {p: FileEntry(sha256=await blobs.put(t.encode()), size=len(t)) for p, t in tree.items()}
    )
    project = created(has_ui=has_ui)
    record = remember(ProjectRecord(), project)
    for event in events:
        record = remember(record, event(project, blobs) if callable(event) else event)
    request = AgentRequested.follow(
        project, role=role, gate=gate, base=base, instructions=instructions
    )
    return await assemble_prompt(templates, request, record, blobs, 48_000)


def selected(option: str):
    return lambda project, _: OptionSelected.follow(project, gate=Gate.G4, option=option, by="ada")


def text_of(prompt) -> str:
    return f"{prompt.system}\n{prompt.context}\n{prompt.task}"


async def test_the_product_manager_gets_different_tasks_at_g1_and_g2(templates):
    """G1 reviews the intake into docs/intake-review.md; G2 writes the PRD."""
    review = await prompt_for(templates, Role.PRODUCT_MANAGER, Gate.G1, tree={})
    prd = await prompt_for(templates, Role.PRODUCT_MANAGER, Gate.G2, tree={})
    assert review.task != prd.task
    assert "docs/intake-review.md" in review.task
    assert "questions" in review.task
    assert "docs/prd.md" not in review.task
    assert "docs/prd.md" in prd.task


async def test_the_frontend_is_told_which_design_was_selected_and_sees_only_that_one(templates):
    """The task names option-b; its page is in the context, option-a's is not."""
    prompt = await prompt_for(
        templates, Role.FRONTEND_DEVELOPER, Gate.G5, events=(selected("option-b"),)
    )
    assert "`option-b`" in prompt.task
    assert "bold and friendly direction" in prompt.context
    assert "calm and dense direction" not in text_of(prompt)


async def test_the_backend_is_not_shown_the_design(templates):
    """Design HTML is the frontend's; the backend's prompt has none of it."""
    prompt = await prompt_for(
        templates, Role.BACKEND_DEVELOPER, Gate.G5, events=(selected("option-b"),)
    )
    assert "direction</p>" not in text_of(prompt)


@pytest.mark.parametrize(
    "role", [Role.BACKEND_DEVELOPER, Role.SECURITY_ENGINEER, Role.DEVOPS_ENGINEER]
)
async def test_a_command_line_tool_is_never_asked_for_a_server_cors_or_a_compose_database(
    templates, role
):
    """The architect's `Kind: cli` makes the prompts a CLI's, though the intake had a UI."""
    tree = {"docs/architecture.md": CLI_ARCHITECTURE, "docs/prd.md": PRD}
    prompt = await prompt_for(templates, role, Gate.G5, tree=tree)
    asks = (prompt.system + prompt.task).lower()
    for word in ("server", "cors", "compose", "database"):
        assert word not in asks, word
    assert "command-line tool" in asks


async def test_a_full_stack_backend_is_asked_for_the_api(templates):
    """The same template for a web product asks for the OpenAPI operations and CORS."""
    tree = {"docs/architecture.md": WEB_ARCHITECTURE, "docs/prd.md": PRD}
    backend = await prompt_for(templates, Role.BACKEND_DEVELOPER, Gate.G5, tree=tree)
    security = await prompt_for(templates, Role.SECURITY_ENGINEER, Gate.G7, tree=tree)
    assert "docs/openapi.yaml" in backend.system
    assert "CORS" in security.system


async def test_the_architecture_decides_the_stack_and_the_role_default_gives_way(templates):
    """The frontend's default stack is a fallback, named only for when nothing is decided."""
    prompt = await prompt_for(templates, Role.FRONTEND_DEVELOPER, Gate.G5)
    assert "Use what docs/architecture.md decides" in prompt.system
    assert "if it decides nothing" in prompt.system


async def test_the_prd_appears_once_though_it_is_both_a_document_and_a_file(templates):
    """A recorded PRD whose blob is the tree's docs/prd.md is shown once."""

    async def prd_document(project, blobs):
        return ArtifactRecorded.follow(
            project,
            gate=Gate.G2,
            kind="prd",
            name="docs/prd.md",
            blob=await blobs.put(PRD.encode()),
        )

    blobs = MemoryBlobs()
    event = await prd_document(created(), blobs)
    prompt = await prompt_for(templates, Role.BACKEND_DEVELOPER, Gate.G5, events=(event,))
    assert text_of(prompt).count("Given a title, When I save") == 1


async def test_qa_sees_the_prd_whose_acceptance_criteria_it_tests(templates):
    """G6's prompt holds the PRD's acceptance criteria, from the tree."""
    prompt = await prompt_for(templates, Role.QA_ENGINEER, Gate.G6)
    assert text_of(prompt).count("Given a title, When I save, Then it is listed.") == 1


async def test_a_role_after_a_build_is_told_its_result(templates):
    """What the builder said of the passing builds (tests, coverage, an audit that could not run)
    is in a later role's prompt, and an audit that did not run is not called one that did."""
    tests = StepResult(
        step=Step.TEST,
        command=("pytest",),
        exit_code=0,
        duration_s=1,
        tests=TestCounts(passed=12, failed=0, skipped=1),
        coverage_percent=91.46,
    )
    audit = StepResult(
        step=Step.AUDIT,
        command=("npm audit",),
        exit_code=1,
        duration_s=1,
        fault=InfrastructureFault(cause=FaultCause.ADVISORY, detail="npm audit: 405"),
    )
    events = (
        lambda p, _: BuildSucceeded.follow(
            p, role=Role.BACKEND_DEVELOPER, gate=Gate.G5, attempt=2, manifest=Manifest(),
            results=(tests, audit),
        ),
    )  # fmt: skip
    prompt = await prompt_for(templates, Role.SECURITY_ENGINEER, Gate.G7, events=events)
    assert "G5 build (backend_developer): passed; attempt=2" in prompt.context
    assert "tests=12 passed, 0 failed, 1 skipped" in prompt.context
    assert "coverage_percent=91.5" in prompt.context
    assert "audit=could not run (advisory): npm audit: 405" in prompt.context
    assert "No dependency audit has run yet" in prompt.task


async def test_a_rework_leads_with_the_persons_reason(templates):
    """A rejection's reason comes first in the task, under its own heading."""
    prompt = await prompt_for(
        templates, Role.PRODUCT_MANAGER, Gate.G2,
        instructions="Rejected by ada: the PRD forgets deleting a note",
    )  # fmt: skip
    assert prompt.task.index("the PRD forgets deleting a note") < prompt.task.index("docs/prd.md")
    assert "rejected by ada" in prompt.task.lower()
    assert "### A person rejected your last version" in prompt.task


async def test_the_security_prompt_claims_no_audit_report_that_is_not_there(templates):
    """Without an audit in the record, G7's prompt says none exists instead of pointing at one."""
    prompt = await prompt_for(templates, Role.SECURITY_ENGINEER, Gate.G7)
    assert "among the documents" not in text_of(prompt)
    assert "No dependency audit has run yet" in prompt.task


@pytest.mark.parametrize(
    ("architecture", "intake", "has_ui", "kind"),
    [
        ("# Architecture\n\nKind: cli\n", "A web page.", True, Kind.CLI),
        ("# Architecture\n\n**Kind:** full-stack\n", "", False, Kind.FULL_STACK),
        ("# Architecture\n\n- kind: `web-service`\n", "", False, Kind.WEB_SERVICE),
        ("", "Keep notes on a page.", True, Kind.FULL_STACK),
        ("", "A command-line tool that counts words.", False, Kind.CLI),
        ("# Architecture\n\nThe kind of store: SQLite.\n", "Sync two folders.", False, None),
    ],
)
def test_the_kind_is_the_architects_line_else_what_the_intake_says(
    architecture, intake, has_ui, kind
):
    """The architect's `Kind:` line wins; without it a UI means full-stack, `command-line` a CLI."""
    assert product_kind(architecture, intake, has_ui=has_ui) is kind


def test_a_refused_answer_is_named_as_refused_and_an_empty_one_as_empty():
    """No build ran: the sentence says why, from the parser's rejections or its warnings."""
    refused = HealRequested.follow(
        created(), role=Role.BACKEND_DEVELOPER, gate=Gate.G5, attempt=2, base=Manifest(),
        rejected=({"path": "../x", "reason": "'..' leaves the project tree"},),
    )  # fmt: skip
    empty = refused.model_copy(update={"rejected": (), "warnings": ("no file came out",)})
    assert "No build ran: the parser refused" in what_failed(refused)
    assert what_failed(empty) == "No build ran: no file came out."


async def test_the_roles_that_write_code_are_told_how_the_factory_builds_it(templates):
    """A live model guessed which commands run and from where: the developers are told, the
    product manager (who writes no code) is not."""
    backend = await prompt_for(templates, Role.BACKEND_DEVELOPER, Gate.G5)
    frontend = await prompt_for(templates, Role.FRONTEND_DEVELOPER, Gate.G5)
    prd = await prompt_for(templates, Role.PRODUCT_MANAGER, Gate.G2, tree={})
    for prompt in (backend, frontend):
        assert "in the folder that holds its manifest" in prompt.task
        assert "`dev`/`test` extras" in prompt.task
    assert "How the factory builds" not in prd.task
    assert "Vitest), and make" not in frontend.system, "no test runner imposed over the architect"


async def test_two_toolchains_tests_add_up_in_what_a_later_role_is_told(templates):
    """A backend's and a frontend's test runs in one build: both counted, not the last only."""
    runs = tuple(
        StepResult(step=Step.TEST, command=(c,), exit_code=0, duration_s=1,
                   tests=TestCounts(passed=n))
        for c, n in (("pytest", 66), ("node --test", 18))
    )  # fmt: skip
    events = (
        lambda p, _: BuildSucceeded.follow(
            p, role=Role.QA_ENGINEER, gate=Gate.G6, attempt=1, manifest=Manifest(), results=runs
        ),
    )
    prompt = await prompt_for(templates, Role.SECURITY_ENGINEER, Gate.G7, events=events)
    assert "tests=84 passed, 0 failed, 0 skipped (2 test runs)" in prompt.context


async def test_the_manifests_in_a_toolchains_folder_are_shown_to_security_and_devops(templates):
    """`backend/pyproject.toml` and `frontend/package.json`: the roles asked to edit them see them."""
    tree = {
        "backend/pyproject.toml": '[project]\nname = "shelf"\ndependencies = ["flask>=3"]\n',
        "frontend/package.json": '{"name": "shelf-web", "scripts": {"test": "node --test"}}\n',
        **{f"backend/tests/test_{n}.py": "def test():\n    pass\n" * 40 for n in range(30)},
    }
    for role, gate in ((Role.SECURITY_ENGINEER, Gate.G7), (Role.DEVOPS_ENGINEER, Gate.G8)):
        prompt = await prompt_for(templates, role, gate, tree=tree)
        assert 'dependencies = ["flask>=3"]' in prompt.context, role
        assert '"test": "node --test"' in prompt.context, role


async def test_security_reads_the_code_not_its_tests_or_styles(templates):
    """The security review reads sources and manifests; tests and CSS are only listed."""
    tree = {
        "backend/shelf/app.py": "def create_app():\n    return None\n",
        "backend/tests/test_api.py": "def test_secret_marker():\n    pass\n",
        "frontend/tests/shelf.test.js": "test('marker_in_js_test', () => {});\n",
        "frontend/style.css": ".marker_in_css { color: red }\n",
    }
    prompt = await prompt_for(templates, Role.SECURITY_ENGINEER, Gate.G7, tree=tree)
    assert "def create_app" in prompt.context
    for hidden in ("test_secret_marker", "marker_in_js_test", "marker_in_css"):
        assert hidden not in prompt.context, hidden
    assert "backend/tests/test_api.py" in prompt.context, "listed, not shown"
