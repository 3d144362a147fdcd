"""Bad input gets a private answer saying what was wrong and what would work, and changes nothing."""
from __future__ import annotations

import pytest

from tests.scenario.harness import ALICE, BOB


def channels_made(slack):
    return [c for c in slack.channels.values() if c.name.startswith("inc-")]


@pytest.mark.parametrize("text, expected", [
    ("frobnicate", "not an `/incident` sub-command"),
    ("declare sev9 Something broke", "sev1"),
    ("declare sev1", "needs a title"),
    ("declare sev1    ", "needs a title"),
    ("status", "investigating|identified"),
    ("help", "/incident declare &lt;sev&gt; &lt;title"),
])
async def test_answers_in_the_ack(slack, bot, text, expected):
    ack = await slack.slash_command(ALICE, slack.ids["general"], text)
    assert expected in ack.payload["text"]
    assert ack.latency < 3
    assert not channels_made(slack)


@pytest.mark.parametrize("text", ["status identified", "ic <@U0BOB0001>", "note hello", "timeline", "resolve done",
                                  "severity sev1", "reopen", "update things"])
async def test_incident_commands_outside_an_incident_channel(slack, bot, text):
    await slack.slash_command(ALICE, slack.ids["general"], text)
    err = await slack.wait_for(lambda: [e for e in slack.ephemerals(ALICE) if "incident channel" in (e.text or "")])
    assert "/incident list" in err[-1].text


async def test_unknown_severity_change_and_unknown_user_change_nothing(slack, bot):
    await slack.slash_command(ALICE, slack.ids["general"], "declare sev2 Broken thing")
    ch = await slack.wait_for(lambda: next(iter(channels_made(slack)), None))
    await slack.wait_for(lambda: ch.topic)
    topic = ch.topic
    ch.members.add(BOB)  # Bob joins the channel himself
    await slack.slash_command(BOB, ch.id, "severity critical")
    err = await slack.wait_for(lambda: [e for e in slack.ephemerals(BOB) if "no severity" in (e.text or "")])
    assert "`sev1`" in err[-1].text
    await slack.slash_command(BOB, ch.id, "ic <@U0NOPE0001>")
    await slack.wait_for(lambda: [e for e in slack.ephemerals(BOB) if "not a user" in (e.text or "")])
    await slack.slash_command(BOB, ch.id, "ic bob")
    await slack.wait_for(lambda: [e for e in slack.ephemerals(BOB) if "'bob' is not a user" in (e.text or "")])
    await slack.slash_command(BOB, ch.id, "status investigating")
    await slack.wait_for(lambda: [e for e in slack.ephemerals(BOB) if "already investigating" in (e.text or "").lower()])
    assert ch.topic == topic


async def test_commands_work_in_channels_the_bot_is_not_in(slack, bot):
    private = slack.add_channel("secret-room", is_private=True, members=[ALICE])
    await slack.slash_command(ALICE, private, "list")
    await slack.wait_for(lambda: [e for e in slack.ephemerals(ALICE) if "No open incidents" in (e.text or "")])
    assert not [c for c in slack.calls_to("chat.postEphemeral") if c.response.get("ok")]


async def test_an_expired_trigger_id_gets_a_one_line_alternative(tmp_path):
    from tests.scenario.harness import make_standin, populate, start_bot
    slack = make_standin(trigger_ttl=0.0)   # every trigger_id is already dead when the bot uses it
    await slack.start()
    ids = populate(slack)
    bot = await start_bot(slack, tmp_path / "t.db")
    try:
        await slack.slash_command(ALICE, ids["general"], "")
        told = await slack.wait_for(lambda: [e for e in slack.ephemerals(ALICE) if "could not open the form" in (e.text or "")])
        assert "expired_trigger_id" in told[-1].text and "/incident declare sev2" in told[-1].text
        assert not slack.open_views(ALICE)
    finally:
        await bot.stop()
        await slack.stop()
