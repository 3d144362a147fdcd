"""Roles (buttons and commands), status and severity changes, notes, resolve/reopen, the timeline."""
from __future__ import annotations

from tests.scenario.harness import ALICE, BOB, CAROL, DAVE, all_text


async def declared(slack, title="Checkout latency spike", sev="sev2"):
    await slack.slash_command(ALICE, slack.ids["general"], f"declare {sev} {title}")
    ch = await slack.wait_for(lambda: next((c for c in slack.channels.values() if c.name.startswith("inc-")), None))
    card = await slack.wait_for(lambda: next((m for m in slack.messages(ch.id) if m.blocks and
                                              any(b.get("type") == "header" for b in m.blocks)), None))
    await slack.wait_for(lambda: ch.topic)
    ch.members.update({BOB, CAROL})  # teammates join the channel themselves
    return ch, card


def card_now(slack, ch, card):
    return next(m for m in slack.messages(ch.id) if m.ts == card.ts)


async def test_take_ic_and_join_as_sme_buttons_edit_card_and_topic(slack, bot):
    ch, card = await declared(slack)
    await slack.click(BOB, ch.id, card.ts, "tocsin_take_ic")
    await slack.wait_for(lambda: "@bob" in (ch.topic or ""))
    await slack.wait_for(lambda: f"<@{BOB}>" in all_text([card_now(slack, ch, card)]))
    assert card_now(slack, ch, card).edited
    assert BOB in ch.members
    await slack.click(CAROL, ch.id, card.ts, "tocsin_join_sme")
    await slack.wait_for(lambda: f"<@{CAROL}>" in all_text([card_now(slack, ch, card)]))
    assert CAROL in ch.members
    # clicking again is a private, harmless answer
    await slack.click(CAROL, ch.id, card.ts, "tocsin_join_sme")
    await slack.wait_for(lambda: [e for e in slack.ephemerals(CAROL) if "already an SME" in (e.text or "")])
    posted = all_text(slack.messages(ch.id))
    assert "incident commander" in posted and "joined as SME" in posted


async def test_ic_and_sme_commands_take_mentions_and_emails(slack, bot):
    ch, card = await declared(slack)
    await slack.slash_command(ALICE, ch.id, f"ic <@{DAVE}|dave>")
    await slack.wait_for(lambda: "@dave" in (ch.topic or ""))
    await slack.slash_command(ALICE, ch.id, "sme carol@company.com")
    await slack.wait_for(lambda: CAROL in ch.members and f"<@{CAROL}>" in all_text([card_now(slack, ch, card)]))
    await slack.slash_command(ALICE, ch.id, "sme nobody@company.com")
    err = await slack.wait_for(lambda: [e for e in slack.ephemerals(ALICE) if "nobody@company.com" in (e.text or "")])
    assert "Nothing was changed" in err[-1].text


async def test_status_flow_is_posted_announced_and_on_the_card(slack, bot):
    ch, card = await declared(slack)
    incidents = slack.ids["incidents"]
    for status in ("identified", "monitoring"):
        await slack.slash_command(BOB, ch.id, f"status {status}")
        await slack.wait_for(lambda: status.capitalize() in (ch.topic or ""))
        await slack.wait_for(lambda: status in all_text(slack.messages(incidents)))
    assert "Monitoring" in all_text([card_now(slack, ch, card)])
    await slack.slash_command(BOB, ch.id, "resolve Rolled back the deploy")
    await slack.wait_for(lambda: "Resolved" in (ch.topic or ""))
    assert "Rolled back the deploy" in all_text(slack.messages(ch.id))
    resolved_card = card_now(slack, ch, card)
    assert not [b for b in resolved_card.blocks if b["type"] == "actions"]
    # not allowed: resolved -> monitoring
    await slack.slash_command(BOB, ch.id, "status monitoring")
    err = await slack.wait_for(lambda: [e for e in slack.ephemerals(BOB) if "reopen" in (e.text or "")])
    assert "resolved" in err[-1].text
    await slack.slash_command(BOB, ch.id, "reopen")
    await slack.wait_for(lambda: "Investigating" in (ch.topic or ""))
    await slack.slash_command(BOB, ch.id, "severity sev1")
    await slack.wait_for(lambda: "SEV1 - Critical" in (ch.topic or ""))
    await slack.slash_command(BOB, ch.id, "note Customer support informed")
    await slack.wait_for(lambda: "Customer support informed" in all_text(slack.messages(ch.id)))
    await slack.slash_command(BOB, ch.id, "timeline")
    tl = await slack.wait_for(lambda: [e for e in slack.ephemerals(BOB) if "Timeline of" in all_text([e])])
    shown = all_text(tl)
    order = ["declared", "status changed", "resolved", "reopened", "severity changed", "note"]
    positions = [shown.index(f"*{k}*") for k in order]
    assert positions == sorted(positions)


async def test_resolve_button_opens_the_resolution_form(slack, bot):
    ch, card = await declared(slack)
    await slack.click(BOB, ch.id, card.ts, "tocsin_resolve")
    view = (await slack.wait_for(lambda: slack.open_views(BOB)))[-1]
    await slack.submit_view(BOB, view.id, {"resolution": {"resolution": "Pool resized"},
                                           "impact": {"impact": "30% of checkouts failed"},
                                           "cause": {"cause": "Connection pool exhaustion"}})
    await slack.wait_for(lambda: "Resolved" in (ch.topic or ""))
    inc = await bot.tocsin.services.incidents.in_channel(ch.id)
    assert (inc.resolution, inc.impact, inc.root_cause) == ("Pool resized", "30% of checkouts failed", "Connection pool exhaustion")
