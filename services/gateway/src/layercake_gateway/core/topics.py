"""The topics `Project`'s events are stored under: where each was first stored, for good.

eventsourcing stores an event under the topic of its class (`module:Class.Name`,
the class whose `@event` method records it) and resolves that topic to the class
on every replay. `Project` is written in parts, a module each; an event whose
method moved into a part keeps the topic it was first stored under
(`stored_as`), and `keep_topics` registers the part's event classes under their
topics when the part is defined, so a replay finds the class whose method
applies the event (the library also derives one on `Project`, which cannot).
Events that moved before their topics were kept have two (`also_stored_as`).
A topic already stored must never change: `tests/integration/test_topics.py`
holds them.
"""

from __future__ import annotations

from typing import TypeVar

from eventsourcing.utils import register_topic

_PROJECT = "layercake_gateway.core.project:Project"
_Part = TypeVar("_Part", bound=type)


def stored_as(name: str) -> str:
    """The topic `Project`'s event `name` was first stored under."""
    return f"{_PROJECT}.{name}"


def keep_topics(part: _Part) -> _Part:
    """Register each event class `part` defines under its own topic; `part` itself."""
    for value in vars(part).values():
        topic = vars(value).get("TOPIC") if isinstance(value, type) else None
        if topic is not None:
            register_topic(topic, value)
    return part


def also_stored_as(part: type, *names: str) -> None:
    """Read `part`'s events `names` stored under `Project`'s topics, from before they moved."""
    for name in names:
        register_topic(stored_as(name), vars(part)[name])
