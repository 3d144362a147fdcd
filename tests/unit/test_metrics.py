"""MTTA, MTTR and friends against values computed by hand."""
from __future__ import annotations

import datetime as dt

import pytest

from bot.core.metrics import (
    IncidentTimes,
    Stats,
    compute_stats,
    format_stats,
    format_utc,
    time_to_acknowledge,
    time_to_ic,
    time_to_resolve,
)

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
M = dt.timedelta(minutes=1)
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)
ORDER = ("sev1", "sev2", "sev3", "sev4")
LABELS = {"sev1": "SEV1 - Critical", "sev2": "SEV2 - Major", "sev3": "SEV3 - Moderate", "sev4": "SEV4 - Low"}


def incident(severity: str, declared_ago: dt.timedelta, ack: dt.timedelta | None = None,
             ic: dt.timedelta | None = None, resolve: dt.timedelta | None = None) -> IncidentTimes:
    declared = NOW - declared_ago
    return IncidentTimes(severity=severity, declared_at=declared,
                         first_ack_at=declared + ack if ack is not None else None,
                         first_ic_at=declared + ic if ic is not None else None,
                         resolved_at=declared + resolve if resolve is not None else None)


def test_single_incident_durations() -> None:
    t = incident("sev1", 2 * H, ack=2 * M, ic=5 * M, resolve=H + 5 * M)
    assert time_to_acknowledge(t) == 2 * M
    assert time_to_ic(t) == 5 * M
    assert time_to_resolve(t) == H + 5 * M


def test_missing_times_are_none() -> None:
    t = incident("sev1", H)
    assert (time_to_acknowledge(t), time_to_ic(t), time_to_resolve(t)) == (None, None, None)


def test_clock_skew_never_gives_a_negative_duration() -> None:
    t = incident("sev1", H, ack=-dt.timedelta(seconds=2))
    assert time_to_acknowledge(t) == dt.timedelta(0)


INCIDENTS = [
    incident("sev1", 10 * D, ack=2 * M, ic=5 * M, resolve=H),
    incident("sev2", 5 * D, ack=4 * M, resolve=3 * H),
    incident("sev2", 1 * D, ic=M),                                    # open, never acknowledged
    incident("sev3", 30 * D, ack=9 * M, resolve=30 * M),              # exactly at the start: included
    incident("sev1", 40 * D, ack=M, resolve=10 * M),                  # before the period
    incident("sev1", dt.timedelta(0), ack=M),                         # declared at `now`: the period excludes it
]


def test_compute_stats_by_hand() -> None:
    stats = compute_stats(INCIDENTS, NOW, 30 * D, ORDER)
    assert stats == Stats(
        period_start=NOW - 30 * D, period_end=NOW,
        count_by_severity={"sev1": 1, "sev2": 2, "sev3": 1, "sev4": 0},
        mtta=5 * M,                    # (2 + 4 + 9) / 3
        median_tta=4 * M,
        mttr=H + 30 * M,               # (60 + 180 + 30) / 3 minutes
        median_ttr=H,
        open_count=1, total=4,
    )
    assert list(stats.count_by_severity) == list(ORDER)


def test_even_count_median_is_the_midpoint() -> None:
    stats = compute_stats([incident("sev1", D, ack=2 * M), incident("sev1", D, ack=5 * M)], NOW, 7 * D, ORDER)
    assert stats.median_tta == 3 * M + 30 * dt.timedelta(seconds=1)
    assert stats.mtta == 3 * M + 30 * dt.timedelta(seconds=1)
    assert stats.mttr is None and stats.median_ttr is None


def test_unconfigured_severity_still_counted_after_the_configured_ones() -> None:
    stats = compute_stats([incident("legacy", D), incident("sev2", D)], NOW, 7 * D, ("sev1", "sev2"))
    assert list(stats.count_by_severity.items()) == [("sev1", 0), ("sev2", 1), ("legacy", 1)]


def test_empty_period() -> None:
    stats = compute_stats([], NOW, 30 * D, ORDER)
    assert stats.total == 0 and stats.open_count == 0
    assert stats.mtta is None and stats.median_tta is None and stats.mttr is None and stats.median_ttr is None
    assert format_stats(stats, LABELS) == (
        "*Incidents over the last 30 days* (2026-03-01 12:00 UTC to 2026-03-31 12:00 UTC)\n"
        "No incidents were declared in this period."
    )


def test_period_must_be_positive() -> None:
    with pytest.raises(ValueError):
        compute_stats([], NOW, dt.timedelta(0), ORDER)


def test_format_stats() -> None:
    text = format_stats(compute_stats(INCIDENTS, NOW, 30 * D, ORDER), LABELS | {"sev3": "<b>SEV3</b>"})
    assert text == (
        "*Incidents over the last 30 days* (2026-03-01 12:00 UTC to 2026-03-31 12:00 UTC)\n"
        "*4* declared, *1* still open\n"
        "By severity: SEV1 - Critical: 1 · SEV2 - Major: 2 · &lt;b&gt;SEV3&lt;/b&gt;: 1 · SEV4 - Low: 0\n"
        "Time to acknowledge: mean 5m, median 4m\n"
        "Time to resolve: mean 1h 30m, median 1h"
    )


def test_format_stats_without_acknowledgements_or_resolutions() -> None:
    text = format_stats(compute_stats([incident("sev9", H)], NOW, D, ORDER), LABELS)
    assert text.splitlines() == [
        "*Incidents over the last day* (2026-03-30 12:00 UTC to 2026-03-31 12:00 UTC)",
        "*1* declared, *1* still open",
        "By severity: SEV1 - Critical: 0 · SEV2 - Major: 0 · SEV3 - Moderate: 0 · SEV4 - Low: 0 · SEV9: 1",
        "Time to acknowledge: _no page acknowledged_",
        "Time to resolve: _none resolved yet_",
    ]


def test_period_that_is_not_whole_days() -> None:
    text = format_stats(compute_stats([], NOW, 36 * H, ORDER), LABELS)
    assert text.startswith("*Incidents over the last 1d 12h*")


def test_format_utc_converts_to_utc() -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    assert format_utc(dt.datetime(2026, 3, 4, 11, 3, tzinfo=paris)) == "2026-03-04 10:03 UTC"
