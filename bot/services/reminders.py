"""Status updates and the reminders that keep them coming on the severity's cadence.

A reminder is a durable timer (see timers.py). Every update, status or severity change cancels the pending one and
schedules the next in the same transaction; resolving cancels it. When one fires with still no update, it posts in
the channel and schedules the next, again every `update_every`, until an update arrives.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import lifecycle
from bot.core.durations import format_duration
from bot.services.context import Deps, Reply, UserFacingError
from bot.services.incidents import IncidentService
from bot.slack import blocks as bk
from bot.slack.gateway import SlackCallFailed
from storage import repo
from storage.models import Incident, StatusUpdateRow, Timer

log = logging.getLogger("tocsin.reminders")

KIND = "reminder"


class ReminderService:
    def __init__(self, deps: Deps, incidents: IncidentService) -> None:
        self.d = deps
        self.incidents = incidents
        deps.timers.register(KIND, self._fire, lock=self._lock)

    def cadence(self, inc: Incident) -> dt.timedelta | None:
        sev = self.d.config.severities.get(inc.severity)
        return sev.update_every if sev else None

    async def schedule(self, session: AsyncSession, inc: Incident, since: dt.datetime, *, new: bool = False) -> None:
        """Replace the pending reminder: the next one is due `update_every` after `since` (`new`: none pending yet)."""
        if not new:
            await self.d.timers.cancel(session, incident_id=inc.id, kind=KIND)
        every = self.cadence(inc)
        if every is None or not inc.is_open:
            return
        due = since + every
        await self.d.timers.add(session, key=f"{KIND}:{inc.id}:{int(due.timestamp())}:{secrets.token_hex(4)}",
                                kind=KIND, due_at=due, incident_id=inc.id, payload={"every_s": every.total_seconds()},
                                fresh_key=True)

    async def stop(self, session: AsyncSession, inc: Incident) -> None:
        await self.d.timers.cancel(session, incident_id=inc.id, kind=KIND)

    async def _lock(self, session: AsyncSession, timer: Timer) -> None:
        await session.get(Incident, timer.incident_id, with_for_update=True)

    async def _fire(self, session: AsyncSession, timer: Timer):
        inc = await session.get(Incident, timer.incident_id)
        if inc is None or not inc.is_open:
            return None  # moot: resolved while the timer waited
        now = self.d.clock.now()
        since = inc.last_update_at or inc.declared_at
        overdue = format_duration(now - since)
        repo.add_event(session, inc.id, now, "reminder", None, f"Reminder: no status update for {overdue}",
                       {"ic": inc.ic})
        await self.schedule(session, inc, now)   # again every update_every until an update arrives
        channel, ref, ic, incident_id = inc.channel_id, inc.reference, inc.ic, inc.id

        async def post() -> None:
            if not channel:
                return
            text = f"A status update is due for {ref} (no update for {overdue})."
            await self.d.gateway.post(channel, text, bk.reminder_blocks(incident_id, ref, ic, overdue))
            log.info("incident event=reminder ref=%s overdue=%s", ref, overdue)
        return post


class UpdateService:
    """`/incident update`, and the card's Post update button with its modal."""

    def __init__(self, deps: Deps, incidents: IncidentService, reminders: ReminderService) -> None:
        self.d = deps
        self.incidents = incidents
        self.reminders = reminders

    async def open_modal(self, incident_id: int, trigger_id: str | None, reply: Reply) -> None:
        inc = await self.incidents.get(incident_id)
        if not inc.is_open:
            raise UserFacingError(f"{inc.reference} is resolved; `/incident reopen` it before posting updates.")
        statuses = [s for s in lifecycle.TRANSITIONS if s == inc.status or s in lifecycle.TRANSITIONS[inc.status]]
        try:
            await self.d.gateway.call("views.open", trigger_id=trigger_id,
                                      view=bk.update_modal(inc.id, inc.reference, inc.status, statuses))
        except SlackCallFailed as exc:
            await reply(f"I could not open the form ({exc.error}). Post in one line: `/incident update &lt;text&gt;`.")

    async def post_update(self, incident_id: int, actor: str, text: str, status: str | None = None) -> None:
        """`text` is Slack mrkdwn: a slash command's text as Slack escaped it, a modal's escaped by the listener.

        An update that also moves the status is one change: one transaction (the new status, both timeline events,
        the update, the next reminder), one message in the channel, one announcement. Resolving through the update
        form goes through resolve, with the update's text as the resolution summary."""
        text = text.strip()
        if not text:
            raise UserFacingError("An update needs text: `/incident update Rolled back; error rate falling`.")
        if status == "resolved":
            inc = await self.incidents.get(incident_id)
            if inc.is_open:
                await self.incidents.resolve(incident_id, actor, text)
                return
        now = self.d.clock.now()
        previous = None
        async with self.d.db.write() as s:
            inc = await s.get(Incident, incident_id, with_for_update=True)
            if not inc.is_open:
                raise UserFacingError(f"{inc.reference} is resolved; `/incident reopen` it before posting updates.")
            if status and status != inc.status:
                self.incidents.check_move(inc, status)
                previous, inc.status = inc.status, status
                repo.add_event(s, inc.id, now, "status_changed", actor,
                               f"<@{actor}> changed status from {previous} to {status}", {"from": previous, "to": status})
            inc.last_update_at = now
            s.add(StatusUpdateRow(incident_id=inc.id, at=now, author=actor, status=inc.status, text=text))
            repo.add_event(s, inc.id, now, "status_update", actor, f"<@{actor}> posted an update ({inc.status}): {text}",
                           {"status": inc.status})
            await self.reminders.schedule(s, inc, now)
        self.d.timers.arm_pending()
        log.info("incident event=status_update ref=%s by=%s status=%s%s", inc.reference, actor, inc.status,
                 f" (was {previous})" if previous else "")
        emoji = bk.STATUS_EMOJI.get(inc.status, "")
        moved = f" (was {previous})" if previous else ""
        body = f"{emoji} *Status update: {bk.status_text(inc.status)}*{moved} from <@{actor}>\n{text}"
        announce = (f"{emoji} *{inc.reference}* {bk.escape(inc.title)} — *{inc.status}*{moved}\n{text}"
                    if not inc.private else f"{emoji} Private incident *{inc.reference}* posted an update ({inc.status}).")
        sev = self.d.config.severities.get(inc.severity)
        extra = tuple(self.d.notify_channel_ids.get(c, c) for c in (sev.notify_channels if sev else ()))
        await asyncio.gather(self.incidents.post_in_channel(inc, body),
                             self.incidents.refresh(inc.id, topic=previous is not None),
                             self.incidents.announce_or_warn(inc, announce, extra_channels=extra))
