"""How the gateway's commands call its HTTP API: a client signed in with LAYERCAKE_TOKEN.

An unreachable gateway is one line and exit 2; a refusal prints the API's answer and
exits 1.
"""

from __future__ import annotations

from typing import Any

import httpx
import typer

from layercake_gateway.settings import Settings


def not_running(settings: Settings) -> typer.Exit:
    """Say, in one line, that the API does not answer; the exit to raise."""
    home = f"home {settings.home}" if settings.home else "LAYERCAKE_HOME unset"
    typer.echo(
        f"LayerCake is not running at {settings.api_url} ({home}): start it with `layercake up`",
        err=True,
    )
    return typer.Exit(2)


def api_client() -> httpx.Client:
    """A client of the API at LAYERCAKE_API_URL, with LAYERCAKE_TOKEN as its bearer."""
    settings = Settings()
    if settings.token is None:
        raise typer.BadParameter("set LAYERCAKE_TOKEN (see `layercake token create`)",
                                 param_hint="LAYERCAKE_TOKEN")  # fmt: skip
    headers = {"Authorization": f"Bearer {settings.token.get_secret_value()}"}
    return httpx.Client(base_url=settings.api_url, headers=headers, timeout=30)


def call(method: str, path: str, body: dict[str, Any] | None = None) -> Any:  # noqa: ANN401  # the API's JSON
    """The API's answer as JSON (see `request`)."""
    return request(method, path, body).json()


def request(method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
    """The API's answer; an unreachable gateway exits 2, a refusal exits 1, both saying why."""
    with api_client() as client:
        try:
            response = client.request(method, path, json=body)
        except httpx.TransportError as exc:
            raise not_running(Settings()) from exc
    if response.status_code >= 400:  # noqa: PLR2004
        typer.echo(f"{response.status_code}: {response.text}", err=True)
        raise typer.Exit(1)
    return response
