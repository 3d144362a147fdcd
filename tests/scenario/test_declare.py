"""Declaring an incident: one line and the modal, the channel, topic, purpose, card, pin, announcement."""
from __future__ import annotations

import asyncio
import re

from sqlalchemy import select

from storage.models import Incident, TimelineEvent
from tests.scenario.harness import ALICE, BOB, all_text

NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


async def card_of(slack, channel_id):
    return await slack.wait_for(lambda: next((m for m in slack.messages(channel_id) if m.blocks and
                                              any(b.get("type") == "header" for b in m.blocks)), None))


async def test_one_line_declare_creates_channel_card_topic_and_announcement(slack, bot):
    ack = await slack.slash_command(ALICE, slack.ids["general"], "declare sev2 Checkout latency spike")
    assert ack.latency < 3
    assert "Declaring" in (ack.payload or {}).get("text", "")
    ch = await slack.wait_for(lambda: slack.channel_by_name("inc-2026-001-checkout-latency-spike"))
    assert not ch.is_private
    card = await card_of(slack, ch.id)
    text = all_text([card])
    for piece in ("INC-2026-001", "Checkout latency spike", "SEV2 - Major", "Investigating", f"<@{ALICE}>"):
        assert piece in text
    buttons = [e["text"]["text"] for b in card.blocks if b["type"] == "actions" for e in b["elements"]]
    assert buttons[:2] == ["Take IC", "Join as SME"]
    await slack.wait_for(lambda: card.ts in ch.pins)
    await slack.wait_for(lambda: "SEV2 - Major" in (ch.topic or "") and "Investigating" in ch.topic)
    assert "no IC" in ch.topic
    assert "INC-2026-001" in (ch.purpose or "")
    assert ALICE in ch.members
    announce = await slack.wait_for(lambda: [m for m in slack.messages(slack.ids["incidents"]) if ch.id in all_text([m])])
    assert "Checkout latency spike" in all_text(announce)
    done = await slack.wait_for(lambda: [e for e in slack.ephemerals(ALICE) if "declared" in (e.text or "")])
    assert f"<#{ch.id}>" in done[-1].text
    async with bot.tocsin.deps.db.read() as s:
        inc = (await s.execute(select(Incident))).scalar_one()
        assert inc.channel_id == ch.id and inc.card_ts == card.ts and inc.setup_state == "ready"
        assert inc.declared_at.tzinfo is not None
        kinds = [e.kind for e in (await s.execute(select(TimelineEvent))).scalars()]
    assert kinds == ["declared"]


async def test_numbers_never_repeat_and_taken_names_get_the_next_free_one(slack, bot):
    slack.add_channel("inc-2026-002-db-down")  # someone made this by hand
    await slack.slash_command(ALICE, slack.ids["general"], "declare sev3 First")
    await slack.wait_for(lambda: slack.channel_by_name("inc-2026-001-first"))
    await slack.slash_command(ALICE, slack.ids["general"], "declare sev3 DB down")
    ch = await slack.wait_for(lambda: slack.channel_by_name("inc-2026-002-db-down-2"))
    await card_of(slack, ch.id)


async def test_title_is_slugged_decoded_and_bounded(slack, bot):
    title = "Café &amp; Crème: paiements KO 🔥🔥 " + "very long words " * 20
    await slack.slash_command(ALICE, slack.ids["general"], f"declare sev1 {title}")
    ch = await slack.wait_for(lambda: next((c for c in slack.channels.values() if c.name.startswith("inc-2026-001")), None))
    assert ch.name.startswith("inc-2026-001-cafe-creme-paiements-ko")
    assert len(ch.name) <= 80 and NAME.match(ch.name)
    card = await card_of(slack, ch.id)
    header = next(b for b in card.blocks if b["type"] == "header")["text"]["text"]
    assert header.startswith("INC-2026-001 Café & Crème")       # plain text: as typed, Slack's escape undone
    assert "&amp;amp;" not in all_text([card]) + all_text(slack.messages(slack.ids["incidents"]))
    assert "Café &amp; Crème" in await slack.wait_for(lambda: all_text(slack.messages(slack.ids["incidents"])))


async def test_private_incident_gets_private_channel_and_discreet_announcement(slack, bot):
    await slack.slash_command(ALICE, slack.ids["general"], "")
    view = (await slack.wait_for(lambda: slack.open_views(ALICE)))[-1]
    assert view.callback_id == "tocsin_declare"
    await slack.submit_view(ALICE, view.id, {"title": {"title": "Secret breach"}, "severity": {"severity": "sev1"},
                                             "summary": {"summary": "Tokens leaked"}, "private": {"private": ["private"]}})
    ch = await slack.wait_for(lambda: slack.channel_by_name("inc-2026-001-secret-breach"))
    assert ch.is_private
    await slack.wait_for(lambda: ALICE in ch.members)
    card = await card_of(slack, ch.id)
    assert "Tokens leaked" in all_text([card])
    msgs = await slack.wait_for(lambda: [m for m in slack.messages(slack.ids["incidents"]) if "INC-2026-001" in all_text([m])])
    shown = all_text(msgs)
    assert "private" in shown.lower() and "Secret breach" not in shown and ch.id not in shown
    assert not slack.open_views(ALICE)  # a submitted modal is closed


async def test_modal_with_empty_title_stays_open_with_an_error(slack, bot):
    await slack.slash_command(ALICE, slack.ids["general"], "declare")
    view = (await slack.wait_for(lambda: slack.open_views(ALICE)))[-1]
    ack = await slack.submit_view(ALICE, view.id, {"title": {"title": "   "}, "severity": {"severity": "sev2"}})
    assert ack.payload["response_action"] == "errors" and "title" in ack.payload["errors"]
    assert slack.open_views(ALICE)
    assert not [c for c in slack.channels.values() if c.name.startswith("inc-")]


async def test_list_shows_open_incidents_with_links(slack, bot):
    await slack.slash_command(ALICE, slack.ids["general"], "declare sev2 Checkout latency spike")
    ch = await slack.wait_for(lambda: slack.channel_by_name("inc-2026-001-checkout-latency-spike"))
    await card_of(slack, ch.id)
    await slack.slash_command(BOB, slack.ids["general"], "list")
    shown = await slack.wait_for(lambda: [e for e in slack.ephemerals(BOB) if "Open incidents" in (e.text or "")])
    assert f"<#{ch.id}>" in shown[-1].text and "INC-2026-001" in shown[-1].text


async def test_a_modal_title_cannot_ping_the_announce_channel(slack, bot):
    await slack.slash_command(ALICE, slack.ids["general"], "")
    view = (await slack.wait_for(lambda: slack.open_views(ALICE)))[-1]
    await slack.submit_view(ALICE, view.id, {"title": {"title": "<!channel> DB <down> & out"},
                                             "severity": {"severity": "sev2"}})
    ch = await slack.wait_for(lambda: next((c for c in slack.channels.values() if c.name.startswith("inc-")), None))
    assert ch.name == "inc-2026-001-channel-db-down-out"   # typed text, not markup
    await slack.wait_for(lambda: ch.topic)
    ch.members.add(ALICE)
    await slack.slash_command(ALICE, ch.id, "status identified")
    await slack.wait_for(lambda: "identified" in all_text(slack.messages(slack.ids["incidents"])))
    def mrkdwn(messages):   # what Slack parses for mentions: message text and mrkdwn objects (not plain_text)
        out = [m.text or "" for m in messages]
        stack = [b for m in messages for b in (m.blocks or [])]
        while stack:
            x = stack.pop()
            if isinstance(x, dict):
                if x.get("type") == "mrkdwn":
                    out.append(x.get("text", ""))
                stack.extend(v for v in x.values() if isinstance(v, (dict, list)))
            elif isinstance(x, list):
                stack.extend(x)
        return "\n".join(out)
    shown = mrkdwn(slack.messages(slack.ids["incidents"]) + slack.messages(ch.id))
    assert "<!channel>" not in shown and "&lt;!channel&gt; DB &lt;down&gt; &amp; out" in shown
    # told at once too: the bot is not in #general, so chat.postEphemeral fails and the answer comes by DM
    await slack.wait_for(lambda: [m for m in slack.dms(ALICE) if "Declaring" in all_text([m])])


async def test_declarations_cut_short_by_a_restart_are_finished_at_start_up(slack, bot):
    """Crash 1: before the channel existed. Crash 2: after Slack created it, before we stored it (adopted, no -2)."""
    from sqlalchemy import update as sql_update

    from tests.scenario.harness import start_bot
    await slack.slash_command(ALICE, slack.ids["general"], "declare sev2 Made before the crash")
    made = await slack.wait_for(lambda: slack.channel_by_name("inc-2026-001-made-before-the-crash"))
    await card_of(slack, made.id)
    await slack.wait_for(lambda: [e for e in slack.ephemerals(ALICE) if "declared: <#" in (e.text or "")])
    clock = bot.clock
    async with bot.tocsin.deps.db.write() as s:   # as if the process died right after conversations.create
        await s.execute(sql_update(Incident).values(setup_state="pending", channel_id=None, card_ts=None,
                                                    announced_at=None))
        s.add(Incident(year=2026, number=2, title="Never got a channel", severity="sev2", status="investigating",
                       declared_by=ALICE, declared_at=clock.now(), smes=[], setup_state="pending"))
    await bot.stop()
    again = await start_bot(slack, bot.db_url, clock=clock)
    try:
        await asyncio.sleep(0.3)
        assert not slack.channel_by_name("inc-2026-002-never-got-a-channel")   # young: maybe another replica's
        await again.advance(minutes=2)                                          # now it is taken over
        second = await slack.wait_for(lambda: slack.channel_by_name("inc-2026-002-never-got-a-channel"))
        await card_of(slack, second.id)
        assert not slack.channel_by_name("inc-2026-001-made-before-the-crash-2")   # adopted, not duplicated
        async with again.tocsin.deps.db.read() as s:
            rows = {i.number: i for i in (await s.execute(select(Incident))).scalars()}
        assert rows[1].channel_id == made.id and rows[1].setup_state == "ready"
        assert rows[2].setup_state == "ready" and rows[2].announced_at is not None
        await slack.wait_for(lambda: [m for m in slack.dms(ALICE) if "restarted" in all_text([m])])
        await slack.wait_for(lambda: "Never got a channel" in all_text(slack.messages(slack.ids["incidents"])))
    finally:
        await again.stop()
        bot.tocsin.socket_handler = None
