"""Block Kit builders: whatever users type, every payload stays inside Slack's limits and user text stays escaped.

`check_message` / `check_view` walk any payload generically, so a new block type or field inherits the checks.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.lifecycle import STATUSES
from bot.slack import blocks as bk
from bot.slack import ids

UTC = dt.timezone.utc
FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Ids the tests hand to builders: the only markup the builders themselves may add to mrkdwn.
IC, SME1, SME2, DECLARER, OWNER = "U0IC00001", "U0SME0001", "U0SME0002", "U0DECL001", "U0OWN0001"
USERS = (IC, SME1, SME2, DECLARER, OWNER)
CHANNEL = "C0INC0001"
BUILDER_MARKUP = re.compile(rf"<(?:@(?:{'|'.join(USERS)})|#{CHANNEL}|!date\^\d+\^[^<>|]*\|[^<>|]*)>")
BARE_AMP = re.compile(r"&(?!amp;|lt;|gt;)")

# --- Slack's limits (https://api.slack.com/reference/block-kit) ---
MESSAGE_BLOCKS, VIEW_BLOCKS = 50, 100
HEADER, SECTION, FIELD, FIELDS, CONTEXT_TEXT, CONTEXT_ELEMENTS = 150, 3000, 2000, 10, 3000, 10
BUTTON_TEXT, BUTTON_VALUE, ACTION_ID, BLOCK_ID, ACTIONS_ELEMENTS = 75, 2000, 255, 255, 25
OPTION_TEXT, OPTION_VALUE, OPTIONS = 75, 150, 100
LABEL, PLACEHOLDER, INPUT_INITIAL = 2000, 150, 3000
VIEW_TITLE, VIEW_BUTTON, PRIVATE_METADATA, CALLBACK_ID = 24, 24, 3000, 255


# --------------------------------------------------------------------------------------------------------------
# generic checker

def _text(obj: Any, limit: int, where: str) -> str:
    assert isinstance(obj, dict) and obj.get("type") in ("plain_text", "mrkdwn"), f"{where}: not a text object: {obj!r}"
    text = obj.get("text")
    assert isinstance(text, str) and text != "", f"{where}: empty text"
    assert len(text) <= limit, f"{where}: {len(text)} > {limit} characters"
    return text


def _plain(obj: Any, limit: int, where: str) -> str:
    assert isinstance(obj, dict) and obj.get("type") == "plain_text", f"{where}: must be plain_text: {obj!r}"
    return _text(obj, limit, where)


def walk(node: Any, where: str = "") -> None:
    """Check every element under `node` against the limits of its type, recursively."""
    if isinstance(node, list):
        for i, child in enumerate(node):
            walk(child, f"{where}[{i}]")
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    at = f"{where}<{kind}>"
    if kind in ("plain_text", "mrkdwn"):
        _text(node, 3000, at)  # the most any text object allows; the parent checks tighter limits
    if "block_id" in node:
        assert 0 < len(node["block_id"]) <= BLOCK_ID, at
    if "action_id" in node:
        assert 0 < len(node["action_id"]) <= ACTION_ID, at
    if kind == "header":
        _plain(node["text"], HEADER, at)
    elif kind == "section":
        assert "text" in node or "fields" in node, f"{at}: section needs text or fields"
        if "text" in node:
            _text(node["text"], SECTION, at)
        fields = node.get("fields", [])
        assert len(fields) <= FIELDS, f"{at}: {len(fields)} fields"
        for i, f in enumerate(fields):
            _text(f, FIELD, f"{at}.fields[{i}]")
    elif kind == "context":
        assert 0 < len(node["elements"]) <= CONTEXT_ELEMENTS, at
        for i, el in enumerate(node["elements"]):
            if el.get("type") in ("plain_text", "mrkdwn"):
                _text(el, CONTEXT_TEXT, f"{at}.elements[{i}]")
    elif kind == "actions":
        assert 0 < len(node["elements"]) <= ACTIONS_ELEMENTS, at
    elif kind == "button":
        _plain(node["text"], BUTTON_TEXT, at)
        assert len(node.get("value", "")) <= BUTTON_VALUE, at
        assert node.get("style") in (None, "primary", "danger"), at
    elif kind == "input":
        _plain(node["label"], LABEL, at)
        assert "element" in node, at
    elif kind == "plain_text_input":
        max_length = node.get("max_length", INPUT_INITIAL)
        assert 0 < max_length <= INPUT_INITIAL, at
        assert len(node.get("initial_value", "")) <= max_length, at
    if "placeholder" in node:
        _plain(node["placeholder"], PLACEHOLDER, f"{at}.placeholder")
    if "options" in node:
        options = node["options"]
        assert 0 < len(options) <= OPTIONS, f"{at}: {len(options)} options"
        for i, o in enumerate(options):
            _plain(o["text"], OPTION_TEXT, f"{at}.options[{i}]")
            assert 0 < len(o["value"]) <= OPTION_VALUE, at
        if "initial_option" in node:
            assert node["initial_option"] in options, f"{at}: initial_option is not one of the options"
    for key, value in node.items():
        if isinstance(value, (dict, list)):
            walk(value, f"{at}.{key}")


def check_blocks(blocks: list[dict], max_blocks: int) -> None:
    assert isinstance(blocks, list) and 0 < len(blocks) <= max_blocks, f"{len(blocks)} blocks > {max_blocks}"
    for b in blocks:
        assert b.get("type") in ("header", "section", "context", "actions", "input", "divider"), b.get("type")
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids)), "duplicate block_id"
    walk(blocks)
    for text in mrkdwn_texts(blocks):
        assert_escaped(text)


def check_message(blocks: list[dict]) -> list[dict]:
    check_blocks(blocks, MESSAGE_BLOCKS)
    return blocks


def check_view(view: dict, kind: str) -> dict:
    assert view["type"] == kind
    check_blocks(view["blocks"], VIEW_BLOCKS)
    if kind == "modal":
        _plain(view["title"], VIEW_TITLE, "modal.title")
        for key in ("submit", "close"):
            if key in view:
                _plain(view[key], VIEW_BUTTON, f"modal.{key}")
        assert 0 < len(view["callback_id"]) <= CALLBACK_ID
        assert len(view.get("private_metadata", "")) <= PRIVATE_METADATA
    return view


def mrkdwn_texts(node: Any) -> Iterator[str]:
    if isinstance(node, list):
        for child in node:
            yield from mrkdwn_texts(child)
    elif isinstance(node, dict):
        if node.get("type") == "mrkdwn":
            yield node["text"]
        for value in node.values():
            yield from mrkdwn_texts(value)


def assert_escaped(text: str) -> None:
    """Outside the builders' own mentions and dates, no `<`, `>` or bare `&` reaches Slack: user text is escaped,
    and no truncation leaves half a piece of markup behind."""
    rest = BUILDER_MARKUP.sub("", text)
    assert "<" not in rest and ">" not in rest, f"unescaped or broken markup in {text[-200:]!r}"
    assert not BARE_AMP.search(rest), f"bare & in {text[-200:]!r}"


def buttons(node: Any) -> list[dict]:
    if isinstance(node, list):
        return [b for child in node for b in buttons(child)]
    if isinstance(node, dict):
        found = [node] if node.get("type") == "button" else []
        return found + [b for value in node.values() for b in buttons(value)]
    return []


def action_ids(node: Any) -> list[str]:
    return [b["action_id"] for b in buttons(node)]


def all_mrkdwn(node: Any) -> str:
    return "\n".join(mrkdwn_texts(node))


# --------------------------------------------------------------------------------------------------------------
# strategies

NASTY = ["<!channel>", "<!here>", "<@U123>", "<#C999|ops>", "<https://evil.example|click>", "<script>alert(1)</script>",
         "&", "&amp;", "&lt;", "&gt", "<", ">", "|", "^", "*bold*", "_it_", "`code`", "\n", " ", "😀", "👩‍🚒", "🇺🇦",
         "é", "\u200b", "x" * 97, "&" * 40, "<" * 40]
user_text = st.one_of(
    st.text(max_size=5000),
    st.lists(st.sampled_from(NASTY), max_size=300).map("".join).map(lambda s: s[:5000]),
    st.tuples(st.integers(0, 5000), st.sampled_from(["x", "<", "&", ">", "😀", "a<b&c>"]))
    .map(lambda n_s: (n_s[1] * n_s[0])[: n_s[0]]),
)
short_text = st.text(max_size=60)
users = st.sampled_from(USERS)
maybe_user = st.none() | users
moments = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(UTC))
references = st.builds(lambda y, n: f"INC-{y}-{n:03d}", st.integers(2000, 2100), st.integers(1, 99999))

cards = st.builds(
    bk.CardData,
    incident_id=st.integers(1, 10**12),
    reference=references,
    title=user_text,
    severity_label=user_text,
    status=st.sampled_from(STATUSES),
    ic=maybe_user,
    smes=st.lists(users, max_size=40).map(tuple),
    declared_by=maybe_user,
    declared_at=moments,
    summary=st.none() | user_text,
    last_update_at=st.none() | moments,
    resolved_at=st.none() | moments,
    actions=st.lists(st.tuples(user_text.map(bk.escape), maybe_user, st.booleans()), max_size=60).map(tuple),
    private=st.booleans(),
)


def a_card(**changes: Any) -> bk.CardData:
    base = dict(incident_id=7, reference="INC-2026-007", title="Checkout latency spike", severity_label="SEV2 - Major",
                status="investigating", ic=None, smes=(), declared_by=DECLARER,
                declared_at=dt.datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    return bk.CardData(**{**base, **changes})


# --------------------------------------------------------------------------------------------------------------
# every builder, arbitrary input

@FAST
@given(cards)
def test_card_blocks_respect_limits(card: bk.CardData) -> None:
    blocks = check_message(bk.card_blocks(card))
    assert blocks[0]["type"] == "header"
    assert len(bk.card_text(card)) <= 3000


@FAST
@given(cards, st.none() | st.just(CHANNEL), st.sampled_from([":rotating_light: *New incident declared*", "Severity changed"]))
def test_announcement_blocks_respect_limits(card: bk.CardData, channel: str | None, headline: str) -> None:
    blocks = check_message(bk.announcement_blocks(card, channel, headline))
    if card.private:
        assert CHANNEL not in all_mrkdwn(blocks)


@FAST
@given(references, user_text)
def test_private_announcement_blocks_respect_limits(reference: str, label: str) -> None:
    check_message(bk.private_announcement_blocks(reference, label))


@FAST
@given(st.lists(st.tuples(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=31), user_text),
                min_size=1, max_size=130, unique_by=lambda kv: kv[0]),
       st.none() | st.just(CHANNEL), user_text)
def test_declare_modal_respects_limits(severities: list[tuple[str, str]], channel: str | None, initial_title: str) -> None:
    view = check_view(bk.declare_modal(severities, channel, initial_title), "modal")
    assert view["callback_id"] == ids.DECLARE_VIEW
    select = next(b for b in view["blocks"] if b["block_id"] == ids.IN_SEVERITY[0])["element"]
    assert [o["value"] for o in select["options"]] == [k for k, _ in severities][:OPTIONS]


@FAST
@given(st.integers(1, 10**12), references, st.lists(st.sampled_from(STATUSES), min_size=1, unique=True), st.data())
def test_update_modal_respects_limits(incident_id: int, reference: str, statuses: list[str], data: st.DataObject) -> None:
    current = data.draw(st.sampled_from(statuses))
    view = check_view(bk.update_modal(incident_id, reference, current, statuses), "modal")
    assert view["callback_id"] == ids.UPDATE_VIEW and view["private_metadata"] == str(incident_id)
    select = next(b for b in view["blocks"] if b.get("block_id") == ids.IN_STATUS[0])["element"]
    assert select["initial_option"]["value"] == current


@FAST
@given(st.integers(1, 10**12), references)
def test_resolve_modal_respects_limits(incident_id: int, reference: str) -> None:
    view = check_view(bk.resolve_modal(incident_id, reference), "modal")
    assert view["callback_id"] == ids.RESOLVE_VIEW
    assert {b["block_id"] for b in view["blocks"] if b["type"] == "input"} == \
        {ids.IN_RESOLUTION[0], ids.IN_IMPACT[0], ids.IN_CAUSE[0]}


@FAST
@given(references, user_text, user_text, st.none() | user_text, st.none() | st.just(CHANNEL), st.integers(1, 10**12),
       user_text, st.none() | st.sampled_from(["No response; escalated to the next step.",
                                               f":white_check_mark: Acknowledged by <@{IC}> at 12:00 UTC."]),
       st.booleans())
def test_page_blocks_respect_limits(reference, title, label, summary, channel, page_id, via, outcome, late_ack) -> None:
    blocks = check_message(bk.page_blocks(reference, title, label, summary, channel, page_id, via, outcome, late_ack))
    for b in buttons(blocks):
        assert b["value"] == str(page_id)


@FAST
@given(st.integers(1, 10**12), references, maybe_user, st.sampled_from(["30m", "1h 5m", "2d 3h"]))
def test_reminder_blocks_respect_limits(incident_id: int, reference: str, ic: str | None, overdue: str) -> None:
    check_message(bk.reminder_blocks(incident_id, reference, ic, overdue))


@FAST
@given(st.lists(st.tuples(st.integers(1, 10**12), user_text.map(bk.escape), maybe_user, st.booleans()), max_size=80))
def test_action_items_blocks_respect_limits(items: list[tuple[int, str, str | None, bool]]) -> None:
    check_message(bk.action_items_blocks(items))


@FAST
@given(st.lists(st.tuples(references, user_text, user_text, st.sampled_from(STATUSES), st.none() | st.just(CHANNEL)),
                max_size=150))
def test_home_view_respects_limits(rows) -> None:
    check_view(bk.home_view(rows), "home")


@FAST
@given(user_text)
def test_event_message_respects_limits(text: str) -> None:
    blocks = bk.event_message(bk.escape(text))
    check_message(blocks)


@FAST
@given(user_text, st.sampled_from(STATUSES), maybe_user, st.none() | user_text)
def test_topic_text_fits_a_topic(label: str, status: str, ic: str | None, ic_name: str | None) -> None:
    topic = bk.topic_text(label, status, ic, ic_name)
    assert len(topic) <= 250
    if ic:
        assert f"<@{ic}>" not in topic  # topics are plain text: a name, never a mention


# --------------------------------------------------------------------------------------------------------------
# markup cut at the limit: sweep lengths so the cut lands on every character of the builders' own markup

@pytest.mark.parametrize("filler", ["x", "&"])
def test_truncation_never_leaves_half_a_mention(filler: str) -> None:
    for n in range(2900, 3020):
        title = filler * (n if filler == "x" else n // 5 + 1)
        check_message(bk.page_blocks("INC-2026-007", title, "SEV1", None, CHANNEL, 1, "platform-critical"))
        check_message(bk.announcement_blocks(a_card(title=title), CHANNEL, "New"))
        check_message(bk.action_items_blocks([(1, bk.escape(title), OWNER, False)]))
        check_message(bk.card_blocks(a_card(actions=((bk.escape(title), OWNER, False),))))
        check_view(bk.home_view([("INC-2026-007", title, "SEV1", "investigating", CHANNEL)]), "home")


# --------------------------------------------------------------------------------------------------------------
# escaping

@pytest.mark.parametrize("evil", ["<!channel>", "<@U123>", "<!here|here>", "<#C999|ops>", "<https://evil.example|x>"])
def test_user_text_is_escaped_everywhere(evil: str) -> None:
    text = f"db down {evil} & more"
    escaped = f"db down {bk.escape(evil)} &amp; more"
    payloads = [
        # action items arrive as Slack-escaped mrkdwn (slash command text); everything else as typed
        bk.card_blocks(a_card(title=text, summary=text, severity_label=text, actions=((bk.escape(text), None, False),))),
        bk.announcement_blocks(a_card(title=text, severity_label=text), CHANNEL, "New"),
        bk.private_announcement_blocks("INC-2026-007", text),
        bk.page_blocks("INC-2026-007", text, text, text, CHANNEL, 1, text),
        bk.action_items_blocks([(1, bk.escape(text), None, False)]),
        bk.home_view([("INC-2026-007", text, text, "investigating", None)]),
    ]
    for payload in payloads:
        md = all_mrkdwn(payload)
        assert evil not in md
        assert escaped in md
        for text_ in mrkdwn_texts(payload):
            assert_escaped(text_)


def test_header_is_plain_text_and_keeps_the_title_readable() -> None:
    header = bk.card_blocks(a_card(title="5xx > 10% & <rising>"))[0]
    assert header == {"type": "header", "text": {"type": "plain_text", "text": "INC-2026-007 5xx > 10% & <rising>", "emoji": True}}


def test_long_text_is_cut_with_an_ellipsis() -> None:
    blocks = bk.card_blocks(a_card(title="t" * 400, summary="s" * 4000))
    assert blocks[0]["text"]["text"].endswith("…") and len(blocks[0]["text"]["text"]) == HEADER
    summary = next(b for b in blocks if b["type"] == "section" and "text" in b)
    assert summary["text"]["text"].startswith("*Summary*\n") and len(summary["text"]["text"]) == SECTION


# --------------------------------------------------------------------------------------------------------------
# what each message offers

@pytest.mark.parametrize("status", ["investigating", "identified", "monitoring"])
def test_open_card_offers_take_ic_and_join_as_sme(status: str) -> None:
    blocks = bk.card_blocks(a_card(status=status, ic=IC, smes=(SME1, SME2)))
    actions = [b for b in blocks if b["type"] == "actions"]
    assert len(actions) == 1 and actions[0]["block_id"] == "card_actions"
    assert action_ids(actions) == [ids.TAKE_IC, ids.JOIN_SME, ids.POST_UPDATE, ids.RESOLVE]
    assert {b["value"] for b in buttons(actions)} == {"7"}
    fields = all_mrkdwn(blocks)
    assert f"<@{IC}>" in fields and f"<@{SME1}>, <@{SME2}>" in fields


def test_resolved_card_has_no_buttons() -> None:
    blocks = bk.card_blocks(a_card(status="resolved", ic=IC, resolved_at=dt.datetime(2026, 3, 1, 14, tzinfo=UTC)))
    assert buttons(blocks) == []
    assert not any(b["type"] == "actions" for b in blocks)
    assert "*Resolved*" in all_mrkdwn(blocks)


@FAST
@given(cards)
def test_card_buttons_follow_the_status(card: bk.CardData) -> None:
    found = action_ids(bk.card_blocks(card))
    if card.status == "resolved":
        assert found == []
    else:
        assert ids.TAKE_IC in found and ids.JOIN_SME in found


def test_card_without_ic_or_smes_says_none() -> None:
    md = all_mrkdwn(bk.card_blocks(a_card()))
    assert "*Incident commander*\n_none_" in md and "*SMEs*\n_none_" in md and "*Last update*\n_none yet_" in md


def test_page_without_outcome_offers_acknowledge_and_decline() -> None:
    blocks = check_message(bk.page_blocks("INC-2026-007", "DB down", "SEV1", "Primary is gone", CHANNEL, 42, "platform-critical"))
    assert action_ids(blocks) == [ids.PAGE_ACK, ids.PAGE_DECLINE]
    assert {b["value"] for b in buttons(blocks)} == {"42"}
    assert f"<#{CHANNEL}>" in all_mrkdwn(blocks)


@pytest.mark.parametrize("late_ack", [False, True])
def test_answered_page_has_no_decline(late_ack: bool) -> None:
    blocks = check_message(bk.page_blocks("INC-2026-007", "DB down", "SEV1", None, CHANNEL, 42, "platform-critical",
                                          outcome="No response; escalated to the next step.", late_ack=late_ack))
    assert ids.PAGE_DECLINE not in action_ids(blocks)
    assert action_ids(blocks) == ([ids.PAGE_ACK] if late_ack else [])
    assert any(b["type"] == "context" and "escalated" in b["elements"][0]["text"] for b in blocks)


def test_reminder_without_ic_offers_take_ic() -> None:
    blocks = check_message(bk.reminder_blocks(7, "INC-2026-007", None, "45m"))
    assert action_ids(blocks) == [ids.TAKE_IC, ids.POST_UPDATE]
    assert "no incident commander" in all_mrkdwn(blocks)


def test_reminder_with_ic_mentions_them_and_has_no_take_ic() -> None:
    blocks = check_message(bk.reminder_blocks(7, "INC-2026-007", IC, "45m"))
    assert ids.TAKE_IC not in action_ids(blocks)
    assert action_ids(blocks) == [ids.POST_UPDATE]
    assert f"<@{IC}>" in all_mrkdwn(blocks) and "45m" in all_mrkdwn(blocks)


def test_two_hundred_action_items_fit_one_message() -> None:
    items = [(i, bk.escape(f"Action <{i}> & follow-up ") + "x" * 3000, OWNER if i % 2 else None, i % 3 == 0)
             for i in range(1, 201)]   # action text arrives as Slack-escaped mrkdwn
    blocks = check_message(bk.action_items_blocks(items))
    assert len(blocks) <= MESSAGE_BLOCKS
    marked = [b for b in blocks if "accessory" in b]
    assert all(b["accessory"]["action_id"] == ids.ACTION_DONE for b in marked)
    assert all(":white_square:" in b["text"]["text"] for b in marked)


def test_no_action_items_says_how_to_add_one() -> None:
    blocks = check_message(bk.action_items_blocks([]))
    assert len(blocks) == 1 and "/incident action" in blocks[0]["text"]["text"]


def test_home_view_lists_open_incidents_or_says_none() -> None:
    empty = check_view(bk.home_view([]), "home")
    assert "No open incidents" in all_mrkdwn(empty)
    many = check_view(bk.home_view([(f"INC-2026-{i:03d}", "t", "SEV1", "investigating", CHANNEL) for i in range(500)]), "home")
    assert len(many["blocks"]) <= VIEW_BLOCKS


def test_topic_names_the_ic_rather_than_mentioning_them() -> None:
    assert bk.topic_text("SEV1 - Critical", "identified", IC, "alice") == "SEV1 - Critical | Identified | IC: @alice"
    assert bk.topic_text("SEV1 - Critical", "investigating", None, None) == "SEV1 - Critical | Investigating | IC: no IC yet"
    assert len(bk.topic_text("S" * 5000, "investigating", IC, "n" * 5000)) <= 250


def test_modal_titles_and_buttons_are_short() -> None:
    for view in (bk.declare_modal([("sev1", "SEV1")], None), bk.update_modal(1, "INC-1", "identified", STATUSES),
                 bk.resolve_modal(1, "INC-1")):
        check_view(view, "modal")


def test_declare_modal_preselects_the_second_severity_and_keeps_the_title() -> None:
    view = bk.declare_modal([("sev1", "SEV1"), ("sev2", "SEV2"), ("sev3", "SEV3")], CHANNEL, "DB down")
    select = view["blocks"][1]["element"]
    assert select["initial_option"]["value"] == "sev2"
    assert view["blocks"][0]["element"]["initial_value"] == "DB down"
    assert view["private_metadata"] == CHANNEL
    single = bk.declare_modal([("only", "Only")], None)
    assert single["blocks"][1]["element"]["initial_option"]["value"] == "only"
    assert "initial_value" not in single["blocks"][0]["element"]


def test_slack_date_has_a_utc_fallback() -> None:
    when = dt.datetime(2026, 3, 1, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert bk.slack_date(when) == f"<!date^{int(when.timestamp())}^{{date_short_pretty}} {{time}}|2026-03-01 10:30 UTC>"


# --------------------------------------------------------------------------------------------------------------
# the checker itself catches what it claims to

@pytest.mark.parametrize(("bad", "why"), [
    ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "150"),
    ([{"type": "section", "text": {"type": "mrkdwn", "text": ""}}], "empty"),
    ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}], "2000"),
    ([{"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "b" * 76},
                                        "action_id": "a", "value": "1"}]}], "75"),
    ([{"type": "section", "text": {"type": "mrkdwn", "text": "hi <!channel>"}}], "markup"),
    ([{"type": "section", "text": {"type": "mrkdwn", "text": f"hi <#{CHANNEL[:4]}…"}}], "markup"),
    ([{"type": "section", "text": {"type": "mrkdwn", "text": "a & b"}}], "bare &"),
    ([{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}] * 51, "50"),
])
def test_checker_rejects_bad_payloads(bad: list[dict], why: str) -> None:
    with pytest.raises(AssertionError, match=re.escape(why)):
        check_message(bad)
