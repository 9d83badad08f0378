"""JSON Schema for every event, rendered from the models into this package's folder.

They are package data (`contracts/schemas/` links here), so the wheel ships them and
`schema_folder()` finds them. `python -m layercake_contracts.schemas [DIR]` writes
them (here by default); a test fails when the checked-in copies differ from the models.
Each names its dialect (`$schema`, 2020-12), so that a validator in another language
knows which rules to read it by.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

from pydantic.json_schema import GenerateJsonSchema

from layercake_contracts.events import EVENT_TYPES


def render_schemas() -> dict[str, str]:
    """`<Type>.json` -> its JSON Schema text, for every event type."""
    return {
        f"{name}.json": json.dumps(
            {
                "$schema": GenerateJsonSchema.schema_dialect,
                **model.model_json_schema(mode="serialization"),
            },
            indent=2,
            sort_keys=True,
        )
        + "\n"
        for name, model in sorted(EVENT_TYPES.items())
    }


def write_schemas(folder: Path) -> list[Path]:
    """Write every schema into `folder`, removing schemas of events that no longer exist."""
    folder.mkdir(parents=True, exist_ok=True)
    rendered = render_schemas()
    for stale in folder.glob("*.json"):
        if stale.name not in rendered:
            stale.unlink()
    written = []
    for name, text in rendered.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def schema_folder() -> Path:
    """Where the shipped schemas are on disk (a wheel is installed unzipped)."""
    return Path(str(files(__package__)))
