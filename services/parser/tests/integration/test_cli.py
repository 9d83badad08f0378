"""`layercake parse` as a user runs it: a real process, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

LAYERCAKE = str(Path(sys.executable).parent / "layercake")
ANSWER = """Create the module:

```python:pkg/mod.py
VALUE = 1
```

pkg/base.py
<<<<<<< SEARCH
OLD = True
=======
OLD = False
>>>>>>> REPLACE

```bash
python -m pkg.mod
```

```py:../escape.py
x
```
"""


def parse(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [LAYERCAKE, "parse", *args], input=stdin, capture_output=True, text=True, check=False
    )


def test_json_output_is_exactly_the_documented_shape(tmp_path):
    """--json prints files (path, content, source), deleted, rejected (path, reason) and warnings; exit 0."""
    base = tmp_path / "project"
    (base / "pkg").mkdir(parents=True)
    (base / "pkg/base.py").write_text("OLD = True\n")
    answer = tmp_path / "answer.md"
    answer.write_text(ANSWER)
    done = parse(str(answer), "--base", str(base), "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert list(document) == ["files", "deleted", "rejected", "warnings"]
    assert document["files"] == [
        {"path": "pkg/mod.py", "content": "VALUE = 1\n", "source": "fence_info"},
        {"path": "pkg/base.py", "content": "OLD = False\n", "source": "search_replace"},
    ]
    assert document["rejected"] == [
        {"path": "../escape.py", "reason": "'..' leaves the project tree"}
    ]
    assert isinstance(document["warnings"], list)


def test_write_puts_whole_files_in_the_tree_and_nothing_outside(tmp_path):
    """--write writes inside the folder only; a symlink planted there is not followed."""
    target = tmp_path / "out"
    target.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, target / "pkg")
    done = parse("-", "--write", str(target), stdin="```python:pkg/mod.py\nVALUE = 2\n```\n")
    assert done.returncode == 0, done.stderr
    assert (target / "pkg/mod.py").read_text() == "VALUE = 2\n"
    assert not (target / "pkg").is_symlink()
    assert list(outside.iterdir()) == []
    assert not (tmp_path / "escape.py").exists()
    assert [p.name for p in target.iterdir()] == ["pkg"], "no temp file is left behind"


def test_exit_status_one_when_nothing_came_out_and_two_on_bad_usage(tmp_path):
    """No file: exit 1 with a readable table; a missing answer file: exit 2 naming it."""
    nothing = parse("-", stdin="Just prose.\n```bash\nls\n```\n")
    assert nothing.returncode == 1
    assert "0 file(s)" in nothing.stdout
    missing = parse(str(tmp_path / "nope.md"))
    assert missing.returncode == 2
    assert f"cannot read ANSWER {tmp_path / 'nope.md'}: No such file" in missing.stderr


def test_a_script_named_without_an_extension_is_written_executable_and_git_config_is_refused(
    tmp_path,
):
    """```` ```sh scripts/run ```` with a shebang: an executable file; ```` ```text .git/config ````:
    refused, named in the table with why, and nothing under `.git/`."""
    answer = "```sh scripts/run\n#!/bin/sh\necho run\n```\n\n```text .git/config\n[core]\n```\n"
    target = tmp_path / "out"
    target.mkdir()
    done = parse("-", "--write", str(target), stdin=answer)
    assert done.returncode == 0, done.stderr
    script = target / "scripts/run"
    assert script.read_text() == "#!/bin/sh\necho run\n"
    assert script.stat().st_mode & 0o777 == 0o755
    assert not (target / ".git").exists()
    assert ".git/config" in done.stdout
    assert "inside .git" in done.stdout.replace("\n", " ")
