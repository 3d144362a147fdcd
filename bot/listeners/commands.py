"""`/incident` and its sub-commands: parse, ack, call a service. No business rules here.

Ack first, always: errors that need nothing but the text are the ack itself; everything else acks empty at once
and answers through the command's response_url.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from slack_bolt.async_app import AsyncApp

from bot.core.mrkdwn import mentions_to_names
from bot.listeners.help import HELP
from bot.listeners.replies import (
    slack_failure_text,
    unexpected_failure_text,
    via_respond,
)
from bot.services.context import Reply, UserFacingError
from bot.services.registry import Services
from bot.slack import blocks as bk
from bot.slack.gateway import SlackCallFailed

log = logging.getLogger("tocsin.commands")


@dataclass
class Ctx:
    svc: Services
    user: str
    channel: str
    trigger_id: str | None
    ack: Callable[..., Awaitable[Any]]
    reply: Reply
    respond: Callable[..., Awaitable[Any]]
    acked: bool = False

    async def ack_now(self, text: str | None = None, blocks: list[dict] | None = None) -> None:
        if not self.acked:
            self.acked = True
            if text is None:
                await self.ack()
            else:
                await self.ack(text=text, blocks=blocks, response_type="ephemeral")
        elif text is not None:
            await self.respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)


Handler = Callable[[Ctx, str], Awaitable[None]]


async def _incident(ctx: Ctx):
    return await ctx.svc.incidents.in_channel(ctx.channel)


async def _user(ctx: Ctx, raw: str, what: str) -> str:
    token = raw.split(None, 1)[0] if raw.strip() else ""
    return await ctx.svc.deps.directory.resolve_input(
        token, f"Say who: `/incident {what} @alice` (a mention or an email address).")


# ---- declare -------------------------------------------------------------------------------------------------
async def cmd_declare(ctx: Ctx, args: str) -> None:
    if not args.strip():
        await ctx.ack_now()
        keys = [(k, ctx.svc.deps.config.severity_label(k)) for k in ctx.svc.deps.config.severities]
        try:
            await ctx.svc.deps.gateway.call("views.open", trigger_id=ctx.trigger_id,
                                            view=bk.declare_modal(keys, ctx.channel))
        except SlackCallFailed as exc:
            await ctx.reply(f"I could not open the form ({exc.error}). Declare in one line instead: "
                            "`/incident declare sev2 Checkout latency spike`.")
        return
    parts = args.split(None, 1)
    severity, title = parts[0], (parts[1] if len(parts) > 1 else "")
    incidents = ctx.svc.incidents
    try:
        severity = incidents.check_severity(severity)
    except UserFacingError as exc:
        await ctx.ack_now(f"{exc} Usage: `/incident declare &lt;sev&gt; &lt;title&gt;`.")
        return
    if not title.strip():
        await ctx.ack_now(f"An incident needs a title. Try `/incident declare {severity} Checkout latency spike`, "
                          "or `/incident` alone to open the form.")
        return
    await ctx.ack_now(f":hourglass_flowing_sand: Declaring *{title.strip()[:200]}* "
                      f"({incidents.label(severity)}); setting up the channel…")
    # Slack escaped the command text (`should_escape`) and turned links and mentions into markup; the title is
    # stored as readable text, as the person typed it (`<@U1|bob>` → `@bob`, `&amp;` → `&`)
    await incidents.declare(user=ctx.user, title=mentions_to_names(title, {}), severity=severity, reply=ctx.reply)


# ---- roles, status -------------------------------------------------------------------------------------------
async def cmd_ic(ctx: Ctx, args: str) -> None:
    await ctx.ack_now()
    inc = await _incident(ctx)
    user = await _user(ctx, args, "ic")
    await ctx.svc.incidents.set_ic(inc.id, user, ctx.user)


async def cmd_sme(ctx: Ctx, args: str) -> None:
    await ctx.ack_now()
    inc = await _incident(ctx)
    user = await _user(ctx, args, "sme")
    await ctx.svc.incidents.add_sme(inc.id, user, ctx.user)


async def cmd_status(ctx: Ctx, args: str) -> None:
    target = args.strip().lower()
    if not target:
        await ctx.ack_now("Give the new status: `/incident status investigating|identified|monitoring|resolved`.")
        return
    await ctx.ack_now()
    inc = await _incident(ctx)
    await ctx.svc.incidents.change_status(inc.id, target, ctx.user)


async def cmd_severity(ctx: Ctx, args: str) -> None:
    if not args.strip():
        valid = ", ".join(f"`{k}`" for k in ctx.svc.deps.config.severities)
        await ctx.ack_now(f"Give the new severity: `/incident severity &lt;sev&gt;`. Valid severities: {valid}.")
        return
    await ctx.ack_now()
    inc = await _incident(ctx)
    await ctx.svc.incidents.change_severity(inc.id, args.strip(), ctx.user)


async def cmd_resolve(ctx: Ctx, args: str) -> None:
    await ctx.ack_now()
    inc = await _incident(ctx)
    if not inc.is_open:
        raise UserFacingError(f"{inc.reference} is already resolved. `/incident reopen` if it came back.")
    if args.strip():
        await ctx.svc.incidents.resolve(inc.id, ctx.user, args.strip())
        return
    try:
        await ctx.svc.deps.gateway.call("views.open", trigger_id=ctx.trigger_id, view=bk.resolve_modal(inc.id, inc.reference))
    except SlackCallFailed as exc:
        await ctx.reply(f"I could not open the form ({exc.error}). Resolve in one line: `/incident resolve &lt;summary&gt;`.")


async def cmd_reopen(ctx: Ctx, args: str) -> None:
    await ctx.ack_now()
    inc = await _incident(ctx)
    await ctx.svc.incidents.reopen(inc.id, ctx.user)


async def cmd_note(ctx: Ctx, args: str) -> None:
    if not args.strip():
        await ctx.ack_now("A note needs text: `/incident note Rolled back the deploy`.")
        return
    await ctx.ack_now()
    inc = await _incident(ctx)
    await ctx.svc.incidents.add_note(inc.id, ctx.user, args)
    await ctx.reply(":memo: Noted on the timeline.")


async def cmd_timeline(ctx: Ctx, args: str) -> None:
    await ctx.ack_now()
    inc = await _incident(ctx)
    lines = await ctx.svc.incidents.timeline_lines(inc.id)
    chunks, current = [], f"*Timeline of {inc.reference}* (UTC)"
    for line in lines:
        if len(current) + len(line) + 1 > 2900:
            chunks.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    chunks.append(current)
    blocks = [bk.section(c) for c in chunks][: bk.MESSAGE_BLOCKS_MAX]
    await ctx.respond(text=f"Timeline of {inc.reference}", blocks=blocks, response_type="ephemeral", replace_original=False)


async def cmd_list(ctx: Ctx, args: str) -> None:
    await ctx.ack_now()
    incidents = await ctx.svc.incidents.list_open()
    if not incidents:
        await ctx.reply(":sunny: No open incidents.")
        return
    lines = []
    for inc in incidents:
        where = f"<#{inc.channel_id}>" if inc.channel_id else f"_no channel ({inc.setup_error or inc.setup_state})_"
        ic = f"<@{inc.ic}>" if inc.ic else "no IC"
        title = "private incident" if inc.private else bk.escape(inc.title)
        lines.append(f"• *{inc.reference}* {title} — {ctx.svc.incidents.label(inc.severity)}, {inc.status}, {ic}, {where}")
    await ctx.reply(f"*Open incidents ({len(incidents)})*\n" + "\n".join(lines))


async def cmd_help(ctx: Ctx, args: str) -> None:
    await ctx.ack_now(HELP)


# ---- on-call and paging --------------------------------------------------------------------------------------
async def cmd_oncall(ctx: Ctx, args: str) -> None:
    await ctx.ack_now()
    await ctx.reply(await ctx.svc.oncall.describe(args.strip() or None))


async def cmd_override(ctx: Ctx, args: str) -> None:
    await ctx.ack_now()
    await ctx.reply(await ctx.svc.oncall.add_override_command(args, ctx.user))


async def cmd_page(ctx: Ctx, args: str) -> None:
    if not args.strip():
        await ctx.ack_now("Say whom to page: `/incident page @user`, `/incident page &lt;schedule&gt;` or `/incident page &lt;team&gt;`.")
        return
    await ctx.ack_now()
    inc = await _incident(ctx)
    await ctx.reply(await ctx.svc.paging.page_manual(inc.id, args.strip(), ctx.user))


# ---- updates, actions, postmortem ----------------------------------------------------------------------------
async def cmd_update(ctx: Ctx, args: str) -> None:
    if not args.strip():
        await ctx.ack_now()
        inc = await _incident(ctx)
        await ctx.svc.updates.open_modal(inc.id, ctx.trigger_id, ctx.reply)
        return
    await ctx.ack_now()
    inc = await _incident(ctx)
    await ctx.svc.updates.post_update(inc.id, ctx.user, args.strip())


async def cmd_action(ctx: Ctx, args: str) -> None:
    if not args.strip():
        await ctx.ack_now("Describe the action item: `/incident action Add pool metrics @alice` (the owner is optional).")
        return
    await ctx.ack_now()
    inc = await _incident(ctx)
    await ctx.reply(await ctx.svc.actions.add(inc.id, ctx.user, args))


async def cmd_actions(ctx: Ctx, args: str) -> None:
    await ctx.ack_now()
    inc = await _incident(ctx)
    text, blocks = await ctx.svc.actions.listing(inc.id)
    await ctx.respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)


async def cmd_impact(ctx: Ctx, args: str) -> None:
    await ctx.ack_now()
    inc = await _incident(ctx)
    inc = await ctx.svc.incidents.set_field(inc.id, ctx.user, "impact", args)
    await ctx.reply(":memo: Impact recorded for the postmortem." + _regenerate_hint(inc))


async def cmd_cause(ctx: Ctx, args: str) -> None:
    await ctx.ack_now()
    inc = await _incident(ctx)
    inc = await ctx.svc.incidents.set_field(inc.id, ctx.user, "root_cause", args)
    await ctx.reply(":memo: Root cause recorded for the postmortem." + _regenerate_hint(inc))


def _regenerate_hint(inc) -> str:
    return " Run `/incident postmortem` again to update the generated one." if inc.postmortem_at else ""


async def cmd_postmortem(ctx: Ctx, args: str) -> None:
    await ctx.ack_now(":hourglass_flowing_sand: Writing the postmortem…")
    inc = await _incident(ctx)
    await ctx.reply(await ctx.svc.postmortems.generate(inc.id, ctx.user))


async def cmd_stats(ctx: Ctx, args: str) -> None:
    await ctx.ack_now()
    await ctx.reply(await ctx.svc.postmortems.stats(args.strip() or "30d"))


COMMANDS: dict[str, Handler] = {
    "declare": cmd_declare, "new": cmd_declare,
    "ic": cmd_ic, "commander": cmd_ic, "sme": cmd_sme,
    "status": cmd_status, "severity": cmd_severity, "sev": cmd_severity,
    "resolve": cmd_resolve, "reopen": cmd_reopen, "note": cmd_note, "timeline": cmd_timeline,
    "list": cmd_list, "help": cmd_help,
    "oncall": cmd_oncall, "override": cmd_override, "page": cmd_page,
    "update": cmd_update, "action": cmd_action, "actions": cmd_actions,
    "impact": cmd_impact, "cause": cmd_cause, "postmortem": cmd_postmortem, "stats": cmd_stats,
}


def split_subcommand(text: str) -> tuple[str, str]:
    parts = (text or "").strip().split(None, 1)
    if not parts:
        return "declare", ""
    return parts[0].lower(), parts[1] if len(parts) > 1 else ""


def register(app: AsyncApp, svc: Services) -> None:
    @app.command("/incident")
    async def incident_command(ack, command, respond) -> None:
        name, args = split_subcommand(command.get("text", ""))
        ctx = Ctx(svc=svc, user=command["user_id"], channel=command["channel_id"], trigger_id=command.get("trigger_id"),
                  ack=ack, reply=via_respond(respond), respond=respond)
        handler = COMMANDS.get(name)
        if handler is None:
            await ctx.ack_now(f"`{name}` is not an `/incident` sub-command. Try `/incident help` for the list, "
                              "or `/incident declare &lt;sev&gt; &lt;title&gt;` to declare.")
            return
        try:
            await handler(ctx, args)
        except UserFacingError as exc:
            await ctx.ack_now(str(exc))
        except SlackCallFailed as exc:
            await ctx.ack_now(slack_failure_text(exc))
        except Exception as exc:  # logged with its traceback; the person still gets an answer
            log.exception("/incident %s failed", name)
            await ctx.ack_now(unexpected_failure_text(exc))
