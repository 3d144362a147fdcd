"""What every service needs, built once by build_app and passed down (no module globals)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Awaitable, Callable

from bot.config import Config
from bot.core.clock import Clock
from bot.services.directory import Directory
from bot.services.errors import UserFacingError  # noqa: F401  (re-exported: services raise it)
from bot.services.timers import TimerService
from bot.slack.gateway import SlackGateway
from storage.db import Database

Reply = Callable[[str], Awaitable[None]]


@dataclass
class Deps:
    config: Config
    clock: Clock
    db: Database
    gateway: SlackGateway
    directory: Directory
    timers: TimerService
    announce_channel_id: str | None = None
    announce_problem: str | None = None
    notify_channel_ids: dict[str, str] = field(default_factory=dict)


async def no_reply(_: str) -> None:
    return None
