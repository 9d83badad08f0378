"""The parser service on a real nats-server: CodeGenerated in, FilesWritten or FilesRejected out."""

from __future__ import annotations

import asyncio

import pytest

from layercake_contracts.bus import STREAM_NAME
from layercake_contracts.events import CodeGenerated, FilesRejected, FilesWritten, ProjectCreated
from layercake_contracts.runtime import ServiceRuntime
from layercake_contracts.values import FileEntry, Gate, Manifest, Role, Usage
from layercake_parser.app import create_runtime
from layercake_parser.settings import Settings
from layercake_testing.waiting import eventually

pytestmark = pytest.mark.nats

ANSWER = """Fixing the bug.

app/calc.py
```python
<<<<<<< SEARCH
    return a - b
=======
    return a + b
>>>>>>> REPLACE
```

```python:tests/test_calc.py
from app.calc import add

def test_add():
    assert add(2, 3) == 5
```

```bash
pytest -q
```
"""
BASE_CALC = b"def add(a, b):\n    return a - b\n"


@pytest.fixture
async def parser_and_observer(nats_server):
    parser = create_runtime(Settings(nats_url=nats_server.url))
    observer = ServiceRuntime("observer", nats_server.url)
    seen: list[FilesWritten | FilesRejected] = []

    @observer.subscribe(observer.broker, FilesWritten)
    async def on_written(event: FilesWritten) -> None:
        seen.append(event)

    @observer.subscribe(observer.broker, FilesRejected)
    async def on_rejected(event: FilesRejected) -> None:
        seen.append(event)

    await parser.start()
    await observer.start()
    yield observer, seen
    await observer.stop()
    await parser.stop()


async def code_generated(
    observer: ServiceRuntime, answer: str, base: Manifest, *, truncated: bool = False
) -> CodeGenerated:
    blobs = await observer.bus.blobs()
    root = ProjectCreated(project_id="calc", name="calc", intake="a calculator", owner="ada")
    return CodeGenerated.follow(
        root, role=Role.BACKEND_DEVELOPER, gate=Gate.G5, attempt=2,
        answer=await blobs.put(answer.encode()), base=base, model="replay",
        usage=Usage(), duration_s=0.1, truncated=truncated,
    )  # fmt: skip


async def base_manifest(observer: ServiceRuntime) -> Manifest:
    blobs = await observer.bus.blobs()
    readme = b"# calc\n"
    return Manifest(
        {
            "app/calc.py": FileEntry(
                sha256=await blobs.put(BASE_CALC), size=len(BASE_CALC), mode=0o644
            ),
            "run.sh": FileEntry(sha256=await blobs.put(readme), size=len(readme), mode=0o755),
        }
    )


async def test_code_generated_gives_files_written_with_blobs_equal_to_the_files(
    parser_and_observer,
):
    """Edits apply to the base from the blob store; the new manifest's blobs hold the new files."""
    observer, seen = parser_and_observer
    base = await base_manifest(observer)
    request = await code_generated(observer, ANSWER, base)
    await observer.bus.publish(request)
    await eventually(lambda: len(seen) == 1)

    [written] = seen
    assert isinstance(written, FilesWritten)
    assert written.causation_id == request.event_id
    assert (written.role, written.gate, written.attempt) == (request.role, request.gate, 2)
    assert written.changed == ("app/calc.py", "tests/test_calc.py")
    blobs = await observer.bus.blobs()
    calc = await blobs.get(written.manifest["app/calc.py"].sha256)
    assert calc == b"def add(a, b):\n    return a + b\n"
    test = await blobs.get(written.manifest["tests/test_calc.py"].sha256)
    assert test.startswith(b"from app.calc import add\n")
    assert written.manifest["tests/test_calc.py"].size == len(test)
    assert written.manifest["run.sh"] == base["run.sh"], "untouched files keep their entry and mode"


async def test_the_same_code_generated_delivered_twice_gives_one_result(parser_and_observer):
    """Two deliveries of one request (as after a crash) store one FilesWritten on the stream."""
    observer, seen = parser_and_observer
    request = await code_generated(observer, ANSWER, await base_manifest(observer))
    payload = request.model_dump_json().encode()
    subject = f"lc.evt.{request.project_id}.CodeGenerated"
    for _ in range(2):  # no Nats-Msg-Id: the stream keeps both copies, as a redelivery would
        await observer.broker.publish(payload, subject, stream=STREAM_NAME)
    js = observer.broker.connection.jetstream()
    await eventually(lambda: len(seen) >= 1)
    await asyncio.sleep(1.5)
    info = await js.stream_info(STREAM_NAME, subjects_filter="lc.evt.calc.FilesWritten")
    assert info.state.subjects == {"lc.evt.calc.FilesWritten": 1}
    assert len(seen) == 1


async def test_an_answer_with_only_rejected_paths_gives_files_rejected(parser_and_observer):
    """Nothing usable: FilesRejected lists each refused path with its reason."""
    observer, seen = parser_and_observer
    answer = '```sh:/etc/profile\nevil\n```\n<file path="../../x.py">\nx\n</file>\n'
    request = await code_generated(observer, answer, Manifest())
    await observer.bus.publish(request)
    await eventually(lambda: len(seen) == 1)
    [rejected] = seen
    assert isinstance(rejected, FilesRejected)
    assert [(r.path, r.reason) for r in rejected.rejected] == [
        ("/etc/profile", "absolute path"),
        ("../../x.py", "'..' leaves the project tree"),
    ]
    assert "no file came out of the answer" in rejected.warnings


async def test_spellings_git_would_refuse_never_reach_files_written(parser_and_observer):
    """`.git./config`, `git~1/config`, HFS+ and bidi spellings: rejected, so git never sees them."""
    observer, seen = parser_and_observer
    hostile = [".git./config", ".git /config", "git~1/config", ".g\u200cit/config",
               ".GIT/config", "a/.git/config", "a\u202eyp.b", "a\x9bb.py"]  # fmt: skip
    answer = "".join(f'<file path="{path}">\n[core]\n</file>\n' for path in hostile)
    request = await code_generated(observer, answer + "```py:ok.py\nx = 1\n```\n", Manifest())
    await observer.bus.publish(request)
    await eventually(lambda: len(seen) == 1)
    [written] = seen
    assert isinstance(written, FilesWritten)
    assert list(written.manifest) == ["ok.py"]
    assert [r.path for r in written.rejected] == hostile
    assert all(r.reason for r in written.rejected)


async def test_a_truncated_answers_cut_file_is_not_written_and_the_warning_names_it(
    parser_and_observer,
):
    """CodeGenerated.truncated: the closed file is in the manifest, the cut one is not."""
    observer, seen = parser_and_observer
    answer = "```js:web/a.js\nexport const a = 1;\n```\n\n```js:web/app.js\nfunction go() {\n  ret"
    request = await code_generated(observer, answer, Manifest(), truncated=True)
    await observer.bus.publish(request)
    await eventually(lambda: len(seen) == 1)
    [written] = seen
    assert isinstance(written, FilesWritten)
    assert list(written.manifest) == ["web/a.js"]
    assert "the answer was cut at the token limit; `web/app.js` was not written" in written.warnings


async def test_an_answer_with_nothing_to_write_gives_files_rejected_quoting_it(
    parser_and_observer,
):
    """ "Nothing to fix here" is a FilesRejected whose warning says what the answer said."""
    observer, seen = parser_and_observer
    request = await code_generated(
        observer, "Nothing to fix here.\n", await base_manifest(observer)
    )
    await observer.bus.publish(request)
    await eventually(lambda: len(seen) == 1)
    [rejected] = seen
    assert isinstance(rejected, FilesRejected)
    assert (
        "the answer had no edits and no files: it said: Nothing to fix here." in rejected.warnings
    )
