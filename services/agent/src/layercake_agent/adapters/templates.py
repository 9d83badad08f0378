"""The prompt templates: shipped with the package, each replaceable by a user's copy.

`LAYERCAKE_PROMPTS_DIR` names a folder of the user's own copies; a template
missing there is taken from the package, so a user copies only what they change.
"""

from __future__ import annotations

from importlib.resources import files
from typing import TYPE_CHECKING

from layercake_agent.core.prompt import HEAL, TASK, Templates
from layercake_agent.errors import TemplateInvalid
from layercake_contracts.values import Role

if TYPE_CHECKING:
    from pathlib import Path

AGENT_ROLES = tuple(r for r in Role if r is not Role.USER)


def template_names() -> tuple[str, ...]:
    """Every template's name: one per role, then the task and the heal task."""
    return (*(r.value for r in AGENT_ROLES), TASK, HEAL)


def load_templates(override: Path | None = None) -> Templates:
    """The templates, each from `override` when it holds a copy, else from the package."""
    if override is not None and not override.is_dir():
        raise TemplateInvalid(str(override), "LAYERCAKE_PROMPTS_DIR is not a folder")
    texts = {name: _read(name, override) for name in template_names()}
    return Templates(
        roles={role: texts[role.value] for role in AGENT_ROLES},
        task=texts[TASK],
        heal=texts[HEAL],
    )


def _read(name: str, override: Path | None) -> str:
    own = override / f"{name}.md" if override is not None else None
    try:
        if own is not None and own.is_file():
            return own.read_text(encoding="utf-8")
        return (files("layercake_agent") / "prompts" / f"{name}.md").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateInvalid(name, f"cannot be read: {exc}") from exc
