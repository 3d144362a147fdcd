"""Events API: pins and :pushpin: reactions feed the timeline. Slack redelivers an event it thinks was not
acknowledged (retry_attempt > 0): each event_id is handled once."""
from __future__ import annotations

from collections import OrderedDict

from slack_bolt.async_app import AsyncApp

from bot.services.registry import Services
from bot.slack import blocks as bk

SEEN_MAX = 5000


class SeenEvents:
    def __init__(self) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()

    def first_time(self, event_id: str | None) -> bool:
        if not event_id:
            return True
        if event_id in self._ids:
            return False
        self._ids[event_id] = None
        if len(self._ids) > SEEN_MAX:
            self._ids.popitem(last=False)
        return True


def register(app: AsyncApp, svc: Services) -> None:
    seen = SeenEvents()

    @app.event("pin_added")
    async def pin_added(body, event) -> None:
        if not seen.first_time(body.get("event_id")):
            return
        item = event.get("item") or {}
        message = item.get("message")
        ts = (message or {}).get("ts") or item.get("ts")
        channel = event.get("channel_id") or item.get("channel")
        if channel and ts:
            await svc.capture.on_pin(channel, ts, message, event.get("user"))

    @app.event("reaction_added")
    async def reaction_added(body, event) -> None:
        if not seen.first_time(body.get("event_id")):
            return
        item = event.get("item") or {}
        if item.get("type") == "message" and item.get("channel") and item.get("ts"):
            await svc.capture.on_reaction(item["channel"], item["ts"], event.get("reaction", ""), event.get("user"))

    @app.event("app_home_opened")
    async def home_opened(event) -> None:
        if event.get("tab", "home") != "home":
            return
        incidents = await svc.incidents.list_open()
        rows = [(i.reference, "private incident" if i.private else i.title, svc.incidents.label(i.severity), i.status,
                 i.channel_id) for i in incidents]
        await svc.deps.gateway.call("views.publish", user_id=event["user"], view=bk.home_view(rows))
