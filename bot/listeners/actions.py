"""Buttons: on the card (Take IC, Join as SME, Post update, Resolve), on page DMs (Acknowledge, Decline), on
action-item lists (Mark done). Ack at once, then call the service; errors answer privately."""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

from slack_bolt.async_app import AsyncApp

from bot.listeners.replies import (
    slack_failure_text,
    unexpected_failure_text,
    via_respond,
)
from bot.services.context import UserFacingError
from bot.services.registry import Services
from bot.slack import blocks as bk
from bot.slack import ids
from bot.slack.gateway import SlackCallFailed

log = logging.getLogger("tocsin.actions")


def _value(body: dict) -> str:
    return body["actions"][0].get("value", "")


def _incident_id(body: dict) -> int:
    try:
        return int(_value(body))
    except ValueError:
        raise UserFacingError("That button is from an older version of Tocsin; use the latest card.") from None


def register(app: AsyncApp, svc: Services) -> None:
    def button(action_id: str):
        def wrap(fn: Callable[[dict, Any], Awaitable[None]]):
            @app.action(action_id)
            async def _listener(ack, body, respond) -> None:
                await ack()
                reply = via_respond(respond)
                try:
                    await fn(body, reply)
                except UserFacingError as exc:
                    await reply(str(exc))
                except SlackCallFailed as exc:
                    await reply(slack_failure_text(exc))
                except Exception as exc:  # logged with its traceback; the clicker still gets an answer
                    log.exception("button %s failed", action_id)
                    await reply(unexpected_failure_text(exc))
            return fn
        return wrap

    @button(ids.TAKE_IC)
    async def take_ic(body, reply) -> None:
        await svc.incidents.set_ic(_incident_id(body), body["user"]["id"], body["user"]["id"])

    @button(ids.JOIN_SME)
    async def join_sme(body, reply) -> None:
        await svc.incidents.add_sme(_incident_id(body), body["user"]["id"], body["user"]["id"])

    @button(ids.POST_UPDATE)
    async def post_update(body, reply) -> None:
        await svc.updates.open_modal(_incident_id(body), body.get("trigger_id"), reply)

    @button(ids.RESOLVE)
    async def resolve(body, reply) -> None:
        inc = await svc.incidents.get(_incident_id(body))
        if not inc.is_open:
            raise UserFacingError(f"{inc.reference} is already resolved.")
        await svc.deps.gateway.call("views.open", trigger_id=body.get("trigger_id"), view=bk.resolve_modal(inc.id, inc.reference))

    @button(ids.PAGE_ACK)
    async def page_ack(body, reply) -> None:
        await reply(await svc.paging.respond(int(_value(body)), body["user"]["id"], acknowledged=True))

    @button(ids.PAGE_DECLINE)
    async def page_decline(body, reply) -> None:
        await reply(await svc.paging.respond(int(_value(body)), body["user"]["id"], acknowledged=False))

    @button(ids.ACTION_DONE)
    async def action_done(body, reply) -> None:
        await reply(await svc.actions.mark_done(int(_value(body)), body["user"]["id"]))
