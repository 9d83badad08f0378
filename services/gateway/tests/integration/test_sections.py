"""The project page's sections over real services: what a tale of ada's `tally` shows in each.

One setup for the module (`story.told`): a real nats-server, the gateway (ledger
and HTTP), the parser and the git service; the agent and the builder are played
on the bus. Each test reads one section as HTML, as the project page does.
"""

from __future__ import annotations

import html

import httpx
import pytest
import pytest_asyncio
from markupsafe import escape

from layercake_gateway.adapters.ledger import Ledger
from layercake_gateway.api import create_api, create_token
from layercake_gateway.core.policy import Policy
from layercake_testing.story import HOSTILE, told

pytestmark = [pytest.mark.nats, pytest.mark.asyncio(loop_scope="module")]
# As Jinja escapes it, and as markdown-it does (which leaves quotes be).
ESCAPED = (str(escape(HOSTILE)), html.escape(HOSTILE, quote=False))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def tale(module_nats_server, tmp_path_factory):
    async with told(module_nats_server.url, tmp_path_factory.mktemp("tale")) as done:
        yield done


async def section(tale, name: str, user: str = "ada"):
    headers = {"Authorization": f"Bearer {create_token(tale.secret, user)}"}
    async with httpx.AsyncClient(base_url=tale.url, timeout=10) as client:
        return await client.get(f"/ui/projects/tally/sections/{name}", headers=headers)


def assert_escaped(text: str) -> None:
    assert "<script" not in text
    assert any(form in text for form in ESCAPED)


async def test_documents_render_the_prd_as_markdown_and_its_script_as_text(tale):
    reply = await section(tale, "documents")
    assert reply.status_code == 200
    page = reply.text
    assert "<strong>lines</strong>" in page
    assert "<table>" in page
    assert 'href="javascript:' not in page
    assert "Product requirements" in page
    assert_escaped(page)


async def test_documents_show_the_openapi_operations_and_the_schema_highlighted(tale):
    page = (await section(tale, "documents")).text
    assert '<span class="method m-post">POST</span> <code>/count</code>' in page
    assert "Count a text" in page
    assert "<code>unit</code>" in page
    assert "text/plain" in page
    assert "#/components/schemas/Counts" in page
    assert "<code>Counts</code>" in page
    assert '<span class="k">CREATE</span>' in page  # pygments' SQL keyword class


async def test_builds_show_steps_tests_coverage_and_a_diagnostic_linked_to_its_line(tale):
    page = (await section(tale, "builds")).text
    story = tale.story
    assert page.count('class="sec-build') == 3
    assert "install: registry: pypi.org answered 503" in page  # QA's build could not run
    assert '<span class="badge">could not run</span>' in page
    assert "<code>python3 -m venv .venv\n.venv/bin/pip install -q -e . pytest</code>" in page
    assert "5 passed, 3 failed, 0 skipped" in page
    assert "8 passed, 0 failed, 0 skipped" in page
    assert "92.5%" in page
    where = f"tally/core.py:{story.buggy_line}"
    anchor = f"build-{story.failed.event_id.hex[:12]}-s2-at-1"
    assert f'<a href="#{anchor}">{where}</a>' in page
    assert f'id="{anchor}"' in page
    assert "words=len(text.split(&#34; &#34;))" in page  # the excerpt: the buggy line itself
    assert "<summary>Log of test (end of its output)</summary>" in page
    assert_escaped(page)


async def test_heals_show_the_failing_output_the_edit_as_a_diff_and_the_result(tale):
    page = (await section(tale, "heals")).text
    assert page.count('class="sec-heal') == 1
    assert "<code>.venv/bin/pytest -q</code>" in page
    assert "<dd>1</dd>" in page  # the exit code
    assert (
        '<span class="d-del">-    return Counts(lines=text.count(&#34;\\n&#34;), words=len(text.split(&#34; &#34;))'
        in page
    )
    assert (
        '<span class="d-add">+    return Counts(lines=text.count(&#34;\\n&#34;), words=len(text.split())'
        in page
    )
    assert "&lt;&lt;&lt;&lt;&lt;&lt;&lt; SEARCH" in page  # the answer, as the model wrote it
    assert '<span class="badge">passed</span>' in page
    assert_escaped(page)


async def test_commits_show_the_healed_build_with_its_diff(tale):
    page = (await section(tale, "commits")).text
    sha = tale.story.commit.sha
    assert f"<code>{sha[:10]}</code>" in page
    assert '<span class="d-file">+++ b/tally/core.py' in page
    assert "words=len(text.split())" in page
    assert "No release yet" in page


async def test_errors_list_the_open_agent_failure_before_the_resolved_test_failure(tale):
    page = (await section(tale, "errors")).text
    open_at, resolved_at = page.index("Open (2)"), page.index("Resolved (1)")
    assert open_at < page.index("the model is unreachable") < resolved_at
    assert open_at < page.index("pypi.org answered 503") < resolved_at
    assert resolved_at < page.index("AssertionError")
    assert_escaped(page)


async def test_cost_adds_up_tokens_per_role(tale):
    page = (await section(tale, "cost")).text
    # Four answers: 1 400 tokens each at attempt 1, 2 400 for the heal (see story._written).
    assert "<strong>6,600</strong> tokens, <strong>$0.0625</strong> in all" in page
    assert "backend developer</th><td>2</td><td>claude-test</td>" in page
    assert "<td>3,000</td><td>800</td><td>0</td><td>0</td><td>$0.0375</td>" in page


async def test_another_users_project_and_an_unknown_section_are_not_found(tale):
    assert (await section(tale, "builds", user="bob")).status_code == 404
    unknown = await section(tale, "secrets")
    assert unknown.status_code == 404
    assert "there are documents, builds, heals, commits, errors, cost" in unknown.text


async def test_a_project_with_nothing_yet_says_so_in_each_section(tale):
    headers = {"Authorization": f"Bearer {create_token(tale.secret, 'cy')}"}
    async with httpx.AsyncClient(base_url=tale.url, headers=headers, timeout=10) as client:
        intake = {"project_id": "blank", "name": "blank", "intake": "A *new* idea."}
        assert (await client.post("/projects", json=intake)).status_code == 201
        pages = {n: await client.get(f"/ui/projects/blank/sections/{n}") for n in SAID}
    for name, said in SAID.items():
        assert pages[name].status_code == 200, name
        assert said in pages[name].text, name


SAID = {
    "documents": "<em>new</em> idea",
    "builds": "No builds yet.",
    "heals": "No heals yet",
    "commits": "No commits yet.",
    "errors": "No errors yet.",
    "cost": "No model calls yet.",
}


async def test_without_a_bus_each_section_says_what_it_cannot_show(tmp_path, secret):
    api = create_api(Ledger(f"sqlite:///{tmp_path / 'ledger.db'}", Policy()), secret)
    headers = {"Authorization": f"Bearer {create_token(secret, 'ada')}"}
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as c:
        await c.post("/projects", json={"project_id": "calc", "name": "c", "intake": "i"})
        builds = (await c.get("/ui/projects/calc/sections/builds")).text
        commits = (await c.get("/ui/projects/calc/sections/commits")).text
        cost = (await c.get("/ui/projects/calc/sections/cost")).text
        errors = (await c.get("/ui/projects/calc/sections/errors")).text
    assert "Not shown now: the bus is not connected." in builds
    assert "Not shown now: the bus is not connected." in commits
    assert "<strong>0</strong> tokens" in cost
    assert "Each role's share is not shown now: the bus is not connected." in cost
    assert "No errors yet." in errors
