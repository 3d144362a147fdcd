"""Incident statuses, the transitions allowed between them, and the roles people take.

One explicit table rather than scattered `if` checks, so every command (status, resolve, reopen) refuses the same moves
with the same explanation, and the table can be tested pair by pair.
"""
from __future__ import annotations

INVESTIGATING = "investigating"
IDENTIFIED = "identified"
MONITORING = "monitoring"
RESOLVED = "resolved"

STATUSES: tuple[str, ...] = (INVESTIGATING, IDENTIFIED, MONITORING, RESOLVED)
INITIAL_STATUS = INVESTIGATING
OPEN_STATUSES = frozenset({INVESTIGATING, IDENTIFIED, MONITORING})

# Open statuses move freely among themselves and to resolved; a resolved incident only comes back through reopen.
TRANSITIONS: dict[str, frozenset[str]] = {
    INVESTIGATING: frozenset({IDENTIFIED, MONITORING, RESOLVED}),
    IDENTIFIED: frozenset({INVESTIGATING, MONITORING, RESOLVED}),
    MONITORING: frozenset({INVESTIGATING, IDENTIFIED, RESOLVED}),
    RESOLVED: frozenset({INVESTIGATING}),
}

STATUS_EMOJI: dict[str, str] = {
    INVESTIGATING: ":mag:",
    IDENTIFIED: ":bulb:",
    MONITORING: ":eyes:",
    RESOLVED: ":white_check_mark:",
}

ROLE_IC = "ic"
ROLE_SME = "sme"
ROLES: tuple[str, ...] = (ROLE_IC, ROLE_SME)


class TransitionError(ValueError):
    """A refused status change; the message is written for the person who asked and is shown to them as is."""


def parse_status(text: str) -> str:
    """A status typed by a person (`Monitoring `) as its canonical name, or a TransitionError listing the valid ones."""
    status = text.strip().lower()
    if status not in TRANSITIONS:
        raise TransitionError(_unknown(text.strip()))
    return status


def check_transition(current: str, target: str) -> None:
    """Raise TransitionError unless TRANSITIONS allows moving from `current` to `target`."""
    _require_known(current)
    _require_known(target)
    if target == current:
        raise TransitionError(f"It is already {current}.")
    if target in TRANSITIONS[current]:
        return
    if current == RESOLVED:
        raise TransitionError(f"An incident that is resolved can't move to {target}; use `/incident reopen` first.")
    raise TransitionError(f"An incident that is {current} can't move to {target}.")


def is_open(status: str) -> bool:
    """True until the incident is resolved: open incidents get reminders, pages and a live card."""
    return status in OPEN_STATUSES


def _require_known(status: str) -> None:
    if status not in TRANSITIONS:
        raise TransitionError(_unknown(status))


def _unknown(status: str) -> str:
    return f"Unknown status '{status}'. Valid: {', '.join(STATUSES)}."
