"""Whose a project id is: each user names projects in a namespace of their own.

Through the API a person names a project (`calc`); on the bus, in git and in
the builder it is known by its bus id, the name and a tag of its owner
(`calc-5f2a…`). Two users may both have a `calc`, and neither can reach, or
learn of, the other's: with one id space for everyone, `POST /projects` of a
taken id answered 409 and listed other users' projects to anyone (issue #14).
Core: no I/O.
"""

from __future__ import annotations

import hashlib

OWNER_TAG_CHARS = 12  # 48 bits: two owners sharing a tag would also need the same name
# A bus id must fit PROJECT_ID_PATTERN (64 characters): the name, a dash and the tag.
NAME_PATTERN = rf"^[A-Za-z0-9_-]{{1,{64 - 1 - OWNER_TAG_CHARS}}}$"


def bus_id(owner: str, name: str) -> str:
    """The id the bus knows `owner`'s project `name` by."""
    return f"{name}-{_tag(owner)}"


def name_of(owner: str, project_id: str) -> str | None:
    """What `owner` calls the project with bus id `project_id`; None if not in their namespace."""
    name, _, tag = project_id.rpartition("-")
    return name if name and tag == _tag(owner) else None


def _tag(owner: str) -> str:
    return hashlib.sha256(owner.encode()).hexdigest()[:OWNER_TAG_CHARS]
