"""SlackStandin: an in-process Slack for tests.

One aiohttp server on 127.0.0.1 (random port) serves

* ``/api/<method>``           the Web API (real slack_sdk clients use ``base_url=standin.api_url``)
* ``/link/?ticket=…``         the Socket Mode websocket (URL handed out by ``apps.connections.open``)
* ``/response/<id>``          response_url endpoints of slash commands / block actions
* ``/upload/v1/<id>``         upload URLs handed out by ``files.getUploadURLExternal``

Test code acts as users through the coroutine helpers (``slash_command``, ``click``,
``submit_view``, ``send_event``, ``pin_message``, ``add_reaction``, ``post_message``);
each one is delivered to the app as a Socket Mode envelope and waits for the ack.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp import WSMsgType, web

from . import blockkit
from .models import (
    Ack,
    Call,
    Canvas,
    Channel,
    Ephemeral,
    File,
    Message,
    StandinError,
    User,
    View,
)
from .ratelimit import POST_MESSAGE_BURST, SLACK_TIERS, Limit

DEFAULT_SCOPES = frozenset(
    {
        "chat:write",
        "chat:write.public",
        "channels:manage",
        "groups:write",
        "channels:read",
        "groups:read",
        "channels:join",
        "channels:history",
        "groups:history",
        "im:write",
        "pins:write",
        "pins:read",
        "reactions:read",
        "reactions:write",
        "users:read",
        "users:read.email",
        "commands",
        "files:write",
        "canvases:write",
        "canvases:read",
        "im:history",
        "mpim:write",
    }
)

# Events the app is subscribed to by default (its manifest), and the scope each needs.
DEFAULT_EVENT_SUBSCRIPTIONS = frozenset({"pin_added", "reaction_added"})
EVENT_SCOPES = {
    "pin_added": "pins:read",
    "pin_removed": "pins:read",
    "reaction_added": "reactions:read",
    "reaction_removed": "reactions:read",
    "member_joined_channel": None,  # channels:read or groups:read, checked by channel type
    "app_mention": "app_mentions:read",
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.im": "im:history",
}

BOT, APP = "bot", "app"
READ, WRITE, HISTORY = "read", "write", "history"
_TYPE_SCOPES = {
    READ: {"public": "channels:read", "private": "groups:read", "im": "im:read"},
    WRITE: {"public": "channels:manage", "private": "groups:write", "im": "im:write"},
    HISTORY: {"public": "channels:history", "private": "groups:history", "im": "im:history"},
}
_ANY = {
    READ: ["channels:read", "groups:read", "im:read", "mpim:read"],
    WRITE: ["channels:manage", "groups:write", "im:write", "mpim:write"],
    HISTORY: ["channels:history", "groups:history", "im:history", "mpim:history"],
}

RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_TTL = 30 * 60
MAX_VIEW_STACK = 3
SLACK_EVENT_MAX_RETRIES = 3
CHANNEL_NAME_RE = re.compile(r"^[a-z0-9_\-]+$")


class SlackErr(Exception):
    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


class _Params:
    """Arguments of one call, whatever the transport (query string, form, JSON)."""

    def __init__(self, d: dict[str, Any]) -> None:
        self.d = d

    def has(self, k: str) -> bool:
        return k in self.d and self.d[k] is not None

    def str(self, k: str, default: str | None = None) -> str | None:
        v = self.d.get(k)
        if v is None:
            return default
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (dict, list)):
            return json.dumps(v)
        return str(v)

    def bool(self, k: str, default: bool = False) -> bool:
        v = self.d.get(k)
        if v is None:
            return default
        if isinstance(v, bool):
            return v
        if isinstance(v, int):
            return v != 0
        s = str(v).strip().lower()
        if s in ("1", "true"):
            return True
        if s in ("0", "false", ""):
            return False
        raise SlackErr("invalid_arguments", response_metadata={"messages": [f"[ERROR] {k} must be a boolean"]})

    def int(self, k: str, default: int | None = None) -> int | None:
        v = self.d.get(k)
        if v is None or v == "":
            return default
        try:
            return int(v)
        except (TypeError, ValueError):
            raise SlackErr("invalid_arguments", response_metadata={"messages": [f"[ERROR] {k} must be an integer"]})

    def json(self, k: str, *, bad: str = "invalid_arguments") -> Any:
        v = self.d.get(k)
        if v is None:
            return None
        if isinstance(v, (dict, list)):
            return v
        if isinstance(v, str):
            if v == "":
                return None
            try:
                return json.loads(v)
            except ValueError:
                raise SlackErr(bad)
        raise SlackErr(bad)


class _Trigger:
    def __init__(self, tid: str, user: str, issued: float, view_id: str | None = None) -> None:
        self.id = tid
        self.user = user
        self.issued = issued
        self.used = False
        self.view_id = view_id  # set when the interaction happened inside a modal


class _ResponseUrl:
    def __init__(self, rid: str, user: str, channel: str | None, message_ts: str | None, kind: str) -> None:
        self.id = rid
        self.user = user
        self.channel = channel
        self.message_ts = message_ts
        self.kind = kind
        self.created = time.monotonic()
        self.uses = 0


class _Conn:
    def __init__(self, cid: int, ws: web.WebSocketResponse) -> None:
        self.id = cid
        self.ws = ws
        self.hello = False
        self.draining = False  # told to reconnect: no new envelopes go there


class SlackStandin:
    def __init__(
        self,
        *,
        latency: float = 0.0,
        bot_token: str = "xoxb-test-token",
        app_token: str = "xapp-test-token",
        team_id: str = "T0TEST",
        scopes: set[str] | None = None,
        canvases_enabled: bool = True,
        trigger_ttl: float = 3.0,
        ack_timeout: float = 3.0,
        event_subscriptions: Iterable[str] | None = None,
        max_event_retries: int = SLACK_EVENT_MAX_RETRIES,
    ) -> None:
        self.latency = latency
        self.bot_token = bot_token
        self.app_token = app_token
        self.team_id = team_id
        self.team_domain = "standin"
        self.scopes: set[str] = set(DEFAULT_SCOPES if scopes is None else scopes)
        self.canvases_enabled = canvases_enabled
        self.home_views: dict[str, dict] = {}
        # what conversations.canvases.create answers when canvases are unavailable to the
        # workspace's plan (documented error of that method)
        self.canvas_disabled_error = "team_tier_cannot_create_channel_canvases"
        self.trigger_ttl = trigger_ttl
        self.ack_timeout = ack_timeout
        self.event_subscriptions: set[str] = set(
            DEFAULT_EVENT_SUBSCRIPTIONS if event_subscriptions is None else event_subscriptions
        )
        self.max_event_retries = max_event_retries
        self.app_id = "A0STANDIN1"
        self.bot_id = "B0STANDIN1"
        self.bot_user_id = "UBOT00001"
        self.verification_token = "standin-verification-token"

        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.calls: list[Call] = []
        self.ephemeral_log: list[Ephemeral] = []
        self.deleted_messages: list[Message] = []
        self.files: list[File] = []
        self.canvases: dict[str, Canvas] = {}
        self.views: dict[str, View] = {}
        self.acks: list[Ack] = []
        self.envelopes: list[dict] = []  # every envelope sent, in order
        self.late_acks: list[dict] = []  # acks that arrived after the ack timeout
        self.warnings: list[str] = []  # things Slack accepts silently but that are probably bugs
        self.limits: dict[str, Limit] = {}

        self._view_stacks: dict[str, list[str]] = {}
        self._ims: dict[str, str] = {}
        self._edited_ts: dict[tuple[str, str], str] = {}
        self._triggers: dict[str, _Trigger] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._tickets: dict[str, bool] = {}
        self._conns: list[_Conn] = []
        self._conn_ids = itertools.count(1)
        self._rr = itertools.count()
        self._pending: dict[str, asyncio.Future] = {}
        self._timed_out: set[str] = set()
        self._bg: set[asyncio.Task] = set()
        self._counters: dict[str, itertools.count] = {}
        self._last_ts_us = 0
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.base_url = ""
        self.api_url = ""

        self.users[self.bot_user_id] = User(self.bot_user_id, "tocsin", None, is_bot=True, real_name="Tocsin")

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._http_api)
        app.router.add_get("/link/", self._http_ws)
        app.router.add_post("/response/{rid}", self._http_response_url)
        app.router.add_post("/upload/v1/{fid}", self._http_upload)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server  # noqa: SLF001 - aiohttp keeps the listening socket here
        assert server is not None and server.sockets
        self.port = server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.api_url = f"{self.base_url}/api/"

    async def stop(self) -> None:
        for t in list(self._bg):
            t.cancel()
        for t in list(self._bg):
            try:
                await t
            except BaseException:  # noqa: BLE001
                pass
        for c in list(self._conns):
            try:
                await c.ws.close()
            except Exception:  # noqa: BLE001
                pass
        for f in self._pending.values():
            if not f.done():
                f.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "SlackStandin":
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    # ------------------------------------------------------------------ ids
    def _next(self, prefix: str) -> int:
        c = self._counters.setdefault(prefix, itertools.count(1))
        return next(c)

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{0x10000000 + self._next(prefix):X}"

    def _next_ts(self) -> str:
        us = int(time.time() * 1_000_000)
        if us <= self._last_ts_us:
            us = self._last_ts_us + 1
        self._last_ts_us = us
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    # ------------------------------------------------------------------ directory
    def add_user(
        self,
        user_id: str,
        name: str,
        email: str | None = None,
        *,
        tz: str = "UTC",
        is_bot: bool = False,
        deleted: bool = False,
        real_name: str | None = None,
    ) -> None:
        self.users[user_id] = User(user_id, name, email, tz=tz, is_bot=is_bot, deleted=deleted, real_name=real_name)

    def add_channel(
        self,
        name: str,
        *,
        is_private: bool = False,
        members: Iterable[str] = (),
        bot_member: bool = False,
    ) -> str:
        if self.channel_by_name(name) is not None:
            raise StandinError(f"channel #{name} already exists")
        members = set(members)
        for u in members:
            if u not in self.users:
                raise StandinError(f"add_channel: unknown user {u}; add_user() first")
        if bot_member:
            members.add(self.bot_user_id)
        cid = self._new_id("C")
        self.channels[cid] = Channel(
            id=cid,
            name=name,
            is_private=is_private,
            members=members,
            created_at=time.time(),
            creator=next(iter(sorted(members - {self.bot_user_id})), ""),
        )
        return cid

    def channel_by_name(self, name: str) -> Channel | None:
        name = name.lstrip("#")
        for ch in self.channels.values():
            if not ch.is_im and ch.name == name:
                return ch
        return None

    def _im_for(self, user_id: str) -> Channel:
        cid = self._ims.get(user_id)
        if cid is None:
            cid = self._new_id("D")
            self._ims[user_id] = cid
            self.channels[cid] = Channel(
                id=cid,
                name=user_id,
                is_private=True,
                members={user_id, self.bot_user_id},
                created_at=time.time(),
                is_im=True,
                im_user=user_id,
            )
        return self.channels[cid]

    # ------------------------------------------------------------------ observation
    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def messages(self, channel_id: str) -> list[Message]:
        ch = self.channels.get(channel_id)
        return list(ch.messages) if ch else []

    def ephemerals(self, user_id: str) -> list[Ephemeral]:
        return [e for e in self.ephemeral_log if e.user == user_id]

    def dm_channel(self, user_id: str) -> str | None:
        return self._ims.get(user_id)

    def dms(self, user_id: str) -> list[Message]:
        cid = self._ims.get(user_id)
        return self.messages(cid) if cid else []

    def open_views(self, user_id: str) -> list[View]:
        return [self.views[v] for v in self._view_stacks.get(user_id, [])]

    def message(self, channel_id: str, ts: str) -> Message | None:
        ch = self.channels.get(channel_id)
        if ch is None:
            return None
        for m in ch.messages:
            if m.ts == ts:
                return m
        return None

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0, what: str | None = None) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() >= deadline:
                recent = ", ".join(
                    f"{c.method}:{'ok' if c.ok else c.error}" for c in self.calls[-12:]
                )
                desc = what or getattr(predicate, "__name__", repr(predicate))
                raise AssertionError(
                    f"wait_for({desc}) still false after {timeout}s; last Web API calls: [{recent}]"
                    + (f"; stand-in warnings: {self.warnings[-5:]}" if self.warnings else "")
                )
            await asyncio.sleep(0.01)

    # ------------------------------------------------------------------ rate limits
    def set_rate_limit(self, method: str, limit: int, window: float, *, per_channel: bool = False) -> None:
        """At most ``limit`` calls of ``method`` per rolling ``window`` seconds (per channel if asked)."""
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        self.limits[method] = Limit(limit, window, per_channel=per_channel)

    def clear_rate_limits(self) -> None:
        self.limits.clear()

    def use_slack_tiers(self, scale: float = 1.0) -> None:
        """Apply Slack's published per-method tiers; ``scale`` divides every window."""
        for method, per_minute in SLACK_TIERS.items():
            self.set_rate_limit(method, per_minute, 60.0 / scale)
        self.set_rate_limit("chat.postMessage", POST_MESSAGE_BURST, POST_MESSAGE_BURST / scale, per_channel=True)

    # ------------------------------------------------------------------ HTTP: Web API
    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], str | None, bool]:
        params: dict[str, Any] = dict(request.query)
        is_json = False
        if request.method == "POST" and request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                is_json = True
                raw = await request.read()
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    raise SlackErr("invalid_json")
                if not isinstance(body, dict):
                    raise SlackErr("invalid_json")
                params.update(body)
            elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for k, v in form.items():
                    params[k] = v if isinstance(v, str) else getattr(v, "file", None) and v.file.read()
            else:
                await request.read()
        token = None
        auth = request.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        elif "token" in params and not is_json:
            # Slack reads `token` from the query string / form body, never from a JSON body
            token = str(params["token"])
        params.pop("token", None)
        return params, token, is_json

    async def _http_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        at = time.monotonic()
        headers: dict[str, str] = {}
        status = 200
        token: str | None = None
        params: dict[str, Any] = {}
        try:
            params, token, _ = await self._read_params(request)
            if self.latency:
                await asyncio.sleep(self.latency)
            resp, status, headers = self._dispatch(method, params, token)
        except SlackErr as e:
            resp = {"ok": False, "error": e.error, **e.extra}
        self.calls.append(Call(method, _loggable(params), token, at, resp, status))
        return web.json_response(resp, status=status, headers=headers)

    def _dispatch(self, method: str, params: dict[str, Any], token: str | None) -> tuple[dict, int, dict]:
        spec = METHODS.get(method)
        if spec is None:
            return {"ok": False, "error": "unknown_method", "req_method": method}, 200, {}
        handler_name, needed, token_type = spec
        if not token:
            return {"ok": False, "error": "not_authed"}, 200, {}
        if token not in (self.bot_token, self.app_token):
            return {"ok": False, "error": "invalid_auth"}, 200, {}
        kind = BOT if token == self.bot_token else APP
        if kind != token_type:
            return {"ok": False, "error": "not_allowed_token_type"}, 200, {}
        p = _Params(params)
        lim = self.limits.get(method)
        if lim is not None:
            retry = lim.check(self._limit_key(p))
            if retry is not None:
                return {"ok": False, "error": "ratelimited"}, 429, {"Retry-After": str(retry)}
        if needed and kind == BOT and not (set(needed) & self.scopes):
            return self._missing_scope(",".join(needed)), 200, {}
        try:
            resp = getattr(self, handler_name)(p)
        except SlackErr as e:
            resp = {"ok": False, "error": e.error, **e.extra}
        except Exception as e:  # a stand-in bug: answer like Slack's internal_error, keep the evidence
            import traceback

            self.warnings.append(f"stand-in crashed in {method}: {traceback.format_exc()}")
            return {"ok": False, "error": "internal_error", "standin_exception": repr(e)}, 500, {}
        return resp, 200, {}

    def _limit_key(self, p: _Params) -> str | None:
        key = p.str("channel") or p.str("channel_id")
        if key and key not in self.channels:
            ch = self.channel_by_name(key)
            if ch is not None:
                return ch.id
            if key in self._ims:
                return self._ims[key]
        return key

    def _missing_scope(self, needed: str) -> dict:
        return {"ok": False, "error": "missing_scope", "needed": needed, "provided": ",".join(sorted(self.scopes))}

    def _need(self, scope: str) -> None:
        if scope not in self.scopes:
            raise SlackErr("missing_scope", needed=scope, provided=",".join(sorted(self.scopes)))

    def _need_for(self, ch: Channel, what: str) -> None:
        kind = "im" if ch.is_im else ("private" if ch.is_private else "public")
        self._need(_TYPE_SCOPES[what][kind])

    # ------------------------------------------------------------------ resolution helpers
    def _visible(self, ch: Channel) -> bool:
        return not ch.is_private or self.bot_user_id in ch.members

    def _channel(self, p: _Params, key: str = "channel", *, allow_name: bool = False, allow_user: bool = False) -> Channel:
        cid = p.str(key)
        if not cid:
            raise SlackErr("channel_not_found")
        ch = self.channels.get(cid)
        if ch is None and allow_name:
            ch = self.channel_by_name(cid)
        if ch is None and allow_user and cid in self.users and cid != self.bot_user_id:
            ch = self._im_for(cid)
        if ch is None or not self._visible(ch):
            raise SlackErr("channel_not_found")
        return ch

    def _is_member(self, ch: Channel) -> bool:
        return self.bot_user_id in ch.members

    def _find_message(self, ch: Channel, ts: str | None) -> Message:
        for m in ch.messages:
            if m.ts == ts:
                return m
        raise SlackErr("message_not_found")

    def _content(self, p: _Params, *, for_update: bool = False) -> tuple[str | None, list | None, Any]:
        text = p.str("text")
        blocks = p.json("blocks", bad="invalid_blocks_format")
        attachments = p.json("attachments", bad="invalid_attachments")
        if blocks is not None:
            if not isinstance(blocks, list):
                raise SlackErr("invalid_blocks_format")
            errors = blockkit.validate_message_blocks(blocks)
            if errors:
                raise SlackErr(
                    "invalid_blocks",
                    errors=[e.removeprefix("[ERROR] ") for e in errors],
                    response_metadata={"messages": errors},
                )
        if not text and not blocks and not attachments and not (for_update and blocks == []):
            raise SlackErr("no_text")
        if text is not None and len(text) > blockkit.MAX_MESSAGE_TEXT:
            raise SlackErr("msg_too_long")
        return text, blocks, attachments

    def _stamp_blocks(self, blocks: list[dict] | None) -> list[dict] | None:
        """Slack fills in missing block_id / action_id with generated ones."""
        if blocks is None:
            return None
        blocks = json.loads(json.dumps(blocks))
        for b in blocks:
            if isinstance(b, dict) and "block_id" not in b:
                b["block_id"] = uuid.uuid4().hex[:5]
        for _b, el in blockkit.iter_elements(blocks):
            if isinstance(el, dict) and el.get("type") != "image" and "action_id" not in el:
                el["action_id"] = uuid.uuid4().hex[:5]
        return blocks

    # ------------------------------------------------------------------ JSON shapes
    def _user_json(self, u: User) -> dict:
        import datetime
        import zoneinfo

        try:
            tzinfo = zoneinfo.ZoneInfo(u.tz)
            off = datetime.datetime.now(tzinfo).utcoffset() or datetime.timedelta(0)
            tz_label = datetime.datetime.now(tzinfo).tzname() or u.tz
        except Exception:  # noqa: BLE001
            off, tz_label = datetime.timedelta(0), u.tz
        profile: dict[str, Any] = {
            "real_name": u.real_name or u.name,
            "display_name": u.name,
            "real_name_normalized": u.real_name or u.name,
            "display_name_normalized": u.name,
            "team": self.team_id,
        }
        if u.email and "users:read.email" in self.scopes:
            profile["email"] = u.email
        if u.is_bot:
            profile["bot_id"] = self.bot_id if u.id == self.bot_user_id else None
        return {
            "id": u.id,
            "team_id": self.team_id,
            "name": u.name,
            "deleted": u.deleted,
            "real_name": u.real_name or u.name,
            "tz": u.tz,
            "tz_label": tz_label,
            "tz_offset": int(off.total_seconds()),
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": u.is_bot,
            "is_app_user": False,
            "updated": int(time.time()),
        }

    def _channel_json(self, ch: Channel, *, num_members: bool = False) -> dict:
        if ch.is_im:
            return {
                "id": ch.id,
                "created": int(ch.created_at),
                "is_im": True,
                "is_org_shared": False,
                "user": ch.im_user,
                "is_user_deleted": False,
                "priority": 0,
            }
        d: dict[str, Any] = {
            "id": ch.id,
            "name": ch.name,
            "is_channel": not ch.is_private,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": ch.is_private,
            "created": int(ch.created_at),
            "creator": ch.creator,
            "is_archived": ch.is_archived,
            "is_general": False,
            "unlinked": 0,
            "name_normalized": ch.name,
            "is_shared": False,
            "is_org_shared": False,
            "is_ext_shared": False,
            "is_pending_ext_shared": False,
            "pending_shared": [],
            "context_team_id": self.team_id,
            "is_member": self._is_member(ch),
            "topic": {"value": ch.topic, "creator": "", "last_set": 0},
            "purpose": {"value": ch.purpose, "creator": "", "last_set": 0},
            "previous_names": [],
        }
        if ch.canvas_id:
            d["properties"] = {"canvas": {"file_id": ch.canvas_id, "is_empty": False}}
        if num_members:
            d["num_members"] = len(ch.members)
        return d

    def _message_json(self, m: Message) -> dict:
        d: dict[str, Any] = {"type": "message", "user": m.user, "text": m.text, "ts": m.ts, "team": self.team_id}
        if m.subtype:
            d["subtype"] = m.subtype
        if m.bot_id:
            d["bot_id"] = m.bot_id
            d["app_id"] = self.app_id
            d["bot_profile"] = {"id": self.bot_id, "app_id": self.app_id, "name": "tocsin", "team_id": self.team_id, "deleted": False}
        if m.blocks is not None:
            d["blocks"] = m.blocks
        if m.thread_ts:
            d["thread_ts"] = m.thread_ts
        if m.edited:
            d["edited"] = {"user": m.user, "ts": self._edited_ts.get((m.channel, m.ts), m.ts)}
        if m.files:
            d["files"] = [self._file_json(f) for f in self.files if f.id in m.files]
            d["upload"] = True
        if m.reactions:
            d["reactions"] = [{"name": n, "users": list(us), "count": len(us)} for n, us in m.reactions.items()]
        ch = self.channels.get(m.channel)
        if ch and m.ts in ch.pins:
            d["pinned_to"] = [ch.id]
        return d

    def _file_json(self, f: File) -> dict:
        return {
            "id": f.id,
            "created": int(time.time()),
            "timestamp": int(time.time()),
            "name": f.name,
            "title": f.title,
            "mimetype": "text/plain",
            "filetype": "text",
            "pretty_type": "Plain Text",
            "user": f.user,
            "user_team": self.team_id,
            "mode": "hosted",
            "editable": False,
            "is_external": False,
            "external_type": "",
            "is_public": any(not self.channels[c].is_private for c in f.channels if c in self.channels),
            "size": len(f.content),
            "url_private": f"{self.base_url}/files/{f.id}/{f.name}",
            "permalink": f"https://{self.team_domain}.slack.com/files/{f.user}/{f.id}/{f.name}",
            "channels": [c for c in f.channels if c in self.channels and not self.channels[c].is_private],
            "groups": [c for c in f.channels if c in self.channels and self.channels[c].is_private and not self.channels[c].is_im],
            "ims": [c for c in f.channels if c in self.channels and self.channels[c].is_im],
        }

    def _view_json(self, v: View, *, state: dict | None = None) -> dict:
        return {
            "id": v.id,
            "team_id": self.team_id,
            "type": v.type,
            "title": v.title,
            "submit": v.submit,
            "close": v.close,
            "blocks": v.blocks,
            "private_metadata": v.private_metadata,
            "callback_id": v.callback_id,
            "external_id": v.external_id,
            "state": {"values": state or {}},
            "hash": v.hash,
            "clear_on_close": v.clear_on_close,
            "notify_on_close": v.notify_on_close,
            "root_view_id": v.root_view_id,
            "previous_view_id": v.previous_view_id,
            "app_id": self.app_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }

    # ------------------------------------------------------------------ storage helpers
    def _store_message(
        self,
        ch: Channel,
        user: str,
        text: str | None,
        blocks: list | None,
        thread_ts: str | None = None,
        *,
        files: list[str] | None = None,
        subtype: str | None = None,
    ) -> Message:
        m = Message(
            ts=self._next_ts(),
            user=user,
            text=text or "",
            blocks=self._stamp_blocks(blocks) if blocks else None,
            thread_ts=thread_ts,
            edited=False,
            channel=ch.id,
            bot_id=self.bot_id if user == self.bot_user_id else None,
            files=list(files or []),
            subtype=subtype,
        )
        m.history.append((m.text, m.blocks))
        ch.messages.append(m)
        return m

    def _ephemeral(self, user: str, channel: str, text: str | None, blocks: list | None, source: str) -> Ephemeral:
        e = Ephemeral(user, channel, text or "", self._stamp_blocks(blocks) if blocks else None, source, self._next_ts())
        self.ephemeral_log.append(e)
        return e

    def _spawn(self, coro: Any) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            coro.close()
            return
        t = loop.create_task(coro)
        self._bg.add(t)
        t.add_done_callback(self._bg.discard)

    # ================================================================== Web API methods
    def m_auth_test(self, p: _Params) -> dict:
        return {
            "ok": True,
            "url": f"https://{self.team_domain}.slack.com/",
            "team": "Standin",
            "user": "tocsin",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def m_apps_connections_open(self, p: _Params) -> dict:
        ticket = uuid.uuid4().hex
        self._tickets[ticket] = False
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id={self.app_id}"}

    # ---- chat
    def m_chat_postMessage(self, p: _Params) -> dict:
        ch = self._channel(p, allow_name=True, allow_user=True)
        if ch.is_archived:
            raise SlackErr("is_archived")
        if not self._is_member(ch):
            if ch.is_private or "chat:write.public" not in self.scopes:
                raise SlackErr("not_in_channel")
        text, blocks, _att = self._content(p)
        thread_ts = p.str("thread_ts")
        if thread_ts:
            parent = next((m for m in ch.messages if m.ts == thread_ts), None)
            if parent is None:
                self.warnings.append(f"chat.postMessage thread_ts={thread_ts} matches no message in {ch.id}")
            elif parent.thread_ts and parent.thread_ts != parent.ts:
                thread_ts = parent.thread_ts  # replying to a reply threads under the parent
        m = self._store_message(ch, self.bot_user_id, text, blocks, thread_ts)
        self._emit_message_event(ch, m)
        return {"ok": True, "channel": ch.id, "ts": m.ts, "message": self._message_json(m)}

    def m_chat_update(self, p: _Params) -> dict:
        ch = self._channel(p)
        m = self._find_message(ch, p.str("ts"))
        if m.user != self.bot_user_id:
            raise SlackErr("cant_update_message")
        has_blocks = p.has("blocks")
        text, blocks, _att = self._content(p, for_update=True)
        if text is not None:
            m.text = text
        if has_blocks:
            m.blocks = self._stamp_blocks(blocks) if blocks else None
        elif m.blocks:
            # Slack: "If you don't include this field, the message's previous blocks will be
            # retained."  The client keeps rendering the old blocks, so the edit is invisible.
            self.warnings.append(
                f"chat.update {ch.id}/{m.ts} sent text without blocks: Slack keeps the old blocks, "
                "so the visible message did not change (pass blocks=[] to drop them)"
            )
        m.edited = True
        self._edited_ts[(ch.id, m.ts)] = self._next_ts()
        m.history.append((m.text, m.blocks))
        return {"ok": True, "channel": ch.id, "ts": m.ts, "text": m.text, "message": self._message_json(m)}

    def m_chat_delete(self, p: _Params) -> dict:
        ch = self._channel(p)
        m = self._find_message(ch, p.str("ts"))
        if m.user != self.bot_user_id:
            raise SlackErr("cant_delete_message")
        ch.messages.remove(m)
        self.deleted_messages.append(m)
        return {"ok": True, "channel": ch.id, "ts": m.ts}

    def m_chat_postEphemeral(self, p: _Params) -> dict:
        ch = self._channel(p)
        user = p.str("user")
        if not user or user not in self.users:
            raise SlackErr("user_not_found")
        if not self._is_member(ch):
            raise SlackErr("not_in_channel")
        if user not in ch.members:
            raise SlackErr("user_not_in_channel")
        text, blocks, _att = self._content(p)
        e = self._ephemeral(user, ch.id, text, blocks, "chat.postEphemeral")
        return {"ok": True, "message_ts": e.ts}

    def m_chat_getPermalink(self, p: _Params) -> dict:
        ch = self._channel(p)
        m = self._find_message(ch, p.str("message_ts"))
        link = f"https://{self.team_domain}.slack.com/archives/{ch.id}/p{m.ts.replace('.', '')}"
        if m.thread_ts and m.thread_ts != m.ts:
            link += f"?thread_ts={m.thread_ts}&cid={ch.id}"
        return {"ok": True, "channel": ch.id, "permalink": link}

    # ---- conversations
    def m_conversations_create(self, p: _Params) -> dict:
        name = p.str("name") or ""
        is_private = p.bool("is_private")
        self._need("groups:write" if is_private else "channels:manage")
        if not name:
            raise SlackErr("invalid_name_required")
        if len(name) > 80:
            raise SlackErr("invalid_name_maxlength")
        if not CHANNEL_NAME_RE.match(name):
            raise SlackErr("invalid_name_specials")
        if not re.search(r"[a-z0-9]", name):
            raise SlackErr("invalid_name_punctuation")
        if self.channel_by_name(name) is not None:
            raise SlackErr("name_taken")
        cid = self._new_id("C")
        ch = Channel(
            id=cid,
            name=name,
            is_private=is_private,
            members={self.bot_user_id},
            created_at=time.time(),
            creator=self.bot_user_id,
        )
        self.channels[cid] = ch
        return {"ok": True, "channel": self._channel_json(ch)}

    def m_conversations_join(self, p: _Params) -> dict:
        ch = self._channel(p)
        if ch.is_private or ch.is_im:
            raise SlackErr("method_not_supported_for_channel_type")
        if ch.is_archived:
            raise SlackErr("is_archived")
        resp: dict[str, Any] = {"ok": True}
        if self._is_member(ch):
            resp["warning"] = "already_in_channel"
            resp["response_metadata"] = {"warnings": ["already_in_channel"]}
        else:
            ch.members.add(self.bot_user_id)
            self._emit_member_joined(ch, self.bot_user_id, None)
        resp["channel"] = self._channel_json(ch)
        return resp

    def m_conversations_invite(self, p: _Params) -> dict:
        ch = self._channel(p)
        if ch.is_im:
            raise SlackErr("method_not_supported_for_channel_type")
        self._need_for(ch, WRITE)
        if ch.is_archived:
            raise SlackErr("is_archived")
        if not self._is_member(ch):
            raise SlackErr("not_in_channel")
        raw = p.str("users") or ""
        users = [u.strip() for u in raw.split(",") if u.strip()]
        if not users:
            raise SlackErr("no_user")
        if len(users) > 1000:
            raise SlackErr("too_many_users")
        errors = []
        good = []
        for u in users:
            if u == self.bot_user_id:
                err = "cant_invite_self"
            elif u not in self.users:
                err = "user_not_found"
            elif self.users[u].deleted:
                err = "cant_invite"
            elif u in ch.members:
                err = "already_in_channel"
            else:
                good.append(u)
                continue
            errors.append({"user": u, "ok": False, "error": err})
        if errors and not p.bool("force"):
            return {"ok": False, "error": errors[0]["error"], "errors": errors}
        for u in good:
            ch.members.add(u)
            self._emit_member_joined(ch, u, self.bot_user_id)
        resp = {"ok": True, "channel": self._channel_json(ch)}
        if errors:
            resp["errors"] = errors
        return resp

    def _set_topic_or_purpose(self, p: _Params, field: str) -> dict:
        ch = self._channel(p)
        self._need_for(ch, WRITE)
        if ch.is_archived:
            raise SlackErr("is_archived")
        if not self._is_member(ch):
            raise SlackErr("not_in_channel")
        value = p.str(field)
        if value is None:
            raise SlackErr("invalid_arguments", response_metadata={"messages": [f"[ERROR] missing required field: {field}"]})
        if len(value) > 250:
            raise SlackErr("too_long")
        setattr(ch, field, value)
        return {"ok": True, "channel": self._channel_json(ch)}

    def m_conversations_setTopic(self, p: _Params) -> dict:
        return self._set_topic_or_purpose(p, "topic")

    def m_conversations_setPurpose(self, p: _Params) -> dict:
        return self._set_topic_or_purpose(p, "purpose")

    def m_conversations_info(self, p: _Params) -> dict:
        ch = self._channel(p)
        self._need_for(ch, READ)
        return {"ok": True, "channel": self._channel_json(ch, num_members=p.bool("include_num_members"))}

    def m_conversations_list(self, p: _Params) -> dict:
        types = set((p.str("types") or "public_channel").split(","))
        if "private_channel" in types:
            self._need("groups:read")
        if "public_channel" in types:
            self._need("channels:read")
        out = []
        for ch in self.channels.values():
            if ch.is_im:
                if "im" in types:
                    out.append(self._channel_json(ch))
                continue
            if p.bool("exclude_archived") and ch.is_archived:
                continue
            if (ch.is_private and "private_channel" in types and self._is_member(ch)) or (
                not ch.is_private and "public_channel" in types
            ):
                out.append(self._channel_json(ch))
        return self._paginate(p, out, "channels")

    def _paginate(self, p: _Params, items: list, key: str) -> dict:
        limit = p.int("limit", 100) or 100
        cursor = p.str("cursor") or ""
        start = 0
        if cursor:
            try:
                start = int(cursor.removeprefix("standin:"))
            except ValueError:
                raise SlackErr("invalid_cursor")
        page = items[start : start + limit]
        nxt = f"standin:{start + limit}" if start + limit < len(items) else ""
        return {"ok": True, key: page, "response_metadata": {"next_cursor": nxt}}

    def m_conversations_members(self, p: _Params) -> dict:
        ch = self._channel(p)
        self._need_for(ch, READ)
        return self._paginate(p, sorted(ch.members), "members")

    def m_conversations_open(self, p: _Params) -> dict:
        if p.has("channel"):
            ch = self._channel(p)
            if not ch.is_im:
                raise SlackErr("method_not_supported_for_channel_type")
        else:
            users = [u.strip() for u in (p.str("users") or "").split(",") if u.strip()]
            if not users:
                raise SlackErr("users_list_not_supplied")
            if len(users) > 1:
                self.warnings.append("conversations.open with several users (MPIM) is not modelled")
                raise SlackErr("not_supported")
            u = users[0]
            if u not in self.users or u == self.bot_user_id:
                raise SlackErr("user_not_found")
            if self.users[u].deleted:
                raise SlackErr("user_disabled")
            self._need("im:write")
            already = u in self._ims
            ch = self._im_for(u)
            if already:
                resp_extra = {"no_op": True, "already_open": True}
            else:
                resp_extra = {}
            if p.bool("return_im"):
                return {"ok": True, "channel": self._channel_json(ch), **resp_extra}
            return {"ok": True, "channel": {"id": ch.id}, **resp_extra}
        return {"ok": True, "channel": {"id": ch.id}}

    def _ts_filter(self, p: _Params, msgs: list[Message]) -> list[Message]:
        oldest = p.str("oldest")
        latest = p.str("latest")
        inclusive = p.bool("inclusive")
        out = []
        for m in msgs:
            t = float(m.ts)
            if oldest and (t < float(oldest) or (not inclusive and t == float(oldest))):
                continue
            if latest and (t > float(latest) or (not inclusive and t == float(latest))):
                continue
            out.append(m)
        return out

    def m_conversations_history(self, p: _Params) -> dict:
        ch = self._channel(p)
        self._need_for(ch, HISTORY)
        if not self._is_member(ch):
            raise SlackErr("not_in_channel")
        top = [m for m in ch.messages if not m.thread_ts or m.thread_ts == m.ts]
        top = self._ts_filter(p, top)
        top.sort(key=lambda m: float(m.ts), reverse=True)
        resp = self._paginate(p, [self._message_json(m) for m in top], "messages")
        resp["has_more"] = bool(resp["response_metadata"]["next_cursor"])
        resp["pin_count"] = len(ch.pins)
        return resp

    def m_conversations_replies(self, p: _Params) -> dict:
        ch = self._channel(p)
        self._need_for(ch, HISTORY)
        if not self._is_member(ch):
            raise SlackErr("not_in_channel")
        ts = p.str("ts")
        parent = next((m for m in ch.messages if m.ts == ts), None)
        if parent is None:
            raise SlackErr("thread_not_found")
        root = parent.thread_ts or parent.ts
        thread = [m for m in ch.messages if m.ts == root or m.thread_ts == root]
        thread = self._ts_filter(p, thread)
        thread.sort(key=lambda m: float(m.ts))
        resp = self._paginate(p, [self._message_json(m) for m in thread], "messages")
        resp["has_more"] = bool(resp["response_metadata"]["next_cursor"])
        return resp

    # ---- pins / reactions
    def m_pins_add(self, p: _Params) -> dict:
        ch = self._channel(p)
        if not self._is_member(ch):
            raise SlackErr("not_in_channel")
        m = self._find_message(ch, p.str("timestamp"))
        if m.ts in ch.pins:
            raise SlackErr("already_pinned")
        ch.pins.append(m.ts)
        self._emit_pin(ch, m, self.bot_user_id, background=True)
        return {"ok": True}

    def m_pins_remove(self, p: _Params) -> dict:
        ch = self._channel(p)
        if not self._is_member(ch):
            raise SlackErr("not_in_channel")
        m = self._find_message(ch, p.str("timestamp"))
        if m.ts not in ch.pins:
            raise SlackErr("no_pin")
        ch.pins.remove(m.ts)
        return {"ok": True}

    def m_pins_list(self, p: _Params) -> dict:
        ch = self._channel(p)
        items = []
        for ts in ch.pins:
            m = next((x for x in ch.messages if x.ts == ts), None)
            if m is not None:
                items.append({"type": "message", "created": int(float(ts)), "created_by": m.user, "channel": ch.id, "message": self._message_json(m)})
        return {"ok": True, "items": items}

    def m_reactions_add(self, p: _Params) -> dict:
        ch = self._channel(p)
        m = self._find_message(ch, p.str("timestamp"))
        name = (p.str("name") or "").strip(":")
        if not name or not re.match(r"^[a-z0-9_+\-']+(::skin-tone-[2-6])?$", name):
            raise SlackErr("invalid_name")
        users = m.reactions.setdefault(name, [])
        if self.bot_user_id in users:
            raise SlackErr("already_reacted")
        if len(m.reactions) > 50:
            raise SlackErr("too_many_emoji")
        users.append(self.bot_user_id)
        self._emit_reaction(ch, m, self.bot_user_id, name, background=True)
        return {"ok": True}

    # ---- users
    def m_users_info(self, p: _Params) -> dict:
        u = self.users.get(p.str("user") or "")
        if u is None:
            raise SlackErr("user_not_found")
        return {"ok": True, "user": self._user_json(u)}

    def m_users_lookupByEmail(self, p: _Params) -> dict:
        email = (p.str("email") or "").lower()
        for u in self.users.values():
            if u.email and u.email.lower() == email:
                return {"ok": True, "user": self._user_json(u)}
        raise SlackErr("users_not_found")

    def m_users_list(self, p: _Params) -> dict:
        return self._paginate(p, [self._user_json(u) for u in self.users.values()], "members")

    # ---- views
    def _new_trigger(self, user: str, view_id: str | None = None) -> str:
        tid = f"{int(time.time())}.{self._next('trigger'):010d}.{uuid.uuid4().hex}"
        self._triggers[tid] = _Trigger(tid, user, time.monotonic(), view_id)
        return tid

    def _take_trigger(self, p: _Params) -> _Trigger:
        tid = p.str("trigger_id")
        if not tid:
            raise SlackErr("invalid_arguments", response_metadata={"messages": ["[ERROR] missing required field: trigger_id"]})
        t = self._triggers.get(tid)
        if t is None:
            raise SlackErr("invalid_trigger_id")
        if t.used:
            raise SlackErr("exchanged_trigger_id")
        if time.monotonic() - t.issued > self.trigger_ttl:
            raise SlackErr("expired_trigger_id")
        return t

    def _view_arg(self, p: _Params) -> dict:
        view = p.json("view")
        if not isinstance(view, dict):
            raise SlackErr("invalid_arguments", response_metadata={"messages": ["[ERROR] missing required field: view"]})
        errors = blockkit.validate_view(view)
        if errors:
            raise SlackErr("invalid_arguments", response_metadata={"messages": errors})
        if len(json.dumps(view)) > 250_000:
            raise SlackErr("view_too_large")
        return view

    def _check_external_id(self, view: dict, except_id: str | None = None) -> None:
        ext = view.get("external_id")
        if ext:
            for v in self.views.values():
                if v.external_id == ext and v.id != except_id:
                    raise SlackErr("duplicate_external_id")

    def _make_view(self, user: str, view: dict, root: str | None, previous: str | None) -> View:
        vid = self._new_id("V")
        v = View(
            id=vid,
            user=user,
            type=view.get("type", "modal"),
            callback_id=view.get("callback_id", "") or "",
            private_metadata=view.get("private_metadata", "") or "",
            blocks=self._stamp_blocks(view.get("blocks") or []) or [],
            title=view.get("title"),
            submit=view.get("submit"),
            close=view.get("close"),
            external_id=view.get("external_id", "") or "",
            hash=f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
            root_view_id=root or vid,
            previous_view_id=previous,
            clear_on_close=bool(view.get("clear_on_close", False)),
            notify_on_close=bool(view.get("notify_on_close", False)),
            raw=view,
        )
        v.versions.append(view)
        self.views[vid] = v
        return v

    def _replace_view(self, v: View, view: dict) -> None:
        v.type = view.get("type", v.type)
        v.callback_id = view.get("callback_id", "") or ""
        v.private_metadata = view.get("private_metadata", "") or ""
        v.blocks = self._stamp_blocks(view.get("blocks") or []) or []
        v.title = view.get("title")
        v.submit = view.get("submit")
        v.close = view.get("close")
        v.external_id = view.get("external_id", "") or ""
        v.clear_on_close = bool(view.get("clear_on_close", False))
        v.notify_on_close = bool(view.get("notify_on_close", False))
        v.hash = f"{int(time.time())}.{uuid.uuid4().hex[:8]}"
        v.raw = view
        v.versions.append(view)

    def m_views_open(self, p: _Params) -> dict:
        t = self._take_trigger(p)
        view = self._view_arg(p)
        if view.get("type") != "modal":
            raise SlackErr("invalid_arguments", response_metadata={"messages": ["[ERROR] views.open only opens modals [json-pointer:/view/type]"]})
        self._check_external_id(view)
        t.used = True
        for old in self._view_stacks.get(t.user, []):
            self.views[old].open = False
        v = self._make_view(t.user, view, None, None)
        self._view_stacks[t.user] = [v.id]
        return {"ok": True, "view": self._view_json(v)}

    def m_views_push(self, p: _Params) -> dict:
        t = self._take_trigger(p)
        view = self._view_arg(p)
        stack = self._view_stacks.get(t.user) or []
        if not stack:
            self.warnings.append("views.push with no modal open")
            raise SlackErr("invalid_arguments", response_metadata={"messages": ["[ERROR] no modal is open to push onto"]})
        if len(stack) >= MAX_VIEW_STACK:
            raise SlackErr("push_limit_reached")
        self._check_external_id(view)
        t.used = True
        v = self._make_view(t.user, view, self.views[stack[0]].root_view_id, stack[-1])
        stack.append(v.id)
        return {"ok": True, "view": self._view_json(v)}

    def m_views_update(self, p: _Params) -> dict:
        view = self._view_arg(p)
        vid = p.str("view_id")
        ext = p.str("external_id")
        v: View | None = None
        if vid:
            v = self.views.get(vid)
        elif ext:
            v = next((x for x in self.views.values() if x.external_id == ext), None)
        else:
            raise SlackErr("invalid_arguments", response_metadata={"messages": ["[ERROR] view_id or external_id is required"]})
        if v is None or not v.open:
            raise SlackErr("not_found")
        h = p.str("hash")
        if h and h != v.hash:
            raise SlackErr("hash_conflict")
        self._check_external_id(view, except_id=v.id)
        self._replace_view(v, view)
        return {"ok": True, "view": self._view_json(v)}

    def m_views_publish(self, p: _Params) -> dict:
        """App Home: one published home view per user (needs no scope, only a user who exists)."""
        view = self._view_arg(p)
        uid = p.str("user_id")
        if not uid:
            raise SlackErr("invalid_arguments", response_metadata={"messages": ["[ERROR] missing required field: user_id"]})
        if uid not in self.users:
            raise SlackErr("user_not_found")
        if view.get("type") != "home":
            raise SlackErr("invalid_arguments", response_metadata={"messages": ["[ERROR] views.publish needs type home"]})
        self.home_views[uid] = view
        return {"ok": True, "view": {"id": self._new_id("V"), "type": "home", "blocks": view.get("blocks", [])}}

    # ---- files
    def m_files_getUploadURLExternal(self, p: _Params) -> dict:
        filename = p.str("filename")
        length = p.int("length")
        if not filename or length is None:
            raise SlackErr("invalid_arguments", response_metadata={"messages": ["[ERROR] filename and length are required"]})
        if length < 1:
            raise SlackErr("invalid_arguments", response_metadata={"messages": ["[ERROR] length must be positive"]})
        fid = self._new_id("F")
        f = File(fid, filename, filename, b"", [], declared_length=length, user=self.bot_user_id)
        self.files.append(f)
        return {"ok": True, "upload_url": f"{self.base_url}/upload/v1/{fid}", "file_id": fid}

    def m_files_completeUploadExternal(self, p: _Params) -> dict:
        items = p.json("files")
        if not isinstance(items, list) or not items:
            raise SlackErr("invalid_arguments", response_metadata={"messages": ["[ERROR] files must be a non-empty JSON array"]})
        targets: list[Channel] = []
        if p.has("channel_id"):
            targets.append(self._channel(p, "channel_id"))
        for cid in (p.str("channels") or "").split(","):
            if cid.strip():
                targets.append(self._channel(_Params({"channel": cid.strip()})))
        for ch in targets:
            if not self._is_member(ch):
                raise SlackErr("not_in_channel")
        files: list[File] = []
        for it in items:
            fid = it.get("id") if isinstance(it, dict) else None
            f = next((x for x in self.files if x.id == fid), None)
            if f is None:
                raise SlackErr("file_not_found")
            if not f.uploaded:
                raise SlackErr("file_not_found")
            if f.completed:
                raise SlackErr("file_already_completed")
            if len(f.content) != f.declared_length:
                raise SlackErr("file_upload_size_mismatch")
            files.append(f)
        for f, it in zip(files, items):
            f.completed = True
            if it.get("title"):
                f.title = it["title"]
            f.initial_comment = p.str("initial_comment")
        for ch in targets:
            for f in files:
                f.channels.append(ch.id)
            m = self._store_message(ch, self.bot_user_id, p.str("initial_comment") or "", None, p.str("thread_ts"), files=[f.id for f in files])
            self._emit_message_event(ch, m)
        return {"ok": True, "files": [self._file_json(f) for f in files]}

    # ---- canvases
    def _document_content(self, dc: Any) -> str:
        if isinstance(dc, str):
            try:
                dc = json.loads(dc)
            except ValueError:
                raise SlackErr("invalid_arguments")
        if not isinstance(dc, dict) or dc.get("type") != "markdown" or not isinstance(dc.get("markdown"), str):
            raise SlackErr(
                "invalid_arguments",
                response_metadata={"messages": ['[ERROR] document_content must be {"type": "markdown", "markdown": str}']},
            )
        if len(dc["markdown"]) > 1_048_576:
            raise SlackErr("canvas_creation_failed")
        return dc["markdown"]

    def m_conversations_canvases_create(self, p: _Params) -> dict:
        ch = self._channel(p, "channel_id")
        if not self.canvases_enabled:
            raise SlackErr(self.canvas_disabled_error)
        if ch.is_im:
            raise SlackErr("method_not_supported_for_channel_type")
        if not self._is_member(ch):
            raise SlackErr("not_in_channel")
        if ch.canvas_id:
            raise SlackErr("channel_canvas_already_exists")
        md = self._document_content(p.json("document_content")) if p.has("document_content") else ""
        cid = self._new_id("F")
        self.canvases[cid] = Canvas(cid, ch.id, md, title=p.str("title"))
        ch.canvas_id = cid
        return {"ok": True, "canvas_id": cid}

    @staticmethod
    def _sections(md: str) -> list[tuple[str, str]]:
        """Split markdown into (section_id, text) blocks: one per header line or paragraph line."""
        out = []
        seen: dict[str, int] = {}
        for line in md.split("\n"):
            h = hashlib.sha1(line.encode()).hexdigest()[:10]
            n = seen.get(h, 0)
            seen[h] = n + 1
            out.append((f"temp:C:{h}{n}", line))
        return out

    def m_canvases_edit(self, p: _Params) -> dict:
        cv = self.canvases.get(p.str("canvas_id") or "")
        if cv is None:
            raise SlackErr("canvas_not_found")
        if cv.channel_id and not self._is_member(self.channels[cv.channel_id]):
            raise SlackErr("access_denied")
        changes = p.json("changes")
        if not isinstance(changes, list) or not changes:
            raise SlackErr("invalid_arguments", response_metadata={"messages": ["[ERROR] changes must be a non-empty array"]})
        md = cv.markdown
        for ch in changes:
            if not isinstance(ch, dict):
                raise SlackErr("invalid_arguments")
            op = ch.get("operation")
            sid = ch.get("section_id")
            secs = self._sections(md)
            idx = None
            if sid is not None:
                idx = next((i for i, (s, _) in enumerate(secs) if s == sid), None)
                if idx is None:
                    raise SlackErr("canvas_editing_failed", response_metadata={"messages": [f"[ERROR] section {sid} not found"]})
            lines = [t for _, t in secs]
            if op == "replace":
                new = self._document_content(ch.get("document_content"))
                if idx is None:
                    md = new
                else:
                    lines[idx : idx + 1] = new.split("\n")
                    md = "\n".join(lines)
            elif op in ("insert_at_start", "insert_at_end", "insert_after", "insert_before"):
                new = self._document_content(ch.get("document_content"))
                if op == "insert_at_start":
                    md = new + ("\n" + md if md else "")
                elif op == "insert_at_end":
                    md = (md + "\n" if md else "") + new
                else:
                    if idx is None:
                        raise SlackErr("invalid_arguments", response_metadata={"messages": [f"[ERROR] {op} needs section_id"]})
                    at = idx + 1 if op == "insert_after" else idx
                    lines[at:at] = new.split("\n")
                    md = "\n".join(lines)
            elif op == "delete":
                if idx is None:
                    raise SlackErr("invalid_arguments", response_metadata={"messages": ["[ERROR] delete needs section_id"]})
                del lines[idx]
                md = "\n".join(lines)
            elif op == "rename":
                tc = ch.get("title_content") or {}
                cv.title = tc.get("markdown") if isinstance(tc, dict) else None
            else:
                raise SlackErr("invalid_arguments", response_metadata={"messages": [f"[ERROR] unknown operation {op!r}"]})
        cv.markdown = md
        cv.edits.append(changes)
        return {"ok": True}

    def m_canvases_sections_lookup(self, p: _Params) -> dict:
        cv = self.canvases.get(p.str("canvas_id") or "")
        if cv is None:
            raise SlackErr("canvas_not_found")
        crit = p.json("criteria")
        if not isinstance(crit, dict) or not (crit.get("section_types") or crit.get("contains_text")):
            raise SlackErr("invalid_arguments", response_metadata={"messages": ["[ERROR] criteria needs section_types or contains_text"]})
        types = set(crit.get("section_types") or [])
        text = crit.get("contains_text")
        out = []
        for sid, line in self._sections(cv.markdown):
            m = re.match(r"^(#{1,3})\s", line)
            level = f"h{len(m.group(1))}" if m else None
            if types and not (level in types or (level and "any_header" in types)):
                continue
            if text and text not in line:
                continue
            if not line.strip():
                continue
            out.append({"id": sid})
        return {"ok": True, "sections": out}

    # ================================================================== HTTP: response_url / upload
    async def _http_response_url(self, request: web.Request) -> web.Response:
        rid = request.match_info["rid"]
        at = time.monotonic()
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        status, text = self._response_url_post(rid, body)
        self.calls.append(Call("response_url", {"rid": rid, **(body if isinstance(body, dict) else {"raw": raw.decode(errors="replace")})}, None, at, {"ok": status == 200, "status": status, "body": text}, status))
        return web.Response(status=status, text=text, content_type="text/html")

    def _response_url_post(self, rid: str, body: Any) -> tuple[int, str]:
        r = self._response_urls.get(rid)
        if r is None:
            return 404, "no_service"
        if time.monotonic() - r.created > RESPONSE_URL_TTL:
            return 404, "expired_url"
        if r.uses >= RESPONSE_URL_MAX_USES:
            return 404, "used_url"
        if not isinstance(body, dict):
            return 400, "invalid_payload"
        text = body.get("text")
        blocks = body.get("blocks")
        if blocks is not None:
            errors = blockkit.validate_message_blocks(blocks)
            if errors:
                return 400, "invalid_blocks"
        delete = _truthy(body.get("delete_original"))
        replace = _truthy(body.get("replace_original"))
        if not delete and not text and not blocks:
            return 400, "no_text"
        r.uses += 1
        ch = self.channels.get(r.channel or "")
        original = None
        if ch is not None and r.message_ts:
            original = next((m for m in ch.messages if m.ts == r.message_ts), None)
        if delete:
            if original is not None and ch is not None:
                ch.messages.remove(original)
                self.deleted_messages.append(original)
            return 200, "ok"
        if replace:
            if original is not None:
                original.text = text or ""
                original.blocks = self._stamp_blocks(blocks) if blocks else None
                original.history.append((original.text, original.blocks))
                return 200, "ok"
            # no channel message to replace (slash command): the user's ephemeral response is replaced
            self._ephemeral(r.user, r.channel or "", text, blocks, "response_url")
            return 200, "ok"
        if body.get("response_type") == "in_channel" and ch is not None:
            thread_ts = body.get("thread_ts")
            m = self._store_message(ch, self.bot_user_id, text, blocks, thread_ts)
            self._emit_message_event(ch, m)
            return 200, "ok"
        self._ephemeral(r.user, r.channel or "", text, blocks, "response_url")
        return 200, "ok"

    async def _http_upload(self, request: web.Request) -> web.Response:
        fid = request.match_info["fid"]
        at = time.monotonic()
        f = next((x for x in self.files if x.id == fid), None)
        if request.content_type == "multipart/form-data":
            form = await request.post()
            data = b""
            for v in form.values():
                if not isinstance(v, str):
                    data = v.file.read()
                    break
        else:
            data = await request.read()
        if self.latency:
            await asyncio.sleep(self.latency)
        if f is None or f.completed:
            self.calls.append(Call("upload", {"file_id": fid, "bytes": len(data)}, None, at, {"ok": False}, 404))
            return web.Response(status=404, text="not found", content_type="text/plain")
        f.content = data
        f.uploaded = True
        self.calls.append(Call("upload", {"file_id": fid, "bytes": len(data)}, None, at, {"ok": True}, 200))
        return web.Response(status=200, text=f"OK - {len(data)}", content_type="text/plain")

    # ================================================================== Socket Mode
    async def _http_ws(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets or self._tickets[ticket]:
            return web.Response(status=401, text="invalid or used ticket")
        self._tickets[ticket] = True
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        conn = _Conn(next(self._conn_ids), ws)
        self._conns.append(conn)
        try:
            await ws.send_str(
                json.dumps(
                    {
                        "type": "hello",
                        "num_connections": len(self._conns),
                        "debug_info": {"host": "applink-standin", "build_number": 1, "approximate_connection_time": 18060},
                        "connection_info": {"app_id": self.app_id},
                    }
                )
            )
            conn.hello = True
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_client_text(conn, msg.data)
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            if conn in self._conns:
                self._conns.remove(conn)
        return ws

    def _on_client_text(self, conn: _Conn, data: str) -> None:
        try:
            msg = json.loads(data)
        except ValueError:
            self.warnings.append(f"Socket Mode client sent non-JSON text: {data[:100]!r}")
            return
        env_id = msg.get("envelope_id") if isinstance(msg, dict) else None
        if not env_id:
            self.warnings.append(f"Socket Mode client sent a message without envelope_id: {data[:200]}")
            return
        fut = self._pending.pop(env_id, None)
        if fut is not None and not fut.done():
            fut.set_result(msg.get("payload"))
        elif env_id in self._timed_out:
            self.late_acks.append({"envelope_id": env_id, "payload": msg.get("payload"), "at": time.monotonic()})
        else:
            self.warnings.append(f"ack for unknown envelope {env_id}")

    @property
    def connected(self) -> bool:
        return any(c.hello and not c.draining and not c.ws.closed for c in self._conns)

    async def wait_connected(self, timeout: float = 5.0) -> None:
        await self.wait_for(lambda: self.connected, timeout=timeout, what="a Socket Mode client connected")

    async def request_reconnect(self, reason: str = "refresh_requested") -> None:
        """Send Slack's ``disconnect`` message to every connection (the client reconnects)."""
        for c in list(self._conns):
            if not c.ws.closed:
                c.draining = True
                await c.ws.send_str(json.dumps({"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-standin"}}))

    def _pick_conn(self) -> _Conn:
        live = [c for c in self._conns if c.hello and not c.draining and not c.ws.closed]
        if not live:
            raise StandinError("no Socket Mode client is connected (start the AsyncSocketModeHandler first)")
        return live[next(self._rr) % len(live)]

    async def _deliver(self, etype: str, payload: dict, *, retry_attempt: int = 0, retry_reason: str = "") -> Ack:
        if not self.connected:
            await self.wait_connected(timeout=min(self.ack_timeout, 5.0))
        conn = self._pick_conn()
        env_id = str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "envelope_id": env_id,
            "payload": payload,
            "type": etype,
            "accepts_response_payload": etype != "events_api",
        }
        if etype == "events_api":
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = retry_reason
        fut: asyncio.Future = asyncio.get_running_loop().create_future()
        self._pending[env_id] = fut
        self.envelopes.append(envelope)
        sent = time.monotonic()
        await conn.ws.send_str(json.dumps(envelope))
        try:
            ack_payload = await asyncio.wait_for(asyncio.shield(fut), self.ack_timeout)
            ack = Ack(env_id, ack_payload, time.monotonic() - sent, retry_attempt=retry_attempt, envelope=envelope)
        except asyncio.TimeoutError:
            self._pending.pop(env_id, None)
            self._timed_out.add(env_id)
            ack = Ack(env_id, None, time.monotonic() - sent, timed_out=True, retry_attempt=retry_attempt, envelope=envelope)
        self.acks.append(ack)
        return ack

    def _user_obj(self, user_id: str) -> dict:
        u = self.users[user_id]
        return {"id": u.id, "username": u.name, "name": u.name, "team_id": self.team_id}

    def _require_user(self, user_id: str) -> User:
        u = self.users.get(user_id)
        if u is None:
            raise StandinError(f"unknown user {user_id}; add_user() first")
        if u.deleted:
            raise StandinError(f"user {user_id} is deactivated and cannot act")
        return u

    def _require_channel_for_user(self, user_id: str, channel_id: str) -> Channel:
        ch = self.channels.get(channel_id)
        if ch is None:
            raise StandinError(f"unknown channel {channel_id}")
        if user_id not in ch.members:
            raise StandinError(
                f"user {user_id} is not a member of {ch.name or ch.id}; in Slack they could not act there"
            )
        return ch

    def _new_response_url(self, user: str, channel: str | None, message_ts: str | None, kind: str) -> str:
        rid = uuid.uuid4().hex
        self._response_urls[rid] = _ResponseUrl(rid, user, channel, message_ts, kind)
        return f"{self.base_url}/response/{rid}"

    def _channel_name_for_payload(self, ch: Channel) -> str:
        if ch.is_im:
            return "directmessage"
        return "privategroup" if ch.is_private else ch.name

    # ---- acting as users
    async def slash_command(self, user_id: str, channel_id: str, text: str, command: str = "/incident") -> Ack:
        u = self._require_user(user_id)
        if channel_id in self.channels and self.channels[channel_id].is_im:
            ch = self.channels[channel_id]
        else:
            ch = self._require_channel_for_user(user_id, channel_id)
        trigger = self._new_trigger(user_id)
        rurl = self._new_response_url(user_id, ch.id, None, "slash")
        payload = {
            "token": self.verification_token,
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": ch.id,
            "channel_name": self._channel_name_for_payload(ch),
            "user_id": u.id,
            "user_name": u.name,
            "command": command,
            "text": text,
            "api_app_id": self.app_id,
            "is_enterprise_install": "false",
            "response_url": rurl,
            "trigger_id": trigger,
        }
        ack = await self._deliver("slash_commands", payload)
        ack.trigger_id = trigger
        ack.response_url = rurl
        if ack.timed_out:
            self._ephemeral(user_id, ch.id, f'{command} failed with the error "operation_timeout"', None, "slack_error")
        elif ack.payload:
            self._apply_command_ack(user_id, ch, ack.payload)
        return ack

    def _apply_command_ack(self, user_id: str, ch: Channel, payload: dict) -> None:
        text = payload.get("text")
        blocks = payload.get("blocks")
        if not text and not blocks:
            return
        if blocks is not None:
            errors = blockkit.validate_message_blocks(blocks)
            if errors:
                self.warnings.append(f"slash command ack had invalid blocks: {errors}")
                self._ephemeral(user_id, ch.id, "invalid_blocks", None, "slack_error")
                return
        if payload.get("response_type") == "in_channel":
            m = self._store_message(ch, self.bot_user_id, text, blocks)
            self._emit_message_event(ch, m)
        else:
            self._ephemeral(user_id, ch.id, text, blocks, "slash_ack")

    def _find_button(self, blocks: list | None, action_id: str, value: str | None, where: str) -> tuple[dict, dict]:
        matches = [
            (b, e)
            for b, e in blockkit.iter_elements(blocks)
            if isinstance(e, dict) and e.get("type") == "button" and e.get("action_id") == action_id
        ]
        if value is not None:
            matches = [(b, e) for b, e in matches if e.get("value") == value]
        if not matches:
            present = [
                (e.get("action_id"), e.get("value"))
                for _b, e in blockkit.iter_elements(blocks)
                if isinstance(e, dict) and e.get("type") == "button"
            ]
            raise StandinError(f"no button action_id={action_id!r} value={value!r} in {where}; buttons there: {present}")
        if len(matches) > 1:
            raise StandinError(f"several buttons action_id={action_id!r} in {where}; pass value= to pick one")
        return matches[0]

    @staticmethod
    def _action_json(block: dict, el: dict) -> dict:
        a = {
            "action_id": el.get("action_id"),
            "block_id": block.get("block_id"),
            "text": el.get("text"),
            "type": "button",
            "action_ts": f"{time.time():.6f}",
        }
        if "value" in el:
            a["value"] = el["value"]
        if "style" in el:
            a["style"] = el["style"]
        if "url" in el:
            a["url"] = el["url"]
        return a

    async def click(self, user_id: str, channel_id: str, ts: str, action_id: str, value: str | None = None) -> Ack:
        """A user clicks a button of a message stored in a channel."""
        u = self._require_user(user_id)
        ch = self.channels.get(channel_id)
        if ch is None:
            raise StandinError(f"unknown channel {channel_id}")
        if user_id not in ch.members and (ch.is_private or ch.is_im):
            raise StandinError(f"user {user_id} cannot see {ch.id}")
        m = next((x for x in ch.messages if x.ts == ts), None)
        if m is None:
            raise StandinError(f"no message ts={ts} in {ch.id}")
        block, el = self._find_button(m.blocks, action_id, value, f"message {ch.id}/{ts}")
        trigger = self._new_trigger(user_id)
        rurl = self._new_response_url(user_id, ch.id, m.ts, "block_actions")
        payload = {
            "type": "block_actions",
            "user": self._user_obj(u.id),
            "api_app_id": self.app_id,
            "token": self.verification_token,
            "container": {"type": "message", "message_ts": m.ts, "channel_id": ch.id, "is_ephemeral": False},
            "trigger_id": trigger,
            "team": {"id": self.team_id, "domain": self.team_domain},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": ch.id, "name": self._channel_name_for_payload(ch)},
            "message": self._message_json(m),
            "state": {"values": {}},
            "response_url": rurl,
            "actions": [self._action_json(block, el)],
        }
        if m.thread_ts:
            payload["container"]["thread_ts"] = m.thread_ts
        ack = await self._deliver("interactive", payload)
        ack.trigger_id = trigger
        ack.response_url = rurl
        if ack.timed_out:
            self.warnings.append(f"block_actions {action_id} by {user_id} not acked within {self.ack_timeout}s")
        return ack

    async def click_ephemeral(self, user_id: str, ephemeral: Ephemeral, action_id: str, value: str | None = None) -> Ack:
        """A user clicks a button in an ephemeral message shown to them."""
        u = self._require_user(user_id)
        if ephemeral.user != user_id:
            raise StandinError("that ephemeral message was shown to another user")
        block, el = self._find_button(ephemeral.blocks, action_id, value, "ephemeral message")
        ch = self.channels.get(ephemeral.channel)
        trigger = self._new_trigger(user_id)
        rurl = self._new_response_url(user_id, ephemeral.channel, None, "block_actions")
        payload = {
            "type": "block_actions",
            "user": self._user_obj(u.id),
            "api_app_id": self.app_id,
            "token": self.verification_token,
            "container": {"type": "message", "message_ts": ephemeral.ts, "channel_id": ephemeral.channel, "is_ephemeral": True},
            "trigger_id": trigger,
            "team": {"id": self.team_id, "domain": self.team_domain},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": ephemeral.channel, "name": self._channel_name_for_payload(ch) if ch else ""},
            "state": {"values": {}},
            "response_url": rurl,
            "actions": [self._action_json(block, el)],
        }
        ack = await self._deliver("interactive", payload)
        ack.trigger_id = trigger
        ack.response_url = rurl
        return ack

    def _top_view(self, user_id: str, view_id: str) -> View:
        v = self.views.get(view_id)
        if v is None:
            raise StandinError(f"no view {view_id}")
        if v.user != user_id:
            raise StandinError(f"view {view_id} is open for {v.user}, not {user_id}")
        stack = self._view_stacks.get(user_id) or []
        if not v.open or not stack or stack[-1] != view_id:
            raise StandinError(f"view {view_id} is not the modal currently on {user_id}'s screen (open: {stack})")
        return v

    async def click_in_view(self, user_id: str, view_id: str, action_id: str, value: str | None = None) -> Ack:
        """A user clicks a button inside the modal on their screen."""
        u = self._require_user(user_id)
        v = self._top_view(user_id, view_id)
        block, el = self._find_button(v.blocks, action_id, value, f"view {view_id}")
        trigger = self._new_trigger(user_id, view_id)
        payload = {
            "type": "block_actions",
            "user": self._user_obj(u.id),
            "api_app_id": self.app_id,
            "token": self.verification_token,
            "container": {"type": "view", "view_id": v.id},
            "trigger_id": trigger,
            "team": {"id": self.team_id, "domain": self.team_domain},
            "enterprise": None,
            "is_enterprise_install": False,
            "view": self._view_json(v, state=self._state_values(v, {}, strict=False)),
            "actions": [self._action_json(block, el)],
        }
        ack = await self._deliver("interactive", payload)
        ack.trigger_id = trigger
        return ack

    def _state_values(self, v: View, values: dict[str, dict[str, Any]], *, strict: bool = True) -> dict:
        inputs = {b.get("block_id"): b for b in v.blocks if isinstance(b, dict) and b.get("type") == "input"}
        for bid, acts in values.items():
            if bid not in inputs:
                raise StandinError(f"view {v.id} has no input block {bid!r} (input blocks: {sorted(inputs)})")
            aid = inputs[bid]["element"].get("action_id")
            for a in acts:
                if a != aid:
                    raise StandinError(f"input block {bid!r} has action_id {aid!r}, not {a!r}")
        state: dict[str, dict] = {}
        for bid, b in inputs.items():
            el = b["element"]
            aid = el.get("action_id")
            provided = values.get(bid, {})
            has = aid in provided
            val = provided.get(aid)
            state[bid] = {aid: self._element_state(v, bid, b, el, has, val, strict)}
        return state

    def _element_state(self, v: View, bid: str, b: dict, el: dict, has: bool, val: Any, strict: bool) -> dict:
        t = el.get("type")
        optional = bool(b.get("optional", False))

        def missing() -> None:
            if strict and not optional:
                raise StandinError(
                    f"required input {bid!r} of view {v.id} left empty: Slack would not let the user submit"
                )

        def options_of() -> list[dict]:
            if "options" in el:
                return el["options"]
            return [o for g in el.get("option_groups", []) for o in g.get("options", [])]

        def find_opt(value: str) -> dict:
            for o in options_of():
                if o.get("value") == value:
                    return o
            raise StandinError(f"input {bid!r}: no option with value {value!r} (have {[o.get('value') for o in options_of()]})")

        if t in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
            s = val if has else el.get("initial_value")
            if s is not None and not isinstance(s, str):
                raise StandinError(f"input {bid!r}: {t} takes a string")
            if s in (None, ""):
                missing()
                s = None
            elif t == "plain_text_input":
                if el.get("max_length") is not None and len(s) > el["max_length"]:
                    raise StandinError(f"input {bid!r}: longer than max_length {el['max_length']}")
                if el.get("min_length") is not None and len(s) < el["min_length"]:
                    raise StandinError(f"input {bid!r}: shorter than min_length {el['min_length']}")
            return {"type": t, "value": s}
        if t in ("static_select", "radio_buttons", "external_select"):
            if has and val is not None:
                opt = find_opt(val) if t != "external_select" else {"text": {"type": "plain_text", "text": val}, "value": val}
            else:
                opt = el.get("initial_option")
            if opt is None:
                missing()
            return {"type": t, "selected_option": opt}
        if t in ("checkboxes", "multi_static_select"):
            if has:
                if not isinstance(val, list):
                    raise StandinError(f"input {bid!r}: {t} takes a list of option values")
                opts = [find_opt(x) for x in val]
            else:
                opts = el.get("initial_options") or []
            if not opts:
                missing()
            return {"type": t, "selected_options": opts}
        if t == "users_select":
            uid = val if has else el.get("initial_user")
            if uid is not None and uid not in self.users:
                raise StandinError(f"input {bid!r}: unknown user {uid}")
            if uid is None:
                missing()
            return {"type": t, "selected_user": uid}
        if t == "multi_users_select":
            uids = val if has else (el.get("initial_users") or [])
            for x in uids:
                if x not in self.users:
                    raise StandinError(f"input {bid!r}: unknown user {x}")
            if not uids:
                missing()
            return {"type": t, "selected_users": list(uids)}
        if t in ("conversations_select", "channels_select"):
            key = "selected_conversation" if t == "conversations_select" else "selected_channel"
            cid = val if has else el.get("initial_conversation" if t == "conversations_select" else "initial_channel")
            if cid is not None and cid not in self.channels:
                raise StandinError(f"input {bid!r}: unknown channel {cid}")
            if cid is None:
                missing()
            return {"type": t, key: cid}
        if t in ("multi_conversations_select", "multi_channels_select"):
            key = "selected_conversations" if t == "multi_conversations_select" else "selected_channels"
            cids = val if has else []
            if not cids:
                missing()
            return {"type": t, key: list(cids)}
        if t == "datepicker":
            d = val if has else el.get("initial_date")
            if d is not None and not re.match(r"^\d{4}-\d{2}-\d{2}$", d):
                raise StandinError(f"input {bid!r}: date must be YYYY-MM-DD")
            if d is None:
                missing()
            return {"type": t, "selected_date": d}
        if t == "timepicker":
            d = val if has else el.get("initial_time")
            if d is not None and not re.match(r"^\d{2}:\d{2}$", d):
                raise StandinError(f"input {bid!r}: time must be HH:mm")
            if d is None:
                missing()
            return {"type": t, "selected_time": d, "timezone": self.users[v.user].tz}
        if t == "datetimepicker":
            d = val if has else el.get("initial_date_time")
            if d is None:
                missing()
            return {"type": t, "selected_date_time": d}
        # rich_text_input, file_input, ...: pass the raw value through
        if not has:
            missing()
        return {"type": t, "value": val}

    async def submit_view(self, user_id: str, view_id: str, values: dict[str, dict[str, Any]]) -> Ack:
        u = self._require_user(user_id)
        v = self._top_view(user_id, view_id)
        if v.submit is None:
            raise StandinError(f"view {view_id} has no submit button")
        state = self._state_values(v, values)
        trigger = self._new_trigger(user_id, view_id)
        payload = {
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": self.team_domain},
            "user": self._user_obj(u.id),
            "api_app_id": self.app_id,
            "token": self.verification_token,
            "trigger_id": trigger,
            "view": self._view_json(v, state=state),
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        ack = await self._deliver("interactive", payload)
        ack.trigger_id = trigger
        if ack.timed_out:
            self.warnings.append(f"view_submission of {view_id} not acked in time: the modal shows an error and stays open")
            return ack
        self._apply_submission_ack(v, ack.payload or {})
        return ack

    def _close_top(self, user_id: str) -> None:
        stack = self._view_stacks.get(user_id) or []
        if stack:
            vid = stack.pop()
            self.views[vid].open = False

    def _apply_submission_ack(self, v: View, payload: dict) -> None:
        action = payload.get("response_action")
        stack = self._view_stacks.get(v.user) or []
        if action is None:
            self._close_top(v.user)
        elif action == "errors":
            errors = payload.get("errors") or {}
            input_ids = {b.get("block_id") for b in v.blocks if isinstance(b, dict) and b.get("type") == "input"}
            bad = [k for k in errors if k not in input_ids]
            if bad:
                self.warnings.append(
                    f"response_action errors name blocks {bad} that are not input blocks of {v.id}: Slack shows a generic error"
                )
            v.raw = {**v.raw, "_errors_shown": errors}
        elif action == "update":
            new = payload.get("view")
            errs = blockkit.validate_view(new)
            if errs:
                self.warnings.append(f"response_action update with an invalid view: {errs}")
                return
            self._replace_view(v, new)
        elif action == "push":
            new = payload.get("view")
            errs = blockkit.validate_view(new)
            if errs or len(stack) >= MAX_VIEW_STACK:
                self.warnings.append(f"response_action push refused: {errs or 'push_limit_reached'}")
                return
            nv = self._make_view(v.user, new, v.root_view_id, v.id)
            stack.append(nv.id)
        elif action == "clear":
            for vid in stack:
                self.views[vid].open = False
            self._view_stacks[v.user] = []
        else:
            self.warnings.append(f"unknown response_action {action!r}")

    async def close_view(self, user_id: str, view_id: str) -> Ack | None:
        """The user presses the modal's close button (view_closed goes to the app if notify_on_close)."""
        u = self._require_user(user_id)
        v = self._top_view(user_id, view_id)
        self._close_top(user_id)
        if not v.notify_on_close:
            return None
        payload = {
            "type": "view_closed",
            "team": {"id": self.team_id, "domain": self.team_domain},
            "user": self._user_obj(u.id),
            "api_app_id": self.app_id,
            "token": self.verification_token,
            "view": self._view_json(v),
            "is_cleared": False,
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return await self._deliver("interactive", payload)

    # ---- events
    def _event_callback(self, event: dict, event_id: str | None = None) -> dict:
        event = dict(event)
        event.setdefault("event_ts", self._next_ts())
        return {
            "token": self.verification_token,
            "team_id": self.team_id,
            "context_team_id": self.team_id,
            "context_enterprise_id": None,
            "api_app_id": self.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{0x10000000 + self._next('event'):X}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{uuid.uuid4().hex}",
        }

    async def send_event(self, event: dict, *, retry_attempt: int = 0, event_id: str | None = None) -> Ack:
        """Deliver an Events API event; unacked deliveries are retried like Slack does (same event_id).
        Pass `event_id` to replay a delivery Slack already made, as its redelivery would."""
        payload = self._event_callback(event, event_id)
        attempt = retry_attempt
        while True:
            ack = await self._deliver(
                "events_api", payload, retry_attempt=attempt, retry_reason="timeout" if attempt else ""
            )
            if not ack.timed_out or attempt >= retry_attempt + self.max_event_retries:
                return ack
            attempt += 1

    def _subscribed(self, sub: str, ch: Channel) -> bool:
        if sub not in self.event_subscriptions:
            return False
        if not self._is_member(ch):
            return False
        scope = EVENT_SCOPES.get(sub)
        if sub == "member_joined_channel":
            scope = "groups:read" if ch.is_private else "channels:read"
        return scope is None or scope in self.scopes

    def _emit(self, sub: str, ch: Channel, event: dict, background: bool) -> Any:
        if not self._subscribed(sub, ch):
            return None
        if background:
            if self.connected:
                self._spawn(self.send_event(event))
            return None
        return self.send_event(event)

    def _emit_pin(self, ch: Channel, m: Message, by: str, *, background: bool) -> Any:
        now = int(time.time())
        event = {
            "type": "pin_added",
            "user": by,
            "channel_id": ch.id,
            "item": {"type": "message", "channel": ch.id, "created": now, "created_by": by, "message": self._message_json(m)},
            "item_user": m.user,
            "pin_count": len(ch.pins),
            "pinned_info": {"channel": ch.id, "pinned_by": by, "pinned_ts": now},
        }
        return self._emit("pin_added", ch, event, background)

    def _emit_reaction(self, ch: Channel, m: Message, by: str, name: str, *, background: bool) -> Any:
        event = {
            "type": "reaction_added",
            "user": by,
            "reaction": name,
            "item_user": m.user,
            "item": {"type": "message", "channel": ch.id, "ts": m.ts},
        }
        return self._emit("reaction_added", ch, event, background)

    def _emit_member_joined(self, ch: Channel, user: str, inviter: str | None) -> None:
        event = {
            "type": "member_joined_channel",
            "user": user,
            "channel": ch.id,
            "channel_type": "G" if ch.is_private else "C",
            "team": self.team_id,
        }
        if inviter:
            event["inviter"] = inviter
        self._emit("member_joined_channel", ch, event, True)

    def _emit_message_event(self, ch: Channel, m: Message, *, background: bool = True) -> Any:
        sub = "message.im" if ch.is_im else ("message.groups" if ch.is_private else "message.channels")
        event = self._message_json(m)
        event["channel"] = ch.id
        event["channel_type"] = "im" if ch.is_im else ("group" if ch.is_private else "channel")
        return self._emit(sub, ch, event, background)

    async def pin_message(self, user_id: str, channel_id: str, ts: str) -> Ack | None:
        self._require_user(user_id)
        ch = self._require_channel_for_user(user_id, channel_id)
        m = next((x for x in ch.messages if x.ts == ts), None)
        if m is None:
            raise StandinError(f"no message ts={ts} in {channel_id}")
        if ts in ch.pins:
            raise StandinError(f"message {ts} is already pinned")
        ch.pins.append(ts)
        coro = self._emit_pin(ch, m, user_id, background=False)
        return await coro if coro is not None else None

    async def add_reaction(self, user_id: str, channel_id: str, ts: str, name: str) -> Ack | None:
        self._require_user(user_id)
        ch = self.channels.get(channel_id)
        if ch is None:
            raise StandinError(f"unknown channel {channel_id}")
        if user_id not in ch.members and ch.is_private:
            raise StandinError(f"user {user_id} cannot see {channel_id}")
        m = next((x for x in ch.messages if x.ts == ts), None)
        if m is None:
            raise StandinError(f"no message ts={ts} in {channel_id}")
        users = m.reactions.setdefault(name, [])
        if user_id in users:
            raise StandinError(f"{user_id} already reacted :{name}:")
        users.append(user_id)
        coro = self._emit_reaction(ch, m, user_id, name, background=False)
        return await coro if coro is not None else None

    async def post_message(self, user_id: str, channel_id: str, text: str, *, thread_ts: str | None = None) -> Message:
        """A user writes a message in a channel.

        Delivers (and waits for the acks of) the ``message.*`` event and, when the text
        mentions the bot, ``app_mention`` -- each only if the app is subscribed to it.
        """
        self._require_user(user_id)
        ch = self._require_channel_for_user(user_id, channel_id)
        m = self._store_message(ch, user_id, text, None, thread_ts)
        pending = [self._emit_message_event(ch, m, background=False)]
        if f"<@{self.bot_user_id}>" in text:
            event = {"type": "app_mention", "user": user_id, "text": text, "ts": m.ts, "channel": ch.id, "team": self.team_id}
            if thread_ts:
                event["thread_ts"] = thread_ts
            pending.append(self._emit("app_mention", ch, event, False))
        for coro in pending:
            if coro is not None:
                await coro
        return m


def _truthy(v: Any) -> bool:
    if isinstance(v, str):
        return v.lower() in ("1", "true")
    return bool(v)


def _loggable(params: dict[str, Any]) -> dict[str, Any]:
    """Params as recorded on Call: JSON strings (blocks, view, files, ...) decoded."""
    out: dict[str, Any] = {}
    for k, v in params.items():
        if isinstance(v, str) and v[:1] in ("[", "{"):
            try:
                out[k] = json.loads(v)
                continue
            except ValueError:
                pass
        out[k] = v
    return out


# method -> (handler, scopes of which the bot token needs at least one, token type)
METHODS: dict[str, tuple[str, list[str] | None, str]] = {
    "auth.test": ("m_auth_test", None, BOT),
    "apps.connections.open": ("m_apps_connections_open", None, APP),
    "chat.postMessage": ("m_chat_postMessage", ["chat:write"], BOT),
    "chat.update": ("m_chat_update", ["chat:write"], BOT),
    "chat.delete": ("m_chat_delete", ["chat:write"], BOT),
    "chat.postEphemeral": ("m_chat_postEphemeral", ["chat:write"], BOT),
    "chat.getPermalink": ("m_chat_getPermalink", None, BOT),
    "conversations.create": ("m_conversations_create", ["channels:manage", "groups:write"], BOT),
    "conversations.join": ("m_conversations_join", ["channels:join"], BOT),
    "conversations.invite": ("m_conversations_invite", _ANY[WRITE], BOT),
    "conversations.setTopic": ("m_conversations_setTopic", _ANY[WRITE], BOT),
    "conversations.setPurpose": ("m_conversations_setPurpose", _ANY[WRITE], BOT),
    "conversations.info": ("m_conversations_info", _ANY[READ], BOT),
    "conversations.list": ("m_conversations_list", _ANY[READ], BOT),
    "conversations.members": ("m_conversations_members", _ANY[READ], BOT),
    "conversations.open": ("m_conversations_open", _ANY[WRITE], BOT),
    "conversations.history": ("m_conversations_history", _ANY[HISTORY], BOT),
    "conversations.replies": ("m_conversations_replies", _ANY[HISTORY], BOT),
    "pins.add": ("m_pins_add", ["pins:write"], BOT),
    "pins.remove": ("m_pins_remove", ["pins:write"], BOT),
    "pins.list": ("m_pins_list", ["pins:read"], BOT),
    "reactions.add": ("m_reactions_add", ["reactions:write"], BOT),
    "users.info": ("m_users_info", ["users:read"], BOT),
    "users.list": ("m_users_list", ["users:read"], BOT),
    "users.lookupByEmail": ("m_users_lookupByEmail", ["users:read.email"], BOT),
    "views.open": ("m_views_open", None, BOT),
    "views.push": ("m_views_push", None, BOT),
    "views.update": ("m_views_update", None, BOT),
    "views.publish": ("m_views_publish", None, BOT),
    "files.getUploadURLExternal": ("m_files_getUploadURLExternal", ["files:write"], BOT),
    "files.completeUploadExternal": ("m_files_completeUploadExternal", ["files:write"], BOT),
    "conversations.canvases.create": ("m_conversations_canvases_create", ["canvases:write"], BOT),
    "canvases.edit": ("m_canvases_edit", ["canvases:write"], BOT),
    "canvases.sections.lookup": ("m_canvases_sections_lookup", ["canvases:read"], BOT),
}
