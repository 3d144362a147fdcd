"""The postmortem: an incident's record rendered as a Markdown document ready for the review meeting.

Everything the bot saw (declaration, pages, roles, status changes, updates, action items) is written out with times in
UTC and names instead of Slack ids, so the document reads the same outside Slack, followed by the review sections of
the post-incident template (what went well, what went wrong, where we got lucky, lessons learned) for people to fill.
Pure: the same input and `now` always give the same text, which is what lets a golden file test it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping

from bot.core.durations import format_duration
from bot.core.lifecycle import is_open
from bot.core.metrics import (
    IncidentTimes,
    format_utc,
    time_to_acknowledge,
    time_to_ic,
    time_to_resolve,
)
from bot.core.mrkdwn import mentions_to_names
from bot.core.naming import cut_at_word, slugify


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime            # aware UTC
    kind: str                  # one of EVENT_KINDS
    actor: str | None          # Slack user id or None (the bot)
    text: str                  # human sentence rendered by the service, may contain Slack mentions <@U..>
    permalink: str | None = None


@dataclass(frozen=True)
class StatusUpdate:
    at: dt.datetime
    author: str | None
    status: str
    text: str


@dataclass(frozen=True)
class ActionItem:
    text: str
    owner: str | None
    done: bool


@dataclass(frozen=True)
class PageRecord:
    at: dt.datetime
    user: str
    outcome: str               # "acknowledged" | "declined" | "no response" | "pending"


@dataclass(frozen=True)
class PostmortemInput:
    reference: str             # e.g. "INC-2026-007"
    title: str
    severity_label: str
    status: str
    declared_at: dt.datetime
    declared_by: str | None
    first_ack_at: dt.datetime | None
    first_ic_at: dt.datetime | None
    resolved_at: dt.datetime | None
    ic: str | None
    smes: tuple[str, ...]
    summary: str | None
    impact: str | None
    root_cause: str | None
    resolution: str | None
    channel_name: str | None
    timeline: tuple[TimelineEntry, ...]
    updates: tuple[StatusUpdate, ...]
    actions: tuple[ActionItem, ...]
    pages: tuple[PageRecord, ...]
    names: Mapping[str, str]   # Slack user id -> display name, for mentions and actors


EVENT_KINDS = ("declared", "ic_assigned", "sme_joined", "status_changed", "severity_changed", "note", "status_update",
               "reminder", "resolved", "reopened", "paged", "acknowledged", "declined", "escalated", "step_skipped",
               "escalation_exhausted", "pinned", "action_added", "action_done", "impact_set", "cause_set",
               "postmortem_generated", "channel_failed")

# How each kind reads in the Event column; a kind added later without a label still renders from its name.
KIND_LABELS: dict[str, str] = {
    "declared": "Declared",
    "ic_assigned": "IC assigned",
    "sme_joined": "SME joined",
    "status_changed": "Status changed",
    "severity_changed": "Severity changed",
    "note": "Note",
    "status_update": "Status update",
    "reminder": "Reminder",
    "resolved": "Resolved",
    "reopened": "Reopened",
    "paged": "Paged",
    "acknowledged": "Page acknowledged",
    "declined": "Page declined",
    "escalated": "Escalated",
    "step_skipped": "Escalation step skipped",
    "escalation_exhausted": "Escalation exhausted",
    "pinned": "Pinned",
    "action_added": "Action item added",
    "action_done": "Action item done",
    "impact_set": "Impact recorded",
    "cause_set": "Root cause recorded",
    "postmortem_generated": "Postmortem generated",
    "channel_failed": "Channel creation failed",
}

BOT_NAME = "Tocsin"
DRAFT_MARKER = "DRAFT — incident still open"
MISSING = "—"
NOT_RECORDED = "_Not recorded yet._"
SLACK_CHUNK_MAX = 3000

# The review half of the post-incident template, each with a prompt for the meeting.
REVIEW_SECTIONS: tuple[tuple[str, str], ...] = (
    ("What went well", "Responses, tools and procedures that worked."),
    ("What went wrong", "Problems met, process gaps, delays."),
    ("Where we got lucky", "What went right by chance and might not next time."),
    ("Lessons learned", "What we will do differently."),
)


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind) or kind.replace("_", " ").capitalize()


def render_postmortem(pm: PostmortemInput, now: dt.datetime, *, draft: bool) -> str:
    """The whole document. `draft` marks it as a snapshot of an open incident, so nobody mistakes it for the final."""
    sections = [
        _title(pm, now, draft),
        _summary(pm, now),
        _people(pm),
        _narrative("Impact", pm.impact, pm.names),
        _narrative("Root cause", pm.root_cause, pm.names),
        _narrative("Resolution", pm.resolution, pm.names),
        _timeline(pm),
        _updates(pm),
        _metrics(pm),
        _actions(pm),
        *(_review(heading, prompt) for heading, prompt in REVIEW_SECTIONS),
        f"---\n\n_Generated by {BOT_NAME} on {format_utc(now)}._",
    ]
    return "\n\n".join(sections) + "\n"


def postmortem_filename(pm: PostmortemInput) -> str:
    """`inc-2026-007-postmortem.md`: safe on any file system and sorts by incident."""
    return f"{cut_at_word(slugify(pm.reference), 100)}-postmortem.md"


def slack_chunks(markdown: str, limit: int = SLACK_CHUNK_MAX) -> list[str]:
    """Pieces of at most `limit` characters, cut at line ends, whose concatenation is exactly `markdown`.

    Slack refuses a section over 3000 characters; cutting at line ends keeps table rows and list items whole. A
    single line longer than `limit` is cut hard, as there is no better place.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    chunks: list[str] = []
    current = ""
    for line in markdown.splitlines(keepends=True):
        if len(current) + len(line) > limit and current:
            chunks.append(current)
            current = ""
        while len(line) > limit:
            chunks.append(line[:limit])
            line = line[limit:]
        current += line
    if current:
        chunks.append(current)
    return chunks


# --- sections ---------------------------------------------------------------------------------------------------

def _title(pm: PostmortemInput, now: dt.datetime, draft: bool) -> str:
    title = f"# Postmortem: {_one_line(pm.reference)} — {_one_line(mentions_to_names(pm.title, pm.names))}"
    if not draft:
        return title
    return (f"{title}\n\n> **{DRAFT_MARKER}.** This is a snapshot as of {format_utc(now)}; "
            "regenerate it once the incident is resolved.")


def _summary(pm: PostmortemInput, now: dt.datetime) -> str:
    rows = [
        ("Title", _one_line(mentions_to_names(pm.title, pm.names))),
        ("Severity", _one_line(pm.severity_label)),
        ("Status", pm.status.capitalize()),
        ("Declared", format_utc(pm.declared_at)),
        ("First acknowledged", _time_or_missing(pm.first_ack_at)),
        ("Resolved", _time_or_missing(pm.resolved_at)),
        ("Duration", _duration(pm, now)),
    ]
    if pm.channel_name:
        rows.append(("Channel", f"#{_one_line(pm.channel_name)}"))
    body = _fields(rows)
    if pm.summary and pm.summary.strip():
        body += "\n\n" + mentions_to_names(pm.summary, pm.names).strip()
    return f"## Summary\n\n{body}"


def _duration(pm: PostmortemInput, now: dt.datetime) -> str:
    if pm.resolved_at is not None:
        return format_duration(pm.resolved_at - pm.declared_at)
    if is_open(pm.status):
        return f"{format_duration(now - pm.declared_at)} so far"
    return MISSING


def _people(pm: PostmortemInput) -> str:
    pages = sorted(pm.pages, key=lambda p: p.at)
    acknowledged = list(dict.fromkeys(_name(p.user, pm.names) for p in pages if p.outcome == "acknowledged"))
    lines = [
        _field("Incident commander", _name(pm.ic, pm.names)),
        _field("SMEs", ", ".join(_name(u, pm.names) for u in pm.smes) or MISSING),
        _field("Declared by", _name(pm.declared_by, pm.names, BOT_NAME)),
        _field("Paged", "" if pages else MISSING),
        *(f"  - {format_utc(p.at)}: {_name(p.user, pm.names)}, {p.outcome}" for p in pages),
        _field("Acknowledged by", ", ".join(acknowledged) or MISSING),
    ]
    return "## People\n\n" + "\n".join(lines)


def _narrative(heading: str, text: str | None, names: Mapping[str, str]) -> str:
    body = mentions_to_names(text, names).strip() if text else ""
    return f"## {heading}\n\n{body or NOT_RECORDED}"


def _timeline(pm: PostmortemInput) -> str:
    rows = ["| Time | Event | Who |", "| --- | --- | --- |"]
    for entry in sorted(pm.timeline, key=lambda e: e.at):      # stable: same-second events keep their order
        rows.append("| {} | {} | {} |".format(
            entry.at.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
            _event_cell(entry, pm.names),
            _cell(_name(entry.actor, pm.names, BOT_NAME)),
        ))
    if not pm.timeline:
        rows.append(f"| {MISSING} | No events recorded | {MISSING} |")
    return "## Timeline (UTC)\n\n" + "\n".join(rows)


def _event_cell(entry: TimelineEntry, names: Mapping[str, str]) -> str:
    """`**Label**: text`, the text linked to its Slack message when there is one; the text alone is dropped when it
    only repeats the label (`**Impact recorded**: Impact recorded`)."""
    label = kind_label(entry.kind)
    text = _cell(mentions_to_names(entry.text, names).strip())
    url = _safe_url(entry.permalink)
    if text.casefold() == label.casefold() and not url:
        text = ""
    if url:
        link_text = text.replace("[", "\\[").replace("]", "\\]") or "link"
        text = f"[{link_text}]({url})"
    return f"**{label}**: {text}" if text else f"**{label}**"


def _updates(pm: PostmortemInput) -> str:
    blocks = []
    for update in sorted(pm.updates, key=lambda u: u.at):
        author = _name(update.author, pm.names, BOT_NAME)
        heading = f"**{format_utc(update.at)} · {update.status.capitalize()} · {author}**"
        blocks.append(f"{heading}\n\n{_quote(mentions_to_names(update.text, pm.names))}")
    return "## Status updates\n\n" + ("\n\n".join(blocks) or "_No status updates were posted._")


def _metrics(pm: PostmortemInput) -> str:
    times = IncidentTimes(severity=pm.severity_label, declared_at=pm.declared_at, first_ack_at=pm.first_ack_at,
                          first_ic_at=pm.first_ic_at, resolved_at=pm.resolved_at)
    rows = [
        ("Time to acknowledge", time_to_acknowledge(times)),
        ("Time to IC", time_to_ic(times)),
        ("Time to resolve", time_to_resolve(times)),
    ]
    return "## Metrics\n\n" + _fields([(k, format_duration(v) if v is not None else MISSING) for k, v in rows])


def _actions(pm: PostmortemInput) -> str:
    lines = []
    for item in pm.actions:
        owner = f"owner: {_name(item.owner, pm.names)}" if item.owner else "no owner"
        lines.append(f"- [{'x' if item.done else ' '}] {_one_line(mentions_to_names(item.text, pm.names))} ({owner})")
    return "## Action items\n\n" + ("\n".join(lines) or "_No action items yet._")


def _review(heading: str, prompt: str) -> str:
    return f"## {heading}\n\n- _{prompt}_"


# --- text helpers -----------------------------------------------------------------------------------------------

def _name(user: str | None, names: Mapping[str, str], missing: str = MISSING) -> str:
    """A user id as its display name (the id itself when unknown); `missing` when there is nobody."""
    if not user:
        return missing
    return _one_line(names.get(user) or user)


def _one_line(text: str) -> str:
    """Collapse whitespace, newlines included, so a value cannot break out of its heading or list item."""
    return " ".join(text.split())


def _field(key: str, value: str) -> str:
    return f"- **{key}:** {value}".rstrip()


def _fields(rows: list[tuple[str, str]]) -> str:
    return "\n".join(_field(key, value) for key, value in rows)


def _time_or_missing(when: dt.datetime | None) -> str:
    return format_utc(when) if when is not None else MISSING


def _quote(text: str) -> str:
    lines = text.strip().splitlines() or ["_(no text)_"]
    return "\n".join(f"> {line}".rstrip() for line in lines)


def _cell(text: str) -> str:
    """Text safe inside a table cell: backslashes and pipes escaped, line breaks as `<br>`, so every row keeps its
    three columns whatever people typed."""
    escaped = text.replace("\\", "\\\\").replace("|", "\\|")
    return "<br>".join(escaped.splitlines())


def _safe_url(url: str | None) -> str | None:
    """Only web links, with the characters that would end a Markdown link or a table cell percent-encoded."""
    if not url or not url.strip().lower().startswith(("https://", "http://")):
        return None
    url = url.strip()
    for char, code in ((" ", "%20"), ("(", "%28"), (")", "%29"), ("|", "%7C"), ("<", "%3C"), (">", "%3E"),
                       ("\\", "%5C"), ("\n", ""), ("\r", "")):
        url = url.replace(char, code)
    return url
