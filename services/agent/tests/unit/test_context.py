"""The project context: which files a role reads within its budget, and how it is shown."""

from __future__ import annotations

from layercake_agent.core.context import (
    Context,
    choose_files,
    fenced,
    render_context,
    selected_design_file,
)
from layercake_agent.core.record import Document, ProjectRecord, documents_in_view, remember
from layercake_contracts.events import ArtifactRecorded, OptionSelected, ProjectCreated
from layercake_contracts.values import Gate, Role

TREE = {
    "package.json": 400,
    "package-lock.json": 90_000,
    "src/App.tsx": 2_000,
    "src/big.ts": 200_000,
    "app/main.py": 1_200,
    "docs/prd.md": 800,
    "design/option-a.html": 3_000,
    "design/option-b.html": 3_000,
    "Dockerfile": 300,
}
BLOB = "a" * 64


def test_a_role_reads_its_most_relevant_files_first_within_the_budget():
    """The frontend developer reads manifests, docs and UI code; what does not fit is left out."""
    chosen = choose_files(Role.FRONTEND_DEVELOPER, TREE, budget_tokens=1_000)
    assert chosen == ("package.json", "docs/prd.md", "src/App.tsx")
    assert "src/big.ts" not in choose_files(Role.FRONTEND_DEVELOPER, TREE, budget_tokens=40_000)


def test_lock_files_and_unchosen_design_options_are_never_shown_to_developers():
    """A lock file is noise, and only the selected design matters to the developers."""
    chosen = choose_files(Role.FRONTEND_DEVELOPER, TREE, budget_tokens=10**9)
    assert "package-lock.json" not in chosen
    assert not [p for p in chosen if p.startswith("design/")]
    assert "design/option-b.html" in choose_files(Role.DESIGNER, TREE, budget_tokens=10**9)


def test_files_asked_for_first_come_first_even_when_no_pattern_names_them():
    """Files a heal round's diagnostics name, or the selected design, lead the list."""
    first = ("design/option-b.html", "Dockerfile")
    chosen = choose_files(Role.FRONTEND_DEVELOPER, TREE, budget_tokens=1_000, first=first)
    assert chosen[:2] == first


def test_the_selected_design_comes_from_the_tree_when_no_document_shows_it():
    """A recorded design document wins; without one, the frontend reads the tree's file first."""
    frontend = Role.FRONTEND_DEVELOPER
    assert selected_design_file(frontend, "option-b", (), TREE) == ("design/option-b.html",)
    shown = (Document(Gate.G4, "design_option", "option-b", BLOB),)
    assert selected_design_file(frontend, "option-b", shown, TREE) == ()
    assert selected_design_file(frontend, None, (), TREE) == ()
    assert selected_design_file(Role.BACKEND_DEVELOPER, "option-b", (), TREE) == ()


def test_a_role_sees_documents_of_its_gate_and_the_earlier_ones_it_reads():
    """Later gates' documents, the options not chosen and what the role does not read stay out."""
    created = ProjectCreated(project_id="p", name="Socks", intake="Sell socks.", owner="ada")
    record = ProjectRecord()
    for event in (
        created,
        ArtifactRecorded.follow(created, gate=Gate.G2, kind="prd", name="prd", blob=BLOB),
        ArtifactRecorded.follow(created, gate=Gate.G4, kind="design_option", name="option-a", blob=BLOB),
        ArtifactRecorded.follow(created, gate=Gate.G4, kind="design_option", name="option-b", blob=BLOB),
        ArtifactRecorded.follow(created, gate=Gate.G7, kind="audit", name="npm audit", blob=BLOB),
        ArtifactRecorded.follow(created, gate=Gate.G5, kind="build", name="build"),
        OptionSelected.follow(created, gate=Gate.G4, option="option-b", by="ada"),
    ):  # fmt: skip
        record = remember(record, event)
    frontend = documents_in_view(record, Gate.G5, Role.FRONTEND_DEVELOPER)
    assert [d.name for d in frontend] == ["prd", "option-b"]
    assert [d.name for d in documents_in_view(record, Gate.G5, Role.BACKEND_DEVELOPER)] == ["prd"]
    assert [d.name for d in documents_in_view(record, Gate.G7, Role.SECURITY_ENGINEER)] == [
        "npm audit"
    ]
    assert record.builds[0].kind == "build"


def test_the_rendered_context_shows_intake_documents_the_file_list_and_contents():
    """Everything in one Markdown block, contents fenced beyond any backticks they hold."""
    prd = Document(Gate.G2, "prd", "prd", BLOB)
    design = Document(Gate.G4, "design_option", "option-b", BLOB)
    text = render_context(
        Context(
            name="Socks",
            intake="Sell socks.",
            documents=((prd, "US-1: pay by card."), (design, "<html>B</html>")),
            selected_design="option-b",
            sizes={"README.md": 20, "app/main.py": 12},
            files={"README.md": "Run:\n```sh\nmake\n```\n"},
        )
    )
    assert text.startswith("# Project: Socks\n\n## Intake\n\nSell socks.")
    assert "## prd: prd (G2)" in text
    assert "## Selected design: option-b (chosen at G4)" in text
    assert "- app/main.py (12 bytes)" in text
    assert "## Files in the tree (2; contents of 1 below)" in text
    assert "### README.md\n\n````md\nRun:\n```sh\nmake\n```\n````" in text


def test_a_long_file_list_is_cut_and_says_how_many_more():
    """Thousands of paths would crowd out the contents: the list stops at 500."""
    sizes = {f"src/f{n:04}.ts": 1 for n in range(1200)}
    text = render_context(
        Context(name="", intake="", documents=(), selected_design=None, sizes=sizes, files={})
    )
    assert "- src/f0499.ts (1 bytes)" in text
    assert "src/f0500.ts" not in text
    assert text.endswith("- … and 700 more")


def test_an_empty_context_renders_as_nothing():
    """No intake, documents or tree: no context block for the provider to send."""
    empty = Context(name="", intake="", documents=(), selected_design=None, sizes={}, files={})
    assert render_context(empty) == ""
    assert fenced("Makefile", "all:") == "```\nall:\n```"


def test_in_a_tree_of_two_toolchains_each_developer_reads_its_own_folder():
    """server/pyproject.toml and web/package.json: the backend reads no web/ code, and back."""
    tree = {"server/pyproject.toml": 300, "server/notes/app.py": 2_000, "server/tests/t.js": 100,
            "web/package.json": 300, "web/src/main.ts": 2_000, "web/vite.config.js": 200,
            "docs/openapi.yaml": 900}  # fmt: skip
    backend = choose_files(Role.BACKEND_DEVELOPER, tree, budget_tokens=10**9)
    frontend = choose_files(Role.FRONTEND_DEVELOPER, tree, budget_tokens=10**9)
    assert not [p for p in backend if p.startswith("web/")]
    assert "server/notes/app.py" in backend
    assert not [p for p in frontend if p.startswith("server/")]
    assert "web/src/main.ts" in frontend
    assert "docs/openapi.yaml" in backend
    assert "docs/openapi.yaml" in frontend
    security = choose_files(Role.SECURITY_ENGINEER, tree, budget_tokens=10**9)
    assert {"server/notes/app.py", "web/src/main.ts"} <= set(security)
