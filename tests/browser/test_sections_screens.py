"""The builds and heals sections in a real browser (Debian's Chromium through Selenium), at a
phone's width and a desktop's: screenshots kept as artefacts, and what a person does there.

One setup for the module (`story.told`: real nats-server, gateway, parser, git service). The
browser signs in through a one-time link, as `layercake open` does, and reads each section
from the gateway. Screenshots go to `$LAYERCAKE_SCREENSHOTS`, else `.artifacts/screenshots/`.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from layercake_testing.story import told

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
pytestmark = [
    pytest.mark.nats,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="no chromium here (Debian: apt-get install chromium chromium-driver)",
    ),
]
WIDTHS = (375, 1280)
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("LAYERCAKE_SCREENSHOTS") or ROOT / ".artifacts" / "screenshots")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def tale(module_nats_server, tmp_path_factory):
    async with told(module_nats_server.url, tmp_path_factory.mktemp("tale")) as done:
        yield done


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


async def signed_in(tale, browser, section: str) -> None:
    """The browser on one of tally's sections, signed in as ada with a one-time link."""
    path = f"/ui/projects/tally/sections/{section}"
    async with httpx.AsyncClient(base_url=tale.url, headers=tale.headers) as client:
        link = (await client.post("/signin-links", json={"next": path})).json()["url"]
    # Selenium blocks: in a thread, so that the gateway on this loop goes on answering.
    await asyncio.to_thread(browser.get, link)
    assert browser.current_url == f"{tale.url}{path}"


def shoot(browser, name: str, width: int) -> Path:
    """A screenshot of the whole page at `width` pixels."""
    browser.set_window_size(width, 800)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(width, min(height + 100, 6000))
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / f"sections-{name}-{width}.png"
    assert browser.save_screenshot(str(shot))
    return shot


def no_alert(browser) -> bool:
    try:
        browser.switch_to.alert  # noqa: B018  # raises when no script opened one
    except NoAlertPresentException:
        return True
    return False


async def test_a_failed_builds_diagnostic_leads_to_its_line_and_its_log_opens_by_keyboard(
    tale, browser
):
    await signed_in(tale, browser, "builds")
    anchor = f"build-{tale.story.failed.event_id.hex[:12]}-s2-at-1"
    for width in WIDTHS:
        assert (await asyncio.to_thread(shoot, browser, "builds", width)).stat().st_size > 0
    link = browser.find_element(By.CSS_SELECTOR, f'a[href="#{anchor}"]')
    assert link.text == f"tally/core.py:{tale.story.buggy_line}"
    await asyncio.to_thread(link.click)
    target = browser.execute_script("return document.querySelector(':target').id")
    assert target == anchor
    marked = browser.find_element(By.CSS_SELECTOR, f"#{anchor} .at").text
    assert 'words=len(text.split(" "))' in marked
    summary = browser.find_elements(By.CSS_SELECTOR, ".sec-log summary")[-1]
    summary.send_keys(Keys.ENTER)  # a <summary> takes the keyboard: Enter opens its log
    assert browser.execute_script("return arguments[0].parentElement.open", summary)
    assert no_alert(browser)  # the diagnostic's <script> is text


async def test_a_heal_shows_its_diff_and_the_models_script_stays_text(tale, browser):
    await signed_in(tale, browser, "heals")
    for width in WIDTHS:
        await asyncio.to_thread(shoot, browser, "heals", width)
    removed = browser.find_element(By.CSS_SELECTOR, ".sec-diff .d-del").text
    added = browser.find_element(By.CSS_SELECTOR, ".sec-diff .d-add").text
    assert removed.endswith('words=len(text.split(" ")), chars=len(text))')
    assert added.endswith("words=len(text.split()), chars=len(text))")
    colours = browser.execute_script(
        "const s = getComputedStyle(arguments[0]); return [s.color, s.backgroundColor]",
        browser.find_element(By.CSS_SELECTOR, ".sec-diff .d-add"),
    )
    assert colours == ["rgb(10, 77, 36)", "rgb(230, 255, 236)"]  # the stylesheet applies
    assert "<script>alert('model')</script>" in browser.find_element(By.TAG_NAME, "body").text
    assert no_alert(browser)
    browser.set_window_size(375, 800)
    # Long lines scroll inside their own box: nothing pushes the phone's page sideways.
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 375


@pytest.mark.parametrize("section", ["documents", "commits", "errors", "cost"])
async def test_every_other_section_fits_a_phone_and_runs_no_model_script(tale, browser, section):
    await signed_in(tale, browser, section)
    for width in WIDTHS:
        await asyncio.to_thread(shoot, browser, section, width)
    browser.set_window_size(375, 800)
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 375
    assert browser.find_element(By.CSS_SELECTOR, "h2.sec-title").is_displayed()
    assert no_alert(browser)
