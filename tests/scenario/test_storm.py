"""An alert storm: 40 incidents declared within a few seconds against Slack's tier limits (scaled down 30x so the
test takes seconds, not minutes). None is lost: every `ratelimited` call is retried after Retry-After by slack_sdk's
retry handler, each declarer is told at once that the incident is being set up, and every channel and card appear
as the budget allows. A channel that cannot be created is still recorded and the declarer is told why."""
from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from storage.models import Incident
from tests.scenario.harness import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    ERIN,
    all_text,
    make_standin,
    manifest_scopes,
    populate,
    start_bot,
)

USERS = [ALICE, BOB, CAROL, DAVE, ERIN]


async def test_forty_declarations_under_tier_limits_all_land(tmp_path):
    slack = make_standin()
    await slack.start()
    ids = populate(slack)
    bot = await start_bot(slack, tmp_path / "t.db")
    slack.use_slack_tiers(scale=30)   # Tier 2 becomes 20 calls per 2 s
    try:
        acks = await asyncio.gather(*(slack.slash_command(USERS[i % 5], ids["general"], f"declare sev2 Storm alert {i}")
                                      for i in range(40)))
        assert all(a.latency < 3 for a in acks)
        assert all("Declaring" in a.payload["text"] for a in acks)   # told at once
        cards = lambda: [c for c in slack.channels.values() if c.name.startswith("inc-") and c.pins]  # noqa: E731
        await slack.wait_for(lambda: len(cards()) == 40, timeout=90)
        announced = lambda: [m for m in slack.messages(ids["incidents"]) if "Storm alert" in all_text([m])]  # noqa: E731
        await slack.wait_for(lambda: len(announced()) == 40, timeout=90)
        await slack.wait_for(lambda: all(c.topic for c in cards()), timeout=60)
        limited = [c for c in slack.calls if c.response.get("error") == "ratelimited"]
        assert limited, "the storm should have hit the tier limits"
        assert {c.method for c in limited} & {"conversations.create", "conversations.setTopic", "pins.add",
                                              "conversations.setPurpose", "chat.postMessage"}
        numbers = sorted(int(c.name.split("-")[2]) for c in cards())
        assert numbers == list(range(1, 41))
        told = lambda: [e for u in USERS for e in slack.ephemerals(u) if "declared: <#" in (e.text or "")]  # noqa: E731
        await slack.wait_for(lambda: len(told()) == 40, timeout=60)
        assert not [e for e in told() if "failed" in e.text]
        async with bot.tocsin.deps.db.read() as s:
            states = list((await s.execute(select(Incident.setup_state))).scalars())
        assert states == ["ready"] * 40
    finally:
        await bot.stop()
        await slack.stop()


async def test_channel_not_created_after_retries_is_recorded_and_explained(tmp_path):
    slack = make_standin()
    await slack.start()
    ids = populate(slack)
    bot = await start_bot(slack, tmp_path / "t.db", rate_limit_retries=0)
    slack.set_rate_limit("conversations.create", 1, 30.0)
    try:
        await slack.slash_command(ALICE, ids["general"], "declare sev2 First")
        await slack.wait_for(lambda: slack.channel_by_name("inc-2026-001-first"))
        await slack.slash_command(BOB, ids["general"], "declare sev2 Second")
        told = await slack.wait_for(lambda: [e for e in slack.ephemerals(BOB) if "could not be created" in (e.text or "")])
        assert "rate-limiting" in told[-1].text and "INC-2026-002" in told[-1].text
        async with bot.tocsin.deps.db.read() as s:
            inc = (await s.execute(select(Incident).where(Incident.number == 2))).scalar_one()
            assert inc.setup_state == "failed" and inc.channel_id is None
        # still announced (without a channel), and on the list
        await slack.wait_for(lambda: "Second" in all_text(slack.messages(ids["incidents"])))
        await slack.slash_command(BOB, ids["general"], "list")
        await slack.wait_for(lambda: [e for e in slack.ephemerals(BOB) if "INC-2026-002" in (e.text or "") and
                                      "no channel" in (e.text or "")])
    finally:
        await bot.stop()
        await slack.stop()


async def test_missing_scope_is_explained_to_the_declarer(tmp_path):
    slack = make_standin()
    slack.scopes = manifest_scopes() - {"channels:manage"}
    await slack.start()
    ids = populate(slack)
    bot = await start_bot(slack, tmp_path / "t.db")
    try:
        await slack.slash_command(ALICE, ids["general"], "declare sev2 No perms")
        told = await slack.wait_for(lambda: [e for e in slack.ephemerals(ALICE) if "could not be created" in (e.text or "")])
        assert "channels:manage" in told[-1].text
        async with bot.tocsin.deps.db.read() as s:
            assert (await s.execute(select(func.count()).select_from(Incident))).scalar_one() == 1
    finally:
        await bot.stop()
        await slack.stop()
