"""kill -9 between two escalation steps, with the real `python -m bot` in a subprocess and real time.

The next step still fires, once; a step that fell due while the bot was down fires at start-up; no page is ever
sent twice. Also: a clean SIGTERM shutdown, and reminders that survive a restart.
"""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.scenario.harness import (
    ALICE,
    CAROL,
    DAVE,
    ERIN,
    ROOT,
    all_text,
    make_standin,
    populate,
)

CONFIG = """
default_team: ops
teams:
  ops:
    members: [alice@company.com]
    escalation_policy: chain
escalation_policies:
  chain:
    steps:
      - {timeout: 3s, targets: [{user: carol@company.com}]}
      - {timeout: 3s, targets: [{user: dave@company.com}]}
      - {timeout: 60s, targets: [{user: erin@company.com}]}
severities:
  sev1: {label: "SEV1", page: true}
"""


def start(slack, tmp: Path) -> subprocess.Popen:
    env = dict(os.environ, SLACK_BOT_TOKEN=slack.bot_token, SLACK_APP_TOKEN=slack.app_token,
               SLACK_API_URL=slack.api_url, DATABASE_URL=f"sqlite+aiosqlite:///{tmp / 'tocsin.db'}",
               INCIDENT_CONFIG=str(tmp / "incident.yml"), LOG_LEVEL="INFO", PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "bot"], cwd=tmp, env=env, stdout=open(tmp / "bot.log", "ab"),
                            stderr=subprocess.STDOUT)


def pages(slack, user):
    return [m for m in slack.dms(user) if "being paged" in all_text([m])]


async def wait_process(proc: subprocess.Popen, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return proc.poll()


async def test_kill_9_between_steps_next_step_fires_once_after_restart(tmp_path):
    (tmp_path / "incident.yml").write_text(CONFIG)
    slack = make_standin()
    await slack.start()
    ids = populate(slack)
    proc = start(slack, tmp_path)
    try:
        await slack.wait_connected(timeout=20)
        await slack.slash_command(ALICE, ids["general"], "declare sev1 Disk full")
        await slack.wait_for(lambda: pages(slack, CAROL), timeout=10)
        proc.send_signal(signal.SIGKILL)
        assert await wait_process(proc, 5) == -signal.SIGKILL
        await asyncio.sleep(3.5)  # step 2 falls due while the bot is down
        assert not pages(slack, DAVE)
        proc = start(slack, tmp_path)
        await slack.wait_for(lambda: pages(slack, DAVE), timeout=20)   # caught up at start-up
        await slack.wait_for(lambda: pages(slack, ERIN), timeout=10)   # and the chain goes on
        await asyncio.sleep(0.5)
        assert len(pages(slack, CAROL)) == 1 and len(pages(slack, DAVE)) == 1 and len(pages(slack, ERIN)) == 1
        # kill again right after erin's page; restarting must not page anyone twice
        proc.send_signal(signal.SIGKILL)
        await wait_process(proc, 5)
        proc = start(slack, tmp_path)
        await slack.wait_connected(timeout=20)
        await asyncio.sleep(1.0)
        assert [len(pages(slack, u)) for u in (CAROL, DAVE, ERIN)] == [1, 1, 1]
        # SIGTERM: a clean shutdown
        proc.send_signal(signal.SIGTERM)
        assert await wait_process(proc, 15) == 0
        assert "Tocsin stopped" in (tmp_path / "bot.log").read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
        await slack.stop()


async def test_missing_token_exits_2_with_a_message(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run([sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "SLACK_BOT_TOKEN" in out.stderr and "Traceback" not in out.stderr


async def test_invalid_config_exits_2_naming_key_and_line(tmp_path):
    (tmp_path / "incident.yml").write_text("announce_channel: incidents\nseverities:\n  sev1:\n    colour: red\n")
    env = dict(os.environ, SLACK_BOT_TOKEN="xoxb-1", SLACK_APP_TOKEN="xapp-1", PYTHONPATH=str(ROOT))
    env.pop("INCIDENT_CONFIG", None)
    out = subprocess.run([sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "severities.sev1.colour" in out.stderr and "line 4" in out.stderr and "Traceback" not in out.stderr


async def test_a_wrong_app_token_exits_2_naming_it(tmp_path):
    slack = make_standin()
    await slack.start()
    try:
        env = dict(os.environ, SLACK_BOT_TOKEN=slack.bot_token, SLACK_APP_TOKEN="xapp-wrong",
                   SLACK_API_URL=slack.api_url, DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 't.db'}",
                   PYTHONPATH=str(ROOT))
        env.pop("INCIDENT_CONFIG", None)
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", cwd=tmp_path, env=env,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        _, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 2
        assert "SLACK_APP_TOKEN" in err.decode() and "Traceback" not in err.decode()
    finally:
        await slack.stop()
