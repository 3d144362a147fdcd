"""Timeline capture: a message someone pins, or reacts to with :pushpin:, joins the timeline once."""
from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.exc import IntegrityError

from bot.services.context import Deps
from bot.services.incidents import IncidentService
from bot.slack.gateway import SlackCallFailed
from storage import repo

log = logging.getLogger("tocsin.capture")

CAPTURE_REACTIONS = {"pushpin", "round_pushpin"}


class CaptureService:
    def __init__(self, deps: Deps, incidents: IncidentService) -> None:
        self.d = deps
        self.incidents = incidents

    async def on_pin(self, channel: str, ts: str, message: dict | None, actor: str | None) -> bool:
        return await self._capture(channel, ts, message, actor, "pinned")

    async def on_reaction(self, channel: str, ts: str, reaction: str, actor: str | None) -> bool:
        if reaction not in CAPTURE_REACTIONS:
            return False
        return await self._capture(channel, ts, None, actor, "reacted :pushpin:")

    async def _capture(self, channel: str, ts: str, message: dict | None, actor: str | None, how: str) -> bool:
        async with self.d.db.read() as s:
            inc = await repo.incident_by_channel(s, channel)
        if inc is None:
            return False
        if inc.card_ts == ts or (actor and actor == self.d.gateway.bot_user_id):
            return False  # our own summary card, pinned by us (its ts may not be stored yet when the event comes)
        if message is None:
            try:
                data = await self.d.gateway.call("conversations.history", channel=channel, latest=ts, oldest=ts,
                                                 inclusive=True, limit=1)
                message = next((m for m in data.get("messages", []) if m.get("ts") == ts), None)
            except SlackCallFailed:
                message = None
            if message is None:
                log.warning("capture: message %s in %s not readable", ts, channel)
                return False
        author = message.get("user") or message.get("bot_id")
        permalink = await self.d.gateway.permalink(channel, ts)
        text = (message.get("text") or "").strip() or "(message without text)"
        at = dt.datetime.fromtimestamp(float(ts), dt.timezone.utc)
        try:
            async with self.d.db.write() as s:
                repo.add_event(s, inc.id, at, "pinned", author, f"<@{author}>: {text}" if author else text,
                               {"captured_by": actor, "how": how, "ts": ts}, permalink=permalink,
                               dedupe_key=f"msg:{channel}:{ts}")
        except IntegrityError:
            return False  # already on the timeline: once, however often it is pinned
        log.info("incident event=pinned ref=%s ts=%s by=%s", inc.reference, ts, actor)
        return True
