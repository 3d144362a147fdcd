"""Slack mrkdwn text: escaping on the way out, markup to plain names on the way in.

Slack sends user text with `&`, `<` and `>` escaped and with mentions, channels and links as `<...>` markup. Anything
we post must be escaped the same way (or Slack reads a `<script>` as a broken link), and anything we write outside
Slack (a Markdown postmortem, a channel name) must turn the markup back into what a reader saw.
"""
from __future__ import annotations

import re
from typing import Callable, Mapping

# `<target>` or `<target|label>`; Slack never puts a raw `<` or `>` inside (they arrive as entities).
_MARKUP = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_ENTITIES = ("&amp;", "&lt;", "&gt;")


def escape(text: str) -> str:
    """Escape the three characters Slack treats as control characters in mrkdwn (`&` first, or it doubles)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Undo Slack's escaping (`&amp;` last, so `&amp;lt;` stays the literal text `&lt;`)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    """Shorten to at most `limit` characters, marking the cut, so Slack never refuses a block as too long.

    A cut never leaves half an entity (`&am…`) behind, which Slack would show literally.
    """
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    if len(ellipsis) >= limit:
        return text[:limit]
    cut = _entity_safe_cut(text, limit - len(ellipsis))
    return text[:cut] + ellipsis


def _entity_safe_cut(text: str, cut: int) -> int:
    """Move a cut position back to the start of an entity it would split."""
    start = text.rfind("&", max(0, cut - 4), cut)
    if start != -1 and any(text.startswith(e, start) and start + len(e) > cut for e in _ENTITIES):
        return start
    return cut


def replace_markup(text: str, render: Callable[[str, str | None], str]) -> str:
    """Replace each `<target|label>` with `render(target, label)`; the one parser for Slack's angle-bracket markup."""
    return _MARKUP.sub(lambda m: render(m.group(1), m.group(2)), text)


def strip_markup(text: str) -> str:
    """Plain words only: each piece of markup becomes its label, or disappears when it has none (`<@U123>`)."""
    return unescape(replace_markup(text, lambda _target, label: label or ""))


def mentions_to_names(text: str, names: Mapping[str, str]) -> str:
    """Turn Slack markup into what a reader saw: `<@U1>` -> `@Alice`, `<#C1|ops>` -> `#ops`, links -> `label (url)`.

    User ids resolve through `names`, then the label Slack sent, then the bare id, so nothing renders as an opaque
    `<@U…>` outside Slack. The result is unescaped plain text.
    """
    return unescape(replace_markup(text, lambda target, label: _render_markup(target, label, names)))


def _render_markup(target: str, label: str | None, names: Mapping[str, str]) -> str:
    if target.startswith("@"):
        user = target[1:]
        return "@" + (names.get(user) or label or user)
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        return _render_special(target[1:], label)
    if not label or label == target or f"mailto:{label}" == target:
        return label or target
    return f"{label} ({target})"


def _render_special(command: str, label: str | None) -> str:
    """`<!here>`, `<!subteam^S1|@team>`, `<!date^…|fallback>`: the label when Slack gave one, else `@here`."""
    if label:
        return label
    return "@" + command.split("^", 1)[0]
