"""`python -m bot`: run the bot. Sub-commands for operators:

    python -m bot                         run (Socket Mode)
    python -m bot check-config [file]     validate incident.yml and print a summary
    python -m bot oncall <schedule> [--days 14] [--from 2026-11-23]   print the final schedule as a table

A missing token, an unreachable database or an invalid config stops the bot with one paragraph naming the variable
or config key at fault, and exit code 2; no traceback.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import logging
import os
import signal
import sys
from pathlib import Path

from pydantic import ValidationError

from bot.config import ConfigError, load_config
from storage.engine import DatabaseError

EXIT_CONFIG = 2
ENV_NAMES = {"slack_bot_token": "SLACK_BOT_TOKEN", "slack_app_token": "SLACK_APP_TOKEN",
             "slack_api_url": "SLACK_API_URL", "database_url": "DATABASE_URL", "incident_config": "INCIDENT_CONFIG"}


def fail(message: str, code: int = EXIT_CONFIG) -> "NoReturn":  # noqa: F821
    print(f"tocsin: {message}", file=sys.stderr)
    raise SystemExit(code)


def load_settings():
    from bot.settings import Settings
    try:
        return Settings()
    except ValidationError as exc:
        parts = []
        for e in exc.errors():
            name = ENV_NAMES.get(str(e["loc"][0]), str(e["loc"][0]).upper()) if e["loc"] else "environment"
            msg = "is not set" if e["type"] == "missing" else e["msg"].removeprefix("Value error, ")
            parts.append(f"{name} {msg}")
        fail("cannot start: " + "; ".join(parts) + ". Set SLACK_BOT_TOKEN (xoxb-…) and SLACK_APP_TOKEN (xapp-…, "
             "Socket Mode) from your Slack app's settings; see README.md.")


async def run_bot() -> int:
    from bot.app import build_app
    from bot.slack.gateway import SlackCallFailed

    settings = load_settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        tocsin = await build_app(settings)
    except (ConfigError, DatabaseError) as exc:
        fail(str(exc))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await tocsin.start()
    except ConfigError as exc:
        await tocsin.stop()
        fail(str(exc))
    except SlackCallFailed as exc:
        await tocsin.stop()
        variable = "SLACK_APP_TOKEN" if exc.method == "apps.connections.open" else "SLACK_BOT_TOKEN"
        hint = f" Check {variable}." if exc.error in ("invalid_auth", "not_authed", "account_inactive",
                                                       "not_allowed_token_type", "token_revoked") else ""
        fail(f"Slack refused {exc.method} ({exc.error}) at start-up.{hint}")
    except OSError as exc:
        await tocsin.stop()
        fail(f"cannot reach Slack at {settings.slack_api_url} ({exc}). Check SLACK_API_URL and the network.", 1)
    gc.freeze()  # start-up objects live forever: keep them out of full collections (a 70 ms pause otherwise)
    await stop.wait()
    logging.getLogger("tocsin").info("shutting down")
    await tocsin.stop()
    return 0


def config_path(given: str | None) -> Path | None:
    """The config an operator command reads: the argument, else INCIDENT_CONFIG, else ./incident.yml if present."""
    if given:
        return Path(given)
    if os.environ.get("INCIDENT_CONFIG"):
        return Path(os.environ["INCIDENT_CONFIG"])
    return Path("incident.yml") if Path("incident.yml").exists() else None


def check_config(path: str | None) -> int:
    p = config_path(path)
    try:
        config = load_config(p)
    except ConfigError as exc:
        fail(str(exc))
    print(f"{p or 'built-in defaults'}: OK")
    print(f"  severities: {', '.join(config.severities)}")
    print(f"  announce channel: #{config.announce_channel}; channel prefix: {config.channel_prefix}")
    print(f"  teams: {', '.join(config.teams) or '-'}; schedules: {', '.join(config.schedules) or '-'}; "
          f"policies: {', '.join(config.escalation_policies) or '-'}")
    return 0


def print_oncall(schedule: str, days: int, start: str | None, path: str | None) -> int:
    from bot.core import oncall as core
    from bot.services.oncall import schedule_from_config

    p = config_path(path)
    try:
        config = load_config(p)
    except ConfigError as exc:
        fail(str(exc))
    if schedule not in config.schedules:
        fail(f"no schedule {schedule!r} in {p or 'the built-in config'}; schedules: {', '.join(config.schedules) or 'none'}")
    try:
        t0 = dt.datetime.fromisoformat(start) if start else dt.datetime.now(dt.timezone.utc).replace(minute=0, second=0, microsecond=0)
    except ValueError:
        fail(f"--from {start!r} is not a date or date-time such as 2026-11-23 or 2026-11-23T09:00 (UTC unless an offset is given)")
    if t0.tzinfo is None:
        t0 = t0.replace(tzinfo=dt.timezone.utc)
    sched = schedule_from_config(config, schedule)  # config only: users print as written in the config
    print(core.render_table(sched, t0, t0 + dt.timedelta(days=days)))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Tocsin incident bot")
    sub = parser.add_subparsers(dest="command")
    cc = sub.add_parser("check-config", help="validate the config file")
    cc.add_argument("file", nargs="?")
    oc = sub.add_parser("oncall", help="print a schedule's final on-call shifts")
    oc.add_argument("schedule")
    oc.add_argument("--days", type=int, default=14)
    oc.add_argument("--from", dest="start", help="start date/time (UTC), default now")
    oc.add_argument("--config", help="config file (default INCIDENT_CONFIG or incident.yml)")
    args = parser.parse_args(argv)
    if args.command == "check-config":
        return check_config(args.file)
    if args.command == "oncall":
        return print_oncall(args.schedule, args.days, args.start, args.config)
    return asyncio.run(run_bot())


if __name__ == "__main__":
    sys.exit(main())
