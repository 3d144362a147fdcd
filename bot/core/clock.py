"""The one source of "now".

Domain code takes `now` as an argument; services hold a Clock. Tests inject a FakeClock so that an escalation
after five minutes or a reminder after thirty is tested without waiting.
"""
from __future__ import annotations

import datetime as dt
from typing import Protocol

UTC = dt.timezone.utc


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    """Wall-clock time, aware UTC."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC)


class FakeClock:
    """A clock the test moves by hand; always aware UTC."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        self._now += delta
        return self._now

    def set(self, when: dt.datetime) -> None:
        self._now = when.astimezone(UTC)


def as_utc(value: dt.datetime) -> dt.datetime:
    """Databases (SQLite) hand back naive datetimes; everything we store is UTC, so re-attach it."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
