"""Modal submissions: declare, status update, resolve. Validation errors go back into the modal
(`response_action: errors`) so nothing is lost; otherwise ack closes it and the work starts."""
from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

from slack_bolt.async_app import AsyncApp

from bot.core.mrkdwn import escape
from bot.listeners.replies import (
    slack_failure_text,
    unexpected_failure_text,
    via_ephemeral_or_dm,
)
from bot.services.context import UserFacingError
from bot.services.registry import Services
from bot.slack import ids
from bot.slack.gateway import SlackCallFailed

log = logging.getLogger("tocsin.views")


def _input(view: dict, pair: tuple[str, str]) -> dict:
    return view.get("state", {}).get("values", {}).get(pair[0], {}).get(pair[1], {}) or {}


def text_value(view: dict, pair: tuple[str, str]) -> str:
    return (_input(view, pair).get("value") or "").strip()


def select_value(view: dict, pair: tuple[str, str]) -> str | None:
    opt = _input(view, pair).get("selected_option")
    return opt.get("value") if opt else None


def checked(view: dict, pair: tuple[str, str]) -> list[str]:
    return [o.get("value") for o in _input(view, pair).get("selected_options") or []]


async def for_incident(svc: Services, body: dict, view: dict, work: Callable[[int, str], Awaitable[object]]) -> None:
    """Run a submitted incident modal's work; problems go privately to the submitter (modals have no response_url)."""
    user = body["user"]["id"]
    inc = await svc.incidents.get(int(view.get("private_metadata") or 0))
    reply = via_ephemeral_or_dm(svc.deps.gateway, inc.channel_id, user)
    try:
        await work(inc.id, user)
    except UserFacingError as exc:
        await reply(str(exc))
    except SlackCallFailed as exc:
        await reply(slack_failure_text(exc))
    except Exception as exc:  # logged with its traceback; the submitter still gets an answer
        log.exception("modal %s failed", view.get("callback_id"))
        await reply(unexpected_failure_text(exc))


def register(app: AsyncApp, svc: Services) -> None:
    @app.view(ids.DECLARE_VIEW)
    async def declare_submitted(ack, body, view) -> None:
        title = " ".join(text_value(view, ids.IN_TITLE).split())
        severity = select_value(view, ids.IN_SEVERITY) or ""
        errors = {}
        if not title:
            errors[ids.IN_TITLE[0]] = "A title is needed, e.g. Checkout latency spike."
        if severity not in svc.deps.config.severities:
            errors[ids.IN_SEVERITY[0]] = "Pick one of the listed severities."
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        user = body["user"]["id"]
        reply = via_ephemeral_or_dm(svc.deps.gateway, view.get("private_metadata") or None, user)
        # told at once, but without holding up the declaration (the reply may need a DM fallback)
        told = asyncio.create_task(reply(f":hourglass_flowing_sand: Declaring *{escape(title[:200])}* "
                                         f"({svc.deps.config.severity_label(severity)}); setting up the channel…"))
        try:
            await svc.incidents.declare(user=user, title=title, severity=severity,
                                        summary=text_value(view, ids.IN_SUMMARY) or None,
                                        private="private" in checked(view, ids.IN_PRIVATE), reply=reply)
        except UserFacingError as exc:
            await reply(str(exc))
        except Exception as exc:
            log.exception("declare modal failed")
            await reply(unexpected_failure_text(exc))
        await told

    @app.view(ids.UPDATE_VIEW)
    async def update_submitted(ack, body, view) -> None:
        text = text_value(view, ids.IN_UPDATE_TEXT)
        if not text:
            await ack(response_action="errors", errors={ids.IN_UPDATE_TEXT[0]: "Say what changed and what's next."})
            return
        await ack()
        await for_incident(svc, body, view, lambda incident_id, user: svc.updates.post_update(
            incident_id, user, escape(text), status=select_value(view, ids.IN_STATUS)))

    @app.view(ids.RESOLVE_VIEW)
    async def resolve_submitted(ack, body, view) -> None:
        summary = text_value(view, ids.IN_RESOLUTION)
        if not summary:
            await ack(response_action="errors", errors={ids.IN_RESOLUTION[0]: "Summarise how it was resolved."})
            return
        await ack()
        await for_incident(svc, body, view, lambda incident_id, user: svc.incidents.resolve(
            incident_id, user, escape(summary), impact=escape(text_value(view, ids.IN_IMPACT)),
            cause=escape(text_value(view, ids.IN_CAUSE))))
