"""Events API: redelivered events are handled once; App Home shows open incidents; the announce channel problem
is told to the declarer and logged."""
from __future__ import annotations

import asyncio

from sqlalchemy import select

from storage.models import TimelineEvent
from tests.scenario.harness import ALICE, BOB, all_text, make_standin, start_bot


async def declared(slack):
    await slack.slash_command(ALICE, slack.ids["general"], "declare sev2 Search is slow")
    ch = await slack.wait_for(lambda: next((c for c in slack.channels.values() if c.name.startswith("inc-")), None))
    await slack.wait_for(lambda: ch.topic and ch.pins)
    ch.members.add(BOB)
    return ch


async def test_a_redelivered_event_is_handled_once(slack, bot):
    ch = await declared(slack)
    msg = await slack.post_message(BOB, ch.id, "p99 is 8s")
    event = {"type": "reaction_added", "user": ALICE, "reaction": "pushpin", "event_ts": "1.0",
             "item": {"type": "message", "channel": ch.id, "ts": msg.ts}, "item_user": BOB}
    captured = []
    original = bot.tocsin.services.capture.on_reaction

    async def counting(*args, **kwargs):
        captured.append(args)
        return await original(*args, **kwargs)
    bot.tocsin.services.capture.on_reaction = counting   # count what reaches the service, not the DB
    first = await slack.send_event(event, event_id="Ev0REDELIVER1")
    again = await slack.send_event(event, retry_attempt=1, event_id="Ev0REDELIVER1")   # Slack's redelivery
    assert first.latency < 3 and again.latency < 3
    await asyncio.sleep(0.3)
    assert len(captured) == 1
    async with bot.tocsin.deps.db.read() as s:
        pinned = list((await s.execute(select(TimelineEvent).where(TimelineEvent.kind == "pinned"))).scalars())
    assert len(pinned) == 1


async def test_app_home_lists_open_incidents(slack, bot):
    ch = await declared(slack)
    await slack.send_event({"type": "app_home_opened", "user": BOB, "tab": "home", "event_ts": "1.0"})
    home = await slack.wait_for(lambda: slack.home_views.get(BOB))
    text = all_text([type("M", (), {"text": "", "blocks": home["blocks"]})()])
    assert "INC-2026-001" in text and ch.id in text


async def test_announce_channel_the_bot_cannot_reach_is_told_to_the_declarer(tmp_path):
    slack = make_standin()
    await slack.start()
    slack.add_user(ALICE, "alice", "alice@company.com")
    general = slack.add_channel("general", members=[ALICE])
    slack.add_channel("incidents", is_private=True, members=[ALICE])   # private, bot not invited
    bot = await start_bot(slack, tmp_path / "t.db")
    try:
        assert bot.tocsin.deps.announce_problem and "incidents" in bot.tocsin.deps.announce_problem
        await slack.slash_command(ALICE, general, "declare sev2 Broken")
        told = await slack.wait_for(lambda: [e for e in slack.ephemerals(ALICE) if "declared" in (e.text or "")])
        assert "#incidents" in told[-1].text and "invite me" in told[-1].text
    finally:
        await bot.stop()
        await slack.stop()


async def test_public_announce_channel_is_joined_by_the_bot(slack, bot):
    assert slack.calls_to("conversations.join")
    assert slack.bot_user_id in slack.channels[slack.ids["incidents"]].members
