"""How a token reaches git for an https push without being written anywhere.

The token travels as an `Authorization` header in `GIT_CONFIG_*` environment
variables of the one push: never in argv (other users can read that), never in
a config file, and only for the remote's own scheme, host and port.
"""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

REDACTED = "***"


def basic_credentials(username: str, token: str) -> str:
    """The value of an HTTP Basic `Authorization` header for `username` and `token`."""
    return "Basic " + base64.b64encode(f"{username}:{token}".encode()).decode()


def credential_env(url: str, username: str, token: str) -> dict[str, str]:
    """Environment giving git the header for an https `url`; empty for any other remote."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "https" or not parts.hostname:
        return {}
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"http.https://{parts.netloc}/.extraHeader",
        "GIT_CONFIG_VALUE_0": f"Authorization: {basic_credentials(username, token)}",
    }


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with every non-empty secret replaced by `***`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text
