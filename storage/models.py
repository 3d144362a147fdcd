"""SQLAlchemy 2 models. Every datetime is stored as aware UTC (`UtcDateTime`), so SQLite and PostgreSQL agree."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.core import lifecycle

UTC = dt.timezone.utc


class UtcDateTime(TypeDecorator):
    """Refuses naive datetimes on the way in and hands back aware UTC on the way out (SQLite drops tzinfo)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class Counter(Base):
    """Per-year incident numbers: allocated in the declaring transaction, so numbers never repeat."""

    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (UniqueConstraint("year", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    severity: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32), default="investigating")
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    team: Mapped[str | None] = mapped_column(String(64), nullable=True)
    declared_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    declared_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    ic: Mapped[str | None] = mapped_column(String(32), nullable=True)
    first_ic_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    first_ack_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    smes: Mapped[list[str]] = mapped_column(JSON, default=list)
    channel_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    channel_name: Mapped[str | None] = mapped_column(String(80), nullable=True)
    card_ts: Mapped[str | None] = mapped_column(String(32), nullable=True)
    setup_state: Mapped[str] = mapped_column(String(32), default="pending")  # pending | ready | ready_with_problems | failed
    setup_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    announced_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_update_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    impact: Mapped[str | None] = mapped_column(Text, nullable=True)
    root_cause: Mapped[str | None] = mapped_column(Text, nullable=True)
    resolution: Mapped[str | None] = mapped_column(Text, nullable=True)
    canvas_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    postmortem_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)

    @property
    def reference(self) -> str:
        return f"INC-{self.year}-{self.number:03d}"

    @property
    def is_open(self) -> bool:
        return lifecycle.is_open(self.status)


class TimelineEvent(Base):
    __tablename__ = "timeline_events"
    __table_args__ = (UniqueConstraint("incident_id", "dedupe_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(32), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    permalink: Mapped[str | None] = mapped_column(Text, nullable=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(128), nullable=True)


class StatusUpdateRow(Base):
    __tablename__ = "status_updates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    author: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)


class ActionItemRow(Base):
    __tablename__ = "action_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(32), nullable=True)
    done: Mapped[bool] = mapped_column(Boolean, default=False)


class Timer(Base):
    """Something that must happen later (an escalation step, a reminder, a handoff notice).

    Written in the same transaction as the state that needs it; APScheduler only wakes the process. Firing claims
    the row with `UPDATE … WHERE fired_at IS NULL`, so a restart or a second replica never fires it twice.
    """

    __tablename__ = "timers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    incident_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    due_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    fired_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # failed firings so far (retried with backoff)


class Escalation(Base):
    """One run of an escalation policy for an incident (automatic on declare, or a manual page)."""

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    started_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)  # snapshot: {"name", "repeat", "steps": [{"timeout_s", "targets"}]}
    position: Mapped[int] = mapped_column(Integer, default=-1)  # index into the flattened (cycle, step) sequence
    state: Mapped[str] = mapped_column(String(16), default="active")  # active | acknowledged | exhausted | cancelled
    acknowledged_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)


class Page(Base):
    """One page DM. Keyed (escalation, position, user) so a retried send is recognisable and never doubled."""

    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("escalation_id", "position", "user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    user: Mapped[str] = mapped_column(String(32))
    via: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    dm_channel: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ts: Mapped[str | None] = mapped_column(String(32), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16), default="pending")  # pending | acknowledged | declined | no response
    responded_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)


class OverrideRow(Base):
    __tablename__ = "overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    schedule: Mapped[str] = mapped_column(String(64), index=True)
    user: Mapped[str] = mapped_column(String(32))
    start: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    end: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
