"""Start-up against Slack: config users are resolved (emails through users.lookupByEmail); one nobody can
resolve stops start-up naming its key path."""
from __future__ import annotations

import pytest

from bot.config import ConfigError
from tests.scenario.harness import start_bot

CONFIG = """
teams:
  platform:
    members: [alice@company.com, ghost@company.com]
schedules:
  primary:
    time_zone: UTC
    layers:
      - {name: w, start: 2026-11-16T09:00:00, rotation: weekly, users: [U0BOB0001, U0NOBODY1]}
"""


async def test_unresolvable_config_users_stop_startup_with_key_paths(slack, tmp_path):
    with pytest.raises(ConfigError) as err:
        bot = await start_bot(slack, tmp_path / "t.db", CONFIG)
        await bot.stop()
    message = str(err.value)
    assert "teams.platform.members.1" in message and "ghost@company.com" in message
    assert "schedules.primary.layers.0.users.1" in message
    assert "members.0" not in message and "users.0" not in message
