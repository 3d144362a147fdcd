"""Starts the real app (build_app) against the Slack stand-in, with an injected clock.

Users act through the stand-in (slash commands, clicks, modal submissions, events over Socket Mode); tests assert
on what Slack would show. Timers are driven by `bot.tick()` after moving the FakeClock, so no test waits minutes.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.app import Tocsin, build_app
from bot.config import parse_config
from bot.core.clock import FakeClock
from bot.settings import Settings
from tests.standin import SlackStandin

ROOT = Path(__file__).resolve().parents[2]
START = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.timezone.utc)

ALICE, BOB, CAROL, DAVE, ERIN = "U0ALICE01", "U0BOB0001", "U0CAROL01", "U0DAVE001", "U0ERIN001"
USERS = {ALICE: ("alice", "alice@company.com"), BOB: ("bob", "bob@company.com"), CAROL: ("carol", "carol@company.com"),
         DAVE: ("dave", "dave@company.com"), ERIN: ("erin", "erin@company.com")}


def _manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def manifest_scopes() -> set[str]:
    return set(_manifest()["oauth_config"]["scopes"]["bot"])


def make_standin(**kwargs) -> SlackStandin:
    """A stand-in granting exactly the manifest's scopes and delivering exactly its events."""
    events = set(_manifest()["settings"]["event_subscriptions"]["bot_events"])
    return SlackStandin(scopes=manifest_scopes(), event_subscriptions=events, **kwargs)


def populate(slack: SlackStandin) -> dict[str, str]:
    for uid, (name, email) in USERS.items():
        slack.add_user(uid, name, email)
    return {
        "incidents": slack.add_channel("incidents", members=list(USERS)),
        "general": slack.add_channel("general", members=list(USERS)),
        "exec": slack.add_channel("exec-updates", members=[ALICE]),
    }


@dataclass
class Bot:
    tocsin: Tocsin
    clock: FakeClock
    slack: SlackStandin

    async def tick(self) -> int:
        return await self.tocsin.deps.timers.tick()

    async def advance(self, **delta) -> int:
        self.clock.advance(dt.timedelta(**delta))
        return await self.tick()

    async def stop(self) -> None:
        await self.tocsin.stop()


POSTGRES_ENV = "TOCSIN_TEST_POSTGRES_URL"


async def postgres_database(admin_url: str) -> str:
    """A fresh, empty database on the test PostgreSQL server; returns its SQLAlchemy URL."""
    import asyncpg

    name = f"tocsin_{uuid.uuid4().hex[:12]}"
    plain = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(plain)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return admin_url.rsplit("/", 1)[0] + "/" + name


async def start_bot(slack: SlackStandin, db: Path | str, config_text: str = "", *, clock: FakeClock | None = None,
                    rate_limit_retries: int = 12) -> Bot:
    """`db` is a SQLite file path, or a database URL (PostgreSQL)."""
    url = db if isinstance(db, str) and "://" in db else f"sqlite+aiosqlite:///{db}"
    settings = Settings(slack_bot_token=slack.bot_token, slack_app_token=slack.app_token,
                        slack_api_url=slack.api_url, database_url=url)
    clock = clock or FakeClock(START)
    tocsin = await build_app(settings, config=parse_config(config_text or "{}", "test.yml"), clock=clock,
                             auto_wake=False, rate_limit_retries=rate_limit_retries)
    try:
        await tocsin.start()
    except BaseException:
        await tocsin.stop()
        raise
    await slack.wait_connected()
    return Bot(tocsin=tocsin, clock=clock, slack=slack)


def texts(messages) -> list[str]:
    """Everything a person sees in messages: text plus every text inside blocks."""
    out = []
    for m in messages:
        parts = [getattr(m, "text", None) or ""]
        parts += _block_texts(getattr(m, "blocks", None) or [])
        out.append("\n".join(p for p in parts if p))
    return out


def _block_texts(obj) -> list[str]:
    found: list[str] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == "text" and isinstance(v, str):
                found.append(v)
            else:
                found += _block_texts(v)
    elif isinstance(obj, list):
        for v in obj:
            found += _block_texts(v)
    return found


def all_text(messages) -> str:
    return "\n".join(texts(messages))
