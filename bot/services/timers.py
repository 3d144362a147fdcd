"""Durable timers: a row first, a wake-up second.

A timer row is written in the same transaction as the state that needs it. Firing claims the row
(`UPDATE … WHERE fired_at IS NULL`) inside the transaction where the handler records what it did, so a restart or
a second replica never fires it twice, and a crash before commit leaves it unfired. The handler returns an optional
follow-up (the Slack calls) that runs after commit. APScheduler only wakes the process at the due time; on start-up
every unfired timer is re-armed and overdue ones fire at once (`tick`). Tests drive `tick()` with a FakeClock.
"""
from __future__ import annotations

import asyncio
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

MAX_ATTEMPTS = 5
RETRY_BACKOFF = dt.timedelta(seconds=30)

FollowUp = Optional[Callable[[], Awaitable[None]]]
Handler = Callable[[AsyncSession, Timer], Awaitable[FollowUp]]
Locker = Callable[[AsyncSession, Timer], Awaitable[None]]


class TimerService:
    def __init__(self, db: Database, clock: Clock, scheduler: AsyncIOScheduler | None) -> None:
        self.db = db
        self.clock = clock
        self.scheduler = scheduler
        self._handlers: dict[str, tuple[Handler, Locker | None]] = {}
        self._pending_wakes: list[dt.datetime] = []

    def register(self, kind: str, handler: Handler, lock: Locker | None = None) -> None:
        self._handlers[kind] = (handler, lock)

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

    async def cancel(self, session: AsyncSession, *, incident_id: int | None = None, kind: str,
                     key_prefix: str | None = None) -> int:
        """Cancel unfired timers of a kind, for one incident and/or whose key starts with `key_prefix`."""
        q = update(Timer).where(Timer.kind == kind, Timer.fired_at.is_(None), Timer.cancelled.is_(False))
        if incident_id is not None:
            q = q.where(Timer.incident_id == incident_id)
        if key_prefix is not None:
            q = q.where(Timer.key.like(f"{key_prefix}%"))
        result = await session.execute(q.values(cancelled=True))
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
        """Fire every due timer once. Each timer's Slack follow-up starts as soon as its own transaction commits,
        so a slow or failing timer later in the tick delays nobody's page. Returns how many fired."""
        now = self.clock.now()
        async with self.db.read() as s:
            due_ids = list((await s.execute(select(Timer.id).where(Timer.fired_at.is_(None), Timer.cancelled.is_(False),
                                                                   Timer.due_at <= now).order_by(Timer.due_at, Timer.id))).scalars())
        tasks: list[tuple[int, asyncio.Task]] = []
        fired_count = 0
        for timer_id in due_ids:
            fired, follow_up = await self._fire(timer_id, now)
            fired_count += fired
            if fired and follow_up is not None:
                tasks.append((timer_id, asyncio.create_task(follow_up())))
        self.arm_pending()
        for timer_id, task in tasks:
            try:
                await task
            except Exception:
                log.exception("timer %s follow-up failed; its state change is committed", timer_id)
        return fired_count

    async def _fire(self, timer_id: int, now: dt.datetime) -> tuple[bool, FollowUp]:
        try:
            async with self.db.write() as s:
                timer = await s.get(Timer, timer_id)
                if timer is None or timer.fired_at is not None or timer.cancelled:
                    return False, None
                handler, lock = self._handlers.get(timer.kind, (None, None))
                if lock is not None:
                    await lock(s, timer)
                claimed = await s.execute(update(Timer).where(Timer.id == timer_id, Timer.fired_at.is_(None),
                                                              Timer.cancelled.is_(False)).values(fired_at=now))
                if claimed.rowcount != 1:
                    return False, None  # fired or cancelled by someone else meanwhile
                if handler is None:
                    log.error("timer %s has unknown kind %s; marked fired", timer.key, timer.kind)
                    return True, None
                follow_up = await handler(s, timer)
                key, kind = timer.key, timer.kind
        except Exception:
            # Rolled back, so still unfired. A database blip or a deadlock victim succeeds on a later try; a bug
            # would fail forever and block nothing else: retry with backoff, give up after MAX_ATTEMPTS.
            log.exception("timer %s failed; retrying later", timer_id)
            await self._retry_later(timer_id, now)
            return False, None
        log.info("timer fired key=%s kind=%s", key, kind)
        return True, follow_up

    async def _retry_later(self, timer_id: int, now: dt.datetime) -> None:
        try:
            async with self.db.write() as s:
                timer = await s.get(Timer, timer_id)
                if timer is None or timer.fired_at is not None:
                    return
                timer.attempts = (timer.attempts or 0) + 1
                if timer.attempts >= MAX_ATTEMPTS:
                    timer.fired_at = now
                    log.error("timer %s (%s) failed %d times; given up", timer.key, timer.kind, timer.attempts)
                    return
                timer.due_at = now + RETRY_BACKOFF * timer.attempts
                due = timer.due_at
            self._wake_at(due)
        except Exception:
            log.exception("timer %s: could not record the failure; the next tick retries it", timer_id)
