"""Sign-in links in a real browser: Debian's headless Chromium against the API on a free port.

What only a browser shows: it keeps the cookie through the 303, and it *does*
send a SameSite=Strict cookie with a form posted from another port of
127.0.0.1 (the same site). That write is refused by the Origin check alone.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from layercake_gateway.adapters.ledger import Ledger
from layercake_gateway.api import create_api, create_token
from layercake_gateway.core.policy import Policy
from layercake_testing.serving import serving

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium here (Debian: apt-get install chromium)"
)
INTAKE = {"project_id": "calc", "name": "c", "intake": "i"}


@pytest.fixture
def api(tmp_path, secret):
    """The API over a real SQLite ledger, served by uvicorn on a free port; its URL."""
    with serving(
        create_api(Ledger(f"sqlite:///{tmp_path / 'ledger.db'}", Policy()), secret)
    ) as url:
        yield url


@pytest.fixture
def other_site(tmp_path):
    """Another local program's pages (another port of 127.0.0.1), from `tmp_path / "site"`."""
    root = tmp_path / "site"
    root.mkdir()
    handler = partial(SimpleHTTPRequestHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _browse(profile: str, url: str) -> str:
    """The page Chromium ends on after opening `url` (the profile keeps cookies between runs)."""
    shown = subprocess.run(  # noqa: S603  # the system's browser
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
         "--virtual-time-budget=3000", "--dump-dom", url],
        capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    return shown.stdout


def test_a_browser_signs_in_by_link_once_and_another_local_port_cannot_write_with_it(
    api, other_site, secret, tmp_path
):
    """Chromium opens the link and lands on the project, signed in by cookie; the same link in
    another profile is refused as used; a form another port posts sends the cookie, gets 403."""
    bearer = {"Authorization": f"Bearer {create_token(secret, 'ada')}"}
    assert httpx.post(f"{api}/projects", json=INTAKE, headers=bearer).status_code == 201
    link = httpx.post(f"{api}/signin-links", json={"next": "/projects/calc"}, headers=bearer)
    url = link.json()["url"]
    profile = str(tmp_path / "profile")

    assert '"owner":"ada"' in _browse(profile, url)
    assert "used already" in _browse(str(tmp_path / "another-profile"), url)
    root, site = other_site
    (root / "approve.html").write_text(
        f'<form id=f method=post action="{api}/projects/calc/gates/G0/approve"></form>'
        "<script>document.getElementById('f').submit()</script>"
    )
    refused = _browse(profile, f"{site}/approve.html")
    assert f"a POST from {site} may not use this gateway's session cookie" in refused
    gates = httpx.get(f"{api}/projects/calc/gates", headers=bearer).json()
    assert gates[0]["state"] == "awaiting_approval"
