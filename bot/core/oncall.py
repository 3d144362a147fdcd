"""On-call schedules as pure time math: layers rotate users, restrictions clip layers, overrides win.

Modelled on GoAlert's schedule/rotation code. Everything here is a pure function of its arguments (no
clock reads, no I/O), so the paging code, the `/oncall` command and `python -m bot oncall` all agree,
and the tests can check the result against a minute-by-minute brute force.

Time model, and why:

* Rotations hand off at *local wall time* ``start + k * rotation`` (k = 0, 1, 2, ...). People expect a
  "daily 09:00" handoff to stay at 09:00 across DST, so the math is done on naive wall time and each
  boundary is converted to UTC with `localize`. The shift containing a DST change is 23h or 25h long.
* `localize` follows PEP 495 ``fold=0``: a wall time in a spring-forward gap is read with the offset
  from before the gap (so it lands *after* the gap, moved forward by the gap's length) and an ambiguous
  fall-back time takes its first occurrence. Because gap times land after the gap, a boundary in a gap
  can convert to a later instant than the next boundary when the rotation is shorter than the gap. The
  rule that keeps this well defined: at instant ``u`` the layer is on shift ``k`` = the largest ``k >= 0``
  with ``localize(start + k*rotation) <= u`` (nobody if there is none). Shifts that vanish are dropped.
* Restrictions are membership of the instant's *local wall clock* in a window ("on call while the
  clock on the wall reads 21:00-09:00"), like GoAlert's rule ``IsActive``. Away from DST changes this is
  exactly ``[localize(window start), localize(window end))``. Inside a gap or overlap it differs in the
  way a person would expect: a 01:00-01:30 window on a fall-back night is on for both 01:00-01:30s, and
  a window ending in a spring-forward gap ends when the clock jumps.
* Intervals are half-open ``[start, end)``, exact to the microsecond; all outputs are aware UTC.
"""
from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.durations import format_duration, parse_duration

__all__ = [
    "ROTATIONS",
    "Layer",
    "Override",
    "Restriction",
    "Schedule",
    "Shift",
    "final_shifts",
    "handoffs",
    "layer_shifts",
    "localize",
    "next_shift",
    "on_call_at",
    "parse_rotation",
    "render_table",
]

UTC = dt.timezone.utc

# Wall time and UTC differ by less than this anywhere (real offsets stay within -12h..+14h; the slack
# covers historical local-mean-time offsets). Used to bound which handoffs / windows can matter.
_WALL_MARGIN = dt.timedelta(days=2)
# Offsets are sampled this often when looking for DST transitions; real zones never change offset twice
# (and back) within this span.
_TRANSITION_PROBE = dt.timedelta(hours=6)
_TICK = dt.timedelta(microseconds=1)


# --------------------------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Restriction:
    """A recurring window (in the schedule's local wall time) outside which a layer has nobody on call.

    daily: every day from start_time to end_time; end_time <= start_time crosses midnight, and
    start_time == end_time means the whole day. weekly: from (start_day, start_time) to
    (end_day, end_time), days 1=Monday..7=Sunday, wrapping past Sunday; identical ends mean the whole week.
    """

    kind: Literal["daily", "weekly"]
    start_time: dt.time
    end_time: dt.time
    start_day: int | None = None
    end_day: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("daily", "weekly"):
            raise ValueError(f"restriction kind must be 'daily' or 'weekly', not {self.kind!r}")
        if self.start_time.tzinfo is not None or self.end_time.tzinfo is not None:
            raise ValueError("restriction times are local wall times; give them without tzinfo")
        if self.kind == "weekly":
            for day in (self.start_day, self.end_day):
                if not isinstance(day, int) or isinstance(day, bool) or not 1 <= day <= 7:
                    raise ValueError("a weekly restriction needs start_day and end_day in 1..7 (1 = Monday)")
        elif self.start_day is not None or self.end_day is not None:
            raise ValueError("a daily restriction takes no start_day/end_day")

    def windows(self, first: dt.date, last: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """Naive wall-time windows [a, b) that start on a date in [first, last]."""
        out = []
        day = first
        one_day = dt.timedelta(days=1)
        while day <= last:
            if self.kind == "daily":
                a = dt.datetime.combine(day, self.start_time)
                b = dt.datetime.combine(day, self.end_time)
                if b <= a:
                    b += one_day
                out.append((a, b))
            elif day.isoweekday() == self.start_day:
                assert self.end_day is not None
                a = dt.datetime.combine(day, self.start_time)
                b = dt.datetime.combine(day + dt.timedelta(days=(self.end_day - self.start_day) % 7), self.end_time)
                if b <= a:
                    b += dt.timedelta(weeks=1)
                out.append((a, b))
            day += one_day
        return out


@dataclass(frozen=True)
class Layer:
    """A rotation: users[k % len(users)] holds shift k, which starts at local wall time start + k*rotation.

    `start` is naive local wall time in the schedule's zone (an aware start is accepted and converted to
    that zone's wall time). Before the first handoff the layer has nobody.
    """

    name: str
    start: dt.datetime
    rotation: dt.timedelta
    users: tuple[str, ...]
    restrictions: tuple[Restriction, ...] = ()

    def __post_init__(self) -> None:
        # Lists are accepted (config code builds them) but stored as tuples so the value stays hashable.
        object.__setattr__(self, "users", tuple(self.users))
        object.__setattr__(self, "restrictions", tuple(self.restrictions))
        if self.rotation <= dt.timedelta(0):
            raise ValueError(f"layer {self.name!r}: rotation must be positive, got {self.rotation}")


@dataclass(frozen=True)
class Override:
    """`user` is on call for [start, end), beating every layer.

    start/end should be aware. Naive values are read as the schedule's local wall time (via `localize`),
    so an override typed as "Saturday 10:00-18:00" means that in the schedule's zone.
    """

    user: str
    start: dt.datetime
    end: dt.datetime

    def __post_init__(self) -> None:
        if (self.start.tzinfo is None) == (self.end.tzinfo is None) and self.end < self.start:
            raise ValueError(f"override for {self.user!r} ends before it starts")


@dataclass(frozen=True)
class Schedule:
    """Layers in increasing priority (a later layer wins wherever it has someone), then overrides."""

    name: str
    time_zone: str
    layers: tuple[Layer, ...]
    overrides: tuple[Override, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        object.__setattr__(self, "overrides", tuple(self.overrides))
        _zone(self.time_zone)  # fail at construction, not at 3am when someone is paged


@dataclass(frozen=True)
class Shift:
    """`user` is on call for [start, end); both aware UTC."""

    user: str
    start: dt.datetime
    end: dt.datetime

    @property
    def duration(self) -> dt.timedelta:
        return self.end - self.start


ROTATIONS: dict[str, dt.timedelta] = {
    "hourly": dt.timedelta(hours=1),
    "daily": dt.timedelta(days=1),
    "weekly": dt.timedelta(weeks=1),
}


# ------------------------------------------------------------------------------------------- helpers


@lru_cache(maxsize=None)
def _zone(time_zone: str) -> ZoneInfo:
    try:
        return ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"{time_zone!r} is not an IANA time zone such as America/New_York") from None


def _utc(when: dt.datetime, what: str = "time") -> dt.datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime, got naive {when!r}")
    return when.astimezone(UTC)


def _wall(when: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """Naive local wall time of an aware instant."""
    return when.astimezone(zone).replace(tzinfo=None)


def _layer_start(layer: Layer, zone: ZoneInfo) -> dt.datetime:
    return layer.start if layer.start.tzinfo is None else _wall(layer.start, zone)


def parse_rotation(text: str) -> dt.timedelta:
    """"hourly", "daily", "weekly", or any positive duration ("12h", "3d", "2w")."""
    key = str(text).strip().lower()
    if key in ROTATIONS:
        return ROTATIONS[key]
    try:
        return parse_duration(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a rotation; use hourly, daily, weekly or a duration like 12h, 3d, 2w"
        ) from None


def localize(naive: dt.datetime, tz: str) -> dt.datetime:
    """Naive local wall time in zone `tz` -> aware UTC.

    PEP 495 fold=0: ambiguous (fall-back) times take the first occurrence; nonexistent (spring-forward)
    times use the offset from before the gap, which moves them forward by the gap (02:30 on a US
    spring-forward day becomes 03:30 EDT).
    """
    if naive.tzinfo is not None:
        raise ValueError(f"localize takes a naive wall time, got aware {naive!r}")
    return naive.replace(tzinfo=_zone(tz), fold=0).astimezone(UTC)


def _offset_segments(zone: ZoneInfo, u0: dt.datetime, u1: dt.datetime) -> list[tuple[dt.datetime, dt.datetime, dt.timedelta]]:
    """Split [u0, u1) (aware UTC) into pieces of constant UTC offset: (start, end, offset).

    zoneinfo does not expose its transition table, so offsets are probed every few hours and each change
    is pinned down by bisection to the microsecond.
    """

    def offset(u: dt.datetime) -> dt.timedelta:
        return u.astimezone(zone).utcoffset()  # type: ignore[return-value]

    segments = []
    seg_start, seg_off = u0, offset(u0)
    probe = u0
    while probe < u1:
        nxt = min(probe + _TRANSITION_PROBE, u1)
        while offset(nxt) != seg_off:
            lo, hi = max(probe, seg_start), nxt  # offset(lo) == seg_off != offset(hi)
            while hi - lo > _TICK:
                mid = lo + (hi - lo) // 2
                if offset(mid) == seg_off:
                    lo = mid
                else:
                    hi = mid
            segments.append((seg_start, hi, seg_off))
            seg_start, seg_off = hi, offset(hi)
        probe = nxt
    if seg_start < u1:
        segments.append((seg_start, u1, seg_off))
    return segments


def _merge(intervals: Iterable[tuple[dt.datetime, dt.datetime]]) -> list[tuple[dt.datetime, dt.datetime]]:
    out: list[tuple[dt.datetime, dt.datetime]] = []
    for s, e in sorted(intervals):
        if s >= e:
            continue
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def _allowed(
    restrictions: Sequence[Restriction], zone: ZoneInfo, t0: dt.datetime, t1: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Sorted disjoint UTC intervals within [t0, t1) whose local wall clock lies in some restriction window.

    On a piece of constant offset `off`, wall(u) = u + off, so the instants whose wall time is in [a, b)
    are exactly [a - off, b - off) - no per-minute evaluation needed.
    """
    pieces = []
    for seg_start, seg_end, off in _offset_segments(zone, t0, t1):
        wall_lo = (seg_start + off).replace(tzinfo=None)
        wall_hi = (seg_end + off).replace(tzinfo=None)
        first = (wall_lo - dt.timedelta(days=7)).date()  # a weekly window may have started 7 days back
        for restriction in restrictions:
            for a, b in restriction.windows(first, wall_hi.date()):
                s = max((a - off).replace(tzinfo=UTC), seg_start)
                e = min((b - off).replace(tzinfo=UTC), seg_end)
                if s < e:
                    pieces.append((s, e))
    return _merge(pieces)


def _clip(intervals: list[Shift], allowed: list[tuple[dt.datetime, dt.datetime]]) -> list[Shift]:
    """Intersect sorted disjoint shifts with sorted disjoint allowed intervals (two-pointer sweep)."""
    out = []
    i = 0
    for shift in intervals:
        while i < len(allowed) and allowed[i][1] <= shift.start:
            i += 1
        j = i
        while j < len(allowed) and allowed[j][0] < shift.end:
            s, e = max(shift.start, allowed[j][0]), min(shift.end, allowed[j][1])
            if s < e:
                out.append(Shift(shift.user, s, e))
            j += 1
    return out


# ----------------------------------------------------------------------------------------- schedules


def layer_shifts(layer: Layer, time_zone: str, t0: dt.datetime, t1: dt.datetime) -> list[Shift]:
    """The layer's on-call pieces within [t0, t1), sorted, non-overlapping, aware UTC.

    One Shift per rotation shift (split further by restrictions); consecutive shifts of the same user
    are *not* merged here, so callers can see each handoff. `final_shifts` merges.
    """
    t0, t1 = _utc(t0, "t0"), _utc(t1, "t1")
    if t1 <= t0 or not layer.users:
        return []
    zone = _zone(time_zone)
    start, rotation, users = _layer_start(layer, zone), layer.rotation, layer.users

    wall_lo = _wall(t0, zone) - _WALL_MARGIN
    wall_hi = _wall(t1, zone) + _WALL_MARGIN
    if wall_hi < start:
        return []
    # Handoffs with wall time <= wall_lo are surely <= t0 in UTC, and those >= wall_hi surely > t1, so
    # k_lo..k_hi+1 contains every boundary that matters.
    k_lo = max(0, (wall_lo - start) // rotation)
    k_hi = max(k_lo, -((start - wall_hi) // rotation))
    boundaries = [localize(start + k * rotation, time_zone) for k in range(k_lo, k_hi + 2)]
    # Shift k is on at u iff k is the largest index with boundary(k) <= u, i.e. it starts at the minimum
    # of all boundaries from k on. Suffix minima make the boundaries monotone even if one in a DST gap
    # landed later than its successor.
    for i in range(len(boundaries) - 2, -1, -1):
        if boundaries[i + 1] < boundaries[i]:
            boundaries[i] = boundaries[i + 1]

    shifts = []
    for i, k in enumerate(range(k_lo, k_hi + 1)):
        s, e = max(boundaries[i], t0), min(boundaries[i + 1], t1)
        if s < e:
            shifts.append(Shift(users[k % len(users)], s, e))
    if layer.restrictions and shifts:
        shifts = _clip(shifts, _allowed(layer.restrictions, zone, shifts[0].start, shifts[-1].end))
    return shifts


def _override_interval(override: Override, time_zone: str) -> tuple[dt.datetime, dt.datetime]:
    def conv(when: dt.datetime) -> dt.datetime:
        return localize(when, time_zone) if when.tzinfo is None else _utc(when)

    return conv(override.start), conv(override.end)


def final_shifts(
    schedule: Schedule, t0: dt.datetime, t1: dt.datetime, extra_overrides: Iterable[Override] = ()
) -> list[Shift]:
    """Who is actually on call within [t0, t1): sorted, merged, aware UTC shifts.

    Priority, lowest first: layers in order, then schedule.overrides, then extra_overrides (each later
    one beating the earlier). Adjacent pieces of the same user merge into one Shift; gaps where nobody
    is on call are simply absent.
    """
    t0, t1 = _utc(t0, "t0"), _utc(t1, "t1")
    if t1 <= t0:
        return []
    # Each source is a sorted list of disjoint (start, end, user); later sources win.
    sources: list[list[tuple[dt.datetime, dt.datetime, str]]] = []
    for layer in schedule.layers:
        sources.append([(s.start, s.end, s.user) for s in layer_shifts(layer, schedule.time_zone, t0, t1)])
    for override in (*schedule.overrides, *extra_overrides):
        s, e = _override_interval(override, schedule.time_zone)
        s, e = max(s, t0), min(e, t1)
        if s < e:
            sources.append([(s, e, override.user)])

    points = sorted({t0, t1, *(p for src in sources for s, e, _ in src for p in (s, e))})
    starts = [[s for s, _, _ in src] for src in sources]
    out: list[Shift] = []
    for a, b in zip(points, points[1:]):
        user = None
        for src, src_starts in zip(reversed(sources), reversed(starts)):
            i = bisect.bisect_right(src_starts, a) - 1
            if i >= 0 and src[i][1] > a:
                user = src[i][2]
                break
        if user is None:
            continue
        if out and out[-1].user == user and out[-1].end == a:
            out[-1] = Shift(user, out[-1].start, b)
        else:
            out.append(Shift(user, a, b))
    return out


def on_call_at(schedule: Schedule, at: dt.datetime, extra_overrides: Iterable[Override] = ()) -> Shift | None:
    """The final shift covering `at` (start <= at < end), or None if nobody is on call.

    The shift is reported with its full merged extent, found by widening the window until the shift no
    longer touches its edges (up to 90 days either side, where it is clipped).
    """
    at = _utc(at, "at")
    extra = tuple(extra_overrides)
    longest = max((layer.rotation for layer in schedule.layers), default=dt.timedelta(days=1))
    span = max(2 * longest, dt.timedelta(days=2))
    cap = dt.timedelta(days=90)
    while True:
        span = min(span, cap)
        t0, t1 = at - span, at + span
        hit = next((s for s in final_shifts(schedule, t0, t1, extra) if s.start <= at < s.end), None)
        if hit is None or span >= cap or (hit.start > t0 and hit.end < t1):
            return hit
        span *= 4


def next_shift(
    schedule: Schedule,
    at: dt.datetime,
    extra_overrides: Iterable[Override] = (),
    horizon: dt.timedelta = dt.timedelta(days=60),
) -> Shift | None:
    """The first final shift starting after `at` whose user differs from whoever is on call at `at`.

    If nobody is on call at `at`, that is simply the next shift. Looks `horizon` ahead; the returned
    shift keeps its full extent even if it runs past the horizon.
    """
    at = _utc(at, "at")
    extra = tuple(extra_overrides)
    current = on_call_at(schedule, at, extra)
    current_user = current.user if current else None
    for shift in final_shifts(schedule, at, at + horizon, extra):
        if shift.start > at and shift.user != current_user:
            full = on_call_at(schedule, shift.start, extra)
            return full if full is not None and full.user == shift.user and full.start == shift.start else shift
    return None


def handoffs(
    schedule: Schedule, t0: dt.datetime, t1: dt.datetime, extra_overrides: Iterable[Override] = ()
) -> list[tuple[dt.datetime, str | None, str | None]]:
    """Every instant in (t0, t1] where the on-call user changes: (at, outgoing, incoming), None = nobody.

    Used to schedule "you're on call now" notifications; a change exactly at t1 is included, one
    exactly at t0 is not, so consecutive windows (t0, t1], (t1, t2] see each handoff once.
    """
    t0, t1 = _utc(t0, "t0"), _utc(t1, "t1")
    if t1 <= t0:
        return []
    events: list[tuple[dt.datetime, str | None, str | None]] = []
    prev_user: str | None = None
    prev_end = t0
    # One extra microsecond so the state *at* t1 (and hence a change at t1) is visible.
    for shift in final_shifts(schedule, t0, t1 + _TICK, extra_overrides):
        if prev_user is not None and shift.start > prev_end:
            events.append((prev_end, prev_user, None))
            prev_user = None
        if shift.start > t0 and shift.user != prev_user:
            events.append((shift.start, prev_user, shift.user))
        prev_user, prev_end = shift.user, shift.end
    if prev_user is not None and prev_end <= t1:
        events.append((prev_end, prev_user, None))
    return events


def _format_local(when: dt.datetime, zone: ZoneInfo) -> str:
    local = when.astimezone(zone)
    pattern = "%Y-%m-%d %H:%M:%S" if local.second or local.microsecond else "%Y-%m-%d %H:%M"
    return f"{local.strftime(pattern)} {local.tzname()}"


def render_table(
    schedule: Schedule,
    t0: dt.datetime,
    t1: dt.datetime,
    extra_overrides: Iterable[Override] = (),
    label: Callable[[str], str] = lambda u: u,
) -> str:
    """Plain-text table of final shifts in [t0, t1): START, END (schedule-local with zone abbreviation,
    e.g. "2024-03-10 09:00 EDT"), DURATION, USER. Shifts cut by the window show the cut times."""
    zone = _zone(schedule.time_zone)
    rows = [("START", "END", "DURATION", "USER")]
    shifts = final_shifts(schedule, t0, t1, extra_overrides)
    for shift in shifts:
        rows.append((
            _format_local(shift.start, zone),
            _format_local(shift.end, zone),
            format_duration(shift.end - shift.start),
            label(shift.user),
        ))
    widths = [max(len(row[c]) for row in rows) for c in range(3)]
    lines = ["  ".join([*(row[c].ljust(widths[c]) for c in range(3)), row[3]]).rstrip() for row in rows]
    if not shifts:
        lines.append("(nobody on call)")
    return "\n".join(lines)
