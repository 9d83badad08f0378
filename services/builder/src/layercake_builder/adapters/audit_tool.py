"""Where the builder's own pip-audit lives, as read-only mounts for the sandbox.

pip-audit is one of the builder's dependencies. The sandbox is shown only the packages it
needs (it and what it requires, found from the installed metadata), each mounted
read-only, not the builder's whole environment: that also holds our own code, our secrets'
clients and `.pth` files naming host paths.
"""

from __future__ import annotations

import importlib.metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PIP_AUDIT = "pip-audit"


def tool_mounts(target: str, distribution: str = PIP_AUDIT) -> tuple[tuple[str, str], ...]:
    """(host path, sandbox path) of each top-level package of `distribution` and its needs."""
    mounts: dict[str, str] = {}
    seen: set[tuple[str, str]] = set()
    todo = [(distribution, "")]  # (a distribution, one of its extras that is wanted, or "")
    while todo:
        name, extra = todo.pop()
        if (canonicalize_name(name), extra) in seen:
            continue
        seen.add((canonicalize_name(name), extra))
        try:
            found = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # a requirement of another platform or Python, never imported here
        for needed in map(Requirement, found.requires or ()):
            if needed.marker is None or needed.marker.evaluate({"extra": extra}):
                todo += [(needed.name, wanted) for wanted in ("", *needed.extras)]
        for file in found.files or ():
            top = file.parts[0]
            if top in {"..", "__pycache__"} or top.endswith(".pth"):
                continue  # scripts outside site-packages, caches, path hooks
            mounts[str(found.locate_file(top))] = f"{target}/{top}"
    return tuple(sorted(mounts.items()))
