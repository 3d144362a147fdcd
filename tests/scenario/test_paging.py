"""Paging by DM, acknowledgement, decline, timeout escalation, repeat, empty steps, manual pages, overrides,
handoff notices: through the real app and the stand-in, with an injected clock (no test waits minutes).

The scenario clock starts Monday 2026-11-23 14:00 UTC. `primary` rotates weekly at Monday 09:00 between bob and
carol (carol holds the week from 2026-11-23), `secondary` is dave, `nights` has erin 22:00-06:00 only.
"""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from storage.models import Page, TimelineEvent
from tests.scenario.harness import ALICE, BOB, CAROL, DAVE, ERIN, all_text

CONFIG = """
default_team: platform
teams:
  platform:
    name: Platform
    members: [alice@company.com, U0BOB0001]
    escalation_policy: critical
  night:
    members: [erin@company.com]
    escalation_policy: night-first
schedules:
  primary:
    time_zone: UTC
    layers:
      - {name: weekly, start: 2026-11-16T09:00:00, rotation: weekly, users: [bob@company.com, carol@company.com]}
  secondary:
    time_zone: Europe/London
    layers:
      - {name: daily, start: 2026-11-16T09:00:00, rotation: daily, users: [dave@company.com]}
  nights:
    time_zone: UTC
    layers:
      - name: nights
        start: 2026-11-16T00:00:00
        rotation: daily
        users: [erin@company.com]
        restrictions: [{type: daily, start_time: "22:00", end_time: "06:00"}]
escalation_policies:
  critical:
    repeat: 1
    steps:
      - {timeout: 5m, targets: [{schedule: primary}]}
      - {timeout: 10m, targets: [{schedule: secondary}]}
  night-first:
    steps:
      - {timeout: 5m, targets: [{schedule: nights}]}
      - {timeout: 5m, targets: [{user: erin@company.com}]}
severities:
  sev1: {label: "SEV1 - Critical", page: true}
  sev2: {label: "SEV2 - Major"}
"""

pytestmark = pytest.mark.config(CONFIG)


def page_dms(slack, user):
    return [m for m in slack.dms(user) if "being paged" in all_text([m])]


async def declare_sev1(slack, title="Payments down"):
    await slack.slash_command(ALICE, slack.ids["general"], f"declare sev1 {title}")
    ch = await slack.wait_for(lambda: next((c for c in slack.channels.values() if c.name.startswith("inc-")), None))
    await slack.wait_for(lambda: ch.topic)
    return ch


async def events(bot, kind=None):
    async with bot.tocsin.deps.db.read() as s:
        rows = list((await s.execute(select(TimelineEvent).order_by(TimelineEvent.id))).scalars())
    return [e for e in rows if kind is None or e.kind == kind]


async def test_page_ack_stops_escalation_and_edits_every_dm(slack, bot):
    ch = await declare_sev1(slack)
    dm = (await slack.wait_for(lambda: page_dms(slack, CAROL)))[0]
    text = all_text([dm])
    assert "Payments down" in text and "SEV1 - Critical" in text and f"<#{ch.id}>" in text
    assert not page_dms(slack, BOB)
    assert [e.text for e in await events(bot, "paged")] and CAROL in (await events(bot, "paged"))[0].text
    # no ack within 5 minutes: step 2 (dave); carol's DM says it moved on
    assert await bot.advance(minutes=4, seconds=59) == 0
    await bot.advance(seconds=1)
    dave_dm = (await slack.wait_for(lambda: page_dms(slack, DAVE)))[0]
    await slack.wait_for(lambda: "No response" in all_text([slack.message(dm.channel, dm.ts)]))
    assert [e for e in await events(bot, "escalated")]
    await slack.click(DAVE, dave_dm.channel, dave_dm.ts, "tocsin_page_ack")
    await slack.wait_for(lambda: DAVE in ch.members)
    for m in (dm, dave_dm):
        await slack.wait_for(lambda m=m: f"Acknowledged by <@{DAVE}>" in all_text([slack.message(m.channel, m.ts)]))
    acks = await events(bot, "acknowledged")
    assert len(acks) == 1 and acks[0].actor == DAVE
    assert "acknowledged the page" in all_text(slack.messages(ch.id))
    # escalation stopped: nothing more, however long we wait
    before = len(slack.calls_to("chat.postMessage"))
    await bot.advance(hours=2)
    assert len(slack.calls_to("chat.postMessage")) == before
    inc = await bot.tocsin.services.incidents.in_channel(ch.id)
    assert inc.first_ack_at is not None


async def test_decline_pages_the_next_step_at_once(slack, bot):
    await declare_sev1(slack)
    dm = (await slack.wait_for(lambda: page_dms(slack, CAROL)))[0]
    await slack.click(CAROL, dm.channel, dm.ts, "tocsin_page_decline")
    await slack.wait_for(lambda: page_dms(slack, DAVE))
    assert [e for e in await events(bot, "declined")]
    # the cancelled 5-minute timer does not page dave again
    await bot.advance(minutes=6)
    assert len(page_dms(slack, DAVE)) == 1


async def test_nobody_acknowledges_policy_repeats_then_channel_is_told(slack, bot):
    ch = await declare_sev1(slack)
    await slack.wait_for(lambda: page_dms(slack, CAROL))
    await bot.advance(minutes=5)     # step 2: dave
    await bot.advance(minutes=10)    # repeat 1, step 1: carol again
    await slack.wait_for(lambda: len(page_dms(slack, CAROL)) == 2)
    await bot.advance(minutes=5)     # repeat 1, step 2: dave again
    await slack.wait_for(lambda: len(page_dms(slack, DAVE)) == 2)
    await bot.advance(minutes=10)    # exhausted
    told = await slack.wait_for(lambda: [m for m in slack.messages(ch.id) if "Nobody acknowledged" in all_text([m])])
    assert f"<@{CAROL}>" in all_text(told) and f"<@{DAVE}>" in all_text(told)
    assert len(await events(bot, "escalation_exhausted")) == 1
    await bot.advance(hours=1)
    assert len(page_dms(slack, CAROL)) == 2 and len(page_dms(slack, DAVE)) == 2
    # a late acknowledgement still counts
    late = page_dms(slack, DAVE)[-1]
    await slack.click(DAVE, late.channel, late.ts, "tocsin_page_ack")
    await slack.wait_for(lambda: DAVE in ch.members)


async def test_empty_step_is_skipped_at_once_and_recorded(slack, bot):
    ch = await declare_sev1(slack)
    ch.members.add(ALICE)
    await slack.slash_command(ALICE, ch.id, "page night")
    await slack.wait_for(lambda: page_dms(slack, ERIN))  # step 1 (nights) is empty at 14:00: erin directly
    skipped = await events(bot, "step_skipped")
    assert skipped and "Nobody is on call" in skipped[0].text


async def test_manual_pages_user_schedule_and_bad_target(slack, bot):
    await slack.slash_command(ALICE, slack.ids["general"], "declare sev2 Slow search")
    ch = await slack.wait_for(lambda: next((c for c in slack.channels.values() if c.name.startswith("inc-")), None))
    await slack.wait_for(lambda: ch.topic)
    assert not page_dms(slack, CAROL)  # sev2 does not page
    await slack.slash_command(ALICE, ch.id, f"page <@{ERIN}>")
    dm = (await slack.wait_for(lambda: page_dms(slack, ERIN)))[0]
    await slack.slash_command(ALICE, ch.id, "page primary")
    await slack.wait_for(lambda: page_dms(slack, CAROL))
    await slack.click(ERIN, dm.channel, dm.ts, "tocsin_page_ack")
    await slack.wait_for(lambda: ERIN in ch.members)
    await slack.slash_command(ALICE, ch.id, "page nosuchthing")
    err = await slack.wait_for(lambda: [e for e in slack.ephemerals(ALICE) if "nosuchthing" in (e.text or "")])
    assert "`primary`" in err[-1].text
    # erin's acknowledgement stopped the schedule page too: carol's DM says so, and nothing escalates
    carol_dm = page_dms(slack, CAROL)[0]
    await slack.wait_for(lambda: f"Acknowledged by <@{ERIN}>" in all_text([slack.message(carol_dm.channel, carol_dm.ts)]))
    await bot.advance(minutes=30)
    assert "Nobody acknowledged" not in all_text(slack.messages(ch.id))
    assert len(page_dms(slack, CAROL)) == 1


async def test_an_unacknowledged_manual_page_tells_the_channel(slack, bot):
    await slack.slash_command(ALICE, slack.ids["general"], "declare sev2 Slow search")
    ch = await slack.wait_for(lambda: next((c for c in slack.channels.values() if c.name.startswith("inc-")), None))
    await slack.wait_for(lambda: ch.topic)
    await slack.slash_command(ALICE, ch.id, f"page <@{ERIN}>")
    await slack.wait_for(lambda: page_dms(slack, ERIN))
    await bot.advance(minutes=5)
    told = await slack.wait_for(lambda: [m for m in slack.messages(ch.id) if "Nobody acknowledged" in all_text([m])])
    assert f"<@{ERIN}>" in all_text(told)


async def test_someone_else_cannot_acknowledge_my_page(slack, bot):
    await declare_sev1(slack)
    dm = (await slack.wait_for(lambda: page_dms(slack, CAROL)))[0]
    slack_dm = slack.channels[dm.channel]
    slack_dm.members.add(BOB)
    await slack.click(BOB, dm.channel, dm.ts, "tocsin_page_ack")
    await slack.wait_for(lambda: [e for e in slack.ephemerals(BOB) if "was for" in (e.text or "")])
    assert not await events(bot, "acknowledged")


async def test_oncall_and_override(slack, bot):
    await slack.slash_command(ALICE, slack.ids["general"], "oncall primary")
    shown = await slack.wait_for(lambda: [e for e in slack.ephemerals(ALICE) if "*primary*" in (e.text or "")])
    assert f"<@{CAROL}> is on call now" in shown[-1].text and f"next: <@{BOB}>" in shown[-1].text
    await slack.slash_command(ALICE, slack.ids["general"], f"override primary <@{ERIN}> 2h")
    await slack.wait_for(lambda: [e for e in slack.ephemerals(ALICE) if "is on call for *primary*" in (e.text or "")])
    await slack.slash_command(ALICE, slack.ids["general"], "oncall platform")
    shown = await slack.wait_for(lambda: [e for e in slack.ephemerals(ALICE) if f"<@{ERIN}> is on call now" in (e.text or "")])
    assert f"next: <@{CAROL}>" in shown[-1].text
    await declare_sev1(slack)
    await slack.wait_for(lambda: page_dms(slack, ERIN))
    assert not page_dms(slack, CAROL)
    for bad, expected in [("override primary <@U0ERIN001> soon", "not a duration"),
                          ("override nope <@U0ERIN001> 2h", "no schedule `nope`"),
                          ("override primary someone 2h", "not a user")]:
        await slack.slash_command(ALICE, slack.ids["general"], bad)
        await slack.wait_for(lambda: [e for e in slack.ephemerals(ALICE) if expected in (e.text or "")])


async def test_handoff_notices_to_incoming_and_outgoing(slack, bot):
    ch = await declare_sev1(slack, "Queue backlog")
    # primary hands over from carol to bob on Monday 2026-11-30 09:00 UTC
    bot.clock.advance(__import__("datetime").timedelta(days=6, hours=18, minutes=59))
    await bot.tick()
    assert not [m for m in slack.dms(BOB) if "shift" in all_text([m])]
    await bot.advance(minutes=1)
    incoming = await slack.wait_for(lambda: [m for m in slack.dms(BOB) if "shift for primary has started" in all_text([m])])
    assert "Queue backlog" in all_text(incoming) and f"<#{ch.id}>" in all_text(incoming)
    await slack.wait_for(lambda: [m for m in slack.dms(CAROL) if "has ended" in all_text([m])])
    await bot.tick()
    assert len([m for m in slack.dms(BOB) if "has started" in all_text([m])]) == 1


async def test_pages_are_recorded_once(slack, bot):
    await declare_sev1(slack)
    await slack.wait_for(lambda: page_dms(slack, CAROL))
    await bot.tick()
    await bot.tick()
    async with bot.tocsin.deps.db.read() as s:
        pages = list((await s.execute(select(Page))).scalars())
    assert [(p.user, p.position) for p in pages] == [(CAROL, 0)]
    assert len(page_dms(slack, CAROL)) == 1


async def test_override_until_a_local_time(slack, bot):
    await slack.slash_command(ALICE, slack.ids["general"], f"override secondary <@{ERIN}> until 2026-11-23 18:30")
    told = await slack.wait_for(lambda: [e for e in slack.ephemerals(ALICE) if "is on call for *secondary*" in (e.text or "")])
    assert "4h 30m" in told[-1].text          # Europe/London is UTC in November: 14:00 → 18:30
    await slack.slash_command(ALICE, slack.ids["general"], "oncall secondary")
    shown = await slack.wait_for(lambda: [e for e in slack.ephemerals(ALICE) if "*secondary*" in (e.text or "")])
    assert f"<@{ERIN}> is on call now" in shown[-1].text and f"next: <@{DAVE}>" in shown[-1].text
    await slack.slash_command(ALICE, slack.ids["general"], f"override secondary <@{ERIN}> until 2026-11-20 09:00")
    await slack.wait_for(lambda: [e for e in slack.ephemerals(ALICE) if "already past" in (e.text or "")])


async def test_paging_does_not_wait_for_a_rate_limited_channel(slack, bot):
    slack.set_rate_limit("conversations.create", 1, 2.0)
    await slack.slash_command(ALICE, slack.ids["general"], "declare sev2 Uses the quota")
    await slack.wait_for(lambda: slack.channel_by_name("inc-2026-001-uses-the-quota"))
    await slack.slash_command(ALICE, slack.ids["general"], "declare sev1 Payments down")
    await slack.wait_for(lambda: [c for c in slack.calls_to("conversations.create") if c.error == "ratelimited"])
    await bot.tick()                        # what the scheduler's wake-up does in production
    dm = (await slack.wait_for(lambda: page_dms(slack, CAROL)))[0]
    assert "channel not created yet" in all_text([dm])
    ch = await slack.wait_for(lambda: slack.channel_by_name("inc-2026-002-payments-down"), timeout=10)
    await slack.wait_for(lambda: f"<#{ch.id}>" in all_text([slack.message(dm.channel, dm.ts)]))
    assert len(page_dms(slack, CAROL)) == 1


async def test_restart_inside_the_send_window_neither_loses_nor_doubles_a_page(slack, bot):
    """A crash after claiming a page: if Slack had taken the DM it is not sent again; if not, it is sent now."""
    from sqlalchemy import update as sql_update

    from tests.scenario.harness import start_bot
    await declare_sev1(slack)
    dm = (await slack.wait_for(lambda: page_dms(slack, CAROL)))[0]
    await slack.wait_for(lambda: slack.calls_to("chat.postMessage"))
    clock = bot.clock
    await bot.stop()
    # crash 1: Slack took carol's DM, the process died before noting its ts
    again = await start_bot(slack, bot.db_url, CONFIG, clock=clock)
    async with again.tocsin.deps.db.write() as s:
        await s.execute(sql_update(Page).values(ts=None))
    await again.stop()
    again = await start_bot(slack, bot.db_url, CONFIG, clock=clock)
    try:
        await again.advance(seconds=61)      # a claim that old is nobody's live send: checked, and found delivered
        await asyncio.sleep(0.3)
        assert len(page_dms(slack, CAROL)) == 1                    # not doubled
        async with again.tocsin.deps.db.read() as s:
            assert (await s.execute(select(Page.ts))).scalar_one() == dm.ts   # and noted
        # crash 2: the page was claimed, the process died before Slack got it
        slack.channels[dm.channel].messages.clear()
        async with again.tocsin.deps.db.write() as s:
            await s.execute(sql_update(Page).values(ts=None))
    finally:
        await again.stop()
    third = await start_bot(slack, bot.db_url, CONFIG, clock=clock)
    try:
        await third.advance(seconds=61)      # once the claim is stale, the page is sent
        await slack.wait_for(lambda: len(page_dms(slack, CAROL)) == 1)
        await asyncio.sleep(0.3)
        assert len(page_dms(slack, CAROL)) == 1
    finally:
        await third.stop()
        bot.tocsin.socket_handler = None


async def test_an_override_starting_now_is_a_handoff(slack, bot):
    await slack.slash_command(ALICE, slack.ids["general"], f"override primary <@{ERIN}> 2h")
    await slack.wait_for(lambda: [m for m in slack.dms(ERIN) if "shift for primary has started" in all_text([m])])
    await slack.wait_for(lambda: [m for m in slack.dms(CAROL) if "has ended" in all_text([m])])
    await bot.advance(hours=2)     # the override ends: back to carol
    await slack.wait_for(lambda: [m for m in slack.dms(CAROL) if "shift for primary has started" in all_text([m])])
    await slack.slash_command(ALICE, slack.ids["general"], f"override primary <@{ERIN}> until 2026-02-30 09:00")
    await slack.wait_for(lambda: [e for e in slack.ephemerals(ALICE) if "not a valid date" in (e.text or "")])


async def test_stale_handoffs_after_downtime_are_not_sent(slack, bot):
    bot.clock.advance(__import__("datetime").timedelta(days=15))   # two weekly handoffs passed while "down"
    await bot.tick()
    await asyncio.sleep(0.2)
    notices = [m for u in (ALICE, BOB, CAROL, DAVE, ERIN) for m in slack.dms(u)
               if "has started" in all_text([m]) or "has ended" in all_text([m])]
    assert notices == []        # 15 days of missed handoffs (weekly, daily, nightly): none sent late


async def test_a_failing_escalation_step_is_retried_not_dropped(slack, bot):
    """Fault injection: the database blips while the 5-minute step fires. The step is retried, not lost."""
    from sqlalchemy.exc import OperationalError
    await declare_sev1(slack)
    await slack.wait_for(lambda: page_dms(slack, CAROL))
    oncall = bot.tocsin.services.oncall
    real, failures = oncall.on_call, []

    async def blip(*args, **kwargs):
        if not failures:
            failures.append(1)
            raise OperationalError("SELECT …", {}, Exception("server closed the connection unexpectedly"))
        return await real(*args, **kwargs)
    oncall.on_call = blip
    await bot.advance(minutes=5)
    assert failures and not page_dms(slack, DAVE)
    await bot.advance(seconds=30)          # retried with backoff
    await slack.wait_for(lambda: page_dms(slack, DAVE))
    assert len(page_dms(slack, DAVE)) == 1
