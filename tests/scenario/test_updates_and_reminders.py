"""Status updates on the severity's cadence: the update command and modal, reminders that appear after
`update_every` with no update and not before, reset by updates and changes, stopped by resolve, kept by restart."""
from __future__ import annotations

import pytest

from tests.scenario.harness import ALICE, BOB, all_text, start_bot

CONFIG = """
severities:
  sev1:
    label: "SEV1 - Critical"
    update_every: 30m
    notify_channels: [exec-updates]
  sev2:
    label: "SEV2 - Major"
    update_every: 1h
  sev3:
    label: "SEV3 - Moderate"
"""
pytestmark = pytest.mark.config(CONFIG)


def reminders(slack, ch):
    return [m for m in slack.messages(ch.id) if "status update is due" in all_text([m])]


async def declared(slack, sev="sev1"):
    await slack.slash_command(ALICE, slack.ids["general"], f"declare {sev} Checkout errors")
    ch = await slack.wait_for(lambda: next((c for c in slack.channels.values() if c.name.startswith("inc-")), None))
    await slack.wait_for(lambda: ch.topic)
    ch.members.add(BOB)
    return ch


async def test_reminder_after_update_every_and_not_before_then_every_period(slack, bot):
    ch = await declared(slack)
    await bot.advance(minutes=29, seconds=59)
    assert not reminders(slack, ch)
    await bot.advance(seconds=1)
    first = (await slack.wait_for(lambda: reminders(slack, ch)))[0]
    text = all_text([first])
    assert "no IC" in text.replace("no incident commander", "no IC") or "no incident commander" in text
    buttons = [e["action_id"] for b in first.blocks if b["type"] == "actions" for e in b["elements"]]
    assert buttons == ["tocsin_take_ic", "tocsin_post_update"]
    await bot.advance(minutes=30)
    await slack.wait_for(lambda: len(reminders(slack, ch)) == 2)
    # with an IC, the reminder mentions them
    await slack.slash_command(ALICE, ch.id, f"ic <@{BOB}>")
    await slack.wait_for(lambda: "@bob" in (ch.topic or ""))
    await bot.advance(minutes=30)
    third = (await slack.wait_for(lambda: len(reminders(slack, ch)) == 3 and reminders(slack, ch)))[2]
    assert f"<@{BOB}>" in all_text([third])


async def test_update_resets_reminder_and_is_sent_everywhere(slack, bot):
    ch = await declared(slack)
    await bot.advance(minutes=20)
    await slack.slash_command(BOB, ch.id, "update Rolled back v2.1; error rate falling")
    await slack.wait_for(lambda: "Rolled back v2.1" in all_text(slack.messages(ch.id)))
    await slack.wait_for(lambda: "Rolled back v2.1" in all_text(slack.messages(slack.ids["incidents"])))
    await slack.wait_for(lambda: "Rolled back v2.1" in all_text(slack.messages(slack.ids["exec"])))
    card = lambda: next(m for m in slack.messages(ch.id) if m.blocks and m.blocks[0]["type"] == "header")  # noqa: E731
    await slack.wait_for(lambda: "none yet" not in all_text([card()]))
    await bot.advance(minutes=29)           # 49 min since declare, 29 since the update
    assert not reminders(slack, ch)
    await bot.advance(minutes=1)
    await slack.wait_for(lambda: reminders(slack, ch))


async def test_post_update_button_and_modal_with_status(slack, bot):
    ch = await declared(slack)
    card = next(m for m in slack.messages(ch.id) if m.blocks and m.blocks[0]["type"] == "header")
    await slack.click(BOB, ch.id, card.ts, "tocsin_post_update")
    view = (await slack.wait_for(lambda: slack.open_views(BOB)))[-1]
    await slack.submit_view(BOB, view.id, {"status": {"status": "identified"},
                                           "update_text": {"update_text": "Found the bad config"}})
    await slack.wait_for(lambda: "Identified" in (ch.topic or ""))
    posted = await slack.wait_for(lambda: [m for m in slack.messages(ch.id) if "Found the bad config" in all_text([m])])
    assert len(posted) == 1 and "(was investigating)" in all_text(posted)   # one change, one message
    assert not [m for m in slack.messages(ch.id) if "changed status" in all_text([m])]
    announced = [m for m in slack.messages(slack.ids["incidents"]) if "identified" in all_text([m])]
    assert len(announced) == 1
    # resolving through the update form resolves, with the update's text as the resolution
    card = next(m for m in slack.messages(ch.id) if m.blocks and m.blocks[0]["type"] == "header")
    await slack.click(BOB, ch.id, card.ts, "tocsin_post_update")
    view = (await slack.wait_for(lambda: slack.open_views(BOB)))[-1]
    await slack.submit_view(BOB, view.id, {"status": {"status": "resolved"},
                                           "update_text": {"update_text": "Config reverted & verified"}})
    await slack.wait_for(lambda: "Resolved" in (ch.topic or ""))
    inc = await bot.tocsin.services.incidents.in_channel(ch.id)
    assert inc.resolution == "Config reverted &amp; verified"


async def test_status_change_reschedules_and_resolve_stops(slack, bot):
    ch = await declared(slack)
    await bot.advance(minutes=25)
    await slack.slash_command(BOB, ch.id, "status identified")
    await slack.wait_for(lambda: "Identified" in (ch.topic or ""))
    await bot.advance(minutes=10)           # 35 min since declare, 10 since the change
    assert not reminders(slack, ch)
    await slack.slash_command(BOB, ch.id, "resolve Fixed")
    await slack.wait_for(lambda: "Resolved" in (ch.topic or ""))
    await bot.advance(hours=3)
    assert not reminders(slack, ch)


async def test_severity_without_cadence_has_no_reminders(slack, bot):
    ch = await declared(slack, "sev3")
    await bot.advance(hours=5)
    assert not reminders(slack, ch)
    await slack.slash_command(BOB, ch.id, "severity sev2")   # now it has a 1h cadence, from the change
    await slack.wait_for(lambda: "SEV2" in (ch.topic or ""))
    await bot.advance(minutes=59)
    assert not reminders(slack, ch)
    await bot.advance(minutes=1)
    await slack.wait_for(lambda: reminders(slack, ch))


async def test_reminder_survives_a_restart_and_fires_once(slack, bot, tmp_path):
    ch = await declared(slack)
    clock = bot.clock
    await bot.stop()
    clock.advance(__import__("datetime").timedelta(minutes=45))   # fell due while the bot was down
    again = await start_bot(slack, bot.db_url, CONFIG, clock=clock)
    try:
        await slack.wait_for(lambda: reminders(slack, ch))     # start-up catch-up
        await again.tick()
        assert len(reminders(slack, ch)) == 1
        await again.advance(minutes=30)
        await slack.wait_for(lambda: len(reminders(slack, ch)) == 2)
    finally:
        await again.stop()
        bot.tocsin.socket_handler = None
