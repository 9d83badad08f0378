"""Sign-in links (issue #16, G4 links; #17's sign-in): a one-time code in a URL, a cookie after.

FastAPI's client over a real SQLite ledger, and a real gateway for the design
page and the CLI. The attacks: a code used twice (on one gateway or another of
the store), expired, forged, a bearer token put in a URL, a code used as a
bearer token, an open redirect, a cross-site write carrying the cookie.
"""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import time
from functools import partial
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from fastapi.testclient import TestClient
from rich.console import Console

from layercake.demo import Demo
from layercake_gateway.adapters.ledger import Ledger
from layercake_gateway.api import create_api, create_token
from layercake_gateway.core.policy import Policy
from layercake_gateway.core.session import SESSION_COOKIE
from layercake_testing.waiting import settle

LAYERCAKE = str(Path(sys.executable).parent / "layercake")
SESSION_TTL_S = 600
INTAKE = {"name": "c", "intake": "i"}
OURS = "http://testserver"
DESIGN = "/projects/calc/design/option-a"


def _client(secret: str, store: str, base_url: str = OURS) -> TestClient:
    api = create_api(Ledger(store, Policy()), secret, session_ttl_s=SESSION_TTL_S)
    return TestClient(api, base_url=base_url)


@pytest.fixture
def store(tmp_path):
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture
def client(secret, store):
    """The API over a real ledger, with ada's project `calc` in it."""
    with _client(secret, store) as made:
        created = made.post("/projects", json={"project_id": "calc", **INTAKE},
                            headers=_bearer(secret, "ada"))  # fmt: skip
        assert created.status_code == 201, created.text
        yield made


def _bearer(secret: str, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token(secret, user)}"}


def _link(client: TestClient, secret: str, page: str = DESIGN, user: str = "ada") -> str:
    made = client.post("/signin-links", json={"next": page}, headers=_bearer(secret, user))
    assert made.status_code == 201, made.text
    return made.json()["url"]


def _code(url: str) -> str:
    return parse_qs(urlsplit(url).query)["code"][0]


def _open(client: TestClient, url: str):
    return client.get(url, follow_redirects=False)


def test_a_sign_in_link_leads_to_its_page_with_a_session_cookie_and_no_token_in_any_url(
    client, secret
):
    """A 303 to `next`, an HttpOnly, SameSite=Strict, site-wide cookie holding a normal token
    of the session's lifetime; nothing cached or passed on as a Referer; then the cookie reads."""
    url = _link(client, secret)
    assert url.startswith(f"{OURS}/signin?code=")
    opened = _open(client, url)
    assert opened.status_code == 303, opened.text
    assert opened.headers["location"] == DESIGN
    assert opened.headers["cache-control"] == "no-store"
    assert opened.headers["referrer-policy"] == "no-referrer"
    cookie = opened.headers["set-cookie"]
    for attribute in ("HttpOnly", "SameSite=strict", "Path=/", f"Max-Age={SESSION_TTL_S}"):
        assert attribute in cookie
    assert "Secure" not in cookie  # plain http here: a Secure cookie would never come back
    claims = jwt.decode(client.cookies[SESSION_COOKIE], secret, algorithms=["HS256"])
    assert (claims["sub"], claims["exp"] - claims["iat"]) == ("ada", SESSION_TTL_S)
    assert "use" not in claims
    read = client.get("/projects")  # the cookie alone
    assert read.status_code == 200, read.text
    assert [p["project_id"] for p in read.json()] == ["calc"]


def test_the_session_cookie_is_secure_when_the_link_was_opened_over_https(secret, store):
    """Opened over https, the cookie is marked Secure: it never travels in the clear."""
    with _client(secret, store, "https://testserver") as client:
        opened = _open(client, _link(client, secret, "/projects"))
    assert opened.status_code == 303
    assert "Secure" in opened.headers["set-cookie"]


def test_a_sign_in_code_opens_once(client, secret):
    """The second use of a link is a 401 that says it was used; no cookie is set."""
    url = _link(client, secret)
    assert _open(client, url).status_code == 303
    client.cookies.clear()
    again = _open(client, url)
    assert again.status_code == 401
    assert "used already" in again.json()["detail"]
    assert "set-cookie" not in again.headers


def test_a_code_spent_on_one_gateway_is_refused_by_another_on_the_same_store(secret, store):
    """The code's id is on the ledger's deny list: every gateway of the store refuses it."""
    with _client(secret, store) as first, _client(secret, store) as second:
        url = _link(first, secret, "/projects")
        assert _open(first, url).status_code == 303
        refused = _open(second, url)
    assert refused.status_code == 401
    assert "used already" in refused.json()["detail"]


def test_a_code_revoked_before_use_is_refused(client, secret, store):
    """`layercake token revoke JTI` (here, the ledger it writes to) withdraws a link unused."""
    made = client.post("/signin-links", json={"next": "/projects"}, headers=_bearer(secret, "ada"))
    assert Ledger(store, Policy()).revoke(made.json()["jti"], by="ops")
    assert _open(client, made.json()["url"]).status_code == 401


def test_an_expired_code_is_refused_saying_when_it_expired(client, secret):
    """A code past its two minutes is a 401 naming its end."""
    now = int(time.time())
    code = jwt.encode({"sub": "ada", "jti": "old", "iat": now - 300, "exp": now - 180,
                       "use": "signin"}, secret, algorithm="HS256")  # fmt: skip
    refused = client.get("/signin", params={"code": code}, follow_redirects=False)
    assert refused.status_code == 401
    assert "expired at" in refused.json()["detail"]


def test_a_code_with_a_forged_signature_is_refused(client, secret):
    """A code signed with another key (or tampered with) signs no one in."""
    now = int(time.time())
    forged = jwt.encode({"sub": "ada", "jti": "f1", "iat": now, "exp": now + 60, "use": "signin"},
                        "not-the-gateways-key-of-32-bytes!", algorithm="HS256")  # fmt: skip
    refused = client.get("/signin", params={"code": forged}, follow_redirects=False)
    assert refused.status_code == 401
    assert "signature" in refused.json()["detail"]
    assert SESSION_COOKIE not in client.cookies


def test_a_bearer_token_in_a_url_is_refused_and_a_code_is_no_bearer_token(client, secret):
    """A long-lived token may not sign in from a URL; a code seen in a URL is no bearer token."""
    token = create_token(secret, "ada")
    refused = client.get("/signin", params={"code": token}, follow_redirects=False)
    assert refused.status_code == 401
    assert "not a sign-in code" in refused.json()["detail"]
    code = _code(_link(client, secret))
    as_bearer = client.get("/projects", headers={"Authorization": f"Bearer {code}"})
    assert as_bearer.status_code == 401
    assert "not a bearer token" in as_bearer.json()["detail"]


@pytest.mark.parametrize(
    "attack",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "\\\\evil.example",
     "/\t/evil.example", "http:evil.example", "evil.example"],
)  # fmt: skip
def test_a_sign_in_that_would_redirect_off_the_gateway_is_refused_and_spends_nothing(
    client, secret, attack
):
    """An open redirect through `next` is a 422 naming it; the code still opens a safe `next`."""
    code = _code(_link(client, secret))
    refused = client.get("/signin", params={"code": code, "next": attack}, follow_redirects=False)
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["loc"] == ["query", "next"]
    assert "location" not in refused.headers
    opened = client.get("/signin", params={"code": code, "next": DESIGN}, follow_redirects=False)
    assert opened.status_code == 303
    minted = client.post("/signin-links", json={"next": attack}, headers=_bearer(secret, "ada"))
    assert minted.status_code == 422
    assert minted.json()["detail"][0]["loc"] == ["body", "next"]


def test_a_cross_site_write_with_the_session_cookie_is_refused(client, secret):
    """With the cookie, a POST from another origin, or with no Origin, is a 403 (with or without a
    body: the body guard and the routes both check); nothing changes. From ours, it works."""
    assert _open(client, _link(client, secret, "/projects")).status_code == 303
    create = {"project_id": "evil", **INTAKE}
    for origin in ({"Origin": "https://evil.example"}, {"Origin": "http://testserver:8081"}, {}):
        with_body = client.post("/projects", json=create, headers=origin)
        assert with_body.status_code == 403, with_body.text
        no_body = client.post("/projects/calc/gates/G0/approve", headers=origin)
        assert no_body.status_code == 403, no_body.text
    gates = client.get("/projects/calc/gates").json()
    assert gates[0]["state"] != "approved"
    assert [p["project_id"] for p in client.get("/projects").json()] == ["calc"]
    ours = client.post("/projects", json={"project_id": "mine", **INTAKE},
                       headers={"Origin": OURS})  # fmt: skip
    assert ours.status_code == 201, ours.text


def test_a_session_reaches_only_its_own_users_projects(client, secret):
    """Bob's cookie does not open ada's project: 404, as with a bearer token."""
    assert _open(client, _link(client, secret, "/projects", user="bob")).status_code == 303
    assert client.get("/projects/calc").status_code == 404


@pytest.mark.nats
async def test_a_design_page_opened_by_cookie_keeps_its_sandbox(gateway, auth, design_option):
    """The G4 option reached through a sign-in link is the same page under the same CSP: a
    sandbox with no scripts and nothing fetched."""
    runtime, client = gateway
    await client.post("/projects", json={"project_id": "calc", **INTAKE}, headers=auth("ada"))
    page = b"<!doctype html><h1>Option A</h1><script>fetch('/projects')</script>"
    await design_option(runtime, page)
    made = await client.post("/signin-links", json={"next": DESIGN}, headers=auth("ada"))
    opened = await client.get(made.json()["url"], follow_redirects=True)
    cookie = opened.history[0].cookies[SESSION_COOKIE]

    async def shown():
        reply = await client.get(DESIGN, headers={"Cookie": f"{SESSION_COOKIE}={cookie}"})
        return reply if reply.status_code == 200 else None

    reply = await settle(shown, within=10)
    assert reply.content == page
    policy = reply.headers["content-security-policy"]
    assert "sandbox" in policy
    assert "default-src 'none'" in policy


@pytest.mark.nats
async def test_layercake_link_prints_a_url_that_signs_in_once_to_the_page(
    gateway, auth, secret, tmp_path
):
    """`layercake link calc design/option-a` beside `up`'s home (its key, no token of one's own)
    prints one URL (stdout) that leads to that page; a project that is not yours is named."""
    _, client = gateway
    await client.post("/projects", json={"project_id": "calc", **INTAKE}, headers=auth("local"))
    (tmp_path / "jwt-secret").write_text(secret)
    env = {k: v for k, v in os.environ.items()
           if k not in {"LAYERCAKE_JWT_SECRET", "LAYERCAKE_TOKEN"}}  # fmt: skip
    env |= {"LAYERCAKE_HOME": str(tmp_path), "LAYERCAKE_API_URL": str(client.base_url)}

    def layercake(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603  # our own command
            [LAYERCAKE, *args], env=env, capture_output=True, text=True, check=False
        )

    made = await asyncio.to_thread(layercake, "link", "calc", "design/option-a")
    assert made.returncode == 0, made.stderr
    url = made.stdout.strip()
    assert "until" in made.stderr
    opened = await client.get(url, follow_redirects=False)
    assert opened.status_code == 303
    assert opened.headers["location"] == DESIGN
    missing = await asyncio.to_thread(layercake, "link", "nosuch")
    assert missing.returncode == 1
    assert "no project 'nosuch'" in missing.stderr


@pytest.mark.nats
async def test_the_demo_prints_at_g4_a_sign_in_link_to_each_option_whole_at_80_columns(
    gateway, auth, design_option, tmp_path
):
    """Each of the three lines is one unbroken URL that opens its option's page by cookie."""
    runtime, client = gateway
    await client.post("/projects", json={"project_id": "calc", **INTAKE}, headers=auth("ada"))
    for option in ("option-a", "option-b", "option-c"):
        await design_option(runtime, f"<h1>{option}</h1>".encode(), option)
    shown = io.StringIO()
    client.headers.update(auth("ada"))
    demo = Demo(client, "calc", tmp_path, yes=False, console=Console(file=shown, width=80))
    await demo._design_links()  # the G4 step alone, without a whole walk
    client.headers.pop("Authorization")
    links = [line.split(": ", 1)[1] for line in shown.getvalue().splitlines() if "/signin?" in line]
    assert len(links) == 3
    for option, url in zip(("option-a", "option-b", "option-c"), links, strict=True):
        opened = await client.get(url, follow_redirects=False)
        assert opened.headers["location"] == f"/projects/calc/design/{option}"
        cookie = {"Cookie": f"{SESSION_COOKIE}={opened.cookies[SESSION_COOKIE]}"}
        page = await settle(partial(_page, client, opened.headers["location"], cookie), within=10)
        assert page == f"<h1>{option}</h1>"


async def _page(client, path: str, headers: dict[str, str]) -> str | None:
    reply = await client.get(path, headers=headers)
    return reply.text if reply.status_code == 200 else None
