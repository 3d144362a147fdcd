"""Errors a person can act on."""


class UserFacingError(Exception):
    """Bad input: the message says what was wrong and what would work. Nothing was changed."""
