"""Response metrics: time to acknowledge, to an incident commander, to resolve; MTTA and MTTR over a period.

Pure arithmetic on timestamps the service loads, so `/incident stats 30d` and the postmortem's Metrics section agree to
the second and can be checked by hand in tests.
"""
from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from bot.core.durations import format_duration
from bot.core.mrkdwn import escape

_ZERO = dt.timedelta(0)


@dataclass(frozen=True)
class IncidentTimes:
    severity: str
    declared_at: dt.datetime
    first_ack_at: dt.datetime | None      # first page acknowledgement
    first_ic_at: dt.datetime | None       # first time someone became IC
    resolved_at: dt.datetime | None


def _since_declared(t: IncidentTimes, when: dt.datetime | None) -> dt.timedelta | None:
    """Elapsed time from the declaration; never negative, since a clock skew of a second is not a faster response."""
    if when is None:
        return None
    return max(when - t.declared_at, _ZERO)


def time_to_acknowledge(t: IncidentTimes) -> dt.timedelta | None:
    return _since_declared(t, t.first_ack_at)


def time_to_ic(t: IncidentTimes) -> dt.timedelta | None:
    return _since_declared(t, t.first_ic_at)


def time_to_resolve(t: IncidentTimes) -> dt.timedelta | None:
    return _since_declared(t, t.resolved_at)


@dataclass(frozen=True)
class Stats:
    period_start: dt.datetime
    period_end: dt.datetime
    count_by_severity: dict[str, int]
    mtta: dt.timedelta | None
    median_tta: dt.timedelta | None
    mttr: dt.timedelta | None
    median_ttr: dt.timedelta | None
    open_count: int
    total: int


def compute_stats(incidents: Iterable[IncidentTimes], now: dt.datetime, period: dt.timedelta,
                  severity_order: Sequence[str]) -> Stats:
    """Stats over the incidents declared in [now - period, now).

    Means and medians skip incidents without the timestamp (never acknowledged, still open) rather than counting
    them as zero, which would flatter the figures. Every configured severity is listed, with 0 when none occurred,
    so a quiet month reads as such; severities no longer configured follow, so no incident goes uncounted.
    """
    if period <= _ZERO:
        raise ValueError("period must be positive")
    start = now - period
    chosen = [t for t in incidents if start <= t.declared_at < now]
    ttas = [d for d in map(time_to_acknowledge, chosen) if d is not None]
    ttrs = [d for d in map(time_to_resolve, chosen) if d is not None]
    return Stats(
        period_start=start,
        period_end=now,
        count_by_severity=_count_by_severity(chosen, severity_order),
        mtta=mean_duration(ttas),
        median_tta=median_duration(ttas),
        mttr=mean_duration(ttrs),
        median_ttr=median_duration(ttrs),
        open_count=sum(1 for t in chosen if t.resolved_at is None),
        total=len(chosen),
    )


def _count_by_severity(incidents: Sequence[IncidentTimes], severity_order: Sequence[str]) -> dict[str, int]:
    counts = dict.fromkeys(severity_order, 0)
    for t in incidents:
        counts[t.severity] = counts.get(t.severity, 0) + 1
    return counts


def mean_duration(values: Sequence[dt.timedelta]) -> dt.timedelta | None:
    return sum(values, _ZERO) / len(values) if values else None


def median_duration(values: Sequence[dt.timedelta]) -> dt.timedelta | None:
    return statistics.median(values) if values else None


def format_stats(stats: Stats, severity_labels: Mapping[str, str]) -> str:
    """The `/incident stats 30d` reply in Slack mrkdwn."""
    heading = f"*Incidents over the last {_period_label(stats)}* ({_window(stats)})"
    if stats.total == 0:
        return f"{heading}\nNo incidents were declared in this period."
    by_severity = " · ".join(f"{escape(severity_labels.get(key, key.upper()))}: {count}"
                             for key, count in stats.count_by_severity.items())
    return "\n".join([
        heading,
        f"*{stats.total}* declared, *{stats.open_count}* still open",
        f"By severity: {by_severity}",
        f"Time to acknowledge: {_mean_median(stats.mtta, stats.median_tta, 'no page acknowledged')}",
        f"Time to resolve: {_mean_median(stats.mttr, stats.median_ttr, 'none resolved yet')}",
    ])


def _mean_median(mean: dt.timedelta | None, median: dt.timedelta | None, missing: str) -> str:
    if mean is None or median is None:
        return f"_{missing}_"
    return f"mean {format_duration(mean)}, median {format_duration(median)}"


def _period_label(stats: Stats) -> str:
    period = stats.period_end - stats.period_start
    if period % dt.timedelta(days=1) == _ZERO:
        days = period.days
        return "day" if days == 1 else f"{days} days"
    return format_duration(period)


def _window(stats: Stats) -> str:
    return f"{format_utc(stats.period_start)} to {format_utc(stats.period_end)}"


def format_utc(when: dt.datetime) -> str:
    """`2026-03-04 10:03 UTC`: one spelling of a moment for every report outside Slack's own date rendering."""
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
