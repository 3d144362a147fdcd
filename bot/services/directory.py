"""Turns what people type (mentions, emails, IDs) into Slack user IDs, through the gateway."""
from __future__ import annotations

from bot.core.users import UserRef, parse_user_ref
from bot.services.errors import UserFacingError
from bot.slack.gateway import SlackGateway


class UserNotFound(Exception):
    def __init__(self, raw: str, reason: str) -> None:
        super().__init__(reason)
        self.raw = raw
        self.reason = reason


class Directory:
    def __init__(self, gateway: SlackGateway) -> None:
        self.gateway = gateway
        self.config_users: dict[str, str] = {}   # config reference (email or id) -> user id, filled at start-up

    async def resolve_ref(self, ref: UserRef, raw: str) -> str:
        if ref.kind == "email":
            user = await self.gateway.lookup_email(ref.value)
            if user is None:
                raise UserNotFound(raw, f"No Slack user has the email {ref.value}.")
            return user
        if not await self.gateway.user_exists(ref.value):
            raise UserNotFound(raw, f"{raw} is not a user in this workspace.")
        return ref.value

    async def resolve(self, raw: str) -> str:
        ref = parse_user_ref(raw)
        if ref is None:
            raise UserNotFound(raw, f"'{raw}' is not a user. Mention them (@name) or give their email address.")
        return await self.resolve_ref(ref, raw)

    async def resolve_input(self, token: str, usage: str) -> str:
        """A user as typed in a command (mention, email, ID) → their ID; anything else → a private answer that
        says what was wrong and what would work (`usage`)."""
        ref = parse_user_ref(token) if token else None
        if not token:
            raise UserFacingError(usage)
        if ref is None:
            raise UserFacingError(f"'{token}' is not a user. {usage}")
        try:
            return await self.resolve_ref(ref, token)
        except UserNotFound as exc:
            raise UserFacingError(f"{exc.reason} Nothing was changed.") from None

    def config_user(self, reference: str) -> str | None:
        """A user named in the config, resolved at start-up (emails via users.lookupByEmail)."""
        return self.config_users.get(reference) or self.config_users.get(reference.lower())
