"""The role templates: every one states the parser's output format; users may replace any."""

from __future__ import annotations

import pytest

from layercake_agent.adapters.templates import AGENT_ROLES, load_templates
from layercake_agent.core.context import Context
from layercake_agent.core.prompt import build_prompt, fill
from layercake_agent.errors import TemplateInvalid
from layercake_contracts.events import AgentRequested
from layercake_contracts.values import Gate, Role

EMPTY = Context(name="", intake="", documents=(), selected_design=None, sizes={}, files={})


@pytest.mark.parametrize("role", AGENT_ROLES)
def test_every_role_template_states_the_output_format_the_parser_reads(templates, role):
    """Fenced `lang:path` blocks for new files, SEARCH/REPLACE blocks for changes."""
    request = AgentRequested(project_id="p", role=role, gate=Gate.G5)
    system = build_prompt(templates, request, EMPTY, {}).system
    for fragment in ("`language:path`", "<<<<<<< SEARCH\n", "\n=======\n", "\n>>>>>>> REPLACE"):
        assert fragment in system
    assert "gate G5" in system


def test_the_designer_is_asked_for_three_self_contained_html_options(templates):
    """The three design files are named, and the pages must work without a network."""
    text = templates.roles[Role.DESIGNER]
    for name in ("design/option-a.html", "design/option-b.html", "design/option-c.html"):
        assert name in text
    assert "no network" in text


def test_a_users_copy_replaces_the_shipped_template_of_its_name_only(tmp_path):
    """LAYERCAKE_PROMPTS_DIR holds one changed template; the others come from the package."""
    (tmp_path / "architect.md").write_text("Architect for $role at $gate, our way.")
    own = load_templates(tmp_path)
    assert own.roles[Role.ARCHITECT] == "Architect for $role at $gate, our way."
    assert own.roles[Role.DESIGNER] == load_templates().roles[Role.DESIGNER]


def test_a_template_with_an_unknown_placeholder_is_refused_by_name():
    """A typo in a user's template names the template and the placeholders it may use."""
    with pytest.raises(TemplateInvalid, match=r"'architect': unknown placeholder \$gat "):
        fill("architect", "At $gat.", {"role": "architect", "gate": "G3"})


def test_a_prompts_dir_that_is_not_a_folder_is_refused(tmp_path):
    """A mistyped LAYERCAKE_PROMPTS_DIR is an error at start, not a silent fallback."""
    with pytest.raises(TemplateInvalid, match="is not a folder"):
        load_templates(tmp_path / "missing")


def test_a_request_for_a_person_has_no_template(templates):
    """The user role is a person: asking the agent to play it is refused."""
    request = AgentRequested(project_id="p", role=Role.USER, gate=Gate.G5)
    with pytest.raises(TemplateInvalid, match="no template for this role"):
        build_prompt(templates, request, EMPTY, {})
