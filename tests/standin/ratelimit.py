"""Rolling-window rate limits, answered the way Slack answers them.

Slack applies limits "per API method per workspace per app"; past the limit a call
gets HTTP 429, body ``{"ok": false, "error": "ratelimited"}`` and a ``Retry-After``
header holding a whole number of seconds.  slack_sdk's retry handler reads that
header with ``int(...)`` so it must never be fractional.

Refused calls do not count against the window (they did nothing).
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field

# Slack's published tiers (https://docs.slack.dev/apis/web-api/rate-limits and each
# method's "Rate limits" fact), as calls per minute.
TIER1, TIER2, TIER3, TIER4 = 1, 20, 50, 100
SLACK_TIERS: dict[str, int] = {
    # Tier 1 (1+/min)
    "apps.connections.open": TIER1,
    # Tier 2 (20+/min)
    "conversations.create": TIER2,
    "conversations.setTopic": TIER2,
    "conversations.setPurpose": TIER2,
    "conversations.list": TIER2,
    "conversations.canvases.create": TIER2,
    "pins.add": TIER2,
    "pins.list": TIER2,
    "users.list": TIER2,
    # Tier 3 (50+/min)
    "conversations.info": TIER3,
    # conversations.history / replies: Tier 3 for internal and Marketplace apps; since
    # 2025-05-29 commercially distributed non-Marketplace apps get 1/min and 15 objects.
    # Tocsin is self-hosted (internal), so Tier 3.
    "conversations.history": TIER3,
    "conversations.replies": TIER3,
    "conversations.join": TIER3,
    "conversations.invite": TIER3,
    "conversations.open": TIER3,
    "chat.update": TIER3,
    "reactions.add": TIER3,
    "users.lookupByEmail": TIER3,
    "canvases.edit": TIER3,
    "canvases.sections.lookup": TIER3,
    # Tier 4 (100+/min)
    "conversations.members": TIER4,
    "users.info": TIER4,
    "chat.postEphemeral": TIER4,
    "views.open": TIER4,
    "views.update": TIER4,
    "views.push": TIER4,
    "files.getUploadURLExternal": TIER4,
    "files.completeUploadExternal": TIER4,
    # Special tier, not modelled: auth.test, chat.getPermalink.
}
# chat.postMessage is "special": about 1 message per second per channel, short bursts
# allowed, plus an unpublished workspace-wide cap.  Modelled as a rolling window of
# POST_MESSAGE_BURST messages per POST_MESSAGE_BURST seconds per channel.
POST_MESSAGE_BURST = 3


@dataclass
class Limit:
    limit: int
    window: float
    per_channel: bool = False
    hits: dict[str | None, deque] = field(default_factory=dict)

    def check(self, key: str | None, now: float | None = None) -> int | None:
        """Count a call; return None if allowed, else the Retry-After seconds."""
        now = time.monotonic() if now is None else now
        k = key if self.per_channel else None
        q = self.hits.setdefault(k, deque())
        while q and q[0] <= now - self.window:
            q.popleft()
        if len(q) >= self.limit:
            wait = q[0] + self.window - now
            return max(1, math.ceil(wait))
        q.append(now)
        return None
