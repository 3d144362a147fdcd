"""Follow-up action items: recorded in the channel, listed on the card and in the postmortem."""
from __future__ import annotations

import logging

from bot.core.users import extract_trailing_user
from bot.services.context import Deps, UserFacingError
from bot.services.incidents import IncidentService
from bot.slack import blocks as bk
from storage import repo
from storage.models import ActionItemRow

log = logging.getLogger("tocsin.actions")


class ActionItemService:
    def __init__(self, deps: Deps, incidents: IncidentService) -> None:
        self.d = deps
        self.incidents = incidents

    async def add(self, incident_id: int, actor: str, raw: str) -> str:
        text, ref = extract_trailing_user(raw)
        if not text:
            raise UserFacingError("Describe the action item: `/incident action Add pool metrics @alice`.")
        owner = None
        if ref is not None:
            owner = await self.d.directory.resolve_input(raw.rsplit(None, 1)[-1], "Give the owner as a mention or an email.")
        now = self.d.clock.now()
        async with self.d.db.write() as s:
            item = ActionItemRow(incident_id=incident_id, created_at=now, created_by=actor, text=text, owner=owner)
            s.add(item)
            await s.flush()
            repo.add_event(s, incident_id, now, "action_added", actor,
                           f"<@{actor}> added an action item: {text}" + (f" (owner <@{owner}>)" if owner else ""),
                           {"item": item.id, "owner": owner})
        log.info("incident event=action_added incident=%s item=%s by=%s", incident_id, item.id, actor)
        await self.incidents.refresh(incident_id, topic=False)
        return f":white_square: Action item #{item.id} added" + (f" for <@{owner}>" if owner else "") + "."

    async def listing(self, incident_id: int) -> tuple[str, list[dict]]:
        async with self.d.db.read() as s:
            items = await repo.action_items(s, incident_id)
        return f"{len(items)} action items", bk.action_items_blocks([(i.id, i.text, i.owner, i.done) for i in items])

    async def mark_done(self, item_id: int, actor: str) -> str:
        now = self.d.clock.now()
        async with self.d.db.write() as s:
            item = await s.get(ActionItemRow, item_id, with_for_update=True)
            if item is None:
                raise UserFacingError("That action item no longer exists.")
            if item.done:
                return f"Action item #{item.id} was already done."
            item.done = True
            repo.add_event(s, item.incident_id, now, "action_done", actor, f"<@{actor}> completed an action item: {item.text}",
                           {"item": item.id})
            incident_id = item.incident_id
        log.info("incident event=action_done incident=%s item=%s by=%s", incident_id, item_id, actor)
        await self.incidents.refresh(incident_id, topic=False)
        return f":white_check_mark: Action item #{item_id} marked done."
