from __future__ import annotations

import json

from layercake_contracts.events import EVENT_TYPES
from layercake_contracts.schemas import render_schemas, schema_folder

SCHEMAS = schema_folder()


def test_checked_in_schemas_are_current():
    """The shipped schemas match the models; regenerate with `python -m layercake_contracts.schemas`."""
    rendered = render_schemas()
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in SCHEMAS.glob("*.json")}
    assert sorted(on_disk) == sorted(rendered), "schema files differ from the catalogue"
    stale = [name for name, text in rendered.items() if on_disk[name] != text]
    assert not stale, f"stale schemas: {stale}"


def test_one_schema_per_event_names_its_type():
    """Each schema pins the event's `type`, so an integrator can tell events apart, and names
    its dialect, so that a validator in another language reads it by the right rules."""
    assert len(list(SCHEMAS.glob("*.json"))) == len(EVENT_TYPES)
    for name in EVENT_TYPES:
        schema = json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))
        assert schema["properties"]["type"]["const"] == name
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert "event_id" in schema["required"]
