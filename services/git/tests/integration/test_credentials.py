"""The token on the wire: real https listeners on loopback record what git sends them.

Two listeners share a self-signed certificate: 127.0.0.1 is the configured
token host, 127.0.0.2 a host the token is not bound to (both only loopback).
"""

from __future__ import annotations

import base64
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

import pytest

from layercake_contracts.values import Gate
from layercake_git.app import create_service
from layercake_git.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

TOKEN = "ghp_b0und-t0-one-h0st"  # noqa: S105  # a test token
APP = b"print('hello')\n"


@pytest.fixture
def certificate(tmp_path) -> Path:
    """A self-signed certificate (and its key beside it) for both loopback listeners."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    command = [
        "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
        "-addext", "subjectAltName=IP:127.0.0.1,IP:127.0.0.2",
    ]  # fmt: skip
    subprocess.run(  # noqa: S603  # fixed openssl, arguments from the test
        [*command, "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True
    )
    return cert


class Recorder(BaseHTTPRequestHandler):
    """Keeps every request's path and Authorization header (or None).

    It answers 404, except below `/acme/moved/`: a redirect to `/other/` on the same host.
    """

    def do_GET(self) -> None:
        self.server.seen.append((self.path, self.headers.get("Authorization")))  # type: ignore[attr-defined]
        if self.path.startswith("/acme/moved/"):
            self.send_response(302)
            self.send_header("Location", self.path.replace("/acme/moved/", "/other/"))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_error(404)

    def log_message(self, *_args: object) -> None:
        """Quiet: the test reads what was recorded."""


@pytest.fixture
def listeners(certificate) -> Iterator[dict[str, tuple[str, list[tuple[str, str | None]]]]]:
    """`host -> (https base URL, (path, Authorization header) of each request)` for both."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, certificate.with_name("key.pem"))
    servers = {}
    for host in ("127.0.0.1", "127.0.0.2"):
        server = ThreadingHTTPServer((host, 0), Recorder)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        server.seen = []  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers[host] = server
    yield {
        host: (f"https://{host}:{server.server_address[1]}", server.seen)  # type: ignore[attr-defined]
        for host, server in servers.items()
    }
    for server in servers.values():
        server.shutdown()
        server.server_close()


@pytest.fixture
async def token_service(
    approve, workspaces, listeners, certificate, build, blobs, approval, monkeypatch, tmp_path
):
    """The service as the app wires it: both hosts allowed, the token bound to 127.0.0.1/acme/."""
    monkeypatch.setenv("GIT_SSL_CAINFO", str(certificate))
    bound = listeners["127.0.0.1"][0].removeprefix("https://")
    settings = Settings(
        workspaces_root=workspaces.root,
        git_release_root=tmp_path / "releases",
        git_token=TOKEN,
        git_token_hosts=(f"{bound}/acme/",),
        git_remotes=tuple(f"{base}/" for base, _ in listeners.values()),
    )
    service = create_service(settings)
    await service.commit_build(build({"app.py": APP}), blobs)
    await approve(service, approval(Gate.G5))
    return service


def tokens_in(requests: list[tuple[str, str | None]]) -> list[str]:
    """The tokens the requests' Basic headers carried."""
    return [
        base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")[2]
        for _, header in requests
        if header
    ]


@pytest.mark.parametrize(
    ("host", "path"), [("127.0.0.2", "/acme/shop.git"), ("127.0.0.1", "/other/shop.git")]
)
async def test_the_token_never_reaches_a_host_or_path_it_is_not_bound_to(
    token_service, export, listeners, host, path
):
    """The listener is asked, but without credentials: the push fails on its 404."""
    base, seen = listeners[host]
    failed = await token_service.export(export(f"{base}{path}"))
    assert failed.type == "PushFailed"
    assert seen, "git asked the listener"
    assert tokens_in(seen) == []


async def test_the_token_reaches_the_host_and_path_it_is_bound_to(token_service, export, listeners):
    """The bound listener gets `Authorization: Basic` with our token; the other one nothing."""
    base, seen = listeners["127.0.0.1"]
    failed = await token_service.export(export(f"{base}/acme/shop.git"))
    assert failed.type == "PushFailed"
    assert tokens_in(seen) == [TOKEN]
    assert listeners["127.0.0.2"][1] == []


async def test_a_redirect_from_the_bound_path_does_not_carry_the_token_off_it(
    token_service, export, listeners
):
    """/acme/moved/ answers 302 to /other/: git does not follow, so /other/ never sees the token."""
    base, seen = listeners["127.0.0.1"]
    failed = await token_service.export(export(f"{base}/acme/moved/shop.git"))
    assert failed.type == "PushFailed"
    assert [path.split("?")[0] for path, _ in seen] == ["/acme/moved/shop.git/info/refs"]
    assert failed.reason.endswith("The requested URL returned error: 302")
