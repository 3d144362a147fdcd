"""parse_duration / format_duration: the forms operators type, the errors they see, and round-trips."""
from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("5m", timedelta(minutes=5)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d", timedelta(days=1)),
        ("1w", timedelta(weeks=1)),
        ("2h", timedelta(hours=2)),
        ("12h", timedelta(hours=12)),
        ("3d", timedelta(days=3)),
        ("1d2h", timedelta(days=1, hours=2)),
        ("1w2d3h4m5s", timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
        ("  2H ", timedelta(hours=2)),
        ("90", timedelta(seconds=90)),
        (90, timedelta(seconds=90)),
        (1.5, timedelta(seconds=1.5)),
        ("0h5m", timedelta(minutes=5)),
    ],
)
def test_parse_accepts(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["5x", "", "   ", "h", "1.5h", "1m1h", "1h1h", "5 minutes", "-5m", "+5m", "1h-30m", "abc"])
def test_parse_rejects_garbage_with_a_hint(text):
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    message = str(info.value)
    assert repr(text) in message
    assert "use forms like 90s, 5m, 1h30m, 1d, 1w or plain seconds" in message


def test_parse_error_message_matches_the_documented_wording():
    with pytest.raises(ValueError, match=r"^'5x' is not a duration; use forms like 90s, 5m, 1h30m, 1d, 1w or plain seconds$"):
        parse_duration("5x")


@pytest.mark.parametrize("value", ["0", "0s", "0h0m", 0, 0.0, -5, -0.5])
def test_parse_rejects_zero_and_negative(value):
    with pytest.raises(ValueError, match="positive"):
        parse_duration(value)


@pytest.mark.parametrize("value", [True, None, float("nan"), float("inf"), [5]])
def test_parse_rejects_non_durations(value):
    with pytest.raises(ValueError):
        parse_duration(value)


def test_parse_overflow_is_a_value_error():
    with pytest.raises(ValueError):
        parse_duration("99999999999999999d")
    with pytest.raises(ValueError):
        parse_duration(10**20)


@pytest.mark.parametrize(
    ("td", "expected"),
    [
        (timedelta(hours=1, minutes=30), "1h 30m"),
        (timedelta(minutes=5), "5m"),
        (timedelta(days=2, hours=3), "2d 3h"),
        (timedelta(seconds=45), "45s"),
        (timedelta(seconds=90), "1m 30s"),
        (timedelta(days=1, minutes=5), "1d"),  # only the two largest units; the zero hour is dropped
        (timedelta(days=2, hours=3, minutes=59, seconds=59), "2d 3h"),  # truncated, never rounded up
        (timedelta(weeks=2), "14d"),
        (timedelta(hours=23), "23h"),
        (timedelta(days=6, hours=23), "6d 23h"),
        (timedelta(0), "0s"),
        (timedelta(milliseconds=10), "<1s"),
        (timedelta(minutes=-90), "-1h 30m"),
    ],
)
def test_format(td, expected):
    assert format_duration(td) == expected


_UNIT = {"d": 86400, "h": 3600, "m": 60, "s": 1}


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=10**8))
def test_format_then_parse_keeps_the_two_largest_units(seconds):
    text = format_duration(timedelta(seconds=seconds))
    parsed = parse_duration(text)
    # The printed value is the input truncated below its second-largest unit.
    assert parsed <= timedelta(seconds=seconds)
    leading = next(size for size in _UNIT.values() if seconds >= size)
    finer = {86400: 3600, 3600: 60, 60: 1, 1: 1}[leading]
    assert timedelta(seconds=seconds) - parsed < timedelta(seconds=finer)


@settings(max_examples=200, deadline=None)
@given(
    st.fixed_dictionaries({u: st.integers(0, 500) for u in "wdhms"}).filter(lambda d: any(d.values())),
    st.sampled_from(["", " "]),
)
def test_parse_of_composed_strings(parts, sep):
    text = sep.join(f"{parts[u]}{u}" for u in "wdhms" if parts[u])
    expected = timedelta(weeks=parts["w"], days=parts["d"], hours=parts["h"], minutes=parts["m"], seconds=parts["s"])
    assert parse_duration(text) == expected
    assert parse_duration(text.upper()) == expected
