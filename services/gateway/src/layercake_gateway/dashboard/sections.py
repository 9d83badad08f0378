"""The parts of a project's page that load and refresh on their own."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
