"""The dashboard: server-rendered pages over the same ledger and bus as the API.

`pages.py` holds the pages a person navigates (the projects list, a project's
page and its timeline), `actions.py` the forms that decide gates; `sections.py`
the parts of a project page that are loaded and refreshed on their own
(documents, builds, heals, commits, errors, cost), each
`GET /ui/projects/{project_id}/sections/{name}`. All
render the templates under `templates/` through `render.py`, which escapes
everything: model-written text is never trusted as markup. The pages are not
part of the API's OpenAPI document.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fastapi.staticfiles import StaticFiles

from layercake_gateway.dashboard import actions, pages, sections

if TYPE_CHECKING:
    from fastapi import FastAPI

STATIC = Path(__file__).parent / "static"


def mount(api: FastAPI) -> None:
    """Serve the dashboard's pages, sections and static files from `api`."""
    api.include_router(pages.router)
    api.include_router(actions.router)
    api.add_exception_handler(pages.PageRefused, pages.refused_page)
    api.include_router(sections.router)
    api.mount("/ui/static", StaticFiles(directory=STATIC), name="static")
