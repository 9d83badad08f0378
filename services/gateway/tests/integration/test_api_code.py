"""The code-generation routes through real HTTP: parse and history answered by the services.

The gateway, the parser and the git service each run their own runtime on one
real nats-server, as they would as separate processes; the gateway reaches the
other two only through the bus (questions on `lc.rpc.…`, events on the stream).
"""

from __future__ import annotations

import pytest

from layercake_contracts.bus import STREAM_NAME, Bus
from layercake_contracts.events import BuildRequested, BuildSucceeded, FilesWritten, parse_event
from layercake_contracts.rpc import PARSE_SUBJECT, ParseAnswer, ParseQuestion, Unanswered, ask
from layercake_contracts.values import Gate, Role, Step
from layercake_gateway.core.names import bus_id
from layercake_git.app import create_runtime as create_git
from layercake_git.settings import Settings as GitSettings
from layercake_parser.app import create_runtime as create_parser
from layercake_parser.settings import Settings as ParserSettings
from layercake_testing.waiting import settle

pytestmark = pytest.mark.nats

ANSWER = """Here is the module.

```python title=calc/add.py
def add(a, b):
    return a + b
```

```bash
pip install calc
```
"""


@pytest.fixture
async def services(nats_server, tmp_path, gateway):
    parser = create_parser(ParserSettings(nats_url=nats_server.url))
    git = create_git(GitSettings(nats_url=nats_server.url, workspaces_root=tmp_path / "ws"))
    for runtime in (parser, git):
        await runtime.start()
    yield gateway
    for runtime in (parser, git):
        await runtime.stop()


async def stream_events(runtime):
    js = runtime.broker.connection.jetstream()
    last = (await js.stream_info(STREAM_NAME)).state.last_seq
    return [parse_event((await js.get_msg(STREAM_NAME, n)).data) for n in range(1, last + 1)]


async def test_parse_is_answered_by_the_parser_service_at_once(services, auth):
    """POST /parse returns the parser's extraction: the named file, never the shell block."""
    _, client = services
    reply = await client.post("/parse", json={"answer": ANSWER}, headers=auth("ada"))
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert [f["path"] for f in body["files"]] == ["calc/add.py"]
    assert body["files"][0]["content"] == "def add(a, b):\n    return a + b\n"
    edit = "calc/add.py\n<<<<<<< SEARCH\n    return a + b\n=======\n    return a - b\n>>>>>>> REPLACE\n"
    base = {"calc/add.py": body["files"][0]["content"]}
    edited = await client.post("/parse", json={"answer": edit, "base": base}, headers=auth("ada"))
    assert edited.json()["files"][0]["content"] == "def add(a, b):\n    return a - b\n"
    empty = await client.post("/parse", json={"answer": ""}, headers=auth("ada"))
    assert empty.status_code == 422
    assert empty.json()["detail"][0]["loc"] == ["body", "answer"]


async def test_a_question_nobody_answers_is_a_503_naming_the_subject(gateway, auth):
    """Without a parser running, /parse says which service did not answer, at once."""
    _, client = gateway
    reply = await client.post("/parse", json={"answer": ANSWER}, headers=auth("ada"))
    assert reply.status_code == 503
    assert PARSE_SUBJECT in reply.json()["detail"]


async def test_a_question_that_does_not_validate_is_refused_naming_the_field(services):
    """A third party's malformed question gets an error naming the field, not silence."""
    runtime, _ = services
    connection = runtime.broker.connection
    reply = await connection.request(PARSE_SUBJECT, b'{"answer": 7}', timeout=5)
    assert b"answer" in reply.data
    assert b"error" in reply.data
    good = await ask(connection, PARSE_SUBJECT, ParseQuestion(answer=ANSWER), ParseAnswer, 5)
    assert good.files[0].path == "calc/add.py"
    with pytest.raises(Unanswered, match="no service answers"):
        await ask(connection, "lc.rpc.nobody.here", ParseQuestion(answer="x"), ParseAnswer, 5)


async def test_a_written_file_is_the_users_files_written_on_the_roles_tree(services, auth):
    """The file lands in the chosen role's tree, recorded as the user's; a bad path is 422."""
    runtime, client = services
    await client.post(
        "/projects", json={"project_id": "calc", "name": "c", "intake": "i"}, headers=auth("ada")
    )
    write = {"gate": "G5", "path": "calc/add.py", "content": "x = 1\n"}
    reply = await client.post("/projects/calc/files", json=write, headers=auth("ada"))
    assert reply.status_code == 202, reply.text
    for bad, reason in (("../etc/passwd", ".."), ("/abs.py", "absolute"), (".git/config", ".git")):
        refused = await client.post(
            "/projects/calc/files", json={**write, "path": bad}, headers=auth("ada")
        )
        assert refused.status_code == 422, bad
        assert refused.json()["detail"][0]["loc"] == ["body", "path"]
        assert reason in refused.json()["detail"][0]["msg"], refused.text
    written = [e for e in await stream_events(runtime) if isinstance(e, FilesWritten)]
    assert len(written) == 1
    event = written[0]
    assert (event.role, event.gate, event.changed) == (Role.USER, Gate.G5, ("calc/add.py",))
    assert str(event.event_id) == reply.json()["event_id"]
    blobs = await runtime.bus.blobs()
    assert await blobs.get(event.manifest["calc/add.py"].sha256) == b"x = 1\n"


async def test_commit_validates_first_and_history_is_read_from_the_git_service(services, auth):
    """POST /commits is a full BuildRequested; a passing build's commit shows in GET /commits."""
    runtime, client = services
    await client.post(
        "/projects", json={"project_id": "calc", "name": "c", "intake": "i"}, headers=auth("ada")
    )
    assert (await client.get("/projects/calc/commits", headers=auth("ada"))).json() == {
        "commits": []
    }
    write = {"gate": "G5", "path": "calc/add.py", "content": "x = 1\n"}
    await client.post("/projects/calc/files", json=write, headers=auth("ada"))

    commit_body = {"role": "user", "gate": "G5"}

    async def accepted():
        reply = await client.post("/projects/calc/commits", json=commit_body, headers=auth("ada"))
        return reply if reply.status_code == 202 else None

    # The ledger records the user's tree when the builder reports on it; here no builder runs,
    # so the tree is the one the ledger learns from a build result we publish as the builder.
    written = next(e for e in await stream_events(runtime) if isinstance(e, FilesWritten))
    await Bus(runtime.broker).publish(
        BuildSucceeded(
            project_id=bus_id("ada", "calc"),
            role=Role.USER,
            gate=Gate.G5,
            attempt=1,
            manifest=written.manifest,
            results=(),
            causation_id=written.event_id,
        )
    )
    reply = await settle(accepted, within=10)
    requested = [e for e in await stream_events(runtime) if isinstance(e, BuildRequested)]
    assert [str(e.event_id) for e in requested] == [reply.json()["event_id"]]
    assert requested[0].steps == tuple(Step)
    assert requested[0].manifest == written.manifest

    async def committed():
        history = (await client.get("/projects/calc/commits", headers=auth("ada"))).json()
        return history["commits"] or None

    commits = await settle(committed, within=10)
    assert commits[0]["gate"] == "G5"
    assert commits[0]["role"] == "user"
    assert commits[0]["files"] >= 1
    limited = await client.get("/projects/calc/commits?limit=0", headers=auth("ada"))
    assert limited.status_code == 422


async def test_a_design_option_is_served_as_html_that_cannot_run_scripts(
    services, auth, design_option
):
    """The designer's option page comes back whole, under a sandboxing CSP; others are 404."""
    runtime, client = services
    await client.post(
        "/projects", json={"project_id": "calc", "name": "c", "intake": "i"}, headers=auth("ada")
    )
    page = b"<!doctype html><h1>Option A</h1><script>steal()</script>"
    await design_option(runtime, page)

    async def shown():
        reply = await client.get("/projects/calc/design/option-a", headers=auth("ada"))
        return reply if reply.status_code == 200 else None

    reply = await settle(shown, within=10)
    assert reply.content == page
    assert reply.headers["content-type"].startswith("text/html")
    assert "sandbox" in reply.headers["content-security-policy"]
    assert "script-src" not in reply.headers["content-security-policy"]  # default-src 'none'
    missing = await client.get("/projects/calc/design/option-z", headers=auth("ada"))
    assert missing.status_code == 404
