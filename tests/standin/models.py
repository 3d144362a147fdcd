"""Plain records kept by the Slack stand-in (what tests observe)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class StandinError(AssertionError):
    """The test asked the stand-in to do something a real user could not do in Slack
    (click a button that is not there, submit a closed modal, ...)."""


@dataclass
class Call:
    """One Web API call as the stand-in received it."""

    method: str
    params: dict[str, Any]
    token: str | None
    at: float  # time.monotonic() when the request arrived
    response: dict[str, Any]
    http_status: int = 200

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        return self.response.get("error")


@dataclass
class User:
    id: str
    name: str
    email: str | None = None
    tz: str = "UTC"
    is_bot: bool = False
    deleted: bool = False
    real_name: str | None = None


@dataclass
class Message:
    ts: str
    user: str
    text: str
    blocks: list[dict] | None
    thread_ts: str | None
    edited: bool
    channel: str
    bot_id: str | None = None
    files: list[str] = field(default_factory=list)
    reactions: dict[str, list[str]] = field(default_factory=dict)  # name -> users
    # every state the message had, oldest first: (text, blocks)
    history: list[tuple[str, list[dict] | None]] = field(default_factory=list)
    subtype: str | None = None


@dataclass
class Ephemeral:
    """Something shown only to one user."""

    user: str
    channel: str
    text: str
    blocks: list[dict] | None
    source: str  # "slash_ack" | "response_url" | "chat.postEphemeral" | "slack_error"
    ts: str


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool
    members: set[str]
    topic: str = ""
    purpose: str = ""
    pins: list[str] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    canvas_id: str | None = None
    created_at: float = 0.0
    creator: str = ""
    is_im: bool = False
    im_user: str | None = None
    is_archived: bool = False


@dataclass
class View:
    id: str
    user: str
    type: str
    callback_id: str
    private_metadata: str
    blocks: list[dict]
    title: dict | None
    submit: dict | None
    close: dict | None
    external_id: str
    hash: str
    root_view_id: str
    previous_view_id: str | None
    clear_on_close: bool = False
    notify_on_close: bool = False
    open: bool = True
    raw: dict = field(default_factory=dict)
    # history of the view payloads (opened, then each update), oldest first
    versions: list[dict] = field(default_factory=list)


@dataclass
class File:
    id: str
    name: str
    title: str
    content: bytes
    channels: list[str]
    declared_length: int = 0
    uploaded: bool = False
    completed: bool = False
    initial_comment: str | None = None
    user: str = ""


@dataclass
class Canvas:
    id: str
    channel_id: str | None
    markdown: str
    title: str | None = None
    edits: list[list[dict]] = field(default_factory=list)  # every canvases.edit "changes" list


@dataclass
class Ack:
    """How the app acknowledged one envelope."""

    envelope_id: str
    payload: dict | None
    latency: float  # seconds from send to ack (or to the timeout)
    trigger_id: str | None = None
    timed_out: bool = False
    retry_attempt: int = 0
    envelope: dict = field(default_factory=dict)
    response_url: str | None = None
