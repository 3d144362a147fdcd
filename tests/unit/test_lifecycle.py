"""The status transition table, checked pair by pair, and the messages people see when a move is refused."""
from __future__ import annotations

import itertools

import pytest

from bot.core.lifecycle import (
    ROLE_IC,
    ROLE_SME,
    STATUS_EMOJI,
    STATUSES,
    TRANSITIONS,
    TransitionError,
    check_transition,
    is_open,
    parse_status,
)

ALLOWED = {
    ("investigating", "identified"), ("investigating", "monitoring"), ("investigating", "resolved"),
    ("identified", "investigating"), ("identified", "monitoring"), ("identified", "resolved"),
    ("monitoring", "investigating"), ("monitoring", "identified"), ("monitoring", "resolved"),
    ("resolved", "investigating"),
}


def test_statuses_in_order() -> None:
    assert STATUSES == ("investigating", "identified", "monitoring", "resolved")
    assert set(TRANSITIONS) == set(STATUSES)


@pytest.mark.parametrize(("current", "target"), list(itertools.product(STATUSES, STATUSES)))
def test_every_pair(current: str, target: str) -> None:
    assert (target in TRANSITIONS[current]) == ((current, target) in ALLOWED)
    if (current, target) in ALLOWED:
        check_transition(current, target)
    else:
        with pytest.raises(TransitionError):
            check_transition(current, target)


@pytest.mark.parametrize("status", STATUSES)
def test_same_status_says_so(status: str) -> None:
    with pytest.raises(TransitionError, match=rf"^It is already {status}\.$"):
        check_transition(status, status)


@pytest.mark.parametrize("target", ["identified", "monitoring"])
def test_resolved_points_to_reopen(target: str) -> None:
    with pytest.raises(TransitionError) as err:
        check_transition("resolved", target)
    assert str(err.value) == f"An incident that is resolved can't move to {target}; use `/incident reopen` first."


@pytest.mark.parametrize(("current", "target"), [("foo", "resolved"), ("investigating", "foo")])
def test_unknown_status_lists_the_valid_ones(current: str, target: str) -> None:
    with pytest.raises(TransitionError) as err:
        check_transition(current, target)
    assert str(err.value) == "Unknown status 'foo'. Valid: investigating, identified, monitoring, resolved."


def test_transition_error_is_a_value_error() -> None:
    assert issubclass(TransitionError, ValueError)


def test_parse_status() -> None:
    assert parse_status(" Monitoring ") == "monitoring"
    with pytest.raises(TransitionError, match="Unknown status 'Fixed'"):
        parse_status("Fixed")


@pytest.mark.parametrize(("status", "open_"), [
    ("investigating", True), ("identified", True), ("monitoring", True), ("resolved", False), ("foo", False),
])
def test_is_open(status: str, open_: bool) -> None:
    assert is_open(status) is open_


def test_emoji_and_roles() -> None:
    assert STATUS_EMOJI == {"investigating": ":mag:", "identified": ":bulb:", "monitoring": ":eyes:",
                            "resolved": ":white_check_mark:"}
    assert (ROLE_IC, ROLE_SME) == ("ic", "sme")
