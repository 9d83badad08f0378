"""A prompt from a request: the role's template, the project context, and the task.

The prompt has three parts, in the order a model reads them. `system` (the
role's template) and `context` (the project) stay the same across a role's
attempts, so a provider may cache them; `task` changes with every request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from string import Template
from typing import TYPE_CHECKING

from layercake_agent.core.budget import estimate_tokens
from layercake_agent.core.context import render_context
from layercake_agent.core.fit import gate_task, role_values
from layercake_agent.core.heal import render_heal, what_failed
from layercake_agent.core.record import audited
from layercake_agent.errors import TemplateInvalid
from layercake_contracts.events import HealRequested
from layercake_contracts.values import Gate, Role

if TYPE_CHECKING:
    from layercake_agent.core.context import Context
    from layercake_contracts.events import AgentRequested

TASK = "task"
HEAL = "heal"
REJECTED = "Rejected by "  # how the ledger's rework request begins


@dataclass(frozen=True)
class Templates:
    """The template texts: one per role, the task of a first attempt, the task of a heal round."""

    roles: Mapping[Role, str]
    task: str
    heal: str


@dataclass(frozen=True)
class Prompt:
    """What a provider sends, and the key a recorded answer is kept under."""

    role: Role
    gate: Gate
    attempt: int
    system: str
    context: str
    task: str
    project: str = ""  # the project's name and intake: whose prompt this is (replay keys on it)
    intake: str = ""

    @property
    def key(self) -> str:
        """`role/gate/attempt-n`: the name of this prompt's answer among recordings."""
        return f"{self.role}/{self.gate}/attempt-{self.attempt}"

    @property
    def estimated_tokens(self) -> int:
        """About how many tokens the prompt is."""
        return (
            estimate_tokens(self.system)
            + estimate_tokens(self.context)
            + estimate_tokens(self.task)
        )


def fill(name: str, template: str, values: Mapping[str, str]) -> str:
    """`template` with its `$placeholders` filled; an unknown or broken one is an error."""
    try:
        return Template(template).substitute(values)
    except KeyError as exc:
        known = ", ".join(f"${k}" for k in values)
        raise TemplateInvalid(name, f"unknown placeholder ${exc.args[0]} (known: {known})") from exc
    except ValueError as exc:
        raise TemplateInvalid(name, f"{exc}; write $$ for a literal $") from exc


def _instructions(text: str) -> str:
    """The request's instructions; a person's rejection first, under a heading of its own."""
    text = text.strip()
    if text.startswith(REJECTED):
        who, _, reason = text.partition(":")
        return (
            f"### A person rejected your last version\n\n{who.strip()} said:\n\n"
            f"> {reason.strip()}\n\nDeal with this first; keep what was not criticised."
        )
    return text


def build_prompt(
    templates: Templates,
    request: AgentRequested | HealRequested,
    context: Context,
    heal_texts: Mapping[str, str],
) -> Prompt:
    """The prompt for `request`; `heal_texts` holds the files a heal round's diagnostics name."""
    role, gate, attempt = request.role, request.gate, str(request.attempt)
    if role not in templates.roles:
        raise TemplateInvalid(role.value, "no template for this role")
    values = {"role": role.value, "gate": gate.value, **role_values(context.kind)}
    system = fill(role.value, templates.roles[role], values)
    if isinstance(request, HealRequested):
        failed = request.failed_step.value if request.failed_step else "no build ran"
        task = fill(
            HEAL,
            templates.heal,
            {
                "gate": gate.value,
                "attempt": attempt,
                "failed_step": failed,
                "what_failed": what_failed(request),
                "details": render_heal(request, heal_texts),
            },
        )
    else:
        todo = gate_task(
            role, gate, selected_design=context.selected_design, audited=audited(context.builds)
        )
        task = fill(
            TASK,
            templates.task,
            {
                "gate": gate.value,
                "attempt": attempt,
                "gate_task": todo,
                "instructions": _instructions(request.instructions),
            },
        )
        task = re.sub(r"\n{3,}", "\n\n", task).lstrip("\n")
    return Prompt(
        role=role,
        gate=gate,
        attempt=request.attempt,
        system=system,
        context=render_context(context),
        task=task,
        project=context.name,
        intake=context.intake,
    )
