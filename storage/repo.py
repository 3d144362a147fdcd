"""Queries used by more than one service, in one place."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    ActionItemRow,
    Counter,
    Incident,
    StatusUpdateRow,
    TimelineEvent,
)


async def next_number(session: AsyncSession, year: int) -> int:
    """Allocate the next incident number of `year`; write-first so SQLite takes the write lock at once."""
    name = f"incident-{year}"
    value = (await session.execute(update(Counter).where(Counter.name == name).values(value=Counter.value + 1)
                                   .returning(Counter.value))).scalar_one_or_none()
    if value is not None:
        return value
    try:  # the year's first incident; two replicas may race to create the counter
        async with session.begin_nested():
            session.add(Counter(name=name, value=1))
        return 1
    except IntegrityError:
        return (await session.execute(update(Counter).where(Counter.name == name).values(value=Counter.value + 1)
                                      .returning(Counter.value))).scalar_one()


def add_event(session: AsyncSession, incident_id: int, at: dt.datetime, kind: str, actor: str | None, text: str,
              details: dict[str, Any] | None = None, permalink: str | None = None, dedupe_key: str | None = None) -> TimelineEvent:
    event = TimelineEvent(incident_id=incident_id, at=at, kind=kind, actor=actor, text=text, details=details or {},
                          permalink=permalink, dedupe_key=dedupe_key)
    session.add(event)
    return event


async def incident_by_channel(session: AsyncSession, channel_id: str) -> Incident | None:
    return (await session.execute(select(Incident).where(Incident.channel_id == channel_id))).scalar_one_or_none()


async def incident_by_id(session: AsyncSession, incident_id: int) -> Incident | None:
    return await session.get(Incident, incident_id)


async def open_incidents(session: AsyncSession) -> list[Incident]:
    rows = await session.execute(select(Incident).where(Incident.status != "resolved").order_by(Incident.declared_at))
    return list(rows.scalars())


async def timeline(session: AsyncSession, incident_id: int) -> list[TimelineEvent]:
    rows = await session.execute(select(TimelineEvent).where(TimelineEvent.incident_id == incident_id)
                                 .order_by(TimelineEvent.at, TimelineEvent.id))
    return list(rows.scalars())


async def action_items(session: AsyncSession, incident_id: int) -> list[ActionItemRow]:
    rows = await session.execute(select(ActionItemRow).where(ActionItemRow.incident_id == incident_id).order_by(ActionItemRow.id))
    return list(rows.scalars())


async def status_updates(session: AsyncSession, incident_id: int) -> list[StatusUpdateRow]:
    rows = await session.execute(select(StatusUpdateRow).where(StatusUpdateRow.incident_id == incident_id).order_by(StatusUpdateRow.at, StatusUpdateRow.id))
    return list(rows.scalars())
