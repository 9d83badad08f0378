"""The dashboard in a real browser (issue #17): the demo walked from G0 to G9 by clicking, live
events without a reload, another user's project out of reach, a design option's script inert.

Each page is saved at phone and desktop width (see `conftest.shoot`).
"""

from __future__ import annotations

import pytest
from selenium.common.exceptions import (
    NoSuchElementException,
    NoSuchFrameException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from tests.browser.conftest import NO_BROWSER, ROOT, new_browser, shoot

pytestmark = [pytest.mark.nats, pytest.mark.skipif(NO_BROWSER is not None, reason=str(NO_BROWSER))]
INTAKE = (ROOT / "services/agent/src/layercake_agent/recordings/tally/intake.md").read_text()
REJECTION = "Say how a file that cannot be read is reported"
SCRIPTED = (
    "<!doctype html><html><head><title>clean</title></head><body><h1 id=t>untouched</h1>"
    "<script>document.title='ran';document.getElementById('t').textContent='SCRIPT RAN';"
    "parent.document.title='ran'</script></body></html>"
)


def wait(driver, what: str, condition, timeout: float = 240):
    """What `condition(driver)` gives once it is true; fail naming `what` after `timeout` s."""
    waiting = WebDriverWait(
        driver, timeout, poll_frequency=0.3,
        ignored_exceptions=(NoSuchElementException, NoSuchFrameException,
                            StaleElementReferenceException),
    )  # fmt: skip
    return waiting.until(condition, message=f"waited {timeout:g} s for {what}")


def _shown(driver, css: str):
    found = [e for e in driver.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()]
    return found[0] if found else None


def _next_step(driver) -> tuple[str, str] | None:
    """What the project page asks of a person now, as (what, the id of where to act), or None."""
    if driver.find_element(By.ID, "gate-G9").get_attribute("data-state") == "approved":
        return ("released", "gate-G9")
    for what, css in (("choose", "#choose-option-b"), ("accept", "#accept-reason"),
                      ("release", "#remote-url"), ("approve", "button[id^=approve-]")):  # fmt: skip
        if (element := _shown(driver, css)) is not None:
            return (what, str(element.get_attribute("id")))
    return None


def _submit(driver, button_css: str, **typed: str) -> None:
    """Type `typed` (field id: text) into a form, press its button, wait for the next page.

    The timeline may be swapped for a fresh copy at any moment (live events): each try
    finds the fields and the button again.
    """

    def pressed(d) -> bool:
        for field, text in typed.items():
            box = d.find_element(By.ID, field)
            box.clear()
            box.send_keys(text)
        d.execute_script("window.lcLeft = false")
        d.find_element(By.CSS_SELECTOR, button_css).click()
        return True

    wait(driver, f"pressing {button_css}", pressed, 30)
    WebDriverWait(driver, 30, poll_frequency=0.2, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script(
            "return document.readyState === 'complete' && !('lcLeft' in window)"
        ),
        message=f"waited 30 s for the page after {button_css}",
    )


def _feed(driver) -> str:
    return driver.find_element(By.ID, "feed").text


@pytest.fixture(scope="module")
def signed_in(dashboard, browser):
    """The machine's user's browser, signed in by `layercake open --print-url`."""
    opened = dashboard.layercake("open", "--print-url")
    assert opened.returncode == 0, opened.stderr
    url = opened.stdout.strip()
    assert url.startswith(f"{dashboard.url}/signin?code="), opened.stdout
    browser.get(url)
    wait(browser, "the projects list", lambda d: d.current_url == f"{dashboard.url}/ui", 30)
    return browser


@pytest.mark.timeout(900)
def test_the_demo_walks_from_g0_to_g9_by_clicking_in_the_dashboard(signed_in, screenshots):
    """Created in the form from the demo's intake, G3 rejected once with a reason, option B
    chosen side by side, G7's finding accepted, the release named: G9 approved and pushed."""
    browser = signed_in
    shoot(browser, screenshots, "projects")
    _submit(browser, "form.stack button[type=submit]", name="tally", intake=INTAKE)
    assert browser.current_url.endswith("/ui/projects/tally"), browser.current_url
    done: list[str] = []
    while "released" not in done:
        assert len(done) < 40, f"no end in sight: {done}"  # far more than needed
        what, where = wait(browser, f"the next step after {done}", _next_step, 300)
        if where == "approve-G3" and "reject-G3" not in done:
            what, where = "reject", "reject-G3"
            _submit(browser, "#reject-G3", **{"reason-G3": REJECTION})
        elif what == "choose":
            frames = browser.find_elements(By.CSS_SELECTOR, ".options iframe")
            assert len(frames) == 3
            assert all(f.get_attribute("sandbox") == "" for f in frames)  # no allow-scripts
            for option in ("option-a", "option-b", "option-c"):
                wait(browser, f"{option} shown", lambda d, o=option: _framed(d, o)[0], 30)
            shoot(browser, screenshots, "design-options")
            _submit(browser, f"#{where}")
        elif what == "accept":
            _submit(browser, "form[action$=accept] button", **{where: "no audit service here"})
        elif what == "release":
            _submit(browser, "form[action$=export] button")
        elif what == "approve":
            _submit(browser, f"#{where}")
        done.append(where if what != "released" else what)
    wait(browser, "the release's push in the feed", lambda d: "PushCompleted" in _feed(d), 120)
    g3 = browser.find_element(By.ID, "gate-G3").text
    assert f"local rejected: “{REJECTION}”" in g3, g3
    assert "local approved" in g3, g3
    assert browser.find_element(By.ID, "gate-G4").text.count("local chose option-b") == 1
    assert [s for s in done if s.startswith(("approve-", "reject-"))][:5] == [
        "approve-G0", "approve-G1", "approve-G2", "reject-G3", "approve-G3",
    ]  # fmt: skip
    shoot(browser, screenshots, "timeline")


def _create(api, project: str) -> None:
    """A project `project` of the signed-in user's, made over the API; its intake has no recording."""
    made = api.post("/projects", json={"project_id": project, "name": project,
                                       "intake": f"# {project}\nA page that counts."})  # fmt: skip
    assert made.status_code == 201, made.text


def test_live_events_appear_without_a_reload(signed_in, dashboard, screenshots):
    """An approval made elsewhere (the API) shows in the feed and the timeline, and the
    escalation that follows, with no navigation; the escalation is skipped by a click."""
    browser = signed_in
    with dashboard.api() as api:
        _create(api, "live")
        browser.get(f"{dashboard.url}/ui/projects/live")
        wait(browser, "the feed", lambda d: "ProjectCreated" in _feed(d), 30)
        browser.execute_script("window.lcNotReloaded = true")
        before = len(browser.find_elements(By.CSS_SELECTOR, "#feed li"))
        approved = api.post("/projects/live/gates/G0/approve")
        assert approved.status_code == 200, approved.text
    wait(browser, "GateApproved in the feed", lambda d: "GateApproved" in _feed(d), 30)
    wait(browser, "G0 approved on the timeline",
         lambda d: d.find_element(By.ID, "gate-G0").get_attribute("data-state") == "approved", 30)  # fmt: skip
    assert len(browser.find_elements(By.CSS_SELECTOR, "#feed li")) > before
    # G1's agent has no recording for this intake: its escalation shows up live too.
    wait(browser, "the escalation", lambda d: _shown(d, "#escalation-0"), 60)
    assert browser.execute_script("return window.lcNotReloaded") is True
    shoot(browser, screenshots, "live")
    _submit(browser, "#escalation-0 button[value=skip]")
    assert _shown(browser, "#escalation-0") is None
    assert "local resolved escalation 0 (skip)" in browser.find_element(By.ID, "gate-G1").text


def test_a_refresh_of_the_timeline_keeps_the_focus_and_what_was_typed(signed_in, dashboard):
    """A live event reloads the timeline while a person types a reason: the field keeps
    its text and the keyboard focus, so typing goes on where it was."""
    browser = signed_in
    with dashboard.api() as api:
        _create(api, "focus")
    browser.get(f"{dashboard.url}/ui/projects/focus")
    field = wait(browser, "G0's reason", lambda d: _shown(d, "#reason-G0"), 30)
    field.click()
    field.send_keys("half a rea")
    browser.execute_script("window.lcOldTimeline = document.getElementById('timeline');"
                           "document.body.dispatchEvent(new CustomEvent('lc:refresh'))")  # fmt: skip
    wait(browser, "the timeline swapped", lambda d: d.execute_script(
        "return document.getElementById('timeline') !== window.lcOldTimeline"), 30)  # fmt: skip
    focused = browser.execute_script("return document.activeElement.id")
    assert focused == "reason-G0", f"the focus went to {focused!r}"
    browser.switch_to.active_element.send_keys("son")
    assert browser.find_element(By.ID, "reason-G0").get_attribute("value") == "half a reason"
    browser.execute_script("document.getElementById('approve-G0').focus();"
                           "window.lcOldTimeline = document.getElementById('timeline');"
                           "document.body.dispatchEvent(new CustomEvent('lc:refresh'))")  # fmt: skip
    wait(browser, "the timeline swapped again", lambda d: d.execute_script(
        "return document.getElementById('timeline') !== window.lcOldTimeline"), 30)  # fmt: skip
    focused = browser.execute_script("return document.activeElement.id")
    assert focused == "approve-G0", f"a button's focus went to {focused!r}"


def test_another_users_project_is_not_reachable(dashboard, signed_in, screenshots):
    """Eve's session lists none of the machine user's projects and gets a 404 page for one;
    signed out, the dashboard says how to sign in."""
    with dashboard.api() as api:
        assert api.post("/projects", json={"project_id": "mine", "name": "mine",
                                           "intake": "# Mine\nPrivate."}).status_code == 201  # fmt: skip
    eve = new_browser()
    try:
        eve.get(dashboard.signin_url("eve"))
        wait(eve, "eve's projects", lambda d: d.current_url == f"{dashboard.url}/ui", 30)
        assert "mine" not in eve.find_element(By.CSS_SELECTOR, "main").text
        eve.get(f"{dashboard.url}/ui/projects/mine")
        assert eve.find_element(By.TAG_NAME, "h1").text == "Not found"
        shoot(eve, screenshots, "not-found")
        eve.delete_all_cookies()
        eve.get(f"{dashboard.url}/ui")
        assert "layercake open" in eve.find_element(By.CSS_SELECTOR, "main").text
        shoot(eve, screenshots, "signed-out")
    finally:
        eve.quit()


def test_a_design_options_script_does_not_run(dashboard, signed_in, screenshots):
    """An option whose page sets its title and text by script shows untouched, in an iframe
    whose sandbox allows no script; the dashboard's title is its own."""
    browser = signed_in
    with dashboard.api() as api:
        made = api.post("/projects", json={"project_id": "scripted", "name": "scripted",
                                           "intake": "# Scripted\nA page."})  # fmt: skip
        assert made.status_code == 201, made.text
        wrote = api.post("/projects/scripted/files", json={
            "gate": "G4", "path": "design/option-a.html", "content": SCRIPTED})  # fmt: skip
        assert wrote.status_code == 202, wrote.text
        wait(api, "the option recorded", lambda c: any(
            a["kind"] == "design_option" for a in c.get("/projects/scripted/artifacts").json()["G4"]
        ), 60)  # fmt: skip
    browser.get(f"{dashboard.url}/ui/projects/scripted")
    frame = browser.find_element(By.CSS_SELECTOR, "#design-option-a iframe")
    assert frame.get_attribute("sandbox") == ""
    shoot(browser, screenshots, "scripted-option")
    inside = wait(
        browser, "the option's page in its frame", lambda d: (t := _framed(d))[0] and t, 30
    )
    assert inside == ("untouched", "clean")  # the heading is the page's whole text
    assert browser.title == "scripted · LayerCake"


def _framed(driver, option: str = "option-a") -> tuple[str, str]:
    """An option's text and title, read inside its frame (the timeline may swap the frame)."""
    driver.switch_to.frame(driver.find_element(By.CSS_SELECTOR, f"#design-{option} iframe"))
    try:
        title = driver.find_element(By.TAG_NAME, "title").get_attribute("textContent")
        return driver.find_element(By.TAG_NAME, "body").text, title
    finally:
        driver.switch_to.default_content()


def test_layercake_open_without_a_browser_prints_a_url_that_opens_the_project_once(
    dashboard, signed_in
):
    """With no display, `layercake open PROJECT` prints the sign-in URL and says why; it opens
    the project's page in another browser, once."""
    with dashboard.api() as api:
        assert api.post("/projects", json={"project_id": "opened", "name": "opened",
                                           "intake": "# Opened\nA page."}).status_code == 201  # fmt: skip
    shown = dashboard.layercake("open", "opened")
    assert shown.returncode == 0, shown.stderr
    assert "no browser here" in shown.stderr
    url = shown.stdout.strip()
    other = new_browser()
    try:
        other.get(url)
        wait(other, "the project page", lambda d: d.current_url.endswith("/ui/projects/opened"), 30)
        other.delete_all_cookies()
        other.get(url)
        assert "used already" in other.page_source
    finally:
        other.quit()
