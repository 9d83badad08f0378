"""Which home a command uses: `LAYERCAKE_HOME`, the nearest `.layercake/` upwards, the last up."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from layercake.home import (
    CREATED,
    FROM_ENV,
    LAST,
    RUNNING,
    UPWARDS,
    Home,
    NoHome,
    find_home,
    record_path,
    record_up,
    running_home,
)


@pytest.fixture
def layout(tmp_path):
    """A clone with a home, a folder nested in it, and a folder outside it; no env of ours."""
    clone = tmp_path / "clone"
    (clone / ".layercake" / "demo" / "tally" / "src").mkdir(parents=True)
    (clone / ".layercake" / "jwt-secret").write_text("a key")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {"HOME": str(tmp_path / "user")}
    return clone, outside, env


def dead_pid() -> int:
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


def test_layercake_home_wins_over_a_home_upwards_and_says_so(layout, tmp_path):
    clone, _, env = layout
    found = find_home(clone, {**env, "layercake_home": str(tmp_path / "mine")})
    assert found == Home(tmp_path / "mine", FROM_ENV)
    assert str(found) == f"home {tmp_path / 'mine'} (found: LAYERCAKE_HOME)"


def test_a_relative_layercake_home_is_taken_from_the_current_folder(layout):
    clone, _, env = layout
    assert find_home(clone, {**env, "LAYERCAKE_HOME": "state"}).path == clone / "state"


def test_the_nearest_home_upwards_is_found_from_a_nested_folder(layout):
    clone, _, env = layout
    nested = clone / ".layercake" / "demo" / "tally" / "src"
    found = find_home(nested, env)
    assert found == Home(clone / ".layercake", UPWARDS)
    (clone / ".layercake" / "demo" / ".layercake").mkdir()
    assert find_home(nested, env).path == clone / ".layercake", "an empty folder is no home"
    (clone / ".layercake" / "demo" / ".layercake" / "creds").mkdir()
    assert find_home(nested, env).path == clone / ".layercake" / "demo" / ".layercake"


def test_outside_any_home_the_last_up_started_is_found_running_and_after_it_stopped(
    layout, tmp_path
):
    clone, outside, env = layout
    up = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        write_record(record_path(env), clone / ".layercake", up.pid)
        assert find_home(outside, env) == Home(clone / ".layercake", RUNNING)
        assert "found: the running up" in str(find_home(outside, env))
    finally:
        up.kill()
        up.wait()
    assert find_home(outside, env) == Home(clone / ".layercake", LAST)
    assert "stopped now" in str(find_home(outside, env))


def write_record(record, home, pid) -> None:
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"home": str(home), "pid": pid}))


def test_the_record_lives_under_xdg_state_home_when_it_is_set(tmp_path):
    assert record_path({"XDG_STATE_HOME": str(tmp_path)}) == tmp_path / "layercake" / "last-up.json"
    assert record_path({"HOME": str(tmp_path)}) == tmp_path / ".local/state/layercake/last-up.json"


def test_a_record_of_a_home_that_is_gone_is_ignored_and_nothing_found_names_each_place(layout):
    _, outside, env = layout
    record = record_path(env)
    write_record(record, "/somewhere/.layercake", dead_pid())
    assert running_home(record) is None
    with pytest.raises(NoHome) as raised:
        find_home(outside, env)
    message = str(raised.value)
    assert message.startswith("no LayerCake home found")
    for place in ("LAYERCAKE_HOME (unset)", f"jwt-secret or creds in {outside}", str(record)):
        assert place in message


def test_up_and_demo_make_a_new_home_in_the_current_folder_when_none_is_found(layout):
    _, outside, env = layout
    assert find_home(outside, env, create=True) == Home(outside / ".layercake", CREATED)
    assert not (outside / ".layercake").exists()


def test_up_in_a_second_clone_makes_its_own_home_and_does_not_reuse_a_stopped_up_s(
    layout, tmp_path
):
    """A stopped `up` of the first clone is found by `status` or `replay`, not by a new `up`."""
    clone, _, env = layout
    second = tmp_path / "second-clone"
    second.mkdir()
    write_record(record_path(env), clone / ".layercake", dead_pid())
    assert find_home(second, env) == Home(clone / ".layercake", LAST)
    assert find_home(second, env, create=True) == Home(clone / ".layercake", LAST), "creds"
    assert find_home(second, env, starting=True) == Home(second / ".layercake", CREATED)
    up = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        write_record(record_path(env), clone / ".layercake", up.pid)
        running = find_home(second, env, starting=True)
        assert running == Home(clone / ".layercake", RUNNING), "a running up is still found"
    finally:
        up.kill()
        up.wait()


def test_a_second_up_keeps_a_running_first_ones_record_and_replaces_a_stopped_ones(
    layout, tmp_path
):
    clone, _, env = layout
    record = record_path(env)
    second = tmp_path / "second"
    (second / "creds").mkdir(parents=True)
    first = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        write_record(record, clone / ".layercake", first.pid)
        assert not record_up(record, second)
        assert running_home(record) == clone / ".layercake"
    finally:
        first.kill()
        first.wait()
    assert record_up(record, second)
    assert json.loads(record.read_text()) == {"home": str(second), "pid": os.getpid()}
    assert running_home(record) == second


def test_an_unwritable_state_folder_does_not_stop_up_it_is_only_not_found_from_elsewhere(tmp_path):
    (tmp_path / "state").write_text("a file where the folder should be")
    record = tmp_path / "state" / "layercake" / "last-up.json"
    assert not record_up(record, tmp_path / "home")
    assert running_home(record) is None
