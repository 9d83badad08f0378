"""The HTTP API refuses every path the shared rule refuses, before anything reaches the bus."""

from __future__ import annotations

import pytest

from layercake_contracts.bus import STREAM_NAME
from layercake_contracts.events import FilesWritten, parse_event
from layercake_testing.hostile_paths import HOSTILE_PATHS

pytestmark = pytest.mark.nats


async def test_a_file_write_to_any_hostile_path_is_a_422_naming_it_and_never_reaches_git(
    gateway, auth
):
    """`.GIT/config`, `a/.git/config`, NTFS and HFS+ spellings, controls, bidi: 422, no event."""
    runtime, client = gateway
    await client.post(
        "/projects", json={"project_id": "calc", "name": "c", "intake": "i"}, headers=auth("ada")
    )
    for path, reason in HOSTILE_PATHS:
        write = {"gate": "G5", "path": path, "content": "[core]\n"}
        refused = await client.post("/projects/calc/files", json=write, headers=auth("ada"))
        assert refused.status_code == 422, (path, refused.text)
        [detail] = refused.json()["detail"]
        assert detail["loc"] == ["body", "path"]
        assert detail["msg"].startswith(f"{path!r}: ")
        assert reason in detail["msg"]
    js = runtime.broker.connection.jetstream()
    last = (await js.stream_info(STREAM_NAME)).state.last_seq
    events = [parse_event((await js.get_msg(STREAM_NAME, n)).data) for n in range(1, last + 1)]
    assert events  # the project's creation is there: the stream was read
    assert not [e for e in events if isinstance(e, FilesWritten)]
