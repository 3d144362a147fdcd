"""Paging and escalation.

An escalation is a snapshot of a policy (steps, timeouts, repeat) taken when paging starts. Positions run through
the steps `repeat + 1` times. Each position is a durable timer. Firing a position, in one transaction: claim the
timer, resolve who is on call now, write the Page rows, and commit the NEXT position's timer; only then are the
DMs sent. A crash between commit and send leaves unsent Page rows, which start-up sends (`recover`); a crash
before commit leaves the timer unfired. So no step is lost and no page goes out twice.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.users import parse_user_ref
from bot.services.context import Deps, UserFacingError
from bot.services.incidents import IncidentService
from bot.services.oncall import OnCallService
from bot.slack import blocks as bk
from bot.slack import ids
from bot.slack.gateway import SlackCallFailed
from storage import repo
from storage.models import Escalation, Incident, Page, Timer

log = logging.getLogger("tocsin.paging")

KIND = "escalate"
RESEND = "page-resend"
RESEND_AFTER = dt.timedelta(seconds=30)
# A claim older than this belongs to a process that died (or to nobody): a send takes seconds, retries included.
STALE_CLAIM = dt.timedelta(seconds=60)
MANUAL_TIMEOUT = dt.timedelta(minutes=5)


def plan_from_policy(name: str, policy: Any) -> dict[str, Any]:
    return {"name": name, "repeat": policy.repeat,
            "steps": [{"timeout_s": s.timeout.total_seconds(),
                       "targets": [t.model_dump(exclude_none=True) for t in s.targets]} for s in policy.steps]}


def plan_length(plan: dict[str, Any]) -> int:
    return len(plan["steps"]) * (plan.get("repeat", 0) + 1)


def step_at(plan: dict[str, Any], position: int) -> tuple[int, int, dict[str, Any]]:
    n = len(plan["steps"])
    return position // n, position % n, plan["steps"][position % n]


class PagingService:
    def __init__(self, deps: Deps, incidents: IncidentService, oncall: OnCallService) -> None:
        self.d = deps
        self.incidents = incidents
        self.oncall = oncall
        deps.timers.register(KIND, self._fire, lock=self._lock)
        deps.timers.register(RESEND, self._fire_resend)

    # ---- starting --------------------------------------------------------------------------------------------
    async def start_for_declared(self, session: AsyncSession, inc: Incident, now: dt.datetime) -> None:
        sev = self.d.config.severities.get(inc.severity)
        if not sev or not sev.page:
            return
        team = inc.team
        policy_name = self.d.config.teams[team].escalation_policy if team in self.d.config.teams else None
        if not policy_name:
            repo.add_event(session, inc.id, now, "step_skipped", None,
                           f"{self.d.config.severity_label(inc.severity)} pages, but team {team or '(none)'} has no escalation policy; nobody was paged.")
            log.error("paging: incident %s should page but team %s has no escalation policy", inc.reference, team)
            return
        plan = plan_from_policy(policy_name, self.d.config.escalation_policies[policy_name])
        # Paged at once, not after the channel: under Slack's tier limits channel creation can wait a minute.
        # The page DMs get the channel link when it exists (`channel_ready`).
        await self._start(session, inc.id, plan, None, now)

    async def _start(self, session: AsyncSession, incident_id: int, plan: dict[str, Any], actor: str | None,
                     now: dt.datetime, wake: bool = True) -> Escalation:
        esc = Escalation(incident_id=incident_id, started_at=now, started_by=actor, plan=plan, position=-1)
        session.add(esc)
        await session.flush()
        await self.d.timers.add(session, key=f"{KIND}:{esc.id}:0", kind=KIND, due_at=now, incident_id=incident_id,
                                payload={"escalation": esc.id, "position": 0}, wake=wake)
        return esc

    async def page_manual(self, incident_id: int, target: str, actor: str) -> str:
        """`/incident page @user|<schedule>|<team>`: same pages, acks and escalation as automatic paging."""
        config = self.d.config
        if target in config.teams:
            policy_name = config.teams[target].escalation_policy
            if not policy_name:
                raise UserFacingError(f"Team `{target}` has no escalation policy to page. Page a person: `/incident page @user`.")
            plan = plan_from_policy(policy_name, config.escalation_policies[policy_name])
            what = f"team {target} (policy {policy_name})"
        elif target in config.schedules:
            plan = {"name": f"schedule {target}", "repeat": 0,
                    "steps": [{"timeout_s": MANUAL_TIMEOUT.total_seconds(), "targets": [{"schedule": target}]}]}
            what = f"whoever is on call for {target}"
        else:
            valid = ", ".join(f"`{n}`" for n in [*config.schedules, *config.teams]) or "none configured"
            if parse_user_ref(target) is None:
                raise UserFacingError(f"'{target}' is not a user, schedule or team. Page `@user`, or one of: {valid}.")
            user = await self.d.directory.resolve_input(target, f"Page `@user`, or one of: {valid}.")
            plan = {"name": "manual", "repeat": 0,
                    "steps": [{"timeout_s": MANUAL_TIMEOUT.total_seconds(), "targets": [{"user_id": user}]}]}
            what = f"<@{user}>"
        inc = await self.incidents.get(incident_id)
        if not inc.is_open:
            raise UserFacingError(f"{inc.reference} is resolved; `/incident reopen` it before paging anyone.")
        now = self.d.clock.now()
        async with self.d.db.write() as s:
            await self._start(s, incident_id, plan, actor, now)
            repo.add_event(s, incident_id, now, "note", actor, f"<@{actor}> paged {what}")
        await self.d.timers.tick()
        return f":pager: Paging {what}."

    # ---- firing a position -----------------------------------------------------------------------------------
    async def _targets(self, session: AsyncSession, step: dict[str, Any], now: dt.datetime) -> list[tuple[str, str]]:
        """(user, via) for a step at `now`: a schedule means whoever is on call at this moment."""
        found: list[tuple[str, str]] = []
        for t in step["targets"]:
            if "schedule" in t:
                if t["schedule"] not in self.d.config.schedules:
                    log.error("escalation target schedule %s is no longer configured; skipped", t["schedule"])
                    continue
                user = await self.oncall.on_call(t["schedule"], now, session)
                if user:
                    found.append((user, f"schedule {t['schedule']}"))
            elif "user" in t:
                found.append((self.d.directory.config_user(t["user"]) or t["user"], "direct"))
            elif "user_id" in t:
                found.append((t["user_id"], "manual page"))
            elif "team" in t:
                team = self.d.config.teams.get(t["team"])
                found += [(self.d.directory.config_user(m) or m, f"team {t['team']}") for m in (team.members if team else ())]
        seen: dict[str, str] = {}
        for user, via in found:
            seen.setdefault(user, via)
        return list(seen.items())

    async def _lock(self, session: AsyncSession, timer: Timer) -> None:
        """Lock order escalation → incident, taken before the timer is claimed (see timers.py)."""
        esc = await session.get(Escalation, timer.payload["escalation"], with_for_update=True)
        if esc is not None:
            await session.get(Incident, esc.incident_id, with_for_update=True)

    async def _fire(self, session: AsyncSession, timer: Timer):
        esc = await session.get(Escalation, timer.payload["escalation"])
        if esc is None or esc.state != "active":
            return None  # moot: acknowledged, cancelled or exhausted while the timer waited
        position = int(timer.payload["position"])
        if position <= esc.position:
            return None  # already past this position (a decline moved it on)
        now = self.d.clock.now()
        inc = await session.get(Incident, esc.incident_id)
        plan, total = esc.plan, plan_length(esc.plan)
        expired = await self._expire_position(session, esc)
        while position < total:
            cycle, index, step = step_at(plan, position)
            targets = await self._targets(session, step, now)
            label = f"step {index + 1}" + (f" (repeat {cycle})" if cycle else "")
            if targets:
                esc.position = position
                for user, via in targets:
                    session.add(Page(escalation_id=esc.id, incident_id=esc.incident_id, position=position, user=user,
                                     via=via, created_at=now))
                who = ", ".join(f"<@{u}>" for u, _ in targets)
                kind = "paged" if position == 0 else "escalated"
                verb = "Paged" if position == 0 else "Escalated to"
                repo.add_event(session, inc.id, now, kind, None, f"{verb} {label} of {plan['name']}: {who}",
                               {"escalation": esc.id, "position": position, "users": [u for u, _ in targets]})
                log.info("incident event=%s ref=%s position=%s users=%s", kind, inc.reference, position,
                         ",".join(u for u, _ in targets))
                # the next position's timer is committed with these pages, before any DM goes out
                await self.d.timers.add(session, key=f"{KIND}:{esc.id}:{position + 1}", kind=KIND,
                                        due_at=now + dt.timedelta(seconds=step["timeout_s"]), incident_id=inc.id,
                                        payload={"escalation": esc.id, "position": position + 1})
                break
            repo.add_event(session, inc.id, now, "step_skipped", None, f"Nobody is on call for {label} of {plan['name']}; skipped.",
                           {"escalation": esc.id, "position": position})
            log.info("incident event=step_skipped ref=%s position=%s", inc.reference, position)
            esc.position = position
            position += 1
        else:
            esc.state = "exhausted"
            paged = list((await session.execute(select(Page.user).where(Page.escalation_id == esc.id)
                                                .order_by(Page.id))).scalars())
            who = ", ".join(dict.fromkeys(f"<@{u}>" for u in paged)) or "nobody (no one was on call)"
            text = f"Nobody acknowledged the page ({plan['name']}). Paged: {who}."
            repo.add_event(session, inc.id, now, "escalation_exhausted", None, text, {"escalation": esc.id})
            ref = inc.reference

            async def tell() -> None:
                await self._edit_pages(expired, "No response; nobody acknowledged.", late_ack=True)
                await self.incidents.post_in_channel(inc, f":rotating_light: {text} Page someone by hand with `/incident page`.")
                log.warning("incident event=escalation_exhausted ref=%s", ref)
            return tell
        esc_id = esc.id

        async def send() -> None:  # the new pages first; editing the old DMs is cosmetic
            await self.send_unsent(esc_id)
            await self._edit_pages(expired, "No response; escalated to the next step.", late_ack=True)
        return send

    async def _expire_position(self, session: AsyncSession, esc: Escalation) -> list[Page]:
        pages = list((await session.execute(select(Page).where(Page.escalation_id == esc.id, Page.position == esc.position,
                                                               Page.outcome == "pending"))).scalars())
        for p in pages:
            p.outcome = "no response"
        return pages

    # ---- sending ---------------------------------------------------------------------------------------------
    async def channel_ready(self, incident_id: int) -> None:
        """The incident channel now exists: pages already sent get its link."""
        async with self.d.db.read() as s:
            ids = list((await s.execute(select(Page.id).where(Page.incident_id == incident_id, Page.ts.is_not(None),
                                                              Page.outcome.in_(("pending", "no response"))))).scalars())
        for page_id in ids:
            await self._refresh_page(page_id)

    async def _refresh_page(self, page_id: int) -> None:
        async with self.d.db.read() as s:
            page = await s.get(Page, page_id)
        if page.outcome == "no response":
            await self._edit_pages([page], "No response; escalated.", late_ack=True)
        elif page.outcome == "pending":
            await self._edit_pages([page], None)

    async def send_unsent(self, escalation_id: int | None = None, *, reclaim_before: dt.datetime | None = None) -> int:
        """Send pending pages not sent yet; with `reclaim_before`, also pages claimed before then by a process that
        died before Slack answered (a live replica's claim is younger). One that Slack took just before such a
        crash is found in the DM's history and not sent again."""
        async with self.d.db.read() as s:
            q = (select(Page).join(Escalation, Escalation.id == Page.escalation_id)
                 .where(Page.ts.is_(None), Page.outcome == "pending", Escalation.state == "active"))
            if reclaim_before is None:
                q = q.where(Page.sent_at.is_(None))
            else:
                q = q.where((Page.sent_at.is_(None)) | (Page.sent_at < reclaim_before))
            if escalation_id is not None:
                q = q.where(Page.escalation_id == escalation_id)
            pages = list((await s.execute(q.order_by(Page.id))).scalars())
        results = await asyncio.gather(*(self._send(p.id, reclaim_before) for p in pages), return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException):
                log.error("page send failed", exc_info=r)
        return len(pages)

    async def _send(self, page_id: int, reclaim_before: dt.datetime | None = None) -> None:
        now = self.d.clock.now()
        async with self.d.db.write() as s:  # claim the send, and only while the escalation still runs
            page = await s.get(Page, page_id)
            esc = await s.get(Escalation, page.escalation_id, with_for_update=True)
            inc = await s.get(Incident, page.incident_id)
            await s.refresh(page, with_for_update=True)
            if esc.state != "active" or page.outcome != "pending" or page.ts is not None:
                return
            if page.sent_at is not None and (reclaim_before is None or page.sent_at >= reclaim_before):
                return  # another task, or a live replica, is sending it
            claimed_before = page.sent_at is not None
            page.sent_at = now
            user, position, via = page.user, page.position, page.via
        if claimed_before and await self._already_delivered(page_id, user):
            return  # the process died after Slack took the DM but before we noted it: don't send it twice
        label = self.d.config.severity_label(inc.severity)
        blocks = bk.page_blocks(inc.reference, inc.title, label, inc.summary, inc.channel_id, page_id, via)
        text = f"You are being paged for {inc.reference}: {inc.title} ({label})"
        try:
            channel = await self.d.gateway.dm_channel(user)
            data = await self.d.gateway.post(channel, text, blocks)
        except Exception as exc:  # Slack refused, a connection died, anything: the page must not stay claimed
            reason = exc.error if isinstance(exc, SlackCallFailed) else exc.__class__.__name__
            if not isinstance(exc, SlackCallFailed):
                log.exception("page %s to %s failed", page_id, user)
            await self._release(page_id, inc, user, reason)
            return
        async with self.d.db.write() as s:
            await s.execute(update(Page).where(Page.id == page_id).values(ts=data.get("ts"), dm_channel=channel))
        log.info("incident event=page_sent ref=%s user=%s position=%s", inc.reference, user, position)
        await self._refresh_if_changed(page_id, inc)

    async def _release(self, page_id: int, inc: Incident, user: str, reason: str) -> None:
        """Not delivered: release the claim (lock order escalation → incident → page), record it, retry soon."""
        now = self.d.clock.now()
        async with self.d.db.write() as s:
            page = await s.get(Page, page_id)
            await s.get(Escalation, page.escalation_id, with_for_update=True)
            await s.get(Incident, page.incident_id, with_for_update=True)
            await s.execute(update(Page).where(Page.id == page_id).values(sent_at=None))
            repo.add_event(s, inc.id, now, "note", None, f"The page to <@{user}> could not be delivered ({reason}); retrying.")
            await self.d.timers.add(s, key=f"{RESEND}:{page_id}:{int(now.timestamp())}", kind=RESEND,
                                    due_at=now + RESEND_AFTER, incident_id=inc.id,
                                    payload={"escalation": page.escalation_id})
        self.d.timers.arm_pending()
        await self.incidents.post_in_channel(inc, f":warning: I could not page <@{user}> by DM ({reason}); retrying.")

    async def _fire_resend(self, session: AsyncSession, timer: Timer):
        escalation_id = timer.payload.get("escalation")
        reclaim_before = self.d.clock.now() - STALE_CLAIM if timer.payload.get("reclaim") else None
        return lambda: self.send_unsent(escalation_id, reclaim_before=reclaim_before)

    async def _refresh_if_changed(self, page_id: int, inc: Incident) -> None:
        """A DM delivered while the incident moved on: link the channel that appeared, or close an answered page."""
        async with self.d.db.read() as s:
            page = await s.get(Page, page_id)
            esc = await s.get(Escalation, page.escalation_id)
            fresh = await s.get(Incident, page.incident_id)
        if esc.state == "acknowledged":
            await self._edit_pages([page], f":white_check_mark: Acknowledged by <@{esc.acknowledged_by}>.")
        elif esc.state == "cancelled":
            await self._edit_pages([page], ":white_check_mark: The incident was resolved; no action needed.")
        elif inc.channel_id is None and fresh.channel_id:
            await self._refresh_page(page_id)

    async def _already_delivered(self, page_id: int, user: str) -> bool:
        """Look in the user's DM for this page's message (its buttons carry the page id); note its ts if found."""
        try:
            channel = await self.d.gateway.dm_channel(user)
            data = await self.d.gateway.call("conversations.history", channel=channel, limit=50)
        except SlackCallFailed:
            return False  # cannot tell: sending again beats a lost page
        for message in data.get("messages", []):
            values = {e.get("value") for b in message.get("blocks") or [] for e in b.get("elements") or []
                      if isinstance(e, dict) and e.get("action_id") in (ids.PAGE_ACK, ids.PAGE_DECLINE)}
            if str(page_id) in values:
                async with self.d.db.write() as s:
                    await s.execute(update(Page).where(Page.id == page_id).values(ts=message.get("ts"), dm_channel=channel))
                log.info("page %s was delivered before a restart; not sent again", page_id)
                return True
        return False

    async def recover(self) -> None:
        """At start-up: pages committed but never claimed go out now; claims too old to be anyone's live send are
        taken over; younger claims (a crash seconds ago, or another replica at work) get a check once they are old."""
        now = self.d.clock.now()
        sent = await self.send_unsent(reclaim_before=now - STALE_CLAIM)
        async with self.d.db.write() as s:
            young = list((await s.execute(select(Page).join(Escalation, Escalation.id == Page.escalation_id).where(
                Page.ts.is_(None), Page.outcome == "pending", Escalation.state == "active",
                Page.sent_at >= now - STALE_CLAIM))).scalars())
            for page in young:
                await self.d.timers.add(s, key=f"{RESEND}:{page.id}:reclaim:{int(page.sent_at.timestamp())}", kind=RESEND,
                                        due_at=page.sent_at + STALE_CLAIM, incident_id=page.incident_id,
                                        payload={"escalation": page.escalation_id, "reclaim": True})
        self.d.timers.arm_pending()
        if sent or young:
            log.info("start-up: %d unsent pages sent, %d recent claims to check later", sent, len(young))

    # ---- responses -------------------------------------------------------------------------------------------
    async def _lock_escalations(self, session: AsyncSession, incident_id: int) -> list[Escalation]:
        """Lock every escalation of an incident, in id order (the first step of the escalation → incident order)."""
        return list((await session.execute(select(Escalation).where(Escalation.incident_id == incident_id)
                                           .order_by(Escalation.id).with_for_update())).scalars())

    async def respond(self, page_id: int, user: str, *, acknowledged: bool) -> str:
        now = self.d.clock.now()
        async with self.d.db.write() as s:
            page = await s.get(Page, page_id)
            if page is None:
                raise UserFacingError("That page no longer exists.")
            escalations = await self._lock_escalations(s, page.incident_id)
            esc = next(e for e in escalations if e.id == page.escalation_id)
            inc = await s.get(Incident, page.incident_id, with_for_update=True)
            await s.refresh(page, with_for_update=True)
            if page.user != user:
                raise UserFacingError(f"This page was for <@{page.user}>.")
            if esc.state == "acknowledged":
                return f"Already acknowledged by <@{esc.acknowledged_by}>."
            if page.outcome not in ("pending", "no response") or esc.state not in ("active", "exhausted"):
                return f"This page is closed ({page.outcome if page.outcome != 'pending' else esc.state})."
            page.responded_at = now
            if acknowledged:
                page.outcome = "acknowledged"
                # one acknowledgement stops every escalation of the incident (a manual page and the policy alike)
                for e in escalations:
                    if e.state in ("active", "exhausted") or e.id == esc.id:
                        e.state, e.acknowledged_by, e.acknowledged_at = "acknowledged", user, now
                        await self._cancel_timers(s, e.id)
                await s.execute(update(Page).where(Page.incident_id == inc.id, Page.outcome == "pending")
                                .values(outcome="no response"))
                inc.first_ack_at = inc.first_ack_at or now
                repo.add_event(s, inc.id, now, "acknowledged", user, f"<@{user}> acknowledged the page",
                               {"escalation": esc.id, "position": page.position})
            else:
                page.outcome = "declined"
                repo.add_event(s, inc.id, now, "declined", user, f"<@{user}> declined the page",
                               {"escalation": esc.id, "position": page.position})
                pending = (await s.execute(select(Page.id).where(Page.escalation_id == esc.id, Page.position == esc.position,
                                                                 Page.outcome == "pending"))).first()
                if esc.state == "active" and page.position == esc.position and pending is None:
                    # everyone at this step declined: the next step now, not at the timeout
                    await self._cancel_timers(s, esc.id)
                    await self.d.timers.add(s, key=f"{KIND}:{esc.id}:{esc.position + 1}:declined", kind=KIND, due_at=now,
                                            incident_id=inc.id, payload={"escalation": esc.id, "position": esc.position + 1})
            pages = list((await s.execute(select(Page).where(Page.incident_id == inc.id, Page.ts.is_not(None)))).scalars())
            ref = inc.reference
        log.info("incident event=%s ref=%s user=%s", "acknowledged" if acknowledged else "declined", ref, user)
        if acknowledged:
            stamp = now.strftime("%H:%M UTC")
            await asyncio.gather(self._edit_pages(pages, f":white_check_mark: Acknowledged by <@{user}> at {stamp}."),
                                 self.incidents._invite(inc, [user]),
                                 self.incidents.post_in_channel(inc, f":white_check_mark: <@{user}> acknowledged the page; escalation stopped."))
            return f"Thanks, you've acknowledged {ref}. Join <#{inc.channel_id}>." if inc.channel_id else f"Acknowledged {ref}."
        await self._edit_pages([p for p in pages if p.id == page_id], f":no_entry_sign: You declined at {now.strftime('%H:%M UTC')}.")
        await self.incidents.post_in_channel(inc, f":no_entry_sign: <@{user}> declined the page.")
        await self.d.timers.tick()
        return f"Declined. The next responder for {ref} is being paged."

    async def _cancel_timers(self, session: AsyncSession, escalation_id: int) -> None:
        await self.d.timers.cancel(session, kind=KIND, key_prefix=f"{KIND}:{escalation_id}:")

    async def cancel_for_incident(self, session: AsyncSession, incident_id: int) -> list[int]:
        """Resolving stops every running escalation of the incident. Called before the incident row is locked
        (lock order). Returns the pages whose DMs should now say so."""
        for esc in await self._lock_escalations(session, incident_id):
            if esc.state in ("active", "exhausted"):
                esc.state = "cancelled"
                await self._cancel_timers(session, esc.id)
        page_ids = list((await session.execute(select(Page.id).where(Page.incident_id == incident_id,
                                                                     Page.outcome.in_(("pending", "no response")),
                                                                     Page.ts.is_not(None)))).scalars())
        await session.execute(update(Page).where(Page.incident_id == incident_id, Page.outcome == "pending")
                              .values(outcome="no response"))
        return page_ids

    async def close_pages(self, page_ids: list[int], outcome: str) -> None:
        if not page_ids:
            return
        async with self.d.db.read() as s:
            pages = list((await s.execute(select(Page).where(Page.id.in_(page_ids)))).scalars())
        await self._edit_pages(pages, outcome)

    async def _edit_pages(self, pages: list[Page], outcome: str | None, late_ack: bool = False) -> None:
        incidents = {i: await self.incidents.get(i) for i in {p.incident_id for p in pages}}

        async def edit(p: Page) -> None:
            if not (p.dm_channel and p.ts):
                return
            inc = incidents[p.incident_id]
            blocks = bk.page_blocks(inc.reference, inc.title, self.d.config.severity_label(inc.severity), inc.summary,
                                    inc.channel_id, p.id, p.via, outcome=outcome, late_ack=late_ack)
            await self.d.gateway.update(p.dm_channel, p.ts, f"Page for {inc.reference}: {outcome or 'you are being paged'}", blocks)
        for result in await asyncio.gather(*(edit(p) for p in pages), return_exceptions=True):
            if isinstance(result, BaseException) and not isinstance(result, SlackCallFailed):
                log.error("page DM edit failed", exc_info=result)
