"""Fixtures shared by the builder's tests: real Node tools, and stand-ins for advisory services."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

# Pinned majors: the parsers are tested on what these versions print.
NODE_TOOLS = ("typescript@5", "eslint@9", "jest@30", "vitest@4")


@dataclass(frozen=True)
class NodeToolbox:
    """Node tools installed once per test run, from the npm registry."""

    folder: Path
    registry: str

    def bin(self, name: str) -> str:
        return str(self.folder / "node_modules" / ".bin" / name)

    def link_into(self, project: Path) -> None:
        """Let a project import the tools (`import { test } from 'vitest'`) without installing."""
        (project / "node_modules").symlink_to(self.folder / "node_modules")


@pytest.fixture(scope="session")
def node_toolbox(tmp_path_factory) -> NodeToolbox:
    """typescript, eslint, jest and vitest, installed with a real `npm install`."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.skip("Node.js and npm are not installed on this machine")
    folder = tmp_path_factory.mktemp("node-toolbox")
    (folder / "package.json").write_text('{"name": "toolbox", "private": true}\n')
    installed = subprocess.run(  # noqa: S603  # fixed arguments
        [npm, "install", "--no-audit", "--no-fund", *NODE_TOOLS],
        cwd=folder, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if installed.returncode != 0:
        pytest.fail(f"npm install of the toolbox failed:\n{installed.stderr[-4000:]}")
    registry = subprocess.run(  # noqa: S603  # fixed arguments
        [npm, "config", "get", "registry"],
        cwd=folder, capture_output=True, text=True, timeout=60, check=True,
    ).stdout.strip()  # fmt: skip
    return NodeToolbox(folder, registry)


@pytest.fixture
def stand_in_service():
    """Start local HTTP services that answer every POST with one JSON document.

    A stand-in for an advisory database the network here does not reach: the
    tool itself runs for real and writes its real report from the answer.
    GETs are redirected to `upstream` (the package metadata the tool also needs).
    """
    servers: list[ThreadingHTTPServer] = []

    def start(answer: object, upstream: str = "") -> str:
        body = json.dumps(answer).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self.send_response(307)
                self.send_header("location", upstream.rstrip("/") + self.path)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
