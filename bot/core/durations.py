"""Human durations: "90s", "5m", "1h30m", "1d", "1w", or plain seconds.

Operators type durations into YAML and slash commands ("remind me every 30m", "rotation: 12h"), and the
bot prints them back in reminders and on-call tables. One parser and one formatter keep both directions
consistent: anything `format_duration` prints, `parse_duration` reads back.
"""
from __future__ import annotations

import math
import re
from datetime import timedelta

__all__ = ["parse_duration", "format_duration"]

_HINT = "use forms like 90s, 5m, 1h30m, 1d, 1w or plain seconds"

# Units must appear largest first and at most once ("1h30m", "1d 2h"); whitespace between parts is allowed
# so that format_duration's "1h 30m" round-trips.
_DURATION_RE = re.compile(
    r"(?:(?P<w>\d+)\s*w)?\s*"
    r"(?:(?P<d>\d+)\s*d)?\s*"
    r"(?:(?P<h>\d+)\s*h)?\s*"
    r"(?:(?P<m>\d+)\s*m)?\s*"
    r"(?:(?P<s>\d+)\s*s)?"
)
_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def _not_a_duration(text: object) -> ValueError:
    return ValueError(f"{text!r} is not a duration; {_HINT}")


def _positive(td: timedelta, text: object) -> timedelta:
    # Zero or negative intervals would make reminders fire in a tight loop or rotations never advance.
    if td <= timedelta(0):
        raise ValueError(f"{text!r} is not a positive duration; {_HINT}")
    return td


def parse_duration(text: str | int | float) -> timedelta:
    """Parse a positive duration.

    Accepts unit strings ("90s", "5m", "1h30m", "1d2h", "1w", "1h 30m"; case-insensitive) and plain
    seconds (an int, a float, or a digit string). Raises ValueError with a message an operator can act
    on for anything else, including empty, zero and negative values.
    """
    if isinstance(text, bool):  # bool is an int subclass; `true` in YAML is never meant as 1 second
        raise _not_a_duration(text)
    if isinstance(text, (int, float)):
        if isinstance(text, float) and not math.isfinite(text):
            raise _not_a_duration(text)
        try:
            return _positive(timedelta(seconds=text), text)
        except OverflowError:
            raise ValueError(f"{text!r} is too long a duration") from None
    if not isinstance(text, str):
        raise _not_a_duration(text)
    cleaned = text.strip().lower()
    if not cleaned:
        raise _not_a_duration(text)
    try:
        if cleaned.isascii() and cleaned.isdigit():
            return _positive(timedelta(seconds=int(cleaned)), text)
        match = _DURATION_RE.fullmatch(cleaned)
        if match is None or not any(match.groupdict().values()):
            raise _not_a_duration(text)
        seconds = sum(int(v) * _UNIT_SECONDS[k] for k, v in match.groupdict().items() if v)
        return _positive(timedelta(seconds=seconds), text)
    except OverflowError:
        raise ValueError(f"{text!r} is too long a duration") from None


_FORMAT_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def format_duration(td: timedelta) -> str:
    """Compact text like "1h 30m", "5m", "2d 3h", "45s".

    Shows the largest non-zero unit and the unit right below it (if non-zero), truncating the rest:
    "1d 0h 5m" prints as "1d", because a table column wants magnitude, not a stopwatch. Weeks print as
    days ("14d") since on-call shifts are thought of in days. Negative durations get a leading "-";
    positive sub-second ones print as "<1s" so they are not mistaken for zero.
    """
    if td < timedelta(0):
        return "-" + format_duration(-td)
    seconds = td // timedelta(seconds=1)
    if seconds == 0:
        return "0s" if td == timedelta(0) else "<1s"
    parts: list[tuple[int, str]] = []
    for unit, size in _FORMAT_UNITS:
        amount, seconds = divmod(seconds, size)
        if amount or parts:
            parts.append((amount, unit))
        if len(parts) == 2:
            break
    return " ".join(f"{amount}{unit}" for amount, unit in parts if amount)
