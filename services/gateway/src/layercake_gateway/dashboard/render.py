"""One way to render a dashboard template: Jinja2 with autoescape on, always."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined

if TYPE_CHECKING:
    from fastapi import Request
    from fastapi.responses import HTMLResponse

_environment = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
)
templates = Jinja2Templates(env=_environment)


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:  # noqa: ANN401  # a template's context
    """The template `name` rendered with `context`, every value escaped."""
    return templates.TemplateResponse(request, name, context, status_code=status_code)
