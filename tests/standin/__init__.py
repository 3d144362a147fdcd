"""Test stand-in for Slack: Web API + Socket Mode on 127.0.0.1 for real slack_sdk / slack_bolt clients."""

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
from .server import DEFAULT_SCOPES, METHODS, SlackStandin

__all__ = [
    "Ack",
    "Call",
    "Canvas",
    "Channel",
    "DEFAULT_SCOPES",
    "Ephemeral",
    "File",
    "METHODS",
    "Message",
    "SlackStandin",
    "StandinError",
    "User",
    "View",
]
