"""Incident channel names such as `inc-2026-007-checkout-latency-spike`.

Slack refuses a channel name with anything but lowercase ASCII letters, digits, hyphens and underscores, or longer than
80 characters, so a title typed in a hurry (emoji, accents, a pasted link, 300 characters) must still give a valid
name on the first try; a refused `conversations.create` would leave an incident without its channel.
"""
from __future__ import annotations

import re
import unicodedata

from bot.core.mrkdwn import strip_markup

NAME_MAX = 80
PREFIX_MAX = 20          # bot.config refuses longer prefixes; the cap here keeps room for the slug whatever we get
DEFAULT_PREFIX = "inc"
EMPTY_SLUG = "incident"

# Letters NFKD does not decompose into ASCII base + accent.
_TRANSLITERATE = str.maketrans({
    "ß": "ss", "ẞ": "ss", "ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe",
    "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "þ": "th", "Þ": "th",
    "ı": "i", "ħ": "h", "Ħ": "h", "ŋ": "ng", "Ŋ": "ng", "ĸ": "k",
})
# `:fire:` shortcodes, as slash commands deliver emoji; not when glued to a word (`err:db:down` keeps `db`).
_SHORTCODE = re.compile(r"(?<![a-z0-9]):[a-z0-9_+'-]+:(?![a-z0-9])", re.IGNORECASE)
_APOSTROPHE = re.compile(r"(?<=\w)['’](?=\w)")   # "can't" -> "cant", not "can-t"
_SEPARATORS = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """The title as lowercase ASCII words joined by single hyphens; `incident` when nothing usable is left."""
    text = strip_markup(text)
    text = _SHORTCODE.sub(" ", text)
    text = _APOSTROPHE.sub("", text)
    text = _to_ascii(text).lower()
    slug = _SEPARATORS.sub("-", text).strip("-")
    return slug or EMPTY_SLUG


def _to_ascii(text: str) -> str:
    """Transliterate (é -> e, ß -> ss, ﬁ -> fi); whatever has no ASCII form (emoji, CJK) is dropped later."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize_prefix(prefix: str) -> str:
    """The configured prefix made channel-safe, so a careless `Inc_` cannot break every channel name."""
    slug = _SEPARATORS.sub("-", _to_ascii(prefix).lower()).strip("-")
    return cut_at_word(slug, PREFIX_MAX) or DEFAULT_PREFIX


def cut_at_word(slug: str, limit: int) -> str:
    """At most `limit` characters, ending at a hyphen when there is one to end at, never ending with a hyphen."""
    if limit <= 0:
        return ""
    if len(slug) <= limit:
        return slug
    head = slug[:limit]
    if slug[limit] != "-" and "-" in head:
        head = head[: head.rindex("-")]
    return head.strip("-")


def channel_name(prefix: str, year: int, number: int, title: str, *, suffix: int = 0) -> str:
    """`<prefix>-<year>-<number, 3+ digits>-<slug>[-<suffix+1>]`, at most 80 characters.

    `suffix` counts earlier attempts whose name was taken in Slack; it becomes `-2`, `-3`, … and is kept whole
    while the slug is shortened, since dropping it would retry the same taken name.
    """
    if year < 0 or number < 0 or suffix < 0:
        raise ValueError("year, number and suffix must not be negative")
    head = f"{normalize_prefix(prefix)}-{year}-{number:03d}"
    tail = f"-{suffix + 1}" if suffix else ""
    slug = cut_at_word(slugify(title), NAME_MAX - len(head) - len(tail) - 1)
    return f"{head}-{slug}{tail}" if slug else f"{head}{tail}"
