"""Durable timers: a row first, a wake-up second.

A timer row is written in the same transaction as the state that needs it. Firing claims the row
(`UPDATE … WHERE fired_at IS NULL`) inside the transaction where the handler records what it did, so a restart or
a second replica never fires it twice, and a crash before commit leaves it unfired. The handler returns an optional
follow-up (the Slack calls) that runs after commit. APScheduler only wakes the process at the due time; on start-up
every unfired timer is re-armed and overdue ones fire at once (`tick`). Tests drive `tick()` with a FakeClock.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Awaitable, Callable, Optional

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from storage.db import Database
from storage.models import Timer

log = logging.getLogger("tocsin.timers")

FollowUp = Optional[Callable[[], Awaitable[None]]]
Handler = Callable[[AsyncSession, Timer], Awaitable[FollowUp]]


class TimerService:
    def __init__(self, db: Database, clock: Clock, scheduler: AsyncIOScheduler | None) -> None:
        self.db = db
        self.clock = clock
        self.scheduler = scheduler
        self._handlers: dict[str, Handler] = {}
        self._pending_wakes: list[dt.datetime] = []

    def register(self, kind: str, handler: Handler) -> None:
        self._handlers[kind] = handler

    async def add(self, session: AsyncSession, *, key: str, kind: str, due_at: dt.datetime,
                  incident_id: int | None = None, payload: dict[str, Any] | None = None,
                  fresh_key: bool = False, wake: bool = True) -> Timer | None:
        """Add a timer in the caller's transaction; a key that already exists is left alone (idempotent).
        `fresh_key`: the caller made the key unique itself, so the look-up is skipped (it is on the declare path).
        `wake=False`: the caller ticks itself when ready (the row still guarantees it fires after a restart)."""
        if not fresh_key:
            existing = (await session.execute(select(Timer.id).where(Timer.key == key))).scalar_one_or_none()
            if existing is not None:
                return None
        timer = Timer(key=key, kind=kind, due_at=due_at, incident_id=incident_id, payload=payload or {},
                      created_at=self.clock.now())
        session.add(timer)
        if wake:
            self._pending_wakes.append(due_at)
        return timer

    async def cancel(self, session: AsyncSession, *, incident_id: int, kind: str) -> int:
        result = await session.execute(update(Timer).where(Timer.incident_id == incident_id, Timer.kind == kind,
                                                           Timer.fired_at.is_(None), Timer.cancelled.is_(False))
                                       .values(cancelled=True))
        return result.rowcount or 0

    def arm_pending(self) -> None:
        """Ask APScheduler to wake us at the due times of timers added since the last call (after commit)."""
        wakes, self._pending_wakes = self._pending_wakes, []
        for due in wakes:
            self._wake_at(due)

    def _wake_at(self, due: dt.datetime) -> None:
        if self.scheduler is None or not self.scheduler.running:
            return
        job_id = f"wake-{due.timestamp():.3f}"
        self.scheduler.add_job(self.tick, DateTrigger(run_date=due), id=job_id, replace_existing=True,
                               misfire_grace_time=None, coalesce=True)

    async def rearm(self) -> int:
        """On start-up: wake at every unfired timer's due time; overdue ones fire now (catch-up)."""
        async with self.db.read() as s:
            dues = list((await s.execute(select(Timer.due_at).where(Timer.fired_at.is_(None), Timer.cancelled.is_(False)))).scalars())
        for due in dues:
            self._wake_at(due)
        await self.tick()
        return len(dues)

    async def tick(self) -> int:
        """Fire every due timer once. Returns how many fired."""
        now = self.clock.now()
        async with self.db.read() as s:
            due_ids = list((await s.execute(select(Timer.id).where(Timer.fired_at.is_(None), Timer.cancelled.is_(False),
                                                                   Timer.due_at <= now).order_by(Timer.due_at, Timer.id))).scalars())
        fired = 0
        for timer_id in due_ids:
            if await self._fire(timer_id, now):
                fired += 1
        self.arm_pending()
        return fired

    async def _fire(self, timer_id: int, now: dt.datetime) -> bool:
        follow_up: FollowUp = None
        async with self.db.write() as s:
            claimed = await s.execute(update(Timer).where(Timer.id == timer_id, Timer.fired_at.is_(None),
                                                          Timer.cancelled.is_(False)).values(fired_at=now))
            if claimed.rowcount != 1:
                return False
            timer = await s.get(Timer, timer_id)
            handler = self._handlers.get(timer.kind)
            if handler is None:
                log.error("timer %s has unknown kind %s; marked fired", timer.key, timer.kind)
                return True
            follow_up = await handler(s, timer)
        log.info("timer fired key=%s kind=%s", timer.key, timer.kind)
        if follow_up is not None:
            try:
                await follow_up()
            except Exception:  # logged with traceback; the timer's state change is already committed
                log.exception("timer follow-up failed key=%s", timer.key)
        return True
