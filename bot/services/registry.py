"""All services of one running bot, built by build_app (never module globals)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.services.context import Deps
from bot.services.incidents import IncidentService

if TYPE_CHECKING:
    from bot.services.actions import ActionItemService
    from bot.services.capture import CaptureService
    from bot.services.oncall import OnCallService
    from bot.services.paging import PagingService
    from bot.services.postmortems import PostmortemService
    from bot.services.reminders import ReminderService, UpdateService


@dataclass
class Services:
    deps: Deps
    incidents: IncidentService
    paging: "PagingService"
    oncall: "OnCallService"
    reminders: "ReminderService"
    updates: "UpdateService"
    actions: "ActionItemService"
    capture: "CaptureService"
    postmortems: "PostmortemService"
