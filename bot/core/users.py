"""Parsing how people name a user in a command: `<@U…>`, `<@U…|name>`, an email (possibly Slack-linked), an ID."""
from __future__ import annotations

import re
from dataclasses import dataclass

MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
MAILTO = re.compile(r"^<mailto:([^|>]+)(?:\|[^>]*)?>$")
EMAIL = re.compile(r"^[^@\s<>|]+@[^@\s<>|]+\.[^@\s<>|]+$")
USER_ID = re.compile(r"^[UW][A-Z0-9]{6,}$")


@dataclass(frozen=True)
class UserRef:
    kind: str   # "id" | "email"
    value: str


def parse_user_ref(text: str) -> UserRef | None:
    token = text.strip()
    if m := MENTION.match(token):
        return UserRef("id", m.group(1))
    if m := MAILTO.match(token):
        token = m.group(1)
    if EMAIL.match(token):
        return UserRef("email", token.lower())
    if USER_ID.match(token):
        return UserRef("id", token)
    return None


def split_first_user(text: str) -> tuple[UserRef | None, str, str]:
    """Take the first whitespace token as a user reference: (ref, raw token, rest of the text)."""
    parts = text.strip().split(None, 1)
    if not parts:
        return None, "", ""
    return parse_user_ref(parts[0]), parts[0], parts[1] if len(parts) > 1 else ""


def extract_trailing_user(text: str) -> tuple[str, UserRef | None]:
    """`/incident action Fix the pool @bob` → ("Fix the pool", bob). The owner is optional."""
    parts = text.strip().rsplit(None, 1)
    if len(parts) == 2:
        ref = parse_user_ref(parts[1])
        if ref is not None:
            return parts[0].strip(), ref
    return text.strip(), None
