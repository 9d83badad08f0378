"""A Node program of the tests, in a folder of its own with its locked packages from npm.

For the tests that read our published documents as an outsider does (tests/docs,
tests/outside): the machine's Node and npm, the registry's packages, nothing of ours.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path


def npm_installed(npm: str, source: Path, names: Iterable[str], folder: Path) -> Path:
    """`folder` with `names` copied from `source`, and the packages their lock pins.

    `names` hold a package.json and its package-lock.json; `npm ci` installs exactly what
    the lock says, without running the packages' scripts.
    """
    for name in names:
        shutil.copy(source / name, folder / name)
    subprocess.run(  # noqa: S603  # npm's own command line
        [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
        cwd=folder, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return folder
