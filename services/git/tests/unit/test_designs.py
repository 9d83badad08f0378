"""G4's design options: which ones a tree leaves out once a person chose."""

from __future__ import annotations

from layercake_contracts.events import OptionSelected, ProjectCreated
from layercake_contracts.values import Gate
from layercake_git.core.designs import choice_for_build, unchosen_designs, without
from layercake_git.core.record import ProjectRecord

PATHS = ("design/option-a.html", "design/Option-B.html", "design/notes.md", "app.py")


def test_before_a_choice_nothing_is_left_out():
    """No design chosen yet: every option stays."""
    assert unchosen_designs(PATHS, None) == set()


def test_the_options_not_chosen_are_left_out_whatever_their_case():
    """option-b chosen: option-a goes; Option-B, the notes and the code stay."""
    assert unchosen_designs(PATHS, "option-b") == {"design/option-a.html"}
    assert without(dict.fromkeys(PATHS, 1), {"design/option-a.html"}) == dict.fromkeys(PATHS[1:], 1)


def test_a_g4_build_keeps_every_option_and_a_later_one_keeps_to_the_choice():
    """The designer's branch holds all options; G5's builds hold the chosen one."""
    assert choice_for_build("option-b", Gate.G4) is None
    assert choice_for_build("option-b", Gate.G5) == "option-b"


def test_the_record_remembers_the_g4_choice_and_where_the_project_was_pushed():
    """OptionSelected at G4 is kept (the last one wins); an export keeps its pushed sha."""
    project = ProjectCreated(project_id="shop", name="shop", intake="a shop", owner="ada")
    record = ProjectRecord()
    for option in ("option-a", "option-c"):
        record = record.choosing(
            OptionSelected.follow(project, gate=Gate.G4, option=option, by="ada")
        )
    assert record.chosen_design == "option-c"
    assert record.exported("v1", "a" * 40).exported("v1", "b" * 40).exports == {"v1": "b" * 40}
