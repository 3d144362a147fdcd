"""Pure Block Kit builders: data in, blocks out. No database, no Slack calls.

Every builder truncates to Slack's limits (section 3000, header 150, button 75, modal title 24, 50 blocks a message)
and escapes user text, so a 300-character title or a `<script>` in a summary can never get a message refused.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Sequence

from bot.core.lifecycle import STATUS_EMOJI
from bot.core.metrics import format_utc
from bot.core.mrkdwn import escape, truncate
from bot.slack import ids

SECTION_MAX = 3000
HEADER_MAX = 150
BUTTON_MAX = 75
FIELD_MAX = 2000
MODAL_TITLE_MAX = 24
MESSAGE_BLOCKS_MAX = 50
CONTEXT_MAX = 3000



def slack_date(when: dt.datetime, fmt: str = "{date_short_pretty} {time}") -> str:
    """A date Slack renders in each reader's own time zone, with a UTC fallback."""
    return f"<!date^{int(when.timestamp())}^{fmt}|{format_utc(when)}>"


def mention(user: str | None, none: str = "_none_") -> str:
    return f"<@{user}>" if user else none


def plain(text: str, limit: int) -> dict:
    return {"type": "plain_text", "text": truncate(text, limit) or " ", "emoji": True}


def md(text: str, limit: int = SECTION_MAX) -> dict:
    return {"type": "mrkdwn", "text": _cut_markup_safe(text, limit) or " "}


def _cut_markup_safe(text: str, limit: int) -> str:
    """`truncate`, but never leaving half a mention, channel or date (`<@U12…`) behind: user text is escaped,
    so any `<` left open after the cut is our own markup, and it goes whole."""
    cut = truncate(text, limit)
    if cut != text and cut.endswith("…"):
        kept = cut[:-1]
        start = kept.rfind("<")
        if start > kept.rfind(">"):
            cut = kept[:start] + "…"
    return cut


def section(text: str) -> dict:
    return {"type": "section", "text": md(text)}


def context(text: str) -> dict:
    return {"type": "context", "elements": [md(text, CONTEXT_MAX)]}


def button(text: str, action_id: str, value: str, style: str | None = None) -> dict:
    b = {"type": "button", "text": plain(text, BUTTON_MAX), "action_id": action_id, "value": value[:2000]}
    if style:
        b["style"] = style
    return b


@dataclass(frozen=True)
class CardData:
    incident_id: int
    reference: str
    title: str
    severity_label: str
    status: str
    ic: str | None
    smes: tuple[str, ...]
    declared_by: str | None
    declared_at: dt.datetime
    summary: str | None = None
    last_update_at: dt.datetime | None = None
    resolved_at: dt.datetime | None = None
    actions: tuple[tuple[str, str | None, bool], ...] = ()   # (text, owner, done)
    private: bool = False


def status_text(status: str) -> str:
    return f"{STATUS_EMOJI.get(status, '')} {status.capitalize()}".strip()


def card_blocks(card: CardData) -> list[dict]:
    """The pinned summary card: edited in place after every change."""
    header = f"{card.reference} {card.title}"
    fields = [
        md(f"*Severity*\n{escape(card.severity_label)}", FIELD_MAX),
        md(f"*Status*\n{status_text(card.status)}", FIELD_MAX),
        md(f"*Incident commander*\n{mention(card.ic)}", FIELD_MAX),
        md(f"*SMEs*\n{', '.join(mention(u) for u in card.smes) if card.smes else '_none_'}", FIELD_MAX),
        md(f"*Declared by*\n{mention(card.declared_by, 'Tocsin')}", FIELD_MAX),
        md(f"*Started*\n{slack_date(card.declared_at)}", FIELD_MAX),
    ]
    fields.append(md(f"*Last update*\n{slack_date(card.last_update_at) if card.last_update_at else '_none yet_'}", FIELD_MAX))
    if card.resolved_at:
        fields.append(md(f"*Resolved*\n{slack_date(card.resolved_at)}", FIELD_MAX))
    blocks: list[dict] = [
        {"type": "header", "text": plain(header, HEADER_MAX)},
        {"type": "section", "fields": fields[:10]},
    ]
    if card.summary:
        blocks.append(section(f"*Summary*\n{escape(card.summary)}"))
    if card.actions:
        # action text is Slack mrkdwn already (a slash command's text, escaped by Slack)
        lines = [f"{':white_check_mark:' if done else ':white_square:'} {text}" + (f" ({mention(owner)})" if owner else "")
                 for text, owner, done in card.actions]
        blocks.append(section("*Action items*\n" + "\n".join(lines)))
    value = str(card.incident_id)
    if card.status != "resolved":
        blocks.append({"type": "actions", "block_id": "card_actions", "elements": [
            button("Take IC", ids.TAKE_IC, value, "primary"),
            button("Join as SME", ids.JOIN_SME, value),
            button("Post update", ids.POST_UPDATE, value),
            button("Resolve", ids.RESOLVE, value, "danger"),
        ]})
    else:
        blocks.append(context(":white_check_mark: Resolved. `/incident reopen` if it comes back; `/incident postmortem` writes the report."))
    return blocks[:MESSAGE_BLOCKS_MAX]


def card_text(card: CardData) -> str:
    return truncate(f"{card.reference} {escape(card.title)} [{escape(card.severity_label)}, {card.status}]", 3000)


def topic_text(severity_label: str, status: str, ic: str | None, ic_name: str | None) -> str:
    """Topics are plain text (250 chars max); name the IC rather than mention them."""
    who = f"@{ic_name}" if ic_name else ("IC assigned" if ic else "no IC yet")
    return truncate(f"{severity_label} | {status.capitalize()} | IC: {who}", 250)


def purpose_text(reference: str, title: str, severity_label: str, status: str, ic_name: str | None) -> str:
    """The channel purpose also carries severity, status and IC (plain text, 250 chars max)."""
    tail = f" | {severity_label} | {status.capitalize()} | IC: {'@' + ic_name if ic_name else 'none'}"
    return truncate(f"{reference}: {truncate(title, max(20, 250 - len(reference) - len(tail) - 2))}{tail}", 250)


def announcement_blocks(card: CardData, channel_id: str | None, headline: str) -> list[dict]:
    where = f"<#{channel_id}>" if channel_id and not card.private else ("a private channel" if card.private else "_channel pending_")
    title = escape(card.title)
    return [section(f"{headline}\n*{card.reference}* {title}\n*Severity:* {escape(card.severity_label)}   *Status:* {status_text(card.status)}   *Channel:* {where}")]


def private_announcement_blocks(reference: str, severity_label: str) -> list[dict]:
    return [section(f":lock: A private incident *{reference}* ({escape(severity_label)}) was declared. Its details are shared with the people involved only.")]


def declare_modal(severities: Sequence[tuple[str, str]], channel_id: str | None, initial_title: str = "") -> dict:
    options = [{"text": plain(label, 75), "value": key} for key, label in severities][:100]
    title_el = {"type": "plain_text_input", "action_id": ids.IN_TITLE[1], "max_length": 300,
                "placeholder": plain("What is broken? e.g. Checkout latency spike", 150)}
    if initial_title:
        title_el["initial_value"] = initial_title[:300]
    return {
        "type": "modal", "callback_id": ids.DECLARE_VIEW, "private_metadata": channel_id or "",
        "title": plain("Declare incident", MODAL_TITLE_MAX), "submit": plain("Declare", 24), "close": plain("Cancel", 24),
        "blocks": [
            {"type": "input", "block_id": ids.IN_TITLE[0], "label": plain("Title", 2000), "element": title_el},
            {"type": "input", "block_id": ids.IN_SEVERITY[0], "label": plain("Severity", 2000),
             "element": {"type": "static_select", "action_id": ids.IN_SEVERITY[1], "options": options,
                         "initial_option": options[min(1, len(options) - 1)]}},
            {"type": "input", "block_id": ids.IN_SUMMARY[0], "optional": True, "label": plain("Summary", 2000),
             "element": {"type": "plain_text_input", "action_id": ids.IN_SUMMARY[1], "multiline": True, "max_length": 2000}},
            {"type": "input", "block_id": ids.IN_PRIVATE[0], "optional": True, "label": plain("Visibility", 2000),
             "element": {"type": "checkboxes", "action_id": ids.IN_PRIVATE[1], "options": [
                 {"text": plain("Private incident (private channel, announced without details)", 75), "value": "private"}]}},
        ],
    }


def update_modal(incident_id: int, reference: str, current_status: str, statuses: Sequence[str]) -> dict:
    options = [{"text": plain(status_text(s), 75), "value": s} for s in statuses]
    initial = next((o for o in options if o["value"] == current_status), options[0])
    return {
        "type": "modal", "callback_id": ids.UPDATE_VIEW, "private_metadata": str(incident_id),
        "title": plain("Status update", MODAL_TITLE_MAX), "submit": plain("Post", 24), "close": plain("Cancel", 24),
        "blocks": [
            context(f"*{reference}*"),
            {"type": "input", "block_id": ids.IN_STATUS[0], "label": plain("Status", 2000),
             "element": {"type": "static_select", "action_id": ids.IN_STATUS[1], "options": options, "initial_option": initial}},
            {"type": "input", "block_id": ids.IN_UPDATE_TEXT[0], "label": plain("What changed, what's next", 2000),
             "element": {"type": "plain_text_input", "action_id": ids.IN_UPDATE_TEXT[1], "multiline": True, "max_length": 2900}},
        ],
    }


def resolve_modal(incident_id: int, reference: str) -> dict:
    def field_(ids_pair, label, optional):
        return {"type": "input", "block_id": ids_pair[0], "optional": optional, "label": plain(label, 2000),
                "element": {"type": "plain_text_input", "action_id": ids_pair[1], "multiline": True, "max_length": 2900}}
    return {
        "type": "modal", "callback_id": ids.RESOLVE_VIEW, "private_metadata": str(incident_id),
        "title": plain("Resolve incident", MODAL_TITLE_MAX), "submit": plain("Resolve", 24), "close": plain("Cancel", 24),
        "blocks": [context(f"*{reference}*"), field_(ids.IN_RESOLUTION, "Resolution summary", False),
                   field_(ids.IN_IMPACT, "Impact", True), field_(ids.IN_CAUSE, "Root cause", True)],
    }


def event_message(text: str) -> list[dict]:
    return [section(text)]


def page_blocks(reference: str, title: str, severity_label: str, summary: str | None, channel_id: str | None,
                page_id: int, via: str, outcome: str | None = None, late_ack: bool = False) -> list[dict]:
    """The page DM. Once answered the buttons go and the outcome is shown; a page that timed out keeps
    Acknowledge (`late_ack`), so a responder who shows up late can still take the incident."""
    channel = f"<#{channel_id}>" if channel_id else "_channel not created yet_"
    text = f":rotating_light: *You are being paged* for *{reference}* {escape(title)}\n*Severity:* {escape(severity_label)}   *Channel:* {channel}"
    if via:
        text += f"\n_Paged via {escape(via)}_"
    blocks = [section(text)]
    if summary:
        blocks.append(section(f"*Summary*\n{escape(summary)}"))
    if outcome:
        blocks.append(context(outcome))
        if late_ack:
            blocks.append({"type": "actions", "block_id": "page_actions",
                           "elements": [button("Acknowledge", ids.PAGE_ACK, str(page_id), "primary")]})
    else:
        blocks.append({"type": "actions", "block_id": "page_actions", "elements": [
            button("Acknowledge", ids.PAGE_ACK, str(page_id), "primary"),
            button("Decline", ids.PAGE_DECLINE, str(page_id), "danger"),
        ]})
    return blocks


def reminder_blocks(incident_id: int, reference: str, ic: str | None, overdue_for: str) -> list[dict]:
    who = f"<@{ic}>" if ic else "There is no incident commander yet: someone take IC and post an update."
    buttons = [button("Post update", ids.POST_UPDATE, str(incident_id), "primary")]
    if not ic:
        buttons.insert(0, button("Take IC", ids.TAKE_IC, str(incident_id)))
    return [section(f":alarm_clock: A status update is due for *{reference}* (no update for {overdue_for}). {who}"),
            {"type": "actions", "block_id": "reminder_actions", "elements": buttons}]


def action_items_blocks(items: Sequence[tuple[int, str, str | None, bool]]) -> list[dict]:
    """`/incident actions`: one section per item with a Done button while open."""
    if not items:
        return [section("No action items yet. Add one with `/incident action &lt;text&gt; [@owner]`.")]
    blocks: list[dict] = [section("*Action items*")]
    for item_id, text, owner, done in items[: MESSAGE_BLOCKS_MAX - 1]:
        line = f"{':white_check_mark:' if done else ':white_square:'} {text}" + (f" ({mention(owner)})" if owner else "")
        b = section(line)
        if not done:
            b["accessory"] = button("Mark done", ids.ACTION_DONE, str(item_id))
        blocks.append(b)
    return blocks


def home_view(open_incidents: Sequence[tuple[str, str, str, str, str | None]]) -> dict:
    """App Home: open incidents (reference, title, severity label, status, channel) and how to declare."""
    blocks: list[dict] = [{"type": "header", "text": plain("Tocsin", HEADER_MAX)},
                          section("Declare with `/incident` (a form) or `/incident declare &lt;sev&gt; &lt;title&gt;`. "
                                  "`/incident help` lists every sub-command.")]
    if not open_incidents:
        blocks.append(section(":sunny: No open incidents."))
    for ref, title, label, status, channel in open_incidents[:90]:
        where = f"<#{channel}>" if channel else "_no channel_"
        blocks.append(section(f"*{ref}* {escape(title)}\n{escape(label)} · {status_text(status)} · {where}"))
    return {"type": "home", "blocks": blocks[:100]}
