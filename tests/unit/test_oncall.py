"""On-call schedule math: hand-written DST/restriction/override cases, then property tests against a
minute-by-minute brute force written independently of the implementation."""
from __future__ import annotations

import time as _time
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.oncall import (
    ROTATIONS,
    Layer,
    Override,
    Restriction,
    Schedule,
    Shift,
    final_shifts,
    handoffs,
    layer_shifts,
    localize,
    next_shift,
    on_call_at,
    parse_rotation,
    render_table,
)

UTC = timezone.utc
NY = "America/New_York"
LONDON = "Europe/London"
SYDNEY = "Australia/Sydney"
H = timedelta(hours=1)
DAY = timedelta(days=1)
WEEK = timedelta(weeks=1)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(tz: str, *args) -> datetime:
    """Aware local time (fold=0), for writing expectations in the zone people think in."""
    return datetime(*args, tzinfo=ZoneInfo(tz))


def users_of(shifts):
    return [s.user for s in shifts]


def schedule(tz, *layers, overrides=()):
    return Schedule("primary", tz, tuple(layers), tuple(overrides))


# ------------------------------------------------------------------------------------ parse/localize


def test_parse_rotation():
    assert parse_rotation("hourly") == H
    assert parse_rotation("Daily") == DAY
    assert parse_rotation(" weekly ") == WEEK
    assert parse_rotation("12h") == timedelta(hours=12)
    assert parse_rotation("3d") == timedelta(days=3)
    assert ROTATIONS["weekly"] == WEEK
    for bad in ("fortnightly", "", "0h", "-1d"):
        with pytest.raises(ValueError, match="not a rotation"):
            parse_rotation(bad)


def test_localize_plain_gap_and_overlap():
    assert localize(datetime(2024, 1, 15, 9, 0), NY) == utc(2024, 1, 15, 14, 0)
    assert localize(datetime(2024, 7, 15, 9, 0), NY) == utc(2024, 7, 15, 13, 0)
    # 02:30 does not exist on 2024-03-10 in New York: moved forward by the gap, to 03:30 EDT.
    assert localize(datetime(2024, 3, 10, 2, 30), NY) == utc(2024, 3, 10, 7, 30)
    assert localize(datetime(2024, 3, 10, 2, 30), NY) == local(NY, 2024, 3, 10, 3, 30)
    # 01:30 happens twice on 2024-11-03: the first (EDT) occurrence is used.
    assert localize(datetime(2024, 11, 3, 1, 30), NY) == utc(2024, 11, 3, 5, 30)
    # London gap is 01:00-02:00; Sydney's autumn overlap is 02:00-03:00.
    assert localize(datetime(2024, 3, 31, 1, 15), LONDON) == utc(2024, 3, 31, 1, 15)
    assert localize(datetime(2024, 4, 7, 2, 30), SYDNEY) == utc(2024, 4, 6, 15, 30)
    assert localize(datetime(2024, 3, 10, 2, 30), NY).tzinfo is UTC
    with pytest.raises(ValueError):
        localize(utc(2024, 1, 1), NY)


def test_models_validate_early():
    with pytest.raises(ValueError):
        Restriction("weekly", time(9), time(17))
    with pytest.raises(ValueError):
        Restriction("daily", time(9), time(17), 1, 5)
    with pytest.raises(ValueError):
        Restriction("weekly", time(9), time(17), 0, 5)
    with pytest.raises(ValueError):
        Layer("l", datetime(2024, 1, 1), timedelta(0), ("a",))
    with pytest.raises(ValueError):
        Schedule("s", "Mars/Olympus_Mons", ())
    with pytest.raises(ValueError):
        Override("a", utc(2024, 1, 2), utc(2024, 1, 1))
    layer = Layer("l", datetime(2024, 1, 1), DAY, ["a", "b"])  # lists become tuples: stays hashable
    assert layer.users == ("a", "b") and hash(layer)
    with pytest.raises(ValueError, match="aware"):
        final_shifts(schedule(NY, layer), datetime(2024, 1, 1), datetime(2024, 1, 2))


# ---------------------------------------------------------------------------------- rotations & DST

WEEKLY_MON_9 = Layer("primary", datetime(2024, 1, 1, 9, 0), WEEK, ("alice", "bob", "carol"))


def test_weekly_rotation_hands_off_monday_0900_new_york():
    s = schedule(NY, WEEKLY_MON_9)
    shifts = final_shifts(s, local(NY, 2024, 1, 1), local(NY, 2024, 1, 29))
    assert users_of(shifts) == ["alice", "bob", "carol", "alice"]
    assert [x.start for x in shifts] == [utc(2024, 1, d, 14) for d in (1, 8, 15, 22)]
    assert shifts[-1].end == local(NY, 2024, 1, 29)
    assert all(x.start.tzinfo is UTC and x.end.tzinfo is UTC for x in shifts)


def test_exact_at_handoff():
    s = schedule(NY, WEEKLY_MON_9)
    handoff = local(NY, 2024, 1, 8, 9, 0)
    second = timedelta(seconds=1)
    micro = timedelta(microseconds=1)
    assert on_call_at(s, handoff - second).user == "alice"
    assert on_call_at(s, handoff - micro).user == "alice"
    assert on_call_at(s, handoff).user == "bob"
    assert on_call_at(s, handoff + second).user == "bob"
    assert on_call_at(s, handoff) == Shift("bob", utc(2024, 1, 8, 14), utc(2024, 1, 15, 14))
    assert on_call_at(s, handoff - second) == Shift("alice", utc(2024, 1, 1, 14), utc(2024, 1, 8, 14))


def test_weekly_shift_across_spring_forward_is_one_hour_short():
    s = schedule(NY, WEEKLY_MON_9)
    shift = on_call_at(s, local(NY, 2024, 3, 10, 12))
    assert shift == Shift("alice", local(NY, 2024, 3, 4, 9), local(NY, 2024, 3, 11, 9))
    assert shift.end - shift.start == WEEK - H


@pytest.mark.parametrize(
    ("tz", "day_before", "start_utc", "end_utc", "hours"),
    [
        (NY, date(2024, 3, 9), utc(2024, 3, 9, 14), utc(2024, 3, 10, 13), 23),
        (NY, date(2024, 11, 2), utc(2024, 11, 2, 13), utc(2024, 11, 3, 14), 25),
        (LONDON, date(2024, 3, 30), utc(2024, 3, 30, 9), utc(2024, 3, 31, 8), 23),
        (LONDON, date(2024, 10, 26), utc(2024, 10, 26, 8), utc(2024, 10, 27, 9), 25),
        (SYDNEY, date(2024, 4, 6), utc(2024, 4, 5, 22), utc(2024, 4, 6, 23), 25),
        (SYDNEY, date(2024, 10, 5), utc(2024, 10, 4, 23), utc(2024, 10, 5, 22), 23),
    ],
)
def test_daily_0900_handoff_stays_at_0900_local_across_dst(tz, day_before, start_utc, end_utc, hours):
    layer = Layer("daily", datetime(2024, 1, 1, 9, 0), DAY, ("a", "b", "c"))
    t0 = localize(datetime.combine(day_before - timedelta(days=2), time(0)), tz)
    t1 = localize(datetime.combine(day_before + timedelta(days=3), time(0)), tz)
    shifts = layer_shifts(layer, tz, t0, t1)
    # Every boundary is 09:00 on the local clock, whatever the UTC offset that day.
    for x in shifts[1:]:
        assert x.start.astimezone(ZoneInfo(tz)).time() == time(9, 0)
    dst_shift = next(x for x in shifts if x.start == start_utc)
    assert dst_shift.end == end_utc
    assert dst_shift.end - dst_shift.start == timedelta(hours=hours)
    k = (day_before - date(2024, 1, 1)).days
    assert dst_shift.user == "abc"[k % 3]
    # Neighbouring shifts are ordinary 24h days.
    i = shifts.index(dst_shift)
    assert shifts[i - 1].end - shifts[i - 1].start == DAY
    assert shifts[i + 1].end - shifts[i + 1].start == DAY


def test_handoff_at_0230_on_spring_forward_day_moves_forward_by_the_gap():
    layer = Layer("late", datetime(2024, 3, 5, 2, 30), DAY, ("a", "b"))
    shifts = layer_shifts(layer, NY, local(NY, 2024, 3, 9), local(NY, 2024, 3, 12))
    assert shifts == [
        Shift("b", local(NY, 2024, 3, 9), local(NY, 2024, 3, 9, 2, 30)),
        Shift("a", local(NY, 2024, 3, 9, 2, 30), local(NY, 2024, 3, 10, 3, 30)),  # 24h of real time
        Shift("b", local(NY, 2024, 3, 10, 3, 30), local(NY, 2024, 3, 11, 2, 30)),  # 23h
        Shift("a", local(NY, 2024, 3, 11, 2, 30), local(NY, 2024, 3, 12)),
    ]
    assert shifts[1].end == utc(2024, 3, 10, 7, 30)


def test_hourly_rotation_through_the_gap_skips_the_hour_that_never_happens():
    layer = Layer("hourly", datetime(2024, 3, 10, 0, 0), H, ("a", "b", "c", "d"))
    shifts = layer_shifts(layer, NY, local(NY, 2024, 3, 10), local(NY, 2024, 3, 10, 5))
    # Wall 02:00-03:00 does not exist that day, so shift 2 ("c") is empty and dropped.
    assert shifts == [
        Shift("a", local(NY, 2024, 3, 10, 0), local(NY, 2024, 3, 10, 1)),
        Shift("b", local(NY, 2024, 3, 10, 1), local(NY, 2024, 3, 10, 3)),
        Shift("d", local(NY, 2024, 3, 10, 3), local(NY, 2024, 3, 10, 4)),
        Shift("a", local(NY, 2024, 3, 10, 4), local(NY, 2024, 3, 10, 5)),
    ]
    assert shifts[1].end - shifts[1].start == H  # 01:00 EST -> 03:00 EDT is one real hour


def test_hourly_rotation_through_the_overlap_gets_an_extra_hour():
    layer = Layer("hourly", datetime(2024, 11, 3, 0, 0), H, ("a", "b", "c"))
    shifts = layer_shifts(layer, NY, utc(2024, 11, 3, 4), utc(2024, 11, 3, 9))
    # 01:00 EDT -> 02:00 EST spans both 01:xx hours.
    assert shifts[1] == Shift("b", utc(2024, 11, 3, 5), utc(2024, 11, 3, 7))
    assert users_of(shifts) == ["a", "b", "c", "a"]


def test_rotation_shorter_than_the_gap_stays_well_formed():
    # A 30-minute rotation whose boundary lands in the gap converts to a later instant than the next one.
    layer = Layer("fast", datetime(2024, 3, 10, 0, 45), timedelta(minutes=30), ("a", "b", "c"))
    shifts = layer_shifts(layer, NY, utc(2024, 3, 10, 6), utc(2024, 3, 10, 9))
    for x, y in zip(shifts, shifts[1:]):
        assert x.end == y.start and x.start < x.end
    assert shifts[0].start == utc(2024, 3, 10, 6) and shifts[-1].end == utc(2024, 3, 10, 9)
    # 02:15 -> 07:15 UTC and 02:45 -> 07:45 UTC lose to 03:15 -> 07:15 UTC: at 07:20 shift "03:15" rules.
    boundary_0315 = (datetime(2024, 3, 10, 3, 15) - datetime(2024, 3, 10, 0, 45)) // timedelta(minutes=30)
    assert on_call_at(schedule(NY, layer), utc(2024, 3, 10, 7, 20)).user == "abc"[boundary_0315 % 3]


# ------------------------------------------------------------------------------------- restrictions

NIGHTS = Restriction("daily", time(21, 0), time(9, 0))
WEEKEND = Restriction("weekly", time(22, 0), time(6, 0), start_day=5, end_day=1)


def test_daily_restriction_crossing_midnight():
    layer = Layer("nights", datetime(2024, 1, 1, 9, 0), DAY, ("a", "b"), (NIGHTS,))
    shifts = layer_shifts(layer, NY, local(NY, 2024, 1, 2), local(NY, 2024, 1, 4))
    assert shifts == [
        Shift("a", local(NY, 2024, 1, 2, 0), local(NY, 2024, 1, 2, 9)),
        Shift("b", local(NY, 2024, 1, 2, 21), local(NY, 2024, 1, 3, 9)),
        Shift("a", local(NY, 2024, 1, 3, 21), local(NY, 2024, 1, 4, 0)),
    ]
    s = schedule(NY, layer)
    assert on_call_at(s, local(NY, 2024, 1, 2, 12)) is None
    assert on_call_at(s, local(NY, 2024, 1, 2, 20, 59, 59)) is None
    assert on_call_at(s, local(NY, 2024, 1, 2, 21)).user == "b"


def test_night_restriction_on_fall_back_night_is_13_hours():
    layer = Layer("nights", datetime(2024, 1, 1, 9, 0), DAY, ("a",), (NIGHTS,))
    shifts = layer_shifts(layer, NY, local(NY, 2024, 11, 2, 12), local(NY, 2024, 11, 3, 12))
    assert [(x.start, x.end) for x in shifts] == [(utc(2024, 11, 3, 1), utc(2024, 11, 3, 14))]


def test_weekly_restriction_wrapping_sunday_to_monday():
    layer = Layer("weekend", datetime(2024, 1, 1, 9, 0), WEEK, ("a", "b"), (WEEKEND,))
    shifts = layer_shifts(layer, NY, local(NY, 2024, 1, 1), local(NY, 2024, 1, 16))
    assert shifts == [
        Shift("a", local(NY, 2024, 1, 5, 22), local(NY, 2024, 1, 8, 6)),
        Shift("b", local(NY, 2024, 1, 12, 22), local(NY, 2024, 1, 15, 6)),
    ]
    # A window that began before t0 (on Friday) still covers Sunday.
    assert layer_shifts(layer, NY, local(NY, 2024, 1, 7), local(NY, 2024, 1, 9)) == [
        Shift("a", local(NY, 2024, 1, 7), local(NY, 2024, 1, 8, 6))
    ]


def test_weekly_restriction_with_equal_ends_is_the_whole_week():
    always = Restriction("weekly", time(9), time(9), 3, 3)
    layer = Layer("l", datetime(2024, 1, 1), WEEK, ("a",), (always,))
    assert layer_shifts(layer, NY, utc(2024, 1, 2), utc(2024, 2, 2)) == [
        Shift("a", utc(2024, 1, 2), local(NY, 2024, 1, 8)),
        Shift("a", local(NY, 2024, 1, 8), local(NY, 2024, 1, 15)),
        Shift("a", local(NY, 2024, 1, 15), local(NY, 2024, 1, 22)),
        Shift("a", local(NY, 2024, 1, 22), local(NY, 2024, 1, 29)),
        Shift("a", local(NY, 2024, 1, 29), utc(2024, 2, 2)),
    ]
    # ... and a daily one with equal ends is the whole day.
    layer = Layer("l", datetime(2024, 1, 1), DAY, ("a",), (Restriction("daily", time(6), time(6)),))
    shifts = final_shifts(schedule(NY, layer), utc(2024, 1, 2), utc(2024, 1, 5))
    assert shifts == [Shift("a", utc(2024, 1, 2), utc(2024, 1, 5))]


def test_two_restrictions_are_unioned():
    morning = Restriction("daily", time(8), time(12))
    midday = Restriction("daily", time(10), time(14))
    evening = Restriction("daily", time(20), time(21))
    layer = Layer("l", datetime(2024, 1, 1), DAY, ("a", "b"), (morning, midday, evening))
    shifts = layer_shifts(layer, LONDON, local(LONDON, 2024, 1, 2), local(LONDON, 2024, 1, 4))
    assert shifts == [
        Shift("b", local(LONDON, 2024, 1, 2, 8), local(LONDON, 2024, 1, 2, 14)),
        Shift("b", local(LONDON, 2024, 1, 2, 20), local(LONDON, 2024, 1, 2, 21)),
        Shift("a", local(LONDON, 2024, 1, 3, 8), local(LONDON, 2024, 1, 3, 14)),
        Shift("a", local(LONDON, 2024, 1, 3, 20), local(LONDON, 2024, 1, 3, 21)),
    ]


def test_restriction_follows_the_wall_clock_in_the_overlap():
    # 01:00-01:30 happens twice on the fall-back night; the restriction is on for both.
    layer = Layer("l", datetime(2024, 1, 1), DAY, ("a",), (Restriction("daily", time(1), time(1, 30)),))
    shifts = layer_shifts(layer, NY, local(NY, 2024, 11, 3), local(NY, 2024, 11, 4))
    assert [(x.start, x.end) for x in shifts] == [
        (utc(2024, 11, 3, 5), utc(2024, 11, 3, 5, 30)),
        (utc(2024, 11, 3, 6), utc(2024, 11, 3, 6, 30)),
    ]
    # 02:30-03:15 on the spring-forward day: the clock only shows 03:00-03:15.
    layer = Layer("l", datetime(2024, 1, 1), DAY, ("a",), (Restriction("daily", time(2, 30), time(3, 15)),))
    shifts = layer_shifts(layer, NY, local(NY, 2024, 3, 10), local(NY, 2024, 3, 11))
    assert [(x.start, x.end) for x in shifts] == [(utc(2024, 3, 10, 7), utc(2024, 3, 10, 7, 15))]


# ------------------------------------------------------------------------------ layering & overrides

BASE = Layer("base", datetime(2024, 1, 1, 9, 0), DAY, ("a", "b"))  # day k: "ab"[k % 2]
NIGHT = Layer("night", datetime(2024, 1, 1, 9, 0), WEEK, ("n",), (NIGHTS,))


def test_layer_has_nobody_before_its_start():
    late = Layer("late", datetime(2024, 3, 5, 9, 0), DAY, ("x", "y"))
    s = schedule(NY, late)
    assert on_call_at(s, local(NY, 2024, 3, 5, 8, 59)) is None
    assert final_shifts(s, local(NY, 2024, 3, 1), local(NY, 2024, 3, 6))[0].start == local(NY, 2024, 3, 5, 9)
    assert layer_shifts(late, NY, local(NY, 2024, 2, 1), local(NY, 2024, 3, 1)) == []
    # Under a lower layer, the lower one shows through until the start.
    s = schedule(NY, BASE, late)
    shifts = final_shifts(s, local(NY, 2024, 3, 4, 9), local(NY, 2024, 3, 6, 9))
    assert shifts == [
        Shift("b", local(NY, 2024, 3, 4, 9), local(NY, 2024, 3, 5, 9)),
        Shift("x", local(NY, 2024, 3, 5, 9), local(NY, 2024, 3, 6, 9)),
    ]


def test_later_layer_wins_where_it_has_someone():
    s = schedule(NY, BASE, NIGHT)
    shifts = final_shifts(s, local(NY, 2024, 1, 2, 9), local(NY, 2024, 1, 3, 12))
    assert shifts == [
        Shift("b", local(NY, 2024, 1, 2, 9), local(NY, 2024, 1, 2, 21)),
        Shift("n", local(NY, 2024, 1, 2, 21), local(NY, 2024, 1, 3, 9)),
        Shift("a", local(NY, 2024, 1, 3, 9), local(NY, 2024, 1, 3, 12)),
    ]


def test_override_spanning_a_handoff():
    override = Override("o", local(NY, 2024, 1, 3, 8), local(NY, 2024, 1, 3, 10))
    s = schedule(NY, BASE, NIGHT, overrides=(override,))
    t0, t1 = local(NY, 2024, 1, 2, 21), local(NY, 2024, 1, 3, 21)
    assert final_shifts(s, t0, t1) == [
        Shift("n", local(NY, 2024, 1, 2, 21), local(NY, 2024, 1, 3, 8)),  # night layer beats base
        Shift("o", local(NY, 2024, 1, 3, 8), local(NY, 2024, 1, 3, 10)),  # override beats both, hides 09:00
        Shift("a", local(NY, 2024, 1, 3, 10), local(NY, 2024, 1, 3, 21)),
    ]
    assert handoffs(s, t0, t1) == [
        (local(NY, 2024, 1, 3, 8), "n", "o"),
        (local(NY, 2024, 1, 3, 10), "o", "a"),
        (local(NY, 2024, 1, 3, 21), "a", "n"),  # the change exactly at t1 is included
    ]


def test_override_for_the_user_already_on_call_merges():
    override = Override("a", local(NY, 2024, 1, 3, 7), local(NY, 2024, 1, 3, 10))
    s = schedule(NY, BASE, overrides=(override,))
    assert final_shifts(s, local(NY, 2024, 1, 2, 9), local(NY, 2024, 1, 4, 9)) == [
        Shift("b", local(NY, 2024, 1, 2, 9), local(NY, 2024, 1, 3, 7)),
        Shift("a", local(NY, 2024, 1, 3, 7), local(NY, 2024, 1, 4, 9)),
    ]


def test_overlapping_overrides_later_wins():
    o1 = Override("o1", local(NY, 2024, 1, 3, 10), local(NY, 2024, 1, 3, 14))
    o2 = Override("o2", utc(2024, 1, 3, 17), utc(2024, 1, 3, 21))  # 12:00-16:00 New York
    t0, t1 = local(NY, 2024, 1, 3, 9), local(NY, 2024, 1, 3, 18)
    assert final_shifts(schedule(NY, BASE, overrides=(o1, o2)), t0, t1) == [
        Shift("a", local(NY, 2024, 1, 3, 9), local(NY, 2024, 1, 3, 10)),
        Shift("o1", local(NY, 2024, 1, 3, 10), local(NY, 2024, 1, 3, 12)),
        Shift("o2", local(NY, 2024, 1, 3, 12), local(NY, 2024, 1, 3, 16)),
        Shift("a", local(NY, 2024, 1, 3, 16), local(NY, 2024, 1, 3, 18)),
    ]
    assert final_shifts(schedule(NY, BASE, overrides=(o2, o1)), t0, t1)[1:3] == [
        Shift("o1", local(NY, 2024, 1, 3, 10), local(NY, 2024, 1, 3, 14)),
        Shift("o2", local(NY, 2024, 1, 3, 14), local(NY, 2024, 1, 3, 16)),
    ]
    # extra_overrides come after the schedule's own, so they win.
    assert final_shifts(schedule(NY, BASE, overrides=(o2,)), t0, t1, extra_overrides=[o1])[1:3] == [
        Shift("o1", local(NY, 2024, 1, 3, 10), local(NY, 2024, 1, 3, 14)),
        Shift("o2", local(NY, 2024, 1, 3, 14), local(NY, 2024, 1, 3, 16)),
    ]


def test_naive_override_is_schedule_local_time():
    naive = Override("o", datetime(2024, 1, 3, 10), datetime(2024, 1, 3, 12))
    aware = Override("o", local(NY, 2024, 1, 3, 10), local(NY, 2024, 1, 3, 12))
    t0, t1 = local(NY, 2024, 1, 3), local(NY, 2024, 1, 4)
    assert final_shifts(schedule(NY, BASE), t0, t1, [naive]) == final_shifts(schedule(NY, BASE), t0, t1, [aware])


def test_window_in_any_zone_gives_utc_output():
    s = schedule(NY, BASE, NIGHT)
    tokyo = ZoneInfo("Asia/Tokyo")
    t0, t1 = utc(2024, 1, 2, 3, 17), utc(2024, 1, 5, 11, 2)
    assert final_shifts(s, t0.astimezone(tokyo), t1.astimezone(tokyo)) == final_shifts(s, t0, t1)
    assert final_shifts(s, t1, t0) == []


# ------------------------------------------------------------------------ handoffs / next / table


def test_handoffs_over_weeks():
    s = schedule(NY, WEEKLY_MON_9)
    t0 = local(NY, 2024, 1, 8, 9)  # a handoff exactly at t0 is not reported
    t1 = local(NY, 2024, 1, 29, 9)  # one exactly at t1 is
    assert handoffs(s, t0, t1) == [
        (utc(2024, 1, 15, 14), "bob", "carol"),
        (utc(2024, 1, 22, 14), "carol", "alice"),
        (utc(2024, 1, 29, 14), "alice", "bob"),
    ]
    assert handoffs(s, t0 - timedelta(seconds=1), t0)[0] == (t0, "alice", "bob")


def test_handoffs_to_and_from_nobody():
    layer = Layer("nights", datetime(2024, 1, 1, 9, 0), DAY, ("a", "b"), (NIGHTS,))
    s = schedule(NY, layer)
    assert handoffs(s, local(NY, 2024, 1, 2, 12), local(NY, 2024, 1, 3, 12)) == [
        (local(NY, 2024, 1, 2, 21), None, "b"),
        (local(NY, 2024, 1, 3, 9), "b", None),
    ]
    assert handoffs(s, local(NY, 2024, 1, 2, 12), local(NY, 2024, 1, 2, 20)) == []


def test_next_shift():
    s = schedule(NY, WEEKLY_MON_9)
    # During alice's week, the next is bob's full week (not clipped by anything).
    assert next_shift(s, local(NY, 2024, 1, 3)) == Shift("bob", utc(2024, 1, 8, 14), utc(2024, 1, 15, 14))
    # Exactly at a handoff, the incoming user is current; next is the one after.
    assert next_shift(s, local(NY, 2024, 1, 8, 9)).user == "carol"
    # Nobody on call now: the first shift coming up.
    late = schedule(NY, Layer("late", datetime(2024, 3, 5, 9, 0), DAY, ("x", "y")))
    assert next_shift(late, utc(2024, 2, 1)) == Shift("x", local(NY, 2024, 3, 5, 9), local(NY, 2024, 3, 6, 9))
    assert next_shift(late, utc(2023, 1, 1)) is None  # beyond the horizon
    # A repeated user merges into one shift, so "next" skips past the repeat.
    repeat = schedule(NY, Layer("r", datetime(2024, 1, 1, 9), DAY, ("a", "a", "b")))
    assert next_shift(repeat, local(NY, 2024, 1, 1, 12)) == Shift("b", local(NY, 2024, 1, 3, 9), local(NY, 2024, 1, 4, 9))
    # The returned shift keeps its full extent beyond the horizon.
    solo = schedule(NY, Layer("solo", datetime(2024, 3, 1), DAY, ("z",)))
    got = next_shift(solo, utc(2024, 2, 1), horizon=timedelta(days=40))
    assert got.user == "z" and got.start == local(NY, 2024, 3, 1) and got.end > utc(2024, 3, 12)
    # Nobody at all.
    assert next_shift(solo, utc(2024, 4, 1)) is None


def test_on_call_at_reports_the_full_merged_extent():
    s = schedule(NY, Layer("solo", datetime(2024, 1, 1), H, ("z",)), Layer("n", datetime(2024, 1, 1, 9), DAY, ("n",), (NIGHTS,)))
    assert on_call_at(s, local(NY, 2024, 1, 10, 12)) == Shift("z", local(NY, 2024, 1, 10, 9), local(NY, 2024, 1, 10, 21))
    assert on_call_at(schedule(NY), utc(2024, 1, 1)) is None


def test_render_table():
    s = schedule(NY, WEEKLY_MON_9, NIGHT)
    text = render_table(s, local(NY, 2024, 3, 8, 12), local(NY, 2024, 3, 12), label=lambda u: u.upper())
    lines = text.splitlines()
    assert lines[0].split() == ["START", "END", "DURATION", "USER"]
    assert "2024-03-09 21:00 EST  2024-03-10 09:00 EDT  11h" in text
    assert "ALICE" in text and "N" in text.split()
    assert "alice" not in text
    assert "2024-03-08 12:00 EST" in lines[1]
    assert lines[-1].endswith("N") and "2024-03-12 00:00 EDT" in lines[-1]
    assert render_table(schedule(NY), utc(2024, 1, 1), utc(2024, 1, 2)).endswith("(nobody on call)")
    odd = Override("o", utc(2024, 3, 9, 12, 0, 30), utc(2024, 3, 9, 12, 1))
    assert "2024-03-09 07:00:30 EST" in render_table(s, utc(2024, 3, 9), utc(2024, 3, 10), [odd])


def test_fourteen_days_is_fast():
    s = schedule(NY, WEEKLY_MON_9, Layer("b", datetime(2024, 1, 2, 9), WEEK, ("x", "y"), (NIGHTS, WEEKEND)),
                 Layer("c", datetime(2024, 1, 1), H, ("p", "q", "r"), (Restriction("daily", time(12), time(13)),)))
    begin = _time.perf_counter()
    for _ in range(20):
        final_shifts(s, local(NY, 2024, 3, 1), local(NY, 2024, 3, 15))
    assert (_time.perf_counter() - begin) / 20 < 0.05


# ----------------------------------------------------------------------------- brute-force oracle
#
# Written from the spec, not from the implementation: per UTC minute, find the largest k >= 0 whose
# handoff localize(start + k*rotation) is <= the minute (comparing against boundaries keeps it in step
# with the documented gap/overlap rule), and test restrictions on the minute's local wall clock.

MINUTE = timedelta(minutes=1)


def bf_localize(naive: datetime, tz: str) -> datetime:
    return naive.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)


def bf_in_restriction(r: Restriction, wall: datetime) -> bool:
    def seconds(t: time) -> int:
        return t.hour * 3600 + t.minute * 60 + t.second

    now = seconds(wall.time())
    a, b = seconds(r.start_time), seconds(r.end_time)
    if r.kind == "weekly":
        now += (wall.isoweekday() - 1) * 86400
        a += (r.start_day - 1) * 86400
        b += (r.end_day - 1) * 86400
    if a == b:
        return True
    return a <= now < b if a < b else (now >= a or now < b)


class BruteLayer:
    def __init__(self, layer: Layer, tz: str):
        self.layer, self.tz, self.memo = layer, tz, {}

    def boundary(self, k: int) -> datetime:
        if k not in self.memo:
            self.memo[k] = bf_localize(self.layer.start + k * self.layer.rotation, self.tz)
        return self.memo[k]

    def user_at(self, u: datetime, wall: datetime) -> str | None:
        layer = self.layer
        if layer.restrictions and not any(bf_in_restriction(r, wall) for r in layer.restrictions):
            return None
        guess = (wall - layer.start) // layer.rotation
        top = guess + 3
        assert self.boundary(top) > u and self.boundary(top + 1) > u
        for k in range(top, -1, -1):
            if self.boundary(k) <= u:
                return layer.users[k % len(layer.users)]
        return None


def brute_force(sched: Schedule, t0: datetime, t1: datetime, extra=()) -> list[str | None]:
    zone = ZoneInfo(sched.time_zone)
    layers = [BruteLayer(layer, sched.time_zone) for layer in sched.layers]
    overrides = [*sched.overrides, *extra]
    out = []
    u = t0
    while u < t1:
        user = None
        for o in overrides:
            if o.start <= u < o.end:
                user = o.user
        if user is None:
            wall = u.astimezone(zone).replace(tzinfo=None)
            for bl in reversed(layers):
                user = bl.user_at(u, wall)
                if user is not None:
                    break
        out.append(user)
        u += MINUTE
    return out


def paint(shifts: list[Shift], t0: datetime, t1: datetime) -> list[str | None]:
    """Minute array from shifts, checking they are minute-aligned, disjoint and inside [t0, t1)."""
    out: list[str | None] = [None] * ((t1 - t0) // MINUTE)
    for x in shifts:
        assert t0 <= x.start < x.end <= t1
        assert (x.start - t0) % MINUTE == timedelta(0) and (x.end - t0) % MINUTE == timedelta(0)
        for i in range((x.start - t0) // MINUTE, (x.end - t0) // MINUTE):
            assert out[i] is None, "overlapping shifts"
            out[i] = x.user
    return out


def assert_well_formed(shifts: list[Shift], t0: datetime, t1: datetime) -> None:
    for x in shifts:
        assert x.start.tzinfo is UTC and x.end.tzinfo is UTC
        assert t0 <= x.start < x.end <= t1
    for x, y in zip(shifts, shifts[1:]):
        assert x.end <= y.start


# ------------------------------------------------------------------------------------ strategies

DST_DATES = {
    "UTC": [date(2024, 3, 10), date(2024, 7, 1)],
    NY: [date(2024, 3, 10), date(2024, 11, 3)],
    LONDON: [date(2024, 3, 31), date(2024, 10, 27)],
    SYDNEY: [date(2024, 4, 7), date(2024, 10, 6)],
}
ROTATION_CHOICES = [H, 8 * H, DAY, WEEK, 12 * H]
# Times right at the DST edges, where bugs live, plus anything on a whole minute.
TRICKY_TIMES = [time(0), time(1), time(1, 30), time(2), time(2, 30), time(3), time(3, 30), time(9)]
minute_times = st.one_of(st.sampled_from(TRICKY_TIMES), st.builds(time, st.integers(0, 23), st.integers(0, 59)))
user_names = st.sampled_from(["a", "b", "c", "d"])

restrictions = st.one_of(
    st.builds(Restriction, st.just("daily"), minute_times, minute_times),
    st.builds(Restriction, st.just("weekly"), minute_times, minute_times, st.integers(1, 7), st.integers(1, 7)),
)


@st.composite
def layers(draw, anchor: date, max_restrictions: int = 2, start_before_days: int = 10, start_after_days: int = 2):
    day = anchor + timedelta(days=draw(st.integers(-start_before_days, start_after_days)))
    return Layer(
        name="layer",
        start=datetime.combine(day, draw(minute_times)),
        rotation=draw(st.sampled_from(ROTATION_CHOICES)),
        users=tuple(draw(st.lists(user_names, min_size=1, max_size=4))),
        restrictions=tuple(draw(st.lists(restrictions, max_size=max_restrictions))),
    )


@st.composite
def windows(draw, max_days: int = 3):
    tz = draw(st.sampled_from(sorted(DST_DATES)))
    anchor = draw(st.sampled_from(DST_DATES[tz]))
    t0 = datetime.combine(anchor, time(0), UTC) + draw(st.integers(-36 * 60, 24 * 60)) * MINUTE
    t1 = t0 + draw(st.integers(1, max_days * 24 * 60)) * MINUTE
    return tz, anchor, t0, t1


@st.composite
def overrides(draw, t0: datetime, t1: datetime):
    start = t0 + draw(st.integers(-12 * 60, (t1 - t0) // MINUTE)) * MINUTE
    end = start + draw(st.integers(1, 2 * 24 * 60)) * MINUTE
    zone = ZoneInfo(draw(st.sampled_from(sorted(DST_DATES))))
    return Override(draw(st.sampled_from(["o1", "o2", "a"])), start.astimezone(zone), end.astimezone(zone))


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------------- property tests


@FAST
@given(st.data())
def test_layer_shifts_sorted_and_disjoint(data):
    tz, anchor, t0, t1 = data.draw(windows(max_days=10))
    layer = data.draw(layers(anchor))
    assert_well_formed(layer_shifts(layer, tz, t0, t1), t0, t1)


@FAST
@given(st.data())
def test_unrestricted_layer_covers_from_its_start(data):
    tz, anchor, t0, t1 = data.draw(windows(max_days=10))
    layer = data.draw(layers(anchor, max_restrictions=0))
    shifts = layer_shifts(layer, tz, t0, t1)
    assert_well_formed(shifts, t0, t1)
    begin = max(t0, bf_localize(layer.start, tz))
    if begin >= t1:
        assert shifts == []
        return
    assert shifts[0].start == begin and shifts[-1].end == t1
    assert all(x.end == y.start for x, y in zip(shifts, shifts[1:]))
    assert sum((x.end - x.start for x in shifts), timedelta(0)) == t1 - begin


@FAST
@given(st.data())
def test_restricted_coverage_matches_minute_count(data):
    tz, anchor, t0, t1 = data.draw(windows(max_days=3))
    layer = data.draw(layers(anchor, start_before_days=20, start_after_days=-15))  # started well before t0
    layer = Layer(layer.name, layer.start, layer.rotation, layer.users, (*layer.restrictions, data.draw(restrictions)))
    shifts = layer_shifts(layer, tz, t0, t1)
    assert_well_formed(shifts, t0, t1)
    zone = ZoneInfo(tz)
    expected = 0
    u = t0
    while u < t1:
        wall = u.astimezone(zone).replace(tzinfo=None)
        expected += any(bf_in_restriction(r, wall) for r in layer.restrictions)
        u += MINUTE
    assert sum((x.end - x.start for x in shifts), timedelta(0)) == expected * MINUTE


@FAST
@given(st.data())
def test_final_schedule_matches_brute_force(data):
    tz, anchor, t0, t1 = data.draw(windows(max_days=3))
    sched = Schedule(
        "random",
        tz,
        tuple(data.draw(st.lists(layers(anchor), min_size=1, max_size=3))),
        tuple(data.draw(st.lists(overrides(t0, t1), max_size=1))),
    )
    extra = data.draw(st.lists(overrides(t0, t1), max_size=1))

    shifts = final_shifts(sched, t0, t1, extra)
    assert_well_formed(shifts, t0, t1)
    for x, y in zip(shifts, shifts[1:]):
        assert not (x.end == y.start and x.user == y.user), "adjacent same-user pieces must be merged"
    expected = brute_force(sched, t0, t1, extra)
    assert paint(shifts, t0, t1) == expected

    # handoffs() over (t0, last minute] are exactly the changes in the minute array.
    changes = [(t0 + i * MINUTE, expected[i - 1], expected[i]) for i in range(1, len(expected)) if expected[i] != expected[i - 1]]
    assert handoffs(sched, t0, t1 - MINUTE, extra) == changes

    # on_call_at agrees with the oracle at a random minute, and its shift contains that minute.
    i = data.draw(st.integers(0, len(expected) - 1))
    got = on_call_at(sched, t0 + i * MINUTE, extra)
    assert (got.user if got else None) == expected[i]
    if got:
        assert got.start <= t0 + i * MINUTE < got.end
