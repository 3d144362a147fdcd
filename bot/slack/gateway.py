"""The only code that calls Slack's Web API.

Why one door: retries (slack_sdk's retry handlers, not hand-written loops), a per-method concurrency budget for
Slack's Tier 2 methods so an alert storm queues instead of forty retries colliding on the same Retry-After, posting
order per channel, and one log line per Slack error.
"""
from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger("tocsin.slack")

# Slack's Tier 2 methods (about 20 calls a minute): run few at a time, so waiting happens in our queue.
TIER2 = {"conversations.create", "conversations.setTopic", "conversations.setPurpose", "pins.add",
         "conversations.invite", "conversations.list", "canvases.edit", "conversations.canvases.create"}
TIER2_CONCURRENCY = 3
# Posting is about one message a second per channel: one at a time per channel keeps order and the budget.
PER_CHANNEL = {"chat.postMessage", "chat.update", "files.completeUploadExternal"}


def install_retry_handlers(client: AsyncWebClient, rate_limit_retries: int = 12) -> None:
    """Attach slack_sdk's handlers: 429s wait Retry-After (plus jitter), 5xx and connection errors back off."""
    client.retry_handlers.extend([
        AsyncConnectionErrorRetryHandler(max_retry_count=3),
        AsyncRateLimitErrorRetryHandler(max_retry_count=rate_limit_retries),
        AsyncServerErrorRetryHandler(max_retry_count=3),
    ])


def looks_like_channel_id(ref: str) -> bool:
    """`C0123ABC` / `G0123ABC` (what config may give instead of a name): uppercase letters and digits."""
    return ref[:1] in ("C", "G") and ref.isalnum() and ref.upper() == ref and len(ref) >= 9


class SlackCallFailed(Exception):
    """A Web API call failed after retries; `error` is Slack's error code (e.g. not_in_channel)."""

    def __init__(self, method: str, error: str, response: dict | None = None) -> None:
        super().__init__(f"{method} failed: {error}")
        self.method = method
        self.error = error
        self.response = response or {}


class SlackGateway:
    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._tier2 = defaultdict(lambda: asyncio.Semaphore(TIER2_CONCURRENCY))
        self._channel_locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._dm_channels: dict[str, str] = {}
        self._names: dict[str, str] = {}
        self._emails: dict[str, str | None] = {}
        self.bot_user_id: str | None = None

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        params = {k: v for k, v in params.items() if v is not None}
        try:
            if method in PER_CHANNEL and "channel" in params:
                async with self._channel_locks[str(params["channel"])]:
                    return await self._api(method, params)
            if method in TIER2:
                async with self._tier2[method]:
                    return await self._api(method, params)
            return await self._api(method, params)
        except SlackApiError as exc:
            error = exc.response.get("error", "unknown_error") if exc.response is not None else "unknown_error"
            log.warning("slack error method=%s error=%s channel=%s", method, error, params.get("channel") or params.get("channel_id"))
            raise SlackCallFailed(method, error, dict(exc.response.data) if exc.response is not None and isinstance(exc.response.data, dict) else None) from exc

    async def _api(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        json_methods = {"chat.postMessage", "chat.update", "chat.postEphemeral", "views.open", "views.update",
                        "views.push", "views.publish", "conversations.canvases.create", "canvases.edit", "files.completeUploadExternal"}
        if method in json_methods:
            resp = await self.client.api_call(method, json=params)
        else:
            resp = await self.client.api_call(method, params=params)
        return dict(resp.data) if isinstance(resp.data, dict) else {}

    # ---- conveniences with caching -------------------------------------------------------------------------
    async def auth(self) -> dict[str, Any]:
        data = await self.call("auth.test")
        self.bot_user_id = data.get("user_id")
        return data

    async def post(self, channel: str, text: str, blocks: list[dict] | None = None, **extra: Any) -> dict[str, Any]:
        return await self.call("chat.postMessage", channel=channel, text=text, blocks=blocks, **extra)

    async def update(self, channel: str, ts: str, text: str, blocks: list[dict] | None) -> dict[str, Any]:
        # Always send blocks with text: chat.update with text alone drops the blocks.
        return await self.call("chat.update", channel=channel, ts=ts, text=text, blocks=blocks or [])

    async def dm_channel(self, user: str) -> str:
        if user not in self._dm_channels:
            data = await self.call("conversations.open", users=user)
            self._dm_channels[user] = data["channel"]["id"]
        return self._dm_channels[user]

    async def dm(self, user: str, text: str, blocks: list[dict] | None = None) -> dict[str, Any]:
        return await self.post(await self.dm_channel(user), text, blocks)

    async def invite(self, channel: str, users: list[str]) -> list[str]:
        """Invite users, tolerating those already in (Slack fails the whole call if any one is). Returns newcomers."""
        users = [u for u in dict.fromkeys(users) if u and u != self.bot_user_id]
        if not users:
            return []
        try:
            await self.call("conversations.invite", channel=channel, users=",".join(users))
            return users
        except SlackCallFailed as exc:
            if exc.error != "already_in_channel" or len(users) == 1:
                if exc.error == "already_in_channel":
                    return []
                raise
        added = []
        for user in users:  # one by one: only now do we know who is already in
            try:
                await self.call("conversations.invite", channel=channel, users=user)
                added.append(user)
            except SlackCallFailed as exc:
                if exc.error != "already_in_channel":
                    raise
        return added

    async def user_name(self, user: str) -> str:
        if user not in self._names:
            try:
                data = await self.call("users.info", user=user)
            except SlackCallFailed:
                return user
            self._remember_name(user, data.get("user", {}))
        return self._names[user]

    def _remember_name(self, user: str, info: dict[str, Any]) -> None:
        profile = info.get("profile", {})
        self._names[user] = profile.get("display_name") or info.get("real_name") or info.get("name") or user

    async def lookup_email(self, email: str) -> str | None:
        key = email.lower()
        if key not in self._emails:
            try:
                data = await self.call("users.lookupByEmail", email=email)
                self._emails[key] = data.get("user", {}).get("id")
            except SlackCallFailed as exc:
                if exc.error != "users_not_found":
                    raise
                self._emails[key] = None
        return self._emails[key]

    async def user_exists(self, user: str) -> bool:
        try:
            data = await self.call("users.info", user=user)
        except SlackCallFailed as exc:
            if exc.error in ("user_not_found", "users_not_found"):
                return False
            raise
        u = data.get("user", {})
        self._remember_name(user, u)
        return not u.get("deleted", False)

    async def permalink(self, channel: str, ts: str) -> str | None:
        try:
            return (await self.call("chat.getPermalink", channel=channel, message_ts=ts)).get("permalink")
        except SlackCallFailed:
            return None

    async def find_channel(self, name: str) -> str | None:
        """Resolve a channel name to its ID (conversations.list, paginated)."""
        cursor = None
        while True:
            data = await self.call("conversations.list", types="public_channel,private_channel", limit=200,
                                   exclude_archived=True, cursor=cursor)
            for ch in data.get("channels", []):
                if ch.get("name") == name:
                    return ch["id"]
            cursor = (data.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None

    async def upload_file(self, *, channel: str, content: str, filename: str, title: str,
                          initial_comment: str | None = None) -> dict[str, Any]:
        """files_upload_v2: getUploadURLExternal, the upload itself, completeUploadExternal (retried by the handlers)."""
        try:
            async with self._channel_locks[channel]:
                resp = await self.client.files_upload_v2(channel=channel, content=content, filename=filename,
                                                         title=title, initial_comment=initial_comment)
            return dict(resp.data) if isinstance(resp.data, dict) else {}
        except SlackApiError as exc:
            error = exc.response.get("error", "unknown_error") if exc.response is not None else "unknown_error"
            log.warning("slack error method=files_upload_v2 error=%s channel=%s", error, channel)
            raise SlackCallFailed("files_upload_v2", error) from exc

    async def socket_mode_url(self, app_token: str) -> str:
        """apps.connections.open with the app-level token: the Socket Mode URL, or SlackCallFailed at once when the
        token is wrong (the Socket Mode client itself would retry forever). Tier 1: call it once per start."""
        try:
            return (await self.client.apps_connections_open(app_token=app_token))["url"]
        except SlackApiError as exc:
            error = exc.response.get("error", "unknown_error") if exc.response is not None else "unknown_error"
            log.error("slack error method=apps.connections.open error=%s", error)
            raise SlackCallFailed("apps.connections.open", error) from exc
