"""A new user, in order: the README's first command, then every command the README and the
services' READMEs document, from the clone, from /tmp and from the generated repository.

The tests of this module run in the order written, on one clone (a module fixture): each
step starts from what the ones before it left, as a person's session does. The last test
fails on any documented command that no step ran.
"""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import time
from pathlib import Path

import httpx
import pytest
from tests.newcomer.conftest import ROOT, Newcomer, Shown, command_of, command_tree

pytestmark = pytest.mark.timeout(900)

ELSEWHERE = Path("/tmp")  # noqa: S108  # a folder outside the clone, as a user has
FIRST = "python3 -m pip install uv && uv run --frozen layercake demo --yes"
WIDTH = 80


class Demo:
    """What the first command left: the project's id and the released repository."""

    project: str
    repository: Path
    tests: list[str]
    second: str  # the project walked by hand


def _summary(out: str) -> dict:
    return json.loads(next(line for line in reversed(out.splitlines()) if line.startswith("{")))


def test_help_needs_no_home(newcomer: Newcomer) -> None:
    """Before anything was set up, each command's help shows, from any folder."""
    for args in (["--help"], ["new", "--help"], ["status", "--help"]):
        shown = newcomer.sh(f"uv run --frozen layercake {' '.join(args)}", timeout=300)
        assert shown.code == 0, repr(shown)
        assert "Usage" in shown.out, repr(shown)


def test_the_readme_s_first_command_walks_the_demo_to_g9(newcomer: Newcomer) -> None:
    """The README's first command, exactly, from the clone's root, with none of our settings."""
    shown = newcomer.sh(FIRST, timeout=600)
    assert shown.code == 0, repr(shown)
    assert "10 of 10 approved" in shown.out, repr(shown)
    summary = _summary(shown.out)
    Demo.project, Demo.repository = summary["project"], Path(summary["repository"])
    Demo.tests = summary["tests"]
    assert Demo.repository.is_relative_to(newcomer.clone / ".layercake"), summary
    assert summary["attempts"]["G5/backend_developer"] == 2, "the backend healed once"
    assert summary["failed_builds"] == 1
    assert summary["diagnostics_fixed"] >= 3
    assert "build failed at test" in shown.out, repr(shown)
    assert "healing, attempt 2" in shown.out, repr(shown)
    assert shown.out.index("G9 approved") < shown.out.index("G9: released"), "pushed first"
    tags = newcomer.sh("git tag --list 'g*-approved'", cwd=Demo.repository)
    assert "g9-approved" in tags.out.split(), repr(tags)  # pushed after the approval
    lines = shown.out.splitlines()
    for command in Demo.tests:  # each whole on a line of its own, outside the box
        assert any(line.strip().endswith(command) and "│" not in line for line in lines), repr(
            shown
        )
    boxed = [line for line in lines if set(line) & set("│┌└├")]
    assert boxed, repr(shown)
    assert all(len(line) <= WIDTH for line in boxed), repr(shown)


def test_the_release_s_tests_pass_as_the_summary_says(newcomer: Newcomer) -> None:
    """The command the summary prints, run in the released repository, passes."""
    for command in Demo.tests:
        shown = newcomer.sh(command, cwd=Demo.repository, timeout=300)
        assert shown.code == 0, repr(shown)
        assert re.search(r"\d+ passed", shown.out), repr(shown)


def test_the_readme_s_second_command_does_not_read_the_demo_s_home(newcomer: Newcomer) -> None:
    """After the demo, the suite's test that signs a token with its own secret still passes."""
    node = (
        "services/gateway/tests/integration/test_api.py::"
        "test_layercake_token_create_prints_a_token_the_api_accepts"
    )
    shown = newcomer.sh(f"uv run --frozen pytest -q -p no:cacheprovider {node}", timeout=300)
    assert shown.code == 0, repr(shown)
    assert "1 passed" in shown.out, repr(shown)


def _folders(newcomer: Newcomer) -> list[Path]:
    """The clone, a folder outside it, and the generated repository."""
    return [newcomer.clone, ELSEWHERE, Demo.repository]


def test_replay_shows_the_position_asked_for_from_any_folder(newcomer: Newcomer) -> None:
    """`replay PROJECT --at 5` shows position 5 of the demo's ledger, wherever it is run."""
    for folder in _folders(newcomer):
        shown = newcomer.layercake("replay", Demo.project, "--at", "5", cwd=folder)
        assert shown.code == 0, repr(shown)
        assert "5" in shown.out, repr(shown)
        assert "G0" in shown.out, repr(shown)


@pytest.mark.parametrize("position", ["0", "-3", "99999"])
def test_replay_outside_the_ledger_says_which_positions_exist(
    newcomer: Newcomer, position: str
) -> None:
    """A position the project never had is refused, saying which positions it has."""
    shown = newcomer.layercake("replay", Demo.project, "--at", position)
    assert shown.code != 0, repr(shown)
    assert re.search(r"has positions 1 to \d+, not " + re.escape(position), shown.plain), repr(
        shown
    )


def test_why_walks_the_demo_s_first_commit_back_to_g0_s_approval_or_the_intake(
    newcomer: Newcomer,
) -> None:
    """`why PROJECT SHA` on the repository's first commit ends at a person's decision."""
    first = newcomer.sh("git log --reverse --format=%H", cwd=Demo.repository).out.split()[0]
    shown = newcomer.layercake("why", Demo.project, first, cwd=ELSEWHERE)
    assert shown.code == 0, repr(shown)
    lines = shown.out.splitlines()
    assert lines[0].startswith("CommitCreated "), repr(shown)
    assert re.search(r"GateApproved G0 \S+ by|ProjectCreated", lines[-2]), repr(shown)
    assert "back to a person's decision" in lines[-1] or "back to the intake" in lines[-1]


def test_audit_verify_checks_the_demo_s_ledger_and_refuses_an_unknown_project(
    newcomer: Newcomer,
) -> None:
    """`audit verify` says what it checked; a project that is not there is an error."""
    shown = newcomer.layercake("audit", "verify", cwd=ELSEWHERE)
    assert shown.code == 0, repr(shown)
    assert Demo.project in shown.out or re.search(r"\b1 project", shown.out), repr(shown)
    unknown = newcomer.layercake("audit", "verify", "nosuchproject")
    assert unknown.code != 0, repr(unknown)
    assert "nosuchproject" in unknown.text, repr(unknown)


def test_log_shows_the_demo_s_commits_from_any_folder_in_80_columns(newcomer: Newcomer) -> None:
    """`log PROJECT` finds the repository from anywhere, and its table fits a terminal."""
    for folder in _folders(newcomer):
        shown = newcomer.layercake("log", Demo.project, cwd=folder)
        assert shown.code == 0, repr(shown)
        assert "G5" in shown.out or "g5" in shown.out, repr(shown)
        assert all(len(line) <= WIDTH for line in shown.out.splitlines()), repr(shown)


def _up_is_running(newcomer: Newcomer, folder: Path) -> bool:
    """`up` has written its state and its API answers (the state is written before the API)."""
    shown = newcomer.layercake("status", cwd=folder)
    return shown.code == 0 and "ok (store and bus answer)" in shown.out


def test_up_runs_and_every_folder_finds_it(newcomer: Newcomer) -> None:
    """`layercake up` started in the clone is what `status` shows from /tmp and the repository."""
    newcomer.start("up", log="up.log")
    newcomer.wait_for("up to answer", lambda: _up_is_running(newcomer, newcomer.clone))
    home = str(newcomer.clone / ".layercake")
    for folder in _folders(newcomer):
        shown = newcomer.layercake("status", cwd=folder)
        assert shown.code == 0, repr(shown)
        assert home in shown.out, repr(shown)
        assert "gateway" in shown.out, repr(shown)


def test_a_second_up_from_another_folder_is_refused_naming_the_first(newcomer: Newcomer) -> None:
    """Another home on the same ports does not start: it names who holds them, and exits."""
    elsewhere = newcomer.home / "elsewhere"
    (elsewhere / ".layercake").mkdir(parents=True)
    shown = newcomer.layercake("up", cwd=elsewhere, timeout=60)
    assert shown.code != 0, repr(shown)
    assert str(newcomer.clone / ".layercake") in shown.text, repr(shown)
    assert not (elsewhere / ".layercake" / "nats").exists(), "it started before refusing"


_TOLD = re.compile(r"layercake (approve|select|accept|reject) (\S+)(?: (G\d|option-[a-c]))?")


def test_the_demo_without_yes_waits_for_a_person_acting_from_any_folder(
    newcomer: Newcomer,
) -> None:
    """Each command the demo tells the person works, from any folder; G3 is rejected once
    with a reason and reworked, option B is chosen, and the walk ends at G9."""
    demo = newcomer.start("demo", log="demo.log")
    folders, done, turn = _folders(newcomer), set(), 0
    deadline = time.monotonic() + 600
    while demo.poll() is None:
        assert time.monotonic() < deadline, newcomer.output("demo.log")
        told = " ".join(newcomer.output("demo.log").split())
        for verb, project, what in _TOLD.findall(told):
            if (verb, what) in done:
                continue
            done.add((verb, what))
            folder = folders[turn % len(folders)]
            turn += 1
            if verb == "approve" and what == "G3" and ("reject", "G3") not in done:
                done.add(("reject", "G3"))
                done.discard((verb, what))  # asked again after the rework
                args = ["reject", project, "G3", "--reason", "name the exit codes in the CLI"]
            elif verb == "select":
                args = ["select", project, "option-b"]
            elif verb == "accept":
                args = ["accept", project, "--reason", "no audit service answers here"]
            else:
                args = [verb, project, what]
            shown = newcomer.layercake(*args, cwd=folder)
            assert shown.code == 0, repr(shown)
        time.sleep(1)
    out = newcomer.output("demo.log")
    assert demo.returncode == 0, repr(out)
    assert "10 of 10 approved" in out, repr(out)
    assert ("reject", "G3") in done, repr(out)
    summary = _summary(out)
    Demo.second = summary["project"]
    shown = newcomer.layercake("status", Demo.second, cwd=ELSEWHERE)
    assert shown.code == 0, repr(shown)
    assert "G9" in shown.out, repr(shown)
    assert "{" not in shown.out, shown  # a table for a person, not a dict


def test_watch_follows_a_project_to_its_release(newcomer: Newcomer) -> None:
    """`watch PROJECT` shows the walk (gates, builds, the heal) and ends at the release."""
    shown = newcomer.layercake("watch", Demo.second, cwd=Demo.repository, timeout=120)
    assert shown.code == 0, repr(shown)
    for seen in ("G0 approved", "build failed at test", "healing, attempt 2", "G9: released"):
        assert seen in shown.out, repr(shown)


def test_events_print_a_project_s_history(newcomer: Newcomer) -> None:
    """`events PROJECT` prints what happened, one event a line, and ends."""
    shown = newcomer.layercake("events", Demo.second, cwd=Demo.repository, timeout=60)
    assert shown.code == 0, repr(shown)
    assert "GateApproved" in shown.out, repr(shown)
    assert "ProjectCreated" in shown.out.splitlines()[0], repr(shown)


API = "http://127.0.0.1:8080"


def test_a_token_of_one_s_own_reads_the_api_until_it_is_revoked(newcomer: Newcomer) -> None:
    """`token create USER` prints a token the API takes; `token revoke JTI` ends it."""
    made = newcomer.layercake("token", "create", "alice", cwd=ELSEWHERE)
    assert made.code == 0, repr(made)
    token = made.out.strip()
    jti = re.search(r"\b([0-9a-f]{32}|[0-9a-f-]{36})\b", made.err)
    assert jti, repr(made)
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{API}/projects", headers=headers, timeout=10).json() == []
    revoked = newcomer.layercake("token", "revoke", jti.group(1), cwd=Demo.repository)
    assert revoked.code == 0, repr(revoked)
    refused = httpx.get(f"{API}/projects", headers=headers, timeout=10)
    assert refused.status_code == 401, refused.text


def test_credentials_for_another_system_are_a_private_seed(newcomer: Newcomer) -> None:
    """`creds create NAME --read-only` prints a seed only its owner may read; `creds init`
    writes the services' credentials and leaves the running system working."""
    shown = newcomer.layercake("creds", "create", "audit-bot", "--read-only", cwd=ELSEWHERE)
    assert shown.code == 0, repr(shown)
    seed = Path(re.search(r"nkey seed: (\S+)", shown.out).group(1))
    assert seed.stat().st_mode & 0o777 == 0o600, oct(seed.stat().st_mode)
    acting = newcomer.layercake("creds", "create", "bot")
    assert acting.code != 0, repr(acting)
    assert "--read-only" in acting.err, repr(acting)
    init = newcomer.layercake("creds", "init")
    assert init.code == 0, repr(init)
    assert _up_is_running(newcomer, newcomer.clone)


def test_build_runs_the_release_s_steps_and_says_when_there_is_nothing(newcomer: Newcomer) -> None:
    """`build DIR` runs the generated repository's steps; on an empty folder it says so."""
    shown = newcomer.layercake("build", str(Demo.repository), "--steps", "install,test",
                               cwd=ELSEWHERE, timeout=300)  # fmt: skip
    assert shown.code == 0, repr(shown)
    assert "test" in shown.out, repr(shown)
    empty = newcomer.home / "empty"
    empty.mkdir()
    nothing = newcomer.layercake("build", str(empty), cwd=empty)
    assert nothing.code != 0, repr(nothing)
    assert "no toolchain" in nothing.text, repr(nothing)


def test_parse_turns_an_answer_into_files(newcomer: Newcomer) -> None:
    """`parse -` reads a model's answer on stdin and names the files in it."""
    answer = "Here it is.\n\n```python src/hello.py\nprint('hello')\n```\n"
    shown = newcomer.layercake("parse", "-", stdin=answer, cwd=ELSEWHERE)
    assert shown.code == 0, repr(shown)
    assert "src/hello.py" in shown.out, repr(shown)
    none = newcomer.layercake("parse", "-", stdin="no files here\n", cwd=ELSEWHERE)
    assert none.code == 1, repr(none)


def test_agent_ask_without_a_model_says_what_to_configure(newcomer: Newcomer) -> None:
    """`agent ask` with no key and no recording for the question says what to set."""
    shown = newcomer.layercake("agent", "ask", "product_manager", "--prompt", "Hello?")
    assert shown.code != 0, repr(shown)
    assert "LAYERCAKE_" in shown.err, repr(shown)
    assert "Traceback" not in shown.text, repr(shown)


SERVICES_ALONE = (
    "uv run --frozen layercake parser run",
    "uv run --frozen layercake builder run",
    "uv run --frozen layercake agent run",
    "uv run --frozen layercake git run",
    "LAYERCAKE_HTTP_PORT=8081 uv run --frozen layercake gateway run",
)


def test_each_service_runs_alone_beside_up_and_stops_on_ctrl_c(newcomer: Newcomer) -> None:
    """`layercake SERVICE run` starts one more replica on the running bus (the gateway on a
    port of its own, as its README says); Ctrl-C drains it: exit 0, no error logged."""
    logs = {line: f"{line.split()[-2]}-run.log" for line in SERVICES_ALONE}
    running = {line: newcomer.start_sh(line, log=log) for line, log in logs.items()}
    for line, process in running.items():
        newcomer.wait_for(  # started, and still running: it did not stop at once
            f"{line} to start",
            lambda log=logs[line], p=process: (
                "service_started" in newcomer.output(log) or p.poll() is not None
            ),
            every=0.2,
        )
        assert process.poll() is None, newcomer.output(logs[line])
        process.send_signal(signal.SIGINT)
    for line, process in running.items():
        told = newcomer.output(logs[line])
        assert process.wait(timeout=30) == 0, told
        assert "Traceback" not in told, told
        assert "error" not in newcomer.output(logs[line]).lower(), told


INTAKE = "# Notes\n\nA command-line tool that keeps short notes in a text file.\n"


def _gate_state(newcomer: Newcomer, project: str, gate: str) -> str:
    shown = newcomer.layercake("replay", project, "--json")
    return json.loads(shown.out)["gates"][gate] if shown.code == 0 else ""


def test_one_s_own_project_is_rejected_at_g0_revised_and_approved(newcomer: Newcomer) -> None:
    """`new` makes a project from a file; a rejected G0 waits for `revise`, then G0 is approved."""
    intake = newcomer.home / "my.md"
    intake.write_text(INTAKE)
    made = newcomer.layercake("new", "notes", "--intake", str(intake), cwd=ELSEWHERE)
    assert made.code == 0, repr(made)
    assert "layercake approve notes G0" in made.out, repr(made)
    blank = newcomer.layercake("new", "blank", "--intake", "-", stdin="  \n\t\n")
    assert blank.code != 0, repr(blank)
    assert "intake" in blank.err, repr(blank)
    rejected = newcomer.layercake("reject", "notes", "g0", "--reason", "say where notes are kept")
    assert rejected.code == 0, repr(rejected)
    assert "revise" in rejected.out, repr(rejected)
    revised = newcomer.layercake(
        "revise", "notes", "--intake", "-", stdin=INTAKE + "Notes live in ~/.notes.\n",
        cwd=Demo.repository,
    )  # fmt: skip
    assert revised.code == 0, repr(revised)
    early = newcomer.layercake("export", "notes", "v1")
    assert early.code != 0, repr(early)
    assert "G9" in early.err, repr(early)  # a release target is named at G9, not before
    approved = newcomer.layercake("approve", "notes", "G0", cwd=ELSEWHERE)
    assert approved.code == 0, repr(approved)


def test_a_project_with_no_recording_escalates_and_status_says_what_to_do(
    newcomer: Newcomer,
) -> None:
    """With no key and no recording, G1's agent escalates: `status` and `escalations` say so
    and what each choice does; `resolve --retry` runs the agent again, `--skip` moves on."""

    def escalated(count: int) -> Shown | None:
        shown = newcomer.layercake("escalations", "notes")
        return shown if shown.out.count("layercake resolve notes") >= count else None

    listed = newcomer.wait_for("an escalation", lambda: escalated(1), timeout=90)
    assert "LAYERCAKE_" in listed.out, listed  # it names what to configure
    status = newcomer.layercake("status", "notes", cwd=ELSEWHERE)
    assert "escalation" in status.out, repr(status)
    number = re.search(r"^(\d+)\. ", listed.out, re.MULTILINE).group(1)
    retried = newcomer.layercake("resolve", "notes", number, "--retry", cwd=Demo.repository)
    assert retried.code == 0, repr(retried)
    again = newcomer.wait_for("the retry's escalation", lambda: escalated(1), timeout=90)
    assert re.search(r"^(\d+)\. ", again.out, re.MULTILINE).group(1) != number, repr(again)
    second = re.search(r"^(\d+)\. ", again.out, re.MULTILINE).group(1)
    skipped = newcomer.layercake("resolve", "notes", second, "--skip")
    assert skipped.code == 0, repr(skipped)
    none = newcomer.layercake("resolve", "notes", second, "--retry")
    assert none.code != 0, repr(none)


def test_a_sign_in_link_opens_a_design_in_a_browser_once(newcomer: Newcomer) -> None:
    """`link PROJECT design/option-b` prints a URL that signs a browser in once."""
    shown = newcomer.layercake("link", Demo.second, "design/option-b", cwd=ELSEWHERE)
    assert shown.code == 0, repr(shown)
    url = shown.out.strip()
    with httpx.Client(follow_redirects=True, timeout=10) as browser:
        page = browser.get(url)
        assert page.status_code == 200, page.text
        assert "sandbox" in page.headers["content-security-policy"], page.headers
    assert httpx.get(url, timeout=10).status_code in {401, 403}


def test_open_prints_a_sign_in_url_to_the_dashboard_that_lists_the_demo(newcomer: Newcomer) -> None:
    """`open --print-url` prints a one-time URL (a code, no token) to the dashboard; `open
    PROJECT` with no browser says so and prints one to the project's page."""
    shown = newcomer.layercake("open", "--print-url", cwd=ELSEWHERE)
    assert shown.code == 0, repr(shown)
    url = shown.out.strip()
    assert "code=" in url, repr(shown)
    with httpx.Client(follow_redirects=True, timeout=10) as browser:
        page = browser.get(url)
        assert page.status_code == 200, page.text
        assert Demo.second in page.text, page.text
    # No display (as on a server), so no browser to open, whatever this machine has.
    project = newcomer.sh(f"DISPLAY= WAYLAND_DISPLAY= uv run --frozen layercake open {Demo.second}")
    assert project.code == 0, repr(project)
    assert "no browser here" in project.err, repr(project)
    assert f"/ui/projects/{Demo.second}" in project.err, repr(project)


def test_ctrl_c_stops_up_in_seconds_and_a_follower_ends_with_one_line(newcomer: Newcomer) -> None:
    """With `events --follow` connected, Ctrl-C stops `up` in seconds; the follower says why."""
    follower = newcomer.start("events", "notes", "--follow", log="follow.log", cwd=ELSEWHERE)
    newcomer.wait_for("the follower", lambda: "ProjectCreated" in newcomer.output("follow.log"))
    up = newcomer.background[0]
    started = time.monotonic()
    up.send_signal(signal.SIGINT)
    assert up.wait(timeout=30) == 0, newcomer.output("up.log")
    assert time.monotonic() - started < 15, newcomer.output("up.log")  # not the 20 s kill
    follower.wait(timeout=30)
    told = newcomer.output("follow.log")
    assert "Traceback" not in told, repr(told)
    gone = newcomer.layercake("status", "notes", cwd=newcomer.clone)
    assert gone.code != 0, repr(gone)
    assert "layercake up" in gone.err, repr(gone)
    assert "Traceback" not in gone.text, repr(gone)


def test_a_person_answers_as_the_model_with_the_manual_provider(newcomer: Newcomer) -> None:
    """`LAYERCAKE_PROVIDER=manual layercake up`: the prompt waits; `prompts`, `prompt` and
    `answer` list it, print it and answer it, and the gate goes on with that answer."""
    up = newcomer.start_sh("LAYERCAKE_PROVIDER=manual uv run --frozen layercake up", log="up2.log")
    newcomer.wait_for("up to answer", lambda: _up_is_running(newcomer, newcomer.clone))
    made = newcomer.layercake("new", "memo", "--intake", "-", stdin=INTAKE)
    assert made.code == 0, repr(made)
    assert newcomer.layercake("approve", "memo", "G0").code == 0
    listed = newcomer.layercake("prompts", "memo", "--wait", "90", cwd=ELSEWHERE, timeout=120)
    assert listed.code == 0, repr(listed)
    assert "product_manager" in listed.out, repr(listed)
    text = newcomer.layercake("prompt", "memo", "1", cwd=Demo.repository)
    assert text.code == 0, repr(text)
    assert "Notes" in text.out, repr(text)
    review = "```markdown docs/intake-review.md\n# Intake review\n\nClear enough to build.\n```\n"
    answered = newcomer.layercake("answer", "memo", "-", stdin=review)
    assert answered.code == 0, repr(answered)
    newcomer.wait_for(
        "G1 to await approval", lambda: _gate_state(newcomer, "memo", "G1") == "awaiting_approval"
    )
    up.send_signal(signal.SIGINT)
    assert up.wait(timeout=30) == 0, newcomer.output("up2.log")


def _tamper(ledger: Path) -> int:
    """Change the date in a stored event of the demo's project; its position."""
    with sqlite3.connect(ledger) as db:
        table = next(
            name
            for (name,) in db.execute("select name from sqlite_master where type='table'")
            if "stored_events" in name
        )
        rowid, position, state = db.execute(
            f"select rowid, originator_version, state from {table} order by rowid limit 1 offset 4"  # noqa: S608
        ).fetchone()
        edited = re.sub(rb'(datetime_iso","_data_":")(\d{4})', rb"\g<1>1999", bytes(state), count=1)
        assert edited != bytes(state)
        db.execute(f"update {table} set state = ? where rowid = ?", (edited, rowid))  # noqa: S608
    return int(position)


def test_audit_verify_names_the_position_of_an_edited_row(newcomer: Newcomer) -> None:
    """A row of the demo's ledger edited by hand is named by its position, with a non-zero exit."""
    position = _tamper(newcomer.clone / ".layercake" / "ledger.db")
    shown = newcomer.layercake("audit", "verify")
    assert shown.code != 0, repr(shown)
    assert f"position {position}" in shown.out, repr(shown)


def _documented() -> dict[str, str]:
    """Each `layercake` command the READMEs document, and where."""
    tree = command_tree()
    found: dict[str, str] = {}
    for readme in [ROOT / "README.md", *sorted(ROOT.glob("services/*/README.md"))]:
        for match in re.finditer(r"layercake((?: [a-z][a-z0-9_-]*){1,2})", readme.read_text()):
            name = command_of(match.group(1).split(), tree)
            if name is not None:
                found.setdefault(name, str(readme.relative_to(ROOT)))
    return found


def test_every_documented_command_was_run(newcomer: Newcomer) -> None:
    """The READMEs document no `layercake` command that a step above did not run."""
    documented = _documented()
    assert documented, "no command found in the READMEs"
    missing = {name: where for name, where in documented.items() if name not in newcomer.ran}
    assert not missing, f"documented but not run by tests/newcomer: {missing}"
