"""The dashboard's pages and forms (issue #17) over a real SQLite ledger, by session cookie.

What a browser does with them is in `tests/browser/`; here, what the gateway answers:
a signed-out visitor gets a page saying how to sign in, a form's mistakes come back
in the form with what was typed, another user's project is a 404 page, a cookie
write from another origin is refused, and model-written text comes out escaped.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from layercake_contracts.values import Gate, Role
from layercake_gateway.adapters.ledger import Ledger
from layercake_gateway.api import create_api, create_token
from layercake_gateway.core.names import bus_id
from layercake_gateway.core.policy import Policy

OURS = "http://testserver"
HOSTILE = '<script>document.title="owned"</script>'


@pytest.fixture
def ledger(tmp_path):
    return Ledger(f"sqlite:///{tmp_path / 'ledger.db'}", Policy())


def _signed_in(ledger: Ledger, secret: str, user: str) -> TestClient:
    """A browser with `user`'s session cookie, as a sign-in link leaves it."""
    client = TestClient(create_api(ledger, secret), base_url=OURS)
    bearer = {"Authorization": f"Bearer {create_token(secret, user)}"}
    link = client.post("/signin-links", json={"next": "/ui"}, headers=bearer).json()["url"]
    assert client.get(link, follow_redirects=False).status_code == 303
    return client


@pytest.fixture
def ada(ledger, secret):
    """Ada's browser, with her project `calc` made through the form."""
    client = _signed_in(ledger, secret, "ada")
    made = client.post("/ui/projects", data={"name": "calc", "intake": "# Calc\nAdds."},
                       headers={"Origin": OURS}, follow_redirects=False)  # fmt: skip
    assert made.status_code == 303, made.text
    assert made.headers["location"] == "/ui/projects/calc"
    return client


def test_a_visitor_without_a_session_gets_a_page_saying_how_to_sign_in(ledger, secret):
    """`/ui` and a project page, signed out: 401 as HTML naming `layercake open`."""
    client = TestClient(create_api(ledger, secret), base_url=OURS)
    for path in ("/ui", "/ui/projects/calc"):
        shown = client.get(path)
        assert shown.status_code == 401
        assert shown.headers["content-type"].startswith("text/html")
        assert "layercake open" in shown.text


def test_the_form_keeps_what_was_typed_and_says_what_is_wrong(ada):
    """A bad name, an empty intake and a name taken come back in the form, input kept."""
    bad = ada.post("/ui/projects", data={"name": "my calc", "intake": "Adds <b>numbers</b>"},
                   headers={"Origin": OURS})  # fmt: skip
    assert bad.status_code == 422
    assert "no spaces" in bad.text
    assert 'value="my calc"' in bad.text
    assert "Adds &lt;b&gt;numbers&lt;/b&gt;" in bad.text
    empty = ada.post("/ui/projects", data={"name": "other", "intake": "  "},
                     headers={"Origin": OURS})  # fmt: skip
    assert empty.status_code == 422
    assert "only white space" in empty.text
    taken = ada.post("/ui/projects", data={"name": "calc", "intake": "again"},
                     headers={"Origin": OURS})  # fmt: skip
    assert taken.status_code == 422
    assert escape("you have a project 'calc' already") in taken.text
    listed = ada.get("/ui").text
    assert listed.count('href="/ui/projects/') == 1


def test_another_users_project_is_a_404_page_and_not_listed(ada, ledger, secret):
    """Bob sees no `calc` in his list, and its page is a 404 page, as the API answers."""
    bob = _signed_in(ledger, secret, "bob")
    assert "/ui/projects/calc" not in bob.get("/ui").text
    shown = bob.get("/ui/projects/calc")
    assert shown.status_code == 404
    assert escape("no project 'calc'") in shown.text
    refused = bob.post(
        "/ui/projects/calc/gates/G0/approve", headers={"Origin": OURS}, follow_redirects=False
    )
    assert refused.status_code == 404
    assert ledger.get(bus_id("ada", "calc")).gates["G0"] == "awaiting_approval"


def test_a_rejection_needs_a_reason_and_the_timeline_says_who_rejected_and_why(ada, ledger):
    """An empty reason is refused on the page; a reason is recorded, shown with who and when."""
    empty = ada.post("/ui/projects/calc/gates/G0/reject", data={"reason": " "},
                     headers={"Origin": OURS})  # fmt: skip
    assert empty.status_code == 422
    assert escape("a rejection's reason must say something") in empty.text
    assert ledger.get(bus_id("ada", "calc")).gates["G0"] == "awaiting_approval"
    done = ada.post("/ui/projects/calc/gates/G0/reject", data={"reason": "too <vague>"},
                    headers={"Origin": OURS}, follow_redirects=False)  # fmt: skip
    assert done.status_code == 303
    page = ada.get("/ui/projects/calc").text
    assert "ada rejected: “too &lt;vague&gt;”" in page
    assert "UTC" in page
    twice = ada.post("/ui/projects/calc/gates/G0/approve", headers={"Origin": OURS})
    assert twice.status_code == 409
    assert "Refused:" in twice.text


def test_a_dashboard_write_from_another_origin_is_refused(ada, ledger):
    """With ada's cookie, a form posted from another origin (or with none) is a 403."""
    for origin in ({"Origin": "http://127.0.0.1:9999"}, {}):
        approve = ada.post("/ui/projects/calc/gates/G0/approve", headers=origin)
        assert approve.status_code == 403, approve.text
        reject = ada.post("/ui/projects/calc/gates/G0/reject", data={"reason": "x"}, headers=origin)
        assert reject.status_code == 403, reject.text
    assert ledger.get(bus_id("ada", "calc")).gates["G0"] == "awaiting_approval"


def test_an_escalations_model_written_reason_is_shown_as_text(ada, ledger):
    """An agent's failure reason holding a script is escaped on the page, never markup."""
    at = datetime.now(UTC).isoformat()
    ledger.decide(
        bus_id("ada", "calc"),
        lambda p: p.record_agent_failure(Gate.G1, Role.PRODUCT_MANAGER, 1, HOSTILE,
                                         retryable=False, at=at),
    )  # fmt: skip
    page = ada.get("/ui/projects/calc").text
    assert HOSTILE not in page
    assert "&lt;script&gt;document.title=&#34;owned&#34;&lt;/script&gt;" in page
    assert 'action="/ui/projects/calc/escalations/0/resolve"' in page
    skipped = ada.post("/ui/projects/calc/escalations/0/resolve", data={"action": "skip"},
                       headers={"Origin": OURS}, follow_redirects=False)  # fmt: skip
    assert skipped.status_code == 303
    assert ledger.get(bus_id("ada", "calc")).escalations[0]["resolved_at"] is not None


def test_the_project_page_loads_each_section_and_refreshes_it_on_the_feeds_events(ada):
    """Six placeholders, each loaded on its own and again on `lc:refresh`; the feed reads the
    project's SSE stream; the page frames nothing but the gateway's own pages."""
    shown = ada.get("/ui/projects/calc")
    for name in ("documents", "builds", "heals", "commits", "errors", "cost"):
        assert f'id="sec-{name}" aria-label' in shown.text, name
        loads = (
            f'hx-get="/ui/projects/calc/sections/{name}" hx-trigger="load, lc:refresh from:body"'
        )
        assert loads in shown.text, name
    assert 'data-source="/projects/calc/events"' in shown.text
    assert "frame-ancestors 'none'" in shown.headers["content-security-policy"]
