"""Private answers to the person who acted.

A command's own response (ack, then `response_url`) works in channels the bot is not a member of, where
`chat.postEphemeral` fails with `not_in_channel`; modals have no response_url, so they fall back to an ephemeral
in the origin channel, then a DM.
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

from bot.services.context import Reply
from bot.slack.gateway import SlackCallFailed, SlackGateway

log = logging.getLogger("tocsin.replies")


def via_respond(respond: Callable[..., Awaitable[Any]]) -> Reply:
    async def reply(text: str) -> None:
        try:
            await respond(text=text, response_type="ephemeral", replace_original=False)
        except Exception:  # the response_url may have expired (30 min, 5 uses); the log keeps the answer
            log.exception("could not answer through response_url: %s", text[:200])
    return reply


def via_ephemeral_or_dm(gateway: SlackGateway, channel: str | None, user: str) -> Reply:
    async def reply(text: str) -> None:
        if channel and not channel.startswith("D"):
            try:
                await gateway.call("chat.postEphemeral", channel=channel, user=user, text=text)
                return
            except SlackCallFailed:
                pass
        try:
            await gateway.dm(user, text)
        except SlackCallFailed as exc:
            log.error("could not tell user=%s: %s (%s)", user, text[:200], exc.error)
    return reply


def slack_failure_text(exc: SlackCallFailed) -> str:
    """What the person who acted sees when Slack refused a call after retries."""
    return (f":warning: Slack refused a call ({exc.method}: `{exc.error}`). What was recorded stays recorded; "
            "the channel may lag until the next change.")


def unexpected_failure_text(exc: Exception) -> str:
    """A bug or an outage on our side: say so plainly; the traceback is in the log."""
    return (f":boom: Something went wrong inside Tocsin ({exc.__class__.__name__}); it is in the bot's log. "
            "Check `/incident timeline` for what was recorded before trying again.")
