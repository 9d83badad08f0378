"""API tokens that end (issue #15): exp, iat and jti required, expiry and revocation enforced.

The attacks: a token of the old kind (only `sub`) lived forever; a stolen one
could not be taken back. Each refusal is a 401 that says which check failed,
and never the key.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import jwt
import pytest

from layercake_contracts.bus import STREAM_NAME
from layercake_contracts.events import parse_event
from layercake_gateway.adapters.ledger import DENY_LIST, Ledger
from layercake_gateway.api import create_token
from layercake_gateway.core.policy import Policy
from layercake_gateway.core.project import Project
from layercake_gateway.guard import bearer

pytestmark = pytest.mark.nats
LAYERCAKE = str(Path(sys.executable).parent / "layercake")
INTAKE = {"name": "c", "intake": "i"}


def _signed(secret: str, **claims: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {jwt.encode(claims, secret, algorithm='HS256')}"}


def _layercake(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  # our own command
        [LAYERCAKE, *args], env={**os.environ, **env}, capture_output=True, text=True, check=False
    )


async def _refusal(client, headers: dict[str, str]) -> str:
    """What the API says to `headers` on a read and on a write with a body (the guard's path)."""
    read = await client.get("/projects", headers=headers)
    write = await client.post("/projects", json={"project_id": "p", **INTAKE}, headers=headers)
    assert (read.status_code, write.status_code) == (401, 401), (read.text, write.text)
    assert read.json()["detail"] == write.json()["detail"]
    return read.json()["detail"]


async def test_a_token_with_only_a_subject_is_refused_for_lacking_an_expiry(gateway, secret):
    """What every token was before: {"sub": …}, valid forever. Now it is a 401 naming `exp`."""
    _, client = gateway
    detail = await _refusal(client, _signed(secret, sub="ada"))
    assert "exp" in detail


async def test_a_token_without_iat_or_jti_is_refused_naming_the_claim(gateway, secret):
    """An expiry alone is not enough: the issue time and the id (what revocation names) are required."""
    _, client = gateway
    exp = int(time.time()) + 600
    assert "iat" in await _refusal(client, _signed(secret, sub="ada", exp=exp, jti="j1"))
    assert "jti" in await _refusal(client, _signed(secret, sub="ada", exp=exp, iat=exp - 600))


async def test_a_token_that_never_ends_is_refused_and_not_a_server_error(gateway, secret):
    """`"exp": Infinity` (or 1e999) decodes to a float no clock reaches: a 401, not a 500."""
    _, client = gateway
    now = int(time.time())
    endless = _signed(secret, sub="ada", iat=now, exp=float("inf"), jti="forever")
    assert "'exp' is not a time" in await _refusal(client, endless)


async def test_an_expired_token_is_refused_saying_when_it_expired(gateway, secret):
    """A token past its `exp` is refused, with the time it ended."""
    _, client = gateway
    now = int(time.time())
    detail = await _refusal(
        client, _signed(secret, sub="ada", iat=now - 7200, exp=now - 3600, jti="old")
    )
    assert "expired" in detail
    assert datetime.fromtimestamp(now - 3600, UTC).strftime("%Y-%m-%dT%H:%M:%S") in detail


async def test_a_token_not_yet_valid_is_refused_as_such(gateway, secret):
    """Issued (or valid from) an hour ahead: refused, beyond the clock-skew leeway."""
    _, client = gateway
    now = int(time.time())
    future = _signed(secret, sub="ada", iat=now + 3600, exp=now + 7200, jti="f1")
    assert "not valid before" in await _refusal(client, future)
    later = _signed(secret, sub="ada", iat=now, nbf=now + 3600, exp=now + 7200, jti="f2")
    assert "not valid before" in await _refusal(client, later)


async def test_a_token_signed_with_another_key_is_refused_without_naming_any_key(gateway, secret):
    """A forged signature is named as such; neither our key nor the forger's is in the answer."""
    _, client = gateway
    forger = "a-forged-secret-of-thirty-two-bytes!"  # a test key
    now = int(time.time())
    detail = await _refusal(client, _signed(forger, sub="ada", iat=now, exp=now + 60, jti="x"))
    assert "signature" in detail
    assert secret not in detail
    assert forger not in detail
    assert "not a token" in await _refusal(client, {"Authorization": "Bearer not.a.jwt"})


async def test_a_fresh_token_works_and_carries_exp_iat_and_jti(gateway, secret):
    """`create_token` signs exp, iat and a unique jti; the API takes it."""
    _, client = gateway
    token = create_token(secret, "ada", lifetime_s=120)
    claims = jwt.decode(token, secret, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 120
    assert abs(claims["iat"] - time.time()) < 60
    assert claims["jti"] != jwt.decode(create_token(secret, "ada"), secret, ["HS256"])["jti"]
    headers = {"Authorization": f"Bearer {token}"}
    created = await client.post("/projects", json={"project_id": "calc", **INTAKE}, headers=headers)
    assert created.status_code == 201, created.text
    assert [p["project_id"] for p in (await client.get("/projects", headers=headers)).json()] == [
        "calc"
    ]


async def test_token_create_prints_the_token_and_when_it_expires(secret):
    """`layercake token create` states the expiry (the lifetime from LAYERCAKE_TOKEN_TTL_S) and the id."""
    before = int(time.time())
    made = await asyncio.to_thread(
        _layercake, "token", "create", "ada",
        LAYERCAKE_JWT_SECRET=secret, LAYERCAKE_TOKEN_TTL_S="3600",  # noqa: S106  # seconds
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()  # alone on stdout: `LAYERCAKE_TOKEN=$(layercake token create …)`
    claims = jwt.decode(token, secret, algorithms=["HS256"])
    assert before + 3600 <= claims["exp"] <= int(time.time()) + 3600
    expires = datetime.fromtimestamp(claims["exp"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f"expires {expires}" in made.stderr
    assert claims["jti"] in made.stderr


@pytest.mark.parametrize("restart", [False, True], ids=["second-gateway", "restart"])
async def test_a_revoked_token_is_refused_by_every_gateway_on_the_store(
    start_gateway, secret, tmp_path, restart
):
    """`layercake token revoke JTI` records TokenRevoked in the ledger: another gateway process on
    the same store (or one started after) refuses the token; other tokens still work."""
    store = f"sqlite:///{tmp_path / 'shared.db'}"
    first, first_client = await start_gateway(ledger_url=store)
    stolen = create_token(secret, "ada")
    kept = {"Authorization": f"Bearer {create_token(secret, 'ada')}"}
    headers = {"Authorization": f"Bearer {stolen}"}
    if not restart:
        _, other_client = await start_gateway(ledger_url=store)
        assert (await other_client.get("/projects", headers=headers)).status_code == 200

    jti = jwt.decode(stolen, secret, algorithms=["HS256"])["jti"]
    revoked = await asyncio.to_thread(
        _layercake, "token", "revoke", jti, LAYERCAKE_LEDGER_URL=store
    )
    assert revoked.returncode == 0, revoked.stderr
    assert jti in revoked.stdout
    if restart:  # a gateway that starts after the revocation reads it from the store
        _, other_client = await start_gateway(ledger_url=store)

    assert "revoked" in await _refusal(other_client, headers)
    assert (await other_client.get("/projects", headers=kept)).status_code == 200
    again = await asyncio.to_thread(_layercake, "token", "revoke", jti, LAYERCAKE_LEDGER_URL=store)
    assert "already" in again.stdout
    if not restart:
        assert "revoked" in await _refusal(first_client, headers)
        # The deny list shares the store with the projects: the relay still announces theirs.
        name = f"p{uuid.uuid4().hex[:8]}"
        made = await first_client.post(
            "/projects", json={"project_id": name, **INTAKE}, headers=kept
        )
        assert made.status_code == 201, made.text
        assert "ProjectCreated" in await _stream_types(first)


async def _stream_types(runtime) -> list[str]:
    js = runtime.broker.connection.jetstream()
    for _ in range(100):
        last = (await js.stream_info(STREAM_NAME)).state.last_seq
        types = [
            parse_event((await js.get_msg(STREAM_NAME, n)).data).type for n in range(1, last + 1)
        ]
        if types:
            return types
        await asyncio.sleep(0.1)
    return []


def test_the_deny_list_is_kept_by_either_store_apart_from_the_projects(store_url):
    """On SQLite and PostgreSQL: a second ledger sees a revocation; projects and the audit do not
    mistake the deny list for a project, and its chain verifies."""
    first, second = Ledger(store_url, Policy()), Ledger(store_url, Policy())
    assert second.is_revoked("j1") is False  # read (and cached) before the revocation
    first.create(Project(project_id="calc", name="c", intake="i", owner="ada", has_ui=False,
                         heal_limit=3))  # fmt: skip
    assert first.revoke("j1", by="ops") is True
    assert second.revoke("j1", by="ops") is False
    assert second.revoke("j2", by="ops") is True
    assert (first.is_revoked("j1"), first.is_revoked("j2"), first.is_revoked("j3")) == (
        True, True, False,
    )  # fmt: skip
    assert [p.project_id for p in second.projects()] == ["calc"]
    verified = second.verify()
    assert verified.broken == {}
    assert set(verified.checked) == {"calc", DENY_LIST}


def test_a_local_command_signs_itself_a_token_of_five_minutes(tmp_path, secret):
    """`layercake status P` beside `up`'s home signs its own token: it ends in 300 s, so a copy
    found in a process listing or a proxy log is soon worthless."""
    (tmp_path / "jwt-secret").write_text(secret)
    seen: list[str] = []

    class Gates(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers["Authorization"])
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"[]")

    server = HTTPServer(("127.0.0.1", 0), Gates)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {
        k: v for k, v in os.environ.items() if k not in {"LAYERCAKE_TOKEN", "LAYERCAKE_JWT_SECRET"}
    }
    try:
        shown = subprocess.run(  # noqa: S603  # our own command
            [LAYERCAKE, "status", "calc"], capture_output=True, text=True, check=False,
            env={**env, "LAYERCAKE_HOME": str(tmp_path),
                 "LAYERCAKE_API_URL": f"http://127.0.0.1:{server.server_port}"},
        )  # fmt: skip
    finally:
        server.shutdown()
    assert shown.returncode == 0, shown.stderr
    claims = jwt.decode(bearer(seen[0]), secret, algorithms=["HS256"])
    assert (claims["sub"], claims["exp"] - claims["iat"]) == ("local", 300)
