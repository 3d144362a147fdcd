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
from bot.services.directory import UserNotFound
from bot.services.incidents import IncidentService
from bot.services.oncall import OnCallService
from bot.slack import blocks as bk
from bot.slack.gateway import SlackCallFailed
from storage import repo
from storage.models import Escalation, Incident, Page, Timer

log = logging.getLogger("tocsin.paging")

KIND = "escalate"
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
        deps.timers.register(KIND, self._fire)

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
            ref = parse_user_ref(target)
            if ref is None:
                valid = ", ".join(f"`{n}`" for n in [*config.schedules, *config.teams]) or "none configured"
                raise UserFacingError(f"'{target}' is not a user, schedule or team. Page `@user`, or one of: {valid}.")
            try:
                user = await self.d.directory.resolve_ref(ref, target)
            except UserNotFound as exc:
                raise UserFacingError(f"{exc.reason} Nobody was paged.") from None
            plan = {"name": "manual", "repeat": 0,
                    "steps": [{"timeout_s": MANUAL_TIMEOUT.total_seconds(), "targets": [{"user_id": user}]}]}
            what = f"<@{user}>"
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

    async def _fire(self, session: AsyncSession, timer: Timer):
        esc = await session.get(Escalation, timer.payload["escalation"], with_for_update=True)
        if esc is None or esc.state != "active":
            return None  # moot: acknowledged, cancelled or exhausted while the timer waited
        position = int(timer.payload["position"])
        if position <= esc.position:
            return None  # already past this position (a decline moved it on)
        now = self.d.clock.now()
        inc = await session.get(Incident, esc.incident_id, with_for_update=True)
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
                # the next position's timer is committed with these pages, before any DM goes out
                await self.d.timers.add(session, key=f"{KIND}:{esc.id}:{position + 1}", kind=KIND,
                                        due_at=now + dt.timedelta(seconds=step["timeout_s"]), incident_id=inc.id,
                                        payload={"escalation": esc.id, "position": position + 1})
                break
            repo.add_event(session, inc.id, now, "step_skipped", None, f"Nobody is on call for {label} of {plan['name']}; skipped.",
                           {"escalation": esc.id, "position": position})
            esc.position = position
            position += 1
        else:
            esc.state = "exhausted"
            paged = list((await session.execute(select(Page.user).where(Page.escalation_id == esc.id)
                                                .order_by(Page.id))).scalars())
            who = ", ".join(dict.fromkeys(f"<@{u}>" for u in paged)) or "nobody (no one was on call)"
            text = f"Nobody acknowledged the page ({plan['name']}). Paged: {who}."
            repo.add_event(session, inc.id, now, "escalation_exhausted", None, text, {"escalation": esc.id})
            channel, ref = inc.channel_id, inc.reference

            async def tell() -> None:
                await self._edit_pages(expired, "No response; nobody acknowledged.", late_ack=True)
                if channel:
                    await self._post(channel, f":rotating_light: {text} Page someone by hand with `/incident page`.")
                log.warning("incident event=escalation_exhausted ref=%s", ref)
            return tell
        esc_id = esc.id

        async def send() -> None:
            await self._edit_pages(expired, "No response; escalated to the next step.", late_ack=True)
            await self.send_unsent(esc_id)
        return send

    async def _expire_position(self, session: AsyncSession, esc: Escalation) -> list[Page]:
        pages = list((await session.execute(select(Page).where(Page.escalation_id == esc.id, Page.position == esc.position,
                                                               Page.outcome == "pending"))).scalars())
        for p in pages:
            p.outcome = "no response"
        return pages

    # ---- sending ---------------------------------------------------------------------------------------------
    async def send_pending(self, incident_id: int) -> None:
        """Fire due escalation timers (the first step is due at declaration), in case nothing woke us yet."""
        await self.d.timers.tick()

    async def channel_ready(self, incident_id: int) -> None:
        """The incident channel now exists: pages already sent get its link."""
        async with self.d.db.read() as s:
            pages = list((await s.execute(select(Page).where(Page.incident_id == incident_id, Page.ts.is_not(None),
                                                             Page.outcome.in_(("pending", "no response"))))).scalars())
        for p in pages:
            await self._refresh_page(p)

    async def _refresh_page(self, page: Page) -> None:
        inc = await self.incidents.get(page.incident_id)
        if not (page.dm_channel and page.ts):
            return
        blocks = bk.page_blocks(inc.reference, inc.title, self.d.config.severity_label(inc.severity), inc.summary,
                                inc.channel_id, page.id, page.via)
        try:
            await self.d.gateway.update(page.dm_channel, page.ts, f"You are being paged for {inc.reference}", blocks)
        except SlackCallFailed:
            pass  # logged by the gateway

    async def send_unsent(self, escalation_id: int | None = None) -> int:
        async with self.d.db.read() as s:
            q = select(Page).where(Page.sent_at.is_(None), Page.outcome == "pending")
            if escalation_id is not None:
                q = q.where(Page.escalation_id == escalation_id)
            pages = list((await s.execute(q.order_by(Page.id))).scalars())
        results = await asyncio.gather(*(self._send(p) for p in pages), return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException) and not isinstance(r, SlackCallFailed):
                log.error("page send failed", exc_info=r)
        return len(pages)

    async def _send(self, page: Page) -> None:
        inc = await self.incidents.get(page.incident_id)
        label = self.d.config.severity_label(inc.severity)
        blocks = bk.page_blocks(inc.reference, inc.title, label, inc.summary, inc.channel_id, page.id, page.via)
        text = f"You are being paged for {inc.reference}: {inc.title} ({label})"
        channel = await self.d.gateway.dm_channel(page.user)
        async with self.d.db.write() as s:  # claim the send: a concurrent sender skips it
            claimed = await s.execute(update(Page).where(Page.id == page.id, Page.sent_at.is_(None))
                                      .values(sent_at=self.d.clock.now(), dm_channel=channel))
            if claimed.rowcount != 1:
                return
        data = await self.d.gateway.post(channel, text, blocks)
        async with self.d.db.write() as s:
            row = await s.get(Page, page.id, with_for_update=True)
            row.ts = data.get("ts")
        if inc.channel_id is None:  # the channel may have appeared while this DM was on its way
            row.dm_channel = channel
            if (await self.incidents.get(page.incident_id)).channel_id:
                await self._refresh_page(row)
        log.info("incident event=page_sent ref=%s user=%s position=%s", inc.reference, page.user, page.position)

    async def recover(self) -> None:
        """At start-up: pages committed but not sent before a crash go out now."""
        sent = await self.send_unsent()
        if sent:
            log.info("recovered %d unsent pages", sent)

    # ---- responses -------------------------------------------------------------------------------------------
    async def respond(self, page_id: int, user: str, *, acknowledged: bool) -> str:
        now = self.d.clock.now()
        async with self.d.db.write() as s:
            page = await s.get(Page, page_id)
            if page is None:
                raise UserFacingError("That page no longer exists.")
            # lock order escalation → incident → page, as the escalation timer takes them: no deadlock on PostgreSQL
            esc = await s.get(Escalation, page.escalation_id, with_for_update=True)
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
                esc.state, esc.acknowledged_by, esc.acknowledged_at = "acknowledged", user, now
                inc.first_ack_at = inc.first_ack_at or now
                await self._cancel_timers(s, esc.id)
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
            channel, ref = inc.channel_id, inc.reference
        log.info("incident event=%s ref=%s user=%s", "acknowledged" if acknowledged else "declined", ref, user)
        if acknowledged:
            stamp = now.strftime("%H:%M UTC")
            await asyncio.gather(self._edit_pages(pages, f":white_check_mark: Acknowledged by <@{user}> at {stamp}."),
                                 self.incidents._invite(inc, [user]),
                                 self._post(channel, f":white_check_mark: <@{user}> acknowledged the page; escalation stopped."))
            return f"Thanks, you've acknowledged {ref}. Join <#{channel}>." if channel else f"Acknowledged {ref}."
        await self._edit_pages([p for p in pages if p.id == page_id], f":no_entry_sign: You declined at {now.strftime('%H:%M UTC')}.")
        await self._post(channel, f":no_entry_sign: <@{user}> declined the page.")
        await self.d.timers.tick()
        return f"Declined. The next responder for {ref} is being paged."

    async def _cancel_timers(self, session: AsyncSession, escalation_id: int) -> None:
        await session.execute(update(Timer).where(Timer.kind == KIND, Timer.fired_at.is_(None), Timer.cancelled.is_(False),
                                                  Timer.key.like(f"{KIND}:{escalation_id}:%")).values(cancelled=True))

    async def cancel_for_incident(self, session: AsyncSession, inc: Incident) -> None:
        """Resolving stops every running escalation of the incident."""
        escs = list((await session.execute(select(Escalation).where(Escalation.incident_id == inc.id,
                                                                     Escalation.state == "active"))).scalars())
        for esc in escs:
            esc.state = "cancelled"
            await self._cancel_timers(session, esc.id)

    async def _edit_pages(self, pages: list[Page], outcome: str, late_ack: bool = False) -> None:
        async def edit(p: Page) -> None:
            if not (p.dm_channel and p.ts):
                return
            inc = await self.incidents.get(p.incident_id)
            blocks = bk.page_blocks(inc.reference, inc.title, self.d.config.severity_label(inc.severity), inc.summary,
                                    inc.channel_id, p.id, p.via, outcome=outcome, late_ack=late_ack)
            await self.d.gateway.update(p.dm_channel, p.ts, f"Page for {inc.reference}: {outcome}", blocks)
        await asyncio.gather(*(edit(p) for p in pages), return_exceptions=True)

    async def _post(self, channel: str | None, text: str) -> None:
        if not channel:
            return
        try:
            await self.d.gateway.post(channel, text, bk.event_message(text))
        except SlackCallFailed:
            pass  # logged by the gateway
