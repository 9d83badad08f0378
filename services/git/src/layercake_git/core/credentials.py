"""How a token reaches git for an https push without being written anywhere.

The token travels as an `Authorization` header in `GIT_CONFIG_*` environment
variables of the one push: never in argv (other users can read that), never in
a config file, and only to the token hosts the settings bind it to: a remote
elsewhere gets no credentials at all, and git's header setting names the bound
host and path, so git itself would not send it further either; nor does a
redirect, which a push with the token does not follow.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from layercake_git.core.remotes import token_scope

if TYPE_CHECKING:
    from collections.abc import Iterable

    from layercake_git.core.remotes import Address

REDACTED = "***"


def basic_credentials(username: str, token: str) -> str:
    """The value of an HTTP Basic `Authorization` header for `username` and `token`."""
    return "Basic " + base64.b64encode(f"{username}:{token}".encode()).decode()


def credential_env(
    url: str, username: str, token: str, scopes: Iterable[Address]
) -> dict[str, str]:
    """Environment giving git the header for an https `url` under a token host; else empty."""
    scope = token_scope(url, scopes)  # the scopes are https rules: no ssh URL lies under one
    if scope is None:
        return {}
    return {
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_0": f"http.{scope.https_url}.extraHeader",
        "GIT_CONFIG_VALUE_0": f"Authorization: {basic_credentials(username, token)}",
        # curl sends the header again on a redirect to the same host: off the bound path.
        "GIT_CONFIG_KEY_1": "http.followRedirects",
        "GIT_CONFIG_VALUE_1": "false",
    }


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with every non-empty secret replaced by `***`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text
