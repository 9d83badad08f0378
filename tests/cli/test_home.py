"""Which home a command uses: `LAYERCAKE_HOME`, the nearest `.layercake/` upwards, the running up."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from layercake.home import (
    CREATED,
    FROM_ENV,
    RUNNING,
    UPWARDS,
    Home,
    NoHome,
    find_home,
    record_path,
    recorded,
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


def test_outside_any_home_the_running_up_named_in_the_users_record_is_found(layout, tmp_path):
    clone, outside, env = layout
    with recorded(record_path(env), clone / ".layercake"):
        assert find_home(outside, env) == Home(clone / ".layercake", RUNNING)
        assert "found: the running up" in str(find_home(outside, env))
    assert not record_path(env).exists()


def test_the_record_lives_under_xdg_state_home_when_it_is_set(tmp_path):
    assert (
        record_path({"XDG_STATE_HOME": str(tmp_path)}) == tmp_path / "layercake" / "running-up.json"
    )
    assert (
        record_path({"HOME": str(tmp_path)}) == tmp_path / ".local/state/layercake/running-up.json"
    )


def test_a_record_whose_up_has_died_is_ignored_and_nothing_found_names_each_place(layout):
    _, outside, env = layout
    record = record_path(env)
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps({"home": "/somewhere/.layercake", "pid": dead_pid()}))
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


def test_a_second_up_keeps_the_first_ones_record_and_removes_only_its_own(layout, tmp_path):
    clone, outside, env = layout
    record = record_path(env)
    record.parent.mkdir(parents=True)
    first = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        record.write_text(json.dumps({"home": str(clone / ".layercake"), "pid": first.pid}))
        with recorded(record, tmp_path / "second"):
            assert running_home(record) == clone / ".layercake"
        assert running_home(record) == clone / ".layercake"
    finally:
        first.kill()
        first.wait()
    with recorded(record, tmp_path / "second"):
        assert json.loads(record.read_text()) == {
            "home": str(tmp_path / "second"),
            "pid": os.getpid(),
        }
    assert not record.exists()
    assert find_home(outside, env, create=True).found == CREATED


def test_an_unwritable_state_folder_does_not_stop_up_it_is_only_not_found_from_elsewhere(tmp_path):
    (tmp_path / "state").write_text("a file where the folder should be")
    record = tmp_path / "state" / "layercake" / "running-up.json"
    with recorded(record, tmp_path / "home"):
        assert running_home(record) is None
