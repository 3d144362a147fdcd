"""The postmortem: built from the stored timeline, rendered by the pure core, exported into Slack as the channel
canvas (replaced on re-runs, never piled up) and a `.md` file; where canvases are refused, the file alone."""
from __future__ import annotations

import asyncio
import logging
import re

from sqlalchemy import select

from bot.core import metrics
from bot.core import postmortem as pmcore
from bot.core.durations import parse_duration
from bot.core.mrkdwn import escape
from bot.services.context import Deps, UserFacingError
from bot.services.incidents import IncidentService
from bot.slack.gateway import SlackCallFailed
from storage import repo
from storage.models import Incident, Page

log = logging.getLogger("tocsin.postmortems")

MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
CANVAS_REFUSED = {"not_allowed", "canvas_disabled", "canvas_creation_failed", "free_teams_cannot_create_non_tabbed_canvases",
                  "team_tier_cannot_create_channel_canvases", "not_allowed_token_type", "missing_scope",
                  "restricted_action", "feature_not_enabled"}


class PostmortemService:
    def __init__(self, deps: Deps, incidents: IncidentService) -> None:
        self.d = deps
        self.incidents = incidents

    async def build_input(self, incident_id: int) -> pmcore.PostmortemInput:
        async with self.d.db.read() as s:
            inc = await s.get(Incident, incident_id)
            events = await repo.timeline(s, incident_id)
            updates = await repo.status_updates(s, incident_id)
            items = await repo.action_items(s, incident_id)
            pages = list((await s.execute(select(Page).where(Page.incident_id == incident_id).order_by(Page.id))).scalars())
        users: set[str] = {u for u in [inc.ic, inc.declared_by, *inc.smes] if u}
        users |= {e.actor for e in events if e.actor} | {p.user for p in pages} | {a.owner for a in items if a.owner}
        for text in [e.text for e in events] + [u.text for u in updates]:
            users |= set(MENTION.findall(text))
        ordered = sorted(users)
        names = dict(zip(ordered, await asyncio.gather(*(self.d.gateway.user_name(u) for u in ordered))))
        return pmcore.PostmortemInput(
            # the renderer reads Slack mrkdwn; title and summary are stored as typed, so escape them like the rest
            reference=inc.reference, title=escape(inc.title), severity_label=self.d.config.severity_label(inc.severity),
            status=inc.status, declared_at=inc.declared_at, declared_by=inc.declared_by,
            first_ack_at=inc.first_ack_at, first_ic_at=inc.first_ic_at, resolved_at=inc.resolved_at,
            ic=inc.ic, smes=tuple(inc.smes or ()), summary=escape(inc.summary) if inc.summary else None, impact=inc.impact, root_cause=inc.root_cause,
            resolution=inc.resolution, channel_name=inc.channel_name,
            timeline=tuple(pmcore.TimelineEntry(at=e.at, kind=e.kind, actor=e.actor, text=e.text, permalink=e.permalink)
                           for e in events),
            updates=tuple(pmcore.StatusUpdate(at=u.at, author=u.author, status=u.status, text=u.text) for u in updates),
            actions=tuple(pmcore.ActionItem(text=a.text, owner=a.owner, done=a.done) for a in items),
            pages=tuple(pmcore.PageRecord(at=p.sent_at or p.created_at, user=p.user, outcome=p.outcome) for p in pages),
            names=names)

    async def generate(self, incident_id: int, actor: str) -> str:
        inc = await self.incidents.get(incident_id)
        if not inc.channel_id:
            raise UserFacingError(f"{inc.reference} has no channel to export the postmortem into.")
        draft = inc.is_open
        now = self.d.clock.now()
        async with self.d.db.write() as s:
            repo.add_event(s, inc.id, now, "postmortem_generated", actor,
                           f"<@{actor}> generated the {'draft ' if draft else ''}postmortem")
            row = await s.get(Incident, inc.id, with_for_update=True)
            if not draft:
                row.postmortem_at = now
        pm = await self.build_input(incident_id)
        markdown = pmcore.render_postmortem(pm, now, draft=draft)
        canvas_note = await self._export_canvas(inc, markdown)
        file_note = await self._export_file(inc, pm, markdown, draft)
        where = "its private channel" if inc.private else f"<#{inc.channel_id}>"
        await self.incidents.announce_or_warn(inc, f":memo: The {'draft ' if draft else ''}postmortem of *{inc.reference}* is in {where}.")
        log.info("incident event=postmortem ref=%s draft=%s canvas=%s", inc.reference, draft, canvas_note)
        return f":memo: {'Draft p' if draft else 'P'}ostmortem of {inc.reference}: {canvas_note}; {file_note}."

    async def _export_canvas(self, inc: Incident, markdown: str) -> str:
        content = {"type": "markdown", "markdown": markdown}
        canvas_id = inc.canvas_id
        try:
            if canvas_id is None:
                try:
                    data = await self.d.gateway.call("conversations.canvases.create", channel_id=inc.channel_id,
                                                     document_content=content)
                    canvas_id = data.get("canvas_id")
                except SlackCallFailed as exc:
                    if exc.error != "channel_canvas_already_exists":
                        raise
                    info = await self.d.gateway.call("conversations.info", channel=inc.channel_id)
                    canvas_id = (((info.get("channel") or {}).get("properties") or {}).get("canvas") or {}).get("file_id")
                    if not canvas_id:
                        raise
                    await self._replace(canvas_id, content)
                async with self.d.db.write() as s:
                    (await s.get(Incident, inc.id, with_for_update=True)).canvas_id = canvas_id
                return "written to the channel canvas"
            await self._replace(canvas_id, content)
            return "channel canvas replaced"
        except SlackCallFailed as exc:
            log.warning("canvas refused for %s (%s); posting the file alone", inc.reference, exc.error)
            return f"no canvas (Slack refused: `{exc.error}`)"

    async def _replace(self, canvas_id: str, content: dict) -> None:
        await self.d.gateway.call("canvases.edit", canvas_id=canvas_id,
                                  changes=[{"operation": "replace", "document_content": content}])

    async def _export_file(self, inc: Incident, pm: pmcore.PostmortemInput, markdown: str, draft: bool) -> str:
        try:
            await self.d.gateway.upload_file(channel=inc.channel_id, content=markdown,
                                             filename=pmcore.postmortem_filename(pm),
                                             title=f"{'Draft p' if draft else 'P'}ostmortem {inc.reference}",
                                             initial_comment=f":memo: {'Draft p' if draft else 'P'}ostmortem of {inc.reference}")
            return f"`{pmcore.postmortem_filename(pm)}` posted in the channel"
        except SlackCallFailed as exc:
            return f"the file could not be uploaded (`{exc.error}`)"

    async def stats(self, period_text: str) -> str:
        try:
            period = parse_duration(period_text)
        except ValueError:
            raise UserFacingError(f"'{period_text}' is not a period. Try `/incident stats 30d` or `/incident stats 1w`.") from None
        now = self.d.clock.now()
        async with self.d.db.read() as s:
            rows = list((await s.execute(select(Incident).where(Incident.declared_at >= now - period))).scalars())
        times = [metrics.IncidentTimes(severity=i.severity, declared_at=i.declared_at, first_ack_at=i.first_ack_at,
                                       first_ic_at=i.first_ic_at, resolved_at=i.resolved_at) for i in rows]
        order = self.d.config.severity_keys()
        stats = metrics.compute_stats(times, now, period, order)
        return metrics.format_stats(stats, {k: self.d.config.severity_label(k) for k in order})
