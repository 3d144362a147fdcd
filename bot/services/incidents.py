"""Declaring and running incidents: the channel, the card, roles, statuses, the timeline.

Order of work in every change: validate (pure), write the state and its timeline event in one transaction, then
talk to Slack. Slack failures are logged and told to the person who acted; the database already holds the truth,
so a card that could not be edited is corrected by the next change.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import defaultdict
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from bot.core import lifecycle
from bot.core.naming import channel_name
from bot.services.context import Deps, Reply, UserFacingError, no_reply
from bot.slack import blocks as bk
from bot.slack.gateway import SlackCallFailed
from storage import repo
from storage.models import Incident

if TYPE_CHECKING:
    from bot.services.paging import PagingService
    from bot.services.reminders import ReminderService

log = logging.getLogger("tocsin.incidents")

MAX_NAME_ATTEMPTS = 25
RESUME = "setup-resume"
# A set-up still pending after this long was cut short (a live one takes seconds; minutes only in a storm).
SETUP_TAKEOVER = dt.timedelta(minutes=2)
NEEDS_INCIDENT = ("This command works inside an incident channel (`#{prefix}-…`). Run it there, or see open "
                  "incidents with `/incident list`.")


class IncidentService:
    def __init__(self, deps: Deps) -> None:
        self.d = deps
        self.paging: PagingService | None = None
        deps.timers.register(RESUME, self._fire_resume)
        self.reminders: ReminderService | None = None
        self._card_locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._topic_locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._last_topic: dict[tuple[int, str], str] = {}   # what we last set, to skip unchanged Tier-2 calls

    # ---- lookups -------------------------------------------------------------------------------------------
    async def in_channel(self, channel_id: str) -> Incident:
        async with self.d.db.read() as s:
            inc = await repo.incident_by_channel(s, channel_id)
        if inc is None:
            raise UserFacingError(NEEDS_INCIDENT.format(prefix=self.d.config.channel_prefix))
        return inc

    async def get(self, incident_id: int) -> Incident:
        async with self.d.db.read() as s:
            inc = await repo.incident_by_id(s, incident_id)
        if inc is None:
            raise UserFacingError("That incident no longer exists.")
        return inc

    def check_severity(self, severity: str) -> str:
        key = severity.strip().lower()
        if key not in self.d.config.severities:
            valid = ", ".join(f"`{k}`" for k in self.d.config.severities)
            raise UserFacingError(f"There is no severity `{severity}`. Valid severities: {valid}.")
        return key

    def label(self, severity: str) -> str:
        return self.d.config.severity_label(severity)

    # ---- declare -------------------------------------------------------------------------------------------
    async def declare(self, *, user: str, title: str, severity: str, summary: str | None = None,
                      private: bool = False, reply: Reply = no_reply, team: str | None = None) -> Incident:
        title = " ".join(title.split())
        if not title:
            raise UserFacingError("An incident needs a title. Try `/incident declare sev2 Checkout latency spike`, "
                                  "or `/incident` alone to open the form.")
        severity = self.check_severity(severity)
        now = self.d.clock.now()
        async with self.d.db.write() as s:
            number = await repo.next_number(s, now.year)
            inc = Incident(year=now.year, number=number, title=title, summary=(summary or "").strip() or None,
                           severity=severity, status="investigating", private=private,
                           team=self.d.config.team_for(team), declared_by=user, declared_at=now, smes=[])
            s.add(inc)
            await s.flush()
            repo.add_event(s, inc.id, now, "declared", user,
                           f"<@{user}> declared the incident: {bk.escape(title)} ({self.label(severity)})",
                           {"severity": severity, "private": private})
            if self.reminders:
                await self.reminders.schedule(s, inc, now, new=True)
            if self.paging:
                await self.paging.start_for_declared(s, inc, now)
        self.d.timers.arm_pending()
        log.info("incident event=declared ref=%s severity=%s by=%s", inc.reference, severity, user)
        await self._setup(inc, reply)
        return inc

    async def _create_channel(self, inc: Incident, *, adopt: bool = False) -> tuple[str, str]:
        """Create the channel under the first free name. `adopt` (resuming after a crash): a taken name whose
        channel this bot created is the one it made before the crash, so it is used rather than a `-2`."""
        last_error = "name_taken"
        for suffix in range(MAX_NAME_ATTEMPTS):
            # the slugifier reads Slack-escaped text; titles are stored as typed
            name = channel_name(self.d.config.channel_prefix, inc.year, inc.number, bk.escape(inc.title), suffix=suffix)
            try:
                data = await self.d.gateway.call("conversations.create", name=name, is_private=inc.private)
                return data["channel"]["id"], data["channel"]["name"]
            except SlackCallFailed as exc:
                last_error = exc.error
                if exc.error != "name_taken":
                    raise
                if adopt and (found := await self._own_channel(name)):
                    return found, name
        raise SlackCallFailed("conversations.create", last_error)

    async def _own_channel(self, name: str) -> str | None:
        channel_id = await self.d.gateway.find_channel(name)
        if channel_id is None:
            return None
        info = await self.d.gateway.call("conversations.info", channel=channel_id)
        return channel_id if info.get("channel", {}).get("creator") == self.d.gateway.bot_user_id else None

    async def resume_interrupted(self) -> int:
        """At start-up (in the background): finish declarations a crash or restart cut short (still `pending`).
        One still young may be another replica's set-up in progress: it is checked again once it is old."""
        now = self.d.clock.now()
        async with self.d.db.read() as s:
            pending = list((await s.execute(select(Incident.id, Incident.declared_at)
                                            .where(Incident.setup_state == "pending").order_by(Incident.id))).all())
        resumed = 0
        for incident_id, declared_at in pending:
            if now - declared_at < SETUP_TAKEOVER:
                async with self.d.db.write() as s:
                    await self.d.timers.add(s, key=f"{RESUME}:{incident_id}", kind=RESUME,
                                            due_at=declared_at + SETUP_TAKEOVER, incident_id=incident_id)
                self.d.timers.arm_pending()
                continue
            resumed += await self._resume(incident_id)
        return resumed

    async def _fire_resume(self, session, timer):
        return lambda: self._resume(timer.incident_id)

    async def _resume(self, incident_id: int) -> int:
        inc = await self.get(incident_id)
        if inc.setup_state != "pending":
            return 0
        log.warning("incident event=setup_resumed ref=%s", inc.reference)

        async def tell(text: str, user: str | None = inc.declared_by) -> None:
            if user:
                try:
                    await self.d.gateway.dm(user, f"(Tocsin restarted while setting this up.) {text}")
                except SlackCallFailed:
                    pass  # logged by the gateway
        try:
            await self._setup(inc, tell, resume=True)
        except Exception:  # one incident's trouble must not stop the others, nor start-up
            log.exception("resuming the set-up of %s failed; it stays pending until the next start", inc.reference)
            return 0
        return 1

    async def _setup(self, inc: Incident, reply: Reply, *, resume: bool = False) -> None:
        """Create the channel, then everything that only needs the channel, concurrently. `resume`: redo only
        what a crash left undone (channel adopted if we made it, card and announcement only if missing)."""
        try:
            if inc.channel_id:
                channel_id, name = inc.channel_id, inc.channel_name or ""
            else:
                channel_id, name = await self._create_channel(inc, adopt=resume)
        except SlackCallFailed as exc:
            await self._setup_failed(inc, exc, reply)
            return
        inc.channel_id, inc.channel_name = channel_id, name
        log.info("incident event=channel_created ref=%s channel=%s name=%s", inc.reference, channel_id, name)
        card = await self.card_data(inc, new=True)
        topic = bk.topic_text(card.severity_label, inc.status, inc.ic, None)
        purpose = bk.purpose_text(inc.reference, inc.title, card.severity_label, inc.status, None)

        async def post_card() -> None:
            data = await self.d.gateway.post(channel_id, bk.card_text(card), bk.card_blocks(card))
            inc.card_ts = data["ts"]
            await asyncio.gather(self._store(inc.id, card_ts=data["ts"]),
                                 self.d.gateway.call("pins.add", channel=channel_id, timestamp=data["ts"]))

        # The card is the first thing posted: it is what people wait for. The channel's ID is stored alongside it
        # rather than before it, so the card is two Slack round trips after the command.
        jobs = {
            "card": post_card(),
            "store": self._channel_stored(inc.id, channel_id, name),
            "topic": self.d.gateway.call("conversations.setTopic", channel=channel_id, topic=topic),
            "purpose": self.d.gateway.call("conversations.setPurpose", channel=channel_id, purpose=purpose),
            "invite": self.d.gateway.invite(channel_id, [inc.declared_by] if inc.declared_by else []),
            "announce": self._announce_declared(inc, card, channel_id),
        }
        if resume and inc.card_ts:
            jobs.pop("card")
        if resume and inc.announced_at:
            jobs.pop("announce")
        # the first escalation step is due at declaration: fire it now, in case no wake-up did yet
        jobs["paging"] = self.d.timers.tick()
        results = dict(zip(jobs, await asyncio.gather(*jobs.values(), return_exceptions=True)))
        problems = []
        for job, result in results.items():
            if job == "paging":  # not the declarer's concern: logged by the timer service
                continue
            if isinstance(result, SlackCallFailed):
                problems.append(f"{job} ({result.error})")
            elif isinstance(result, BaseException):
                log.error("incident setup step %s failed ref=%s", job, inc.reference, exc_info=result)
                problems.append(f"{job} ({result.__class__.__name__})")
        async with self.d.db.write() as s:
            row = await s.get(Incident, inc.id, with_for_update=True)
            row.setup_state = "ready" if not problems else "ready_with_problems"
            row.setup_error = "; ".join(problems) or None
        message = f":white_check_mark: *{inc.reference}* declared: <#{channel_id}>"
        if problems:
            message += "\n:warning: Some set-up steps failed: " + ", ".join(problems)
        if isinstance(results.get("announce"), str):
            message += f"\n:warning: {results['announce']}"
        await reply(message)
        # A change made while the channel was being set up (a click on the fresh card can beat the write of the
        # channel's ID): make the card current and bring the people given roles into the channel.
        fresh = await self.get(inc.id)
        if (fresh.status, fresh.ic, list(fresh.smes), fresh.severity) != ("investigating", None, [], inc.severity):
            await asyncio.gather(self.refresh(fresh.id), self._invite(fresh, [u for u in [fresh.ic, *fresh.smes] if u]))

    async def _setup_failed(self, inc: Incident, exc: SlackCallFailed, reply: Reply) -> None:
        reason = {
            "ratelimited": "Slack kept rate-limiting channel creation",
            "restricted_action": "this workspace does not let the bot create channels",
            "missing_scope": "the app lacks the channels:manage / groups:write scope",
        }.get(exc.error, f"Slack answered `{exc.error}`")
        now = self.d.clock.now()
        async with self.d.db.write() as s:
            row = await s.get(Incident, inc.id, with_for_update=True)
            row.setup_state, row.setup_error = "failed", exc.error
            repo.add_event(s, inc.id, now, "channel_failed", None, f"The incident channel could not be created: {reason}.",
                           {"error": exc.error})
        log.error("incident event=channel_failed ref=%s error=%s", inc.reference, exc.error)
        await reply(f":warning: *{inc.reference}* is recorded, but its channel could not be created: {reason}. "
                    "The incident is on `/incident list`; an admin can check the app's permissions.")
        card = await self.card_data(inc)
        await self._announce_declared(inc, card, None)
        await self.d.timers.tick()

    async def _channel_stored(self, incident_id: int, channel_id: str, name: str) -> None:
        await self._store(incident_id, channel_id=channel_id, channel_name=name)
        if self.paging:
            await self.paging.channel_ready(incident_id)

    async def _store(self, incident_id: int, **values) -> None:
        async with self.d.db.write() as s:
            await s.execute(update(Incident).where(Incident.id == incident_id).values(**values))

    # ---- announce channel ----------------------------------------------------------------------------------
    async def announce(self, text: str, blocks: list[dict] | None = None, extra_channels: tuple[str, ...] = ()) -> str | None:
        """Post in the announce channel (and extra channels); returns a problem sentence when it could not."""
        problem = None
        targets = []
        if self.d.announce_channel_id:
            targets.append(self.d.announce_channel_id)
        else:
            problem = self.d.announce_problem or f"I could not find the announce channel #{self.d.config.announce_channel}."
        targets += [c for c in extra_channels if c not in targets]
        for channel in targets:
            try:
                await self._post_joining(channel, text, blocks)
            except SlackCallFailed as exc:
                problem = (f"I could not post in <#{channel}> ({exc.error}). Invite me there with `/invite @Tocsin`.")
                log.error("announce failed channel=%s error=%s", channel, exc.error)
        return problem

    async def announce_or_warn(self, inc: Incident, text: str, extra_channels: tuple[str, ...] = ()) -> None:
        """Announce a change; when that fails, say so in the incident channel (the log has it too)."""
        problem = await self.announce(text, bk.event_message(text), extra_channels)
        if problem:
            await self.post_in_channel(inc, f":warning: {problem}")

    async def _post_joining(self, channel: str, text: str, blocks: list[dict] | None) -> dict:
        try:
            return await self.d.gateway.post(channel, text, blocks)
        except SlackCallFailed as exc:
            if exc.error != "not_in_channel":
                raise
            await self.d.gateway.call("conversations.join", channel=channel)
            return await self.d.gateway.post(channel, text, blocks)

    async def _announce_declared(self, inc: Incident, card: bk.CardData, channel_id: str | None) -> str | None:
        if inc.private:
            problem = await self.announce(f"A private incident {inc.reference} was declared.",
                                          bk.private_announcement_blocks(inc.reference, card.severity_label))
        else:
            problem = await self.announce(f":rotating_light: {inc.reference} {bk.escape(inc.title)}",
                                          bk.announcement_blocks(card, channel_id, ":rotating_light: *New incident declared*"))
        if problem is None:
            await self._store(inc.id, announced_at=self.d.clock.now())  # a resumed set-up must not announce twice
        return problem

    # ---- card ----------------------------------------------------------------------------------------------
    async def card_data(self, inc: Incident, *, new: bool = False) -> bk.CardData:
        items = []
        if not new:  # a new incident has no action items yet: skip the read on the declare path
            async with self.d.db.read() as s:
                items = await repo.action_items(s, inc.id)
        return bk.CardData(incident_id=inc.id, reference=inc.reference, title=inc.title,
                           severity_label=self.label(inc.severity), status=inc.status, ic=inc.ic,
                           smes=tuple(inc.smes or ()), declared_by=inc.declared_by, declared_at=inc.declared_at,
                           summary=inc.summary, last_update_at=inc.last_update_at, resolved_at=inc.resolved_at,
                           actions=tuple((a.text, a.owner, a.done) for a in items), private=inc.private)

    async def refresh(self, incident_id: int, *, topic: bool = True) -> None:
        """Edit the card in place, and the topic and purpose, from the stored state.

        One card edit at a time per incident, reading inside the lock, so two near-simultaneous changes can't leave
        the older one on the card. Topic and purpose (Tier-2, slower) have their own lock, so the card never waits
        for them, and are only sent when their text changed."""
        async with self._card_locks[incident_id]:
            inc = await self.get(incident_id)
            if not inc.channel_id:
                return
            card = await self.card_data(inc)
            try:
                if inc.card_ts:
                    await self.d.gateway.update(inc.channel_id, inc.card_ts, bk.card_text(card), bk.card_blocks(card))
                elif inc.setup_state != "pending":
                    await self._repost_card(inc, card)  # the first post failed: the next change brings it back
            except SlackCallFailed:
                pass  # logged by the gateway; the next change tries again
        if topic:
            await self._refresh_topic(incident_id)

    async def _refresh_topic(self, incident_id: int) -> None:
        async with self._topic_locks[incident_id]:
            inc = await self.get(incident_id)
            label = self.label(inc.severity)
            ic_name = await self.d.gateway.user_name(inc.ic) if inc.ic else None
            wanted = {"conversations.setTopic": ("topic", bk.topic_text(label, inc.status, inc.ic, ic_name)),
                      "conversations.setPurpose": ("purpose", bk.purpose_text(inc.reference, inc.title, label,
                                                                              inc.status, ic_name))}
            calls = {method: self.d.gateway.call(method, channel=inc.channel_id, **{key: text})
                     for method, (key, text) in wanted.items() if self._last_topic.get((incident_id, method)) != text}
            for method, result in zip(calls, await asyncio.gather(*calls.values(), return_exceptions=True)):
                if not isinstance(result, BaseException):
                    self._last_topic[(incident_id, method)] = wanted[method][1]
                elif not isinstance(result, SlackCallFailed):
                    log.error("topic refresh failed ref=%s", inc.reference, exc_info=result)

    async def _repost_card(self, inc: Incident, card: bk.CardData) -> None:
        data = await self.d.gateway.post(inc.channel_id, bk.card_text(card), bk.card_blocks(card))
        await self._store(inc.id, card_ts=data["ts"])
        await self.d.gateway.call("pins.add", channel=inc.channel_id, timestamp=data["ts"])
        log.info("incident event=card_reposted ref=%s", inc.reference)

    async def post_in_channel(self, inc: Incident, text: str) -> None:
        if not inc.channel_id:
            return
        try:
            await self.d.gateway.post(inc.channel_id, text, bk.event_message(text))
        except SlackCallFailed:
            pass  # logged by the gateway; the event is on the timeline

    # ---- roles ---------------------------------------------------------------------------------------------
    async def set_ic(self, incident_id: int, user: str, actor: str) -> Incident:
        now = self.d.clock.now()
        async with self.d.db.write() as s:
            inc = await s.get(Incident, incident_id, with_for_update=True)
            if inc.ic == user:
                raise UserFacingError(f"<@{user}> is already the incident commander.")
            previous = inc.ic
            inc.ic = user
            inc.first_ic_at = inc.first_ic_at or now
            text = f"<@{user}> is now incident commander" + (f" (was <@{previous}>)" if previous else "") + \
                   (f", assigned by <@{actor}>" if actor != user else "")
            repo.add_event(s, inc.id, now, "ic_assigned", actor, text, {"user": user, "previous": previous})
        log.info("incident event=ic_assigned ref=%s user=%s by=%s", inc.reference, user, actor)
        await self._invite(inc, [user])
        await asyncio.gather(self.refresh(inc.id), self.post_in_channel(inc, f":crown: {text}."))
        return inc

    async def add_sme(self, incident_id: int, user: str, actor: str) -> Incident:
        now = self.d.clock.now()
        async with self.d.db.write() as s:
            inc = await s.get(Incident, incident_id, with_for_update=True)
            if user in (inc.smes or []):
                raise UserFacingError(f"<@{user}> is already an SME on {inc.reference}.")
            inc.smes = [*(inc.smes or []), user]
            text = f"<@{user}> joined as SME" + (f", added by <@{actor}>" if actor != user else "")
            repo.add_event(s, inc.id, now, "sme_joined", actor, text, {"user": user})
        log.info("incident event=sme_joined ref=%s user=%s by=%s", inc.reference, user, actor)
        await self._invite(inc, [user])
        await asyncio.gather(self.refresh(inc.id, topic=False), self.post_in_channel(inc, f":wrench: {text}."))
        return inc

    async def _invite(self, inc: Incident, users: list[str]) -> None:
        if inc.channel_id:
            try:
                await self.d.gateway.invite(inc.channel_id, users)
            except SlackCallFailed:
                pass  # logged by the gateway

    # ---- status and severity -------------------------------------------------------------------------------
    @staticmethod
    def check_move(inc: Incident, target: str, *, reopen: bool = False) -> None:
        """May `inc` move to `target`? The transition table, plus: a resolved incident comes back only by reopen."""
        if inc.status == "resolved" and target != "resolved" and not reopen:
            raise UserFacingError(f"{inc.reference} is resolved. Use `/incident reopen` to bring it back.")
        try:
            lifecycle.check_transition(inc.status, target)
        except lifecycle.TransitionError as exc:
            raise UserFacingError(str(exc)) from None

    async def change_status(self, incident_id: int, target: str, actor: str, *, resolution: str | None = None,
                            impact: str | None = None, cause: str | None = None, reopen: bool = False) -> Incident:
        target = target.strip().lower()
        now = self.d.clock.now()
        closed_pages: list[int] = []
        async with self.d.db.write() as s:
            if target == "resolved" and self.paging:  # escalations are locked before the incident (lock order)
                closed_pages = await self.paging.cancel_for_incident(s, incident_id)
            inc = await s.get(Incident, incident_id, with_for_update=True)
            self.check_move(inc, target, reopen=reopen)
            previous = inc.status
            inc.status = target
            details = {"from": previous, "to": target}
            if target == "resolved":
                inc.resolved_at = now
                if resolution:
                    inc.resolution = resolution
                if impact:
                    inc.impact = impact
                if cause:
                    inc.root_cause = cause
                kind = "resolved"
                text = f"<@{actor}> resolved the incident" + (f": {resolution}" if resolution else "")
                details["resolution"] = resolution
            elif previous == "resolved":
                inc.resolved_at = None
                kind = "reopened"
                text = f"<@{actor}> reopened the incident (now {target})"
            else:
                kind = "status_changed"
                text = f"<@{actor}> changed status from {previous} to {target}"
            repo.add_event(s, inc.id, now, kind, actor, text, details)
            if self.reminders:
                if target == "resolved":
                    await self.reminders.stop(s, inc)
                else:
                    await self.reminders.schedule(s, inc, now)
        self.d.timers.arm_pending()
        log.info("incident event=%s ref=%s from=%s to=%s by=%s", kind, inc.reference, previous, target, actor)
        emoji = bk.STATUS_EMOJI.get(target, "")
        announce = f"{emoji} *{inc.reference}* {bk.escape(inc.title)}: {previous} → *{target}*"
        if inc.private:
            announce = f"{emoji} Private incident *{inc.reference}* is now *{target}*."
        await asyncio.gather(self.refresh(inc.id), self.post_in_channel(inc, f"{emoji} {text}."),
                             self.announce_or_warn(inc, announce),
                             self.paging.close_pages(closed_pages, ":white_check_mark: The incident was resolved; no action needed.")
                             if self.paging else asyncio.sleep(0))
        return inc

    async def change_severity(self, incident_id: int, severity: str, actor: str) -> Incident:
        severity = self.check_severity(severity)
        now = self.d.clock.now()
        async with self.d.db.write() as s:
            inc = await s.get(Incident, incident_id, with_for_update=True)
            if inc.severity == severity:
                raise UserFacingError(f"{inc.reference} is already {self.label(severity)}.")
            previous = inc.severity
            inc.severity = severity
            text = f"<@{actor}> changed severity from {self.label(previous)} to {self.label(severity)}"
            repo.add_event(s, inc.id, now, "severity_changed", actor, text, {"from": previous, "to": severity})
            if self.reminders and inc.is_open:
                await self.reminders.schedule(s, inc, now)
        self.d.timers.arm_pending()
        log.info("incident event=severity_changed ref=%s from=%s to=%s by=%s", inc.reference, previous, severity, actor)
        announce = f":arrows_counterclockwise: *{inc.reference}* {bk.escape(inc.title)}: severity {self.label(previous)} → *{self.label(severity)}*"
        if inc.private:
            announce = f":arrows_counterclockwise: Private incident *{inc.reference}* is now *{self.label(severity)}*."
        await asyncio.gather(self.refresh(inc.id), self.post_in_channel(inc, f":arrows_counterclockwise: {text}."),
                             self.announce_or_warn(inc, announce))
        return inc

    async def resolve(self, incident_id: int, actor: str, resolution: str, impact: str | None = None,
                      cause: str | None = None) -> Incident:
        return await self.change_status(incident_id, "resolved", actor, resolution=resolution.strip() or None,
                                        impact=(impact or "").strip() or None, cause=(cause or "").strip() or None)

    async def reopen(self, incident_id: int, actor: str) -> Incident:
        inc = await self.get(incident_id)
        if inc.status != "resolved":
            raise UserFacingError(f"{inc.reference} is not resolved (it is {inc.status}); there is nothing to reopen.")
        return await self.change_status(incident_id, "investigating", actor, reopen=True)

    # ---- notes and timeline --------------------------------------------------------------------------------
    async def add_note(self, incident_id: int, actor: str, text: str) -> None:
        text = text.strip()
        if not text:
            raise UserFacingError("A note needs text: `/incident note Rolled back the deploy`.")
        now = self.d.clock.now()
        async with self.d.db.write() as s:
            inc = await s.get(Incident, incident_id, with_for_update=True)
            repo.add_event(s, inc.id, now, "note", actor, text)
        log.info("incident event=note ref=%s by=%s", inc.reference, actor)
        await self.post_in_channel(inc, f":memo: Note from <@{actor}>: {text}")

    async def set_field(self, incident_id: int, actor: str, field: str, text: str) -> Incident:
        """`/incident impact …` and `/incident cause …`: recorded until the postmortem is generated."""
        text = text.strip()
        kind = {"impact": "impact_set", "root_cause": "cause_set"}[field]
        word = {"impact": "impact", "root_cause": "cause"}[field]
        if not text:
            raise UserFacingError(f"Give the text: `/incident {word} &lt;what happened&gt;`.")
        now = self.d.clock.now()
        async with self.d.db.write() as s:
            inc = await s.get(Incident, incident_id, with_for_update=True)
            setattr(inc, field, text)
            repo.add_event(s, inc.id, now, kind, actor, f"<@{actor}> recorded the {'impact' if field == 'impact' else 'root cause'}: {text}")
        log.info("incident event=%s ref=%s by=%s", kind, inc.reference, actor)
        return inc

    async def timeline_lines(self, incident_id: int) -> list[str]:
        async with self.d.db.read() as s:
            events = await repo.timeline(s, incident_id)
        lines = []
        for e in events:
            stamp = e.at.strftime("%Y-%m-%d %H:%M:%S UTC")
            body = e.text if not e.permalink else f"{e.text} (<{e.permalink}|message>)"
            lines.append(f"`{stamp}` *{e.kind.replace('_', ' ')}* {body}")
        return lines

    async def list_open(self) -> list[Incident]:
        async with self.d.db.read() as s:
            return await repo.open_incidents(s)
