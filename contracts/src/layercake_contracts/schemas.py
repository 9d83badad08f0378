"""JSON Schema for every event, rendered from the models into `contracts/schemas/`.

`python -m layercake_contracts.schemas DIR` writes them; a test fails when the
checked-in copies differ from what the models say.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from layercake_contracts.events import EVENT_TYPES


def render_schemas() -> dict[str, str]:
    """`<Type>.json` -> its JSON Schema text, for every event type."""
    return {
        f"{name}.json": json.dumps(
            model.model_json_schema(mode="serialization"), indent=2, sort_keys=True
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


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("contracts/schemas")
    for path in write_schemas(target):
        sys.stdout.write(f"{path}\n")
