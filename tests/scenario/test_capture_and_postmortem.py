"""Timeline capture (pins and :pushpin:), action items, and the whole path from declare to an exported canvas
and .md file whose text contains the timeline."""
from __future__ import annotations

import asyncio

from sqlalchemy import select

from storage.models import TimelineEvent
from tests.scenario.harness import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    all_text,
    make_standin,
    populate,
    start_bot,
)


async def declared(slack, title="Checkout errors", sev="sev1"):
    await slack.slash_command(ALICE, slack.ids["general"], f"declare {sev} {title}")
    ch = await slack.wait_for(lambda: next((c for c in slack.channels.values() if c.name.startswith("inc-")), None))
    await slack.wait_for(lambda: ch.topic and ch.pins)
    ch.members.update({BOB, CAROL})
    return ch


async def pinned_events(bot):
    async with bot.tocsin.deps.db.read() as s:
        return list((await s.execute(select(TimelineEvent).where(TimelineEvent.kind == "pinned"))).scalars())


async def test_pins_and_pushpin_reactions_join_the_timeline_once(slack, bot):
    ch = await declared(slack)
    msg = await slack.post_message(BOB, ch.id, "Error rate is 52% on checkout-api since 14:02")
    await slack.pin_message(CAROL, ch.id, msg.ts)
    await slack.wait_for(lambda: slack.calls_to("chat.getPermalink"))
    await slack.add_reaction(ALICE, ch.id, msg.ts, "pushpin")      # same message again: still once
    other = await slack.post_message(CAROL, ch.id, "Rolling back v2.1 now")
    await slack.add_reaction(BOB, ch.id, other.ts, "pushpin")
    await slack.add_reaction(BOB, ch.id, other.ts, "thumbsup")      # not a capture reaction
    for _ in range(250):
        events = await pinned_events(bot)
        if len(events) >= 2:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)   # a duplicate, if any, would land now
    events = await pinned_events(bot)
    assert len(events) == 2
    first = next(e for e in events if "52%" in e.text)
    assert first.actor == BOB and first.permalink and first.permalink.startswith("http")
    assert abs(first.at.timestamp() - float(msg.ts)) < 1
    # the bot's own pinned card is not captured
    assert not [e for e in events if "INC-" in e.text]


async def test_action_items_on_card_listed_and_marked_done(slack, bot):
    ch = await declared(slack)
    await slack.slash_command(ALICE, ch.id, f"action Add connection pool metrics <@{BOB}>")
    await slack.wait_for(lambda: [e for e in slack.ephemerals(ALICE) if "Action item #1 added" in (e.text or "")])
    await slack.slash_command(ALICE, ch.id, "action Document the rollback")
    card = lambda: next(m for m in slack.messages(ch.id) if m.blocks and m.blocks[0]["type"] == "header")  # noqa: E731
    await slack.wait_for(lambda: "Document the rollback" in all_text([card()]))
    assert "Add connection pool metrics" in all_text([card()])
    await slack.slash_command(ALICE, ch.id, "action Fix it @nobody@company.com")
    await slack.slash_command(BOB, ch.id, "actions")
    listing = await slack.wait_for(lambda: [e for e in slack.ephemerals(BOB) if "Mark done" in all_text([e])])
    await slack.click_ephemeral(BOB, listing[-1], "tocsin_action_done", "1")
    await slack.wait_for(lambda: [e for e in slack.ephemerals(BOB) if "marked done" in (e.text or "")])
    await slack.wait_for(lambda: ":white_check_mark: Add connection pool metrics" in all_text([card()]))


async def test_declare_to_exported_postmortem(slack, bot):
    ch = await declared(slack, "Checkout latency spike")
    await slack.click(BOB, ch.id, ch.pins[0], "tocsin_take_ic")
    await slack.wait_for(lambda: "@bob" in (ch.topic or ""))
    await slack.slash_command(BOB, ch.id, "status identified")
    await slack.slash_command(BOB, ch.id, "update Pool exhausted after deploy; rolling back")
    await slack.wait_for(lambda: "rolling back" in all_text(slack.messages(ch.id)))
    await slack.slash_command(BOB, ch.id, f"note Paged DBA <@{DAVE}>")
    await slack.slash_command(BOB, ch.id, f"action Add pool metrics <@{CAROL}>")
    await bot.advance(minutes=40)
    # draft while open
    await slack.slash_command(BOB, ch.id, "postmortem")
    await slack.wait_for(lambda: [c for c in slack.canvases.values() if c.channel_id == ch.id])
    canvas = next(c for c in slack.canvases.values() if c.channel_id == ch.id)
    assert "DRAFT" in canvas.markdown
    await slack.slash_command(BOB, ch.id, "resolve")       # no text: the form
    view = (await slack.wait_for(lambda: slack.open_views(BOB)))[-1]
    await slack.submit_view(BOB, view.id, {"resolution": {"resolution": "Rolled back v2.1"},
                                           "impact": {"impact": "30% of payments failed for 40 minutes"},
                                           "cause": {"cause": "Connection pool too small after v2.1"}})
    await slack.wait_for(lambda: "Resolved" in (ch.topic or ""))
    await slack.slash_command(BOB, ch.id, "postmortem")
    await slack.wait_for(lambda: "DRAFT" not in canvas.markdown and "Rolled back v2.1" in canvas.markdown)
    md = canvas.markdown
    for piece in ("Checkout latency spike", "30% of payments failed", "Connection pool too small", "| Time |",
                  "Pool exhausted after deploy", "Add pool metrics", "What went well", "@bob", "@dave"):
        assert piece in md, piece
    assert "<@U" not in md
    assert len([c for c in slack.canvases.values() if c.channel_id == ch.id]) == 1   # replaced, not piled up
    files = await slack.wait_for(lambda: len(mds := [f for f in slack.files if ch.id in f.channels
                                                     and f.name.endswith(".md")]) == 2 and mds)
    final = files[-1].content.decode()
    assert "Timeline" in final and "Rolled back v2.1" in final and "DRAFT" not in final
    assert "postmortem" in all_text(slack.messages(slack.ids["incidents"])).lower()
    # impact given after the postmortem is still recorded, with a hint to regenerate it
    await slack.slash_command(BOB, ch.id, "impact 31% of payments, not 30%")
    await slack.wait_for(lambda: [e for e in slack.ephemerals(BOB) if "postmortem` again" in (e.text or "")])
    await slack.slash_command(BOB, ch.id, "postmortem")
    await slack.wait_for(lambda: "31% of payments" in canvas.markdown)
    await slack.slash_command(ALICE, slack.ids["general"], "stats 30d")
    stats = await slack.wait_for(lambda: [e for e in slack.ephemerals(ALICE) if "Incidents over the last" in (e.text or "")])
    assert "SEV1" in stats[-1].text


async def test_workspace_without_canvases_gets_the_file_alone(tmp_path):
    slack = make_standin(canvases_enabled=False)
    await slack.start()
    slack.ids = populate(slack)
    bot = await start_bot(slack, tmp_path / "t.db")
    try:
        ch = await declared(slack)
        await slack.slash_command(ALICE, ch.id, "resolve Fixed")
        await slack.wait_for(lambda: "Resolved" in (ch.topic or ""))
        await slack.slash_command(ALICE, ch.id, "postmortem")
        await slack.wait_for(lambda: [f for f in slack.files if ch.id in f.channels])
        told = await slack.wait_for(lambda: [e for e in slack.ephemerals(ALICE) if "no canvas" in (e.text or "")])
        assert "team_tier_cannot_create_channel_canvases" in told[-1].text
        assert not slack.canvases
    finally:
        await bot.stop()
        await slack.stop()
