"""A real browser on a real LayerCake: Debian's Chromium, driven by Selenium, against one
`layercake up` process per module (free ports, a home of its own).

The driver's path is given, so Selenium Manager never downloads one. Screenshots go to
`$LAYERCAKE_SCREENSHOTS`, else `<repo>/.artifacts/screenshots/` (ignored by git).
"""

from __future__ import annotations

import base64
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from tests.e2e.conftest import LAYERCAKE, System, running

from layercake.stores import LOCAL_USER, jwt_secret
from layercake_gateway.api import create_token

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
ROOT = Path(__file__).resolve().parents[2]
WIDTHS = (375, 1280)
_MAX_SHOT_HEIGHT = 6000

# Without them the tests are skipped, saying so (see `pytestmark` in each module).
NO_BROWSER = (
    None
    if CHROMIUM.exists() and CHROMEDRIVER.exists()
    else f"no {CHROMIUM} and {CHROMEDRIVER} here "
    "(Debian: apt-get install chromium chromium-driver; .ci/run installs them)"
)


@dataclass
class Dashboard:
    """The running system, as a person at its dashboard reaches it."""

    system: System

    @property
    def url(self) -> str:
        return self.system.api_url

    def api(self, user: str = LOCAL_USER) -> httpx.Client:
        """The HTTP API as `user`, by bearer token (what another client of theirs does)."""
        token = create_token(jwt_secret(self.system.state_home), user)
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def layercake(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`layercake ARGS` on the system's machine, as its user: no token of their own."""
        return subprocess.run(  # noqa: S603
            [LAYERCAKE, *args], env=self.system.env, cwd=self.system.home,
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    def signin_url(self, user: str, page: str = "/ui") -> str:
        """A one-time sign-in URL for `user` (another person than the machine's) to `page`."""
        with self.api(user) as client:
            made = client.post("/signin-links", json={"next": page})
        assert made.status_code == 201, made.text
        return str(made.json()["url"])


@pytest.fixture(scope="module")
def dashboard():
    """One `layercake up` for the module's tests."""
    with running() as system:
        yield Dashboard(system)


def new_browser() -> webdriver.Chrome:
    """Headless Chromium at desktop width, with a profile (and cookies) of its own."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", f"--window-size={WIDTHS[-1]},900"):  # fmt: skip
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)


@pytest.fixture(scope="module")
def browser():
    """The machine's user's browser, for the module."""
    driver = new_browser()
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where the screenshots go (made if need be)."""
    folder = Path(os.environ.get("LAYERCAKE_SCREENSHOTS") or ROOT / ".artifacts" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shoot(driver: webdriver.Chrome, folder: Path, name: str) -> list[Path]:
    """The whole page at phone and desktop width (a viewport exactly that wide, as DevTools
    emulates it): `name-375.png`, `name-1280.png`."""
    taken = []
    for width in WIDTHS:
        _viewport(driver, width, 900)
        height = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]["height"]
        _viewport(driver, width, min(int(height), _MAX_SHOT_HEIGHT))
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
        path = folder / f"{name}-{width}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        taken.append(path)
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return taken


def _viewport(driver: webdriver.Chrome, width: int, height: int) -> None:
    phone = width == WIDTHS[0]
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": phone}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
