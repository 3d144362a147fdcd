"""Who is on call: config schedules + stored overrides → the pure core. Also `/incident override` and the
handoff notices, which are durable timers like escalation steps."""
from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Config, ConfigError, ScheduleConfig
from bot.core import oncall as core
from bot.core.durations import format_duration, parse_duration
from bot.core.users import split_first_user
from bot.services.context import Deps, UserFacingError
from bot.services.directory import UserNotFound
from bot.slack import blocks as bk
from bot.slack.gateway import SlackCallFailed
from storage import repo
from storage.models import OverrideRow, Timer

log = logging.getLogger("tocsin.oncall")

HANDOFF = "handoff"
PLAN_HORIZON = dt.timedelta(days=7)
STALE_HANDOFF = dt.timedelta(hours=1)
UNTIL = re.compile(r"^until\s+(?:(\d{4}-\d{2}-\d{2})[ T])?(\d{1,2}:\d{2})$", re.IGNORECASE)


def _time(text: str) -> dt.time:
    h, m = text.split(":")
    return dt.time(int(h), int(m))


def schedule_from_config(config: Config, name: str, user_of: Callable[[str], str] = lambda ref: ref,
                         stored: Iterable[OverrideRow] = ()) -> core.Schedule:
    """The core's Schedule for a configured schedule: config users mapped by `user_of`, stored overrides added."""
    cfg: ScheduleConfig = config.schedules[name]
    layers = []
    for layer in cfg.layers:
        restrictions = tuple(core.Restriction(kind=r.type, start_time=_time(r.start_time), end_time=_time(r.end_time),
                                              start_day=r.start_day, end_day=r.end_day) for r in layer.restrictions)
        layers.append(core.Layer(name=layer.name, start=layer.start, rotation=core.parse_rotation(layer.rotation),
                                 users=tuple(user_of(u) for u in layer.users), restrictions=restrictions))
    overrides = [core.Override(user=user_of(o.user), start=core.localize(o.start, cfg.time_zone),
                               end=core.localize(o.end, cfg.time_zone)) for o in cfg.overrides]
    overrides += [core.Override(user=o.user, start=o.start, end=o.end) for o in stored]
    return core.Schedule(name=name, time_zone=cfg.time_zone, layers=tuple(layers), overrides=tuple(overrides))


class OnCallService:
    def __init__(self, deps: Deps) -> None:
        self.d = deps
        deps.timers.register(HANDOFF, self._fire_handoff)

    # ---- config → core -------------------------------------------------------------------------------------
    async def resolve_config_users(self) -> None:
        """Resolve every user the config names (emails through users.lookupByEmail). Unknown ones stop start-up."""
        problems = []
        for path, ref in self.d.config.all_user_refs():
            if self.d.directory.config_user(ref):
                continue
            try:
                self.d.directory.config_users[ref] = await self.d.directory.resolve(ref)
            except UserNotFound as exc:
                problems.append(f"{path}: {exc.reason}")
        if problems:
            raise ConfigError("Invalid incident config: users no one can resolve in Slack: " + "; ".join(problems))

    def _user(self, ref: str) -> str:
        return self.d.directory.config_user(ref) or ref

    def core_schedule(self, name: str, stored: list[OverrideRow] = ()) -> core.Schedule:
        return schedule_from_config(self.d.config, name, self._user, stored)

    async def schedule(self, name: str, session: AsyncSession | None = None) -> core.Schedule:
        async def load(s: AsyncSession) -> list[OverrideRow]:
            return list((await s.execute(select(OverrideRow).where(OverrideRow.schedule == name)
                                         .order_by(OverrideRow.id))).scalars())
        if session is not None:
            return self.core_schedule(name, await load(session))
        async with self.d.db.read() as s:
            return self.core_schedule(name, await load(s))

    async def on_call(self, name: str, at: dt.datetime, session: AsyncSession | None = None) -> str | None:
        shift = core.on_call_at(await self.schedule(name, session), at)
        return shift.user if shift else None

    def team_schedules(self, team: str) -> list[str]:
        cfg = self.d.config.teams[team]
        names: list[str] = []
        if cfg.escalation_policy:
            for step in self.d.config.escalation_policies[cfg.escalation_policy].steps:
                names += [t.schedule for t in step.targets if t.schedule and t.schedule not in names]
        return names

    # ---- /incident oncall ----------------------------------------------------------------------------------
    async def describe(self, target: str | None) -> str:
        config = self.d.config
        if not config.schedules:
            return "No schedules are configured. Add `schedules:` to incident.yml (see incident.example.yml)."
        if target is None:
            names = self.team_schedules(config.default_team) if config.default_team else []
            names = names or list(config.schedules)
        elif target in config.schedules:
            names = [target]
        elif target in config.teams:
            names = self.team_schedules(target)
            if not names:
                return f"Team `{target}` has no schedules in its escalation policy."
        else:
            valid = ", ".join(f"`{n}`" for n in [*config.schedules, *config.teams])
            raise UserFacingError(f"There is no schedule or team `{target}`. Try one of: {valid}.")
        now = self.d.clock.now()
        lines = []
        for name in names:
            sched = await self.schedule(name)
            current = core.on_call_at(sched, now)
            nxt = core.next_shift(sched, now)
            if current:
                line = f"*{name}*: <@{current.user}> is on call now, until {bk.slack_date(current.end)}"
            else:
                line = f"*{name}*: nobody is on call right now"
            if nxt:
                line += f"; next: <@{nxt.user}> from {bk.slack_date(nxt.start)}"
            lines.append(line)
        return "\n".join(lines)

    # ---- /incident override --------------------------------------------------------------------------------
    async def add_override_command(self, args: str, actor: str) -> str:
        usage = ("Usage: `/incident override &lt;schedule&gt; @user &lt;duration&gt;` (e.g. `4h`, `1d`) or "
                 "`/incident override &lt;schedule&gt; @user until 2026-11-24 09:00` (the schedule's local time).")
        parts = args.strip().split(None, 1)
        if len(parts) < 2:
            raise UserFacingError(usage)
        name, rest = parts
        if name not in self.d.config.schedules:
            valid = ", ".join(f"`{n}`" for n in self.d.config.schedules) or "none configured"
            raise UserFacingError(f"There is no schedule `{name}`. Schedules: {valid}. {usage}")
        _ref, token, when = split_first_user(rest)
        user = await self.d.directory.resolve_input(token, usage)
        now = self.d.clock.now()
        end = self._override_end(name, when.strip(), now, usage)
        before = await self.on_call(name, now)
        async with self.d.db.write() as s:
            s.add(OverrideRow(schedule=name, user=user, start=now, end=end, created_by=actor, created_at=now))
            await self._plan_handoffs(s, name, now)
        self.d.timers.arm_pending()
        if before != user:  # the override's start is a handoff too: tell both people now
            await self._notify_handoff(name, before, user, end)
        log.info("override schedule=%s user=%s until=%s by=%s", name, user, end.isoformat(), actor)
        return (f":arrows_counterclockwise: <@{user}> is on call for *{name}* from now until {bk.slack_date(end)} "
                f"({format_duration(end - now)}).")

    def _override_end(self, name: str, when: str, now: dt.datetime, usage: str) -> dt.datetime:
        if not when:
            raise UserFacingError(f"Say for how long. {usage}")
        tz = self.d.config.schedules[name].time_zone
        if m := UNTIL.match(when):
            local_now = now.astimezone(ZoneInfo(tz))
            try:
                day = dt.date.fromisoformat(m.group(1)) if m.group(1) else local_now.date()
                naive = dt.datetime.combine(day, _time(m.group(2)))
            except ValueError:
                raise UserFacingError(f"'{when}' is not a valid date and time. {usage}") from None
            end = core.localize(naive, tz)
            if not m.group(1) and end <= now:
                end = core.localize(naive + dt.timedelta(days=1), tz)
        else:
            try:
                end = now + parse_duration(when)
            except ValueError as exc:
                raise UserFacingError(f"{exc}. {usage}") from None
        if end <= now:
            raise UserFacingError(f"That time is already past. {usage}")
        if end - now > dt.timedelta(days=90):
            raise UserFacingError(f"An override can last at most 90 days. {usage}")
        return end

    # ---- handoff notices -----------------------------------------------------------------------------------
    async def schedule_handoffs(self) -> None:
        now = self.d.clock.now()
        async with self.d.db.write() as s:
            for name in self.d.config.schedules:
                await self._plan_handoffs(s, name, now)
        self.d.timers.arm_pending()

    async def _plan_handoffs(self, session: AsyncSession, name: str, now: dt.datetime) -> None:
        """A timer per handoff in the next week (idempotent keys); the last one re-plans the following week."""
        sched = await self.schedule(name, session)
        for at, _out, _in in core.handoffs(sched, now, now + PLAN_HORIZON):
            await self.d.timers.add(session, key=f"{HANDOFF}:{name}:{at.isoformat()}", kind=HANDOFF, due_at=at,
                                    payload={"schedule": name})
        await self.d.timers.add(session, key=f"{HANDOFF}-plan:{name}:{(now + PLAN_HORIZON).date().isoformat()}",
                                kind=HANDOFF, due_at=now + PLAN_HORIZON - dt.timedelta(days=1),
                                payload={"schedule": name, "plan": True})

    async def _fire_handoff(self, session: AsyncSession, timer: Timer):
        name = timer.payload.get("schedule")
        if name not in self.d.config.schedules:
            return None
        if timer.payload.get("plan"):
            await self._plan_handoffs(session, name, self.d.clock.now())
            return None
        at = timer.due_at
        if self.d.clock.now() - at > STALE_HANDOFF:
            return None  # the bot was down when this handoff happened: an old notice helps nobody
        sched = await self.schedule(name, session)
        before = core.on_call_at(sched, at - dt.timedelta(microseconds=1))
        after = core.on_call_at(sched, at)
        outgoing, incoming = (before.user if before else None), (after.user if after else None)
        if outgoing == incoming:
            return None  # moot: an override changed the plan since this notice was scheduled
        if after is not None and after.end <= self.d.clock.now():
            return None  # moot: that shift already ended while the bot was down; don't send stale notices
        until = after.end if after else None
        return lambda: self._notify_handoff(name, outgoing, incoming, until)

    async def _notify_handoff(self, name: str, outgoing: str | None, incoming: str | None,
                              until: dt.datetime | None) -> None:
        """The incoming on-call gets the open incidents they inherit (the seeds' handoff checklist); the outgoing
        one hears that the shift ended and to whom."""
        async with self.d.db.read() as s:
            open_incidents = await repo.open_incidents(s)
        lines = [f"• *{i.reference}* {'private incident' if i.private else bk.escape(i.title)} — "
                 f"{self.d.config.severity_label(i.severity)}, {i.status}, IC {bk.mention(i.ic)}"
                 + (f", <#{i.channel_id}>" if i.channel_id else "") for i in open_incidents]
        if incoming:
            text = (f":pager: *Your on-call shift for {name} has started*" +
                    (f" (until {bk.slack_date(until)})" if until else "") + ".\n")
            text += ("*Open incidents you inherit:*\n" + "\n".join(lines)) if lines else "No open incidents. Quiet shift, hopefully."
            text += "\nCheck recent alerts, sync with the previous on-call, and make sure your notifications work."
            await self._dm(incoming, text)
        if outgoing:
            handed = f" to <@{incoming}>" if incoming else " (nobody is on call after you)"
            await self._dm(outgoing, f":wave: Your on-call shift for *{name}* has ended; handed over{handed}. "
                                     "Pass on any context in the incident channels.")
        log.info("handoff schedule=%s from=%s to=%s", name, outgoing, incoming)

    async def _dm(self, user: str, text: str) -> None:
        try:
            await self.d.gateway.dm(user, text, [bk.section(text)])
        except SlackCallFailed:
            pass  # logged by the gateway
