"""Project names in each owner's namespace, and the bus ids they stand for."""

from __future__ import annotations

import re

from hypothesis import assume, given
from hypothesis import strategies as st

from layercake_contracts.events import PROJECT_ID_PATTERN
from layercake_gateway.core.names import NAME_PATTERN, bus_id, name_of

names = st.from_regex(NAME_PATTERN, fullmatch=True)
owners = st.text(min_size=1, max_size=100)


@given(owners, names)
def test_a_name_becomes_a_bus_id_that_its_owner_reads_back(owner, name):
    """Any valid name of any owner fits the bus's id pattern and names the same project again."""
    project_id = bus_id(owner, name)
    assert re.fullmatch(PROJECT_ID_PATTERN, project_id)
    assert name_of(owner, project_id) == name


@given(owners, names, owners, names)
def test_two_owners_never_share_a_bus_id_or_read_each_others(owner, name, other, other_name):
    """Another owner's bus id is not in one's namespace, whatever name either picks."""
    assume(owner != other)
    assert bus_id(owner, name) != bus_id(other, other_name)
    assert name_of(other, bus_id(owner, name)) is None


def test_a_bus_id_made_outside_any_namespace_has_no_name():
    """A project a bus event made with a plain id (no owner's tag) is nobody's API name."""
    assert name_of("ada", "calc") is None
    assert name_of("ada", "-" + bus_id("ada", "x").rsplit("-", 1)[1]) is None
