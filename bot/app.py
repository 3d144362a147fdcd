"""build_app(settings) wires everything: database, Slack client and gateway, services, listeners, scheduler.

Nothing here runs at import time. `Tocsin.start()` does the start-up work that talks to Slack (auth, joining the
announce channel, resolving the config's users, re-arming timers) and opens the Socket Mode connection.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiohttp
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Config, ConfigError, load_config
from bot.core.clock import Clock, SystemClock
from bot.listeners import actions as action_listeners
from bot.listeners import commands as command_listeners
from bot.listeners import events as event_listeners
from bot.listeners import views as view_listeners
from bot.services.actions import ActionItemService
from bot.services.capture import CaptureService
from bot.services.context import Deps
from bot.services.directory import Directory
from bot.services.incidents import IncidentService
from bot.services.oncall import OnCallService
from bot.services.paging import PagingService
from bot.services.postmortems import PostmortemService
from bot.services.registry import Services
from bot.services.reminders import ReminderService, UpdateService
from bot.services.timers import TimerService
from bot.settings import Settings
from bot.slack.gateway import (
    SlackCallFailed,
    SlackGateway,
    install_retry_handlers,
    looks_like_channel_id,
)
from storage.db import Database

log = logging.getLogger("tocsin")


@dataclass
class Tocsin:
    app: AsyncApp
    services: Services
    scheduler: AsyncIOScheduler | None
    settings: Settings
    socket_handler: AsyncSocketModeHandler | None = None
    _resume_task: asyncio.Task | None = None

    @property
    def deps(self) -> Deps:
        return self.services.deps

    async def prepare(self) -> None:
        """Start-up work against Slack and the database, before events flow."""
        d = self.deps
        auth = await d.gateway.auth()
        log.info("connected to Slack team=%s bot_user=%s", auth.get("team_id"), auth.get("user_id"))
        await self._join_announce_channel()
        await self.services.oncall.resolve_config_users()
        if self.scheduler is not None and not self.scheduler.running:
            self.scheduler.start()
        await self.services.paging.recover()
        armed = await d.timers.rearm()
        await self.services.oncall.schedule_handoffs()
        log.info("timers re-armed: %d unfired", armed)

    async def _join_announce_channel(self) -> None:
        d = self.deps
        ref = d.config.announce_channel
        try:
            channel_id = ref if looks_like_channel_id(ref) else await d.gateway.find_channel(ref)
        except SlackCallFailed as exc:
            channel_id = None
            d.announce_problem = f"I could not look up the announce channel #{ref} ({exc.error})."
        if channel_id is None:
            d.announce_problem = d.announce_problem or (
                f"The announce channel #{ref} does not exist or is private without me in it; create it or invite me.")
            log.error("announce channel: %s", d.announce_problem)
            return
        d.announce_channel_id = channel_id
        try:
            await d.gateway.call("conversations.join", channel=channel_id)
        except SlackCallFailed as exc:
            if exc.error != "method_not_supported_for_channel_type":
                d.announce_problem = f"I could not join the announce channel <#{channel_id}> ({exc.error}); invite me with `/invite @Tocsin`."
                log.error("announce channel: %s", d.announce_problem)
        for sev in d.config.severities.values():
            for ch in sev.notify_channels:
                if ch not in d.notify_channel_ids:
                    try:
                        cid = ch if looks_like_channel_id(ch) else await d.gateway.find_channel(ch.lstrip("#"))
                        if cid:
                            d.notify_channel_ids[ch] = cid
                        else:
                            log.error("notify channel #%s not found", ch)
                    except SlackCallFailed as exc:
                        log.error("notify channel #%s: %s", ch, exc.error)

    async def _drain(self, timeout: float) -> None:
        # Bolt runs each listener in its own task after the ack; wait for those, so nothing is cut off mid-change.
        current = asyncio.current_task()
        pending = [t for t in asyncio.all_tasks() if t is not current and not t.done()
                   and "run_ack_function_asynchronously" in repr(t.get_coro())]
        if pending:
            done, still = await asyncio.wait(pending, timeout=timeout)
            if still:
                log.warning("%d listener tasks still running at shutdown", len(still))

    async def start(self) -> None:
        # The Socket Mode URL is fetched here, once, just before connecting (the URLs are short-lived): a wrong
        # app token fails start-up instead of showing only as reconnect attempts forever, and
        # apps.connections.open (Tier 1) is not called a second time by the client.
        await self.prepare()
        url = await self.deps.gateway.socket_mode_url(self.settings.slack_app_token)
        self.socket_handler = AsyncSocketModeHandler(self.app, self.settings.slack_app_token)
        self.socket_handler.client.wss_uri = url
        await self.socket_handler.connect_async()
        log.info("Socket Mode connected; Tocsin is running")
        # declarations a crash cut short are finished in the background: commands are answered meanwhile
        self._resume_task = asyncio.create_task(self._resume())

    async def _resume(self) -> None:
        try:
            resumed = await self.services.incidents.resume_interrupted()
            if resumed:
                log.warning("resumed %d declarations interrupted by a restart", resumed)
        except Exception:
            log.exception("resuming interrupted declarations failed; they are retried at the next start")

    async def stop(self, drain_timeout: float = 10.0) -> None:
        """Stop taking events, let the work already acknowledged finish, then close the scheduler and database."""
        if self.socket_handler is not None:
            await self.socket_handler.close_async()
            self.socket_handler = None
        if self._resume_task is not None:
            await asyncio.wait([self._resume_task], timeout=drain_timeout)
        await self._drain(drain_timeout)
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self.deps.db.close()
        if self.deps.gateway.client.session is not None:
            await self.deps.gateway.client.session.close()
        log.info("Tocsin stopped")


async def build_app(settings: Settings, *, config: Config | None = None, clock: Clock | None = None,
                    auto_wake: bool = True, rate_limit_retries: int = 12) -> Tocsin:
    """Build a bot from settings. Raises ConfigError / DatabaseError with operator-facing messages."""
    if config is None:
        config = load_config(settings.config_path())
    clock = clock or SystemClock()
    db = await Database.open(settings.database_url)
    # One aiohttp session for every Web API call: reused connections instead of a new one per call.
    client = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url,
                            session=aiohttp.ClientSession())
    install_retry_handlers(client, rate_limit_retries)
    gateway = SlackGateway(client)
    scheduler = AsyncIOScheduler(timezone="UTC") if auto_wake else None
    timers = TimerService(db, clock, scheduler)
    deps = Deps(config=config, clock=clock, db=db, gateway=gateway, directory=Directory(gateway), timers=timers)

    incidents = IncidentService(deps)
    oncall = OnCallService(deps)
    paging = PagingService(deps, incidents, oncall)
    reminders = ReminderService(deps, incidents)
    updates = UpdateService(deps, incidents, reminders)
    actions = ActionItemService(deps, incidents)
    capture = CaptureService(deps, incidents)
    postmortems = PostmortemService(deps, incidents)
    incidents.paging, incidents.reminders = paging, reminders
    services = Services(deps=deps, incidents=incidents, paging=paging, oncall=oncall, reminders=reminders,
                        updates=updates, actions=actions, capture=capture, postmortems=postmortems)

    app = AsyncApp(client=client, process_before_response=False,
                   raise_error_for_unhandled_request=False)
    command_listeners.register(app, services)
    action_listeners.register(app, services)
    view_listeners.register(app, services)
    event_listeners.register(app, services)

    @app.error
    async def on_error(error, body) -> None:
        log.error("unhandled error in a listener: %s (payload type=%s)", error, (body or {}).get("type"), exc_info=error)

    return Tocsin(app=app, services=services, scheduler=scheduler, settings=settings)


__all__ = ["build_app", "Tocsin", "ConfigError"]
