"""Self-tests of the Slack stand-in, driven by real slack_sdk / slack_bolt clients."""

from __future__ import annotations

import asyncio
import time

import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from tests.standin import DEFAULT_SCOPES, SlackStandin, StandinError

ALICE, BOB, CAROL = "UALICE001", "UBOB00001", "UCAROL001"


@pytest.fixture
async def standin():
    async with SlackStandin(ack_timeout=1.0) as s:
        s.add_user(ALICE, "alice", "alice@example.com", tz="Europe/Paris")
        s.add_user(BOB, "bob", "bob@example.com")
        s.add_user(CAROL, "carol", "carol@example.com")
        yield s


@pytest.fixture
async def client(standin):
    c = AsyncWebClient(token=standin.bot_token, base_url=standin.api_url)
    yield c
    if c.session is not None:
        await c.session.close()


async def error_of(coro) -> SlackApiError:
    with pytest.raises(SlackApiError) as ei:
        await coro
    return ei.value


@pytest.fixture
async def bolt(standin):
    app = AsyncApp(client=AsyncWebClient(token=standin.bot_token, base_url=standin.api_url))
    handler = AsyncSocketModeHandler(app, standin.app_token)
    await handler.connect_async()
    await standin.wait_connected()
    yield app
    await handler.close_async()


# --------------------------------------------------------------------------- auth / scopes
async def test_auth_errors(standin, client):
    ok = await client.auth_test()
    assert ok["user_id"] == standin.bot_user_id and ok["team_id"] == "T0TEST"
    assert (await error_of(AsyncWebClient(base_url=standin.api_url).auth_test())).response["error"] == "not_authed"
    bad = AsyncWebClient(token="xoxb-nope", base_url=standin.api_url)
    assert (await error_of(bad.auth_test())).response["error"] == "invalid_auth"
    app_tok = AsyncWebClient(token=standin.app_token, base_url=standin.api_url)
    e = await error_of(app_tok.chat_postMessage(channel=ALICE, text="hi"))
    assert e.response["error"] == "not_allowed_token_type"
    e = await error_of(client.apps_connections_open(app_token=standin.bot_token))
    assert e.response["error"] == "not_allowed_token_type"
    e = await error_of(client.api_call("chat.frobnicate"))
    assert e.response["error"] == "unknown_method"
    # every call is recorded with its response, failures included
    assert [c.error for c in standin.calls_to("auth.test")] == [None, "not_authed", "invalid_auth"]


async def test_missing_scope():
    async with SlackStandin(scopes=set(DEFAULT_SCOPES) - {"chat:write", "groups:write"}) as s:
        c = AsyncWebClient(token=s.bot_token, base_url=s.api_url)
        cid = s.add_channel("general", bot_member=True)
        e = await error_of(c.chat_postMessage(channel=cid, text="hi"))
        assert e.response["error"] == "missing_scope" and e.response["needed"] == "chat:write"
        e = await error_of(c.conversations_create(name="secret", is_private=True))
        assert e.response["error"] == "missing_scope" and e.response["needed"] == "groups:write"
        assert (await c.conversations_create(name="public-ok"))["ok"]


# --------------------------------------------------------------------------- channels
async def test_membership_and_channel_ids(standin, client):
    pub = standin.add_channel("general", members=[ALICE])
    priv = standin.add_channel("secret", is_private=True, members=[ALICE])
    # public channel, not a member: chat:write.public lets the bot post
    assert (await client.chat_postMessage(channel=pub, text="hello"))["ok"]
    standin.scopes.discard("chat:write.public")
    assert (await error_of(client.chat_postMessage(channel=pub, text="x"))).response["error"] == "not_in_channel"
    # private channel the bot is not in does not exist for it
    assert (await error_of(client.chat_postMessage(channel=priv, text="x"))).response["error"] == "channel_not_found"
    assert (await error_of(client.conversations_info(channel=priv))).response["error"] == "channel_not_found"
    # names: chat.postMessage accepts them, the other methods want IDs
    await client.conversations_join(channel=pub)
    r = await client.chat_postMessage(channel="#general", text="by name")
    assert r["channel"] == pub
    assert (await error_of(client.conversations_info(channel="general"))).response["error"] == "channel_not_found"
    assert (await error_of(client.conversations_setTopic(channel="#general", topic="t"))).response["error"] == "channel_not_found"
    # a user id posts to the DM
    r = await client.chat_postMessage(channel=ALICE, text="psst")
    assert r["channel"] == standin.dm_channel(ALICE) and r["channel"].startswith("D")
    assert [m.text for m in standin.dms(ALICE)] == ["psst"]
    assert (await client.conversations_open(users=ALICE))["channel"]["id"] == standin.dm_channel(ALICE)
    # join rules
    assert (await client.conversations_join(channel=pub))["warning"] == "already_in_channel"
    standin.channels[priv].members.add(standin.bot_user_id)
    e = await error_of(client.conversations_join(channel=priv))
    assert e.response["error"] == "method_not_supported_for_channel_type"


async def test_conversations_create_rules(standin, client):
    for name, err in [
        ("Incident 1", "invalid_name_specials"),
        ("INC-1", "invalid_name_specials"),
        ("x" * 81, "invalid_name_maxlength"),
        ("", "invalid_name_required"),
        ("---", "invalid_name_punctuation"),
    ]:
        assert (await error_of(client.conversations_create(name=name))).response["error"] == err, name
    r = await client.conversations_create(name="inc-1-db-down", is_private=True)
    ch = standin.channels[r["channel"]["id"]]
    assert ch.is_private and standin.bot_user_id in ch.members and r["channel"]["is_member"]
    assert (await error_of(client.conversations_create(name="inc-1-db-down"))).response["error"] == "name_taken"
    # boolean arrives as "1" in the query string; recorded decoded as sent
    assert standin.calls_to("conversations.create")[-2].params["is_private"] == "1"


async def test_invite_topic_purpose(standin, client):
    cid = (await client.conversations_create(name="inc-2"))["channel"]["id"]
    standin.channels[cid].members.add(ALICE)
    e = await error_of(client.conversations_invite(channel=cid, users=[BOB, ALICE]))
    assert e.response["error"] == "already_in_channel"
    assert e.response["errors"] == [{"user": ALICE, "ok": False, "error": "already_in_channel"}]
    assert BOB not in standin.channels[cid].members  # all or nothing
    assert (await error_of(client.conversations_invite(channel=cid, users="UNOBODY1"))).response["error"] == "user_not_found"
    e = await error_of(client.conversations_invite(channel=cid, users=standin.bot_user_id))
    assert e.response["error"] == "cant_invite_self"
    await client.conversations_invite(channel=cid, users=f"{BOB},{CAROL}")
    assert {BOB, CAROL} <= standin.channels[cid].members
    other = standin.add_channel("elsewhere", members=[ALICE])
    assert (await error_of(client.conversations_invite(channel=other, users=BOB))).response["error"] == "not_in_channel"
    assert (await error_of(client.conversations_setTopic(channel=other, topic="t"))).response["error"] == "not_in_channel"
    await client.conversations_setTopic(channel=cid, topic="SEV1: db down")
    await client.conversations_setPurpose(channel=cid, purpose="Incident 2")
    assert standin.channels[cid].topic == "SEV1: db down" and standin.channels[cid].purpose == "Incident 2"
    assert (await error_of(client.conversations_setTopic(channel=cid, topic="x" * 251))).response["error"] == "too_long"
    info = await client.conversations_info(channel=cid, include_num_members=True)
    assert info["channel"]["num_members"] == 4


async def test_history_pins_reactions_users(standin, client):
    cid = standin.add_channel("ops", members=[ALICE], bot_member=True)
    ts = (await client.chat_postMessage(channel=cid, text="one"))["ts"]
    await client.chat_postMessage(channel=cid, text="reply", thread_ts=ts)
    await client.chat_postMessage(channel=cid, text="two")
    hist = await client.conversations_history(channel=cid)
    assert [m["text"] for m in hist["messages"]] == ["two", "one"]
    assert [m["text"] for m in (await client.conversations_replies(channel=cid, ts=ts))["messages"]] == ["one", "reply"]
    await client.pins_add(channel=cid, timestamp=ts)
    assert (await error_of(client.pins_add(channel=cid, timestamp=ts))).response["error"] == "already_pinned"
    assert (await error_of(client.pins_add(channel=cid, timestamp="1.000001"))).response["error"] == "message_not_found"
    assert standin.channels[cid].pins == [ts]
    await client.reactions_add(channel=cid, timestamp=ts, name="eyes")
    assert (await error_of(client.reactions_add(channel=cid, timestamp=ts, name="eyes"))).response["error"] == "already_reacted"
    link = await client.chat_getPermalink(channel=cid, message_ts=ts)
    assert link["permalink"].endswith(ts.replace(".", ""))
    u = (await client.users_info(user=ALICE))["user"]
    assert u["profile"]["email"] == "alice@example.com" and u["tz"] == "Europe/Paris"
    assert (await error_of(client.users_info(user="UNOBODY1"))).response["error"] == "user_not_found"
    assert (await client.users_lookupByEmail(email="bob@example.com"))["user"]["id"] == BOB
    assert (await error_of(client.users_lookupByEmail(email="x@y.z"))).response["error"] == "users_not_found"
    nothere = standin.add_channel("quiet", members=[ALICE])
    assert (await error_of(client.conversations_history(channel=nothere))).response["error"] == "not_in_channel"
    e = await error_of(client.chat_postEphemeral(channel=cid, user=BOB, text="x"))
    assert e.response["error"] == "user_not_in_channel"
    await client.chat_postEphemeral(channel=cid, user=ALICE, text="only you")
    assert [e.text for e in standin.ephemerals(ALICE)] == ["only you"]


# --------------------------------------------------------------------------- messages / blocks
def section(text):
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


async def test_chat_update_text_only_keeps_blocks(standin, client):
    cid = standin.add_channel("ops", bot_member=True)
    blocks = [section("*SEV1*"), {"type": "actions", "elements": [{"type": "button", "action_id": "ack", "text": {"type": "plain_text", "text": "Ack"}}]}]
    ts = (await client.chat_postMessage(channel=cid, text="SEV1", blocks=blocks))["ts"]
    await client.chat_update(channel=cid, ts=ts, text="resolved")
    m = standin.message(cid, ts)
    # Slack: omitted blocks are retained; the client still renders the old blocks
    assert m.edited and m.text == "resolved" and m.blocks and m.blocks[0]["text"]["text"] == "*SEV1*"
    assert any("did not change" in w for w in standin.warnings)
    await client.chat_update(channel=cid, ts=ts, text="resolved", blocks=[])
    assert standin.message(cid, ts).blocks is None
    assert len(m.history) == 3
    other = await client.chat_postMessage(channel=cid, text="x")
    standin.message(cid, other["ts"]).user = ALICE  # pretend a human wrote it
    assert (await error_of(client.chat_update(channel=cid, ts=other["ts"], text="y"))).response["error"] == "cant_update_message"
    assert (await error_of(client.chat_update(channel=cid, ts="1.000002", text="y"))).response["error"] == "message_not_found"
    with pytest.warns(UserWarning):  # slack_sdk itself warns about the missing text
        assert (await error_of(client.chat_postMessage(channel=cid))).response["error"] == "no_text"


async def test_block_kit_limits(standin, client):
    cid = standin.add_channel("ops", bot_member=True)
    cases = [
        ([section("x" * 3001)], "/blocks/0/text/text"),
        ([section("x")] * 51, "/blocks"),
        ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "/blocks/0/text/text"),
        ([{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}], "/blocks/0/text/type"),
        ([{"type": "actions", "elements": [{"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "b" * 76}}]}], "/blocks/0/elements/0/text/text"),
        ([{"type": "actions", "elements": [{"type": "button", "action_id": "a" * 256, "text": {"type": "plain_text", "text": "b"}}]}], "/blocks/0/elements/0/action_id"),
        ([{"type": "actions", "elements": [{"type": "button", "action_id": "a", "value": "v" * 2001, "text": {"type": "plain_text", "text": "b"}}]}], "/blocks/0/elements/0/value"),
        ([section("a") | {"block_id": "same"}, section("b") | {"block_id": "same"}], "/blocks/1/block_id"),
    ]
    for blocks, ptr in cases:
        e = await error_of(client.chat_postMessage(channel=cid, text="t", blocks=blocks))
        assert e.response["error"] == "invalid_blocks"
        assert any(f"[json-pointer:{ptr}]" in m for m in e.response["response_metadata"]["messages"]), (ptr, e.response)
    assert standin.messages(cid) == []
    assert (await error_of(client.chat_postMessage(channel=cid, text="x" * 40001))).response["error"] == "msg_too_long"


# --------------------------------------------------------------------------- rate limits / latency
async def test_rate_limit_429_and_retry_handler(standin, client):
    standin.set_rate_limit("conversations.info", 2, 1.0)
    cid = standin.add_channel("ops", bot_member=True)
    await client.conversations_info(channel=cid)
    await client.conversations_info(channel=cid)
    e = await error_of(client.conversations_info(channel=cid))
    assert e.response.status_code == 429 and e.response["error"] == "ratelimited"
    assert e.response.headers["Retry-After"] == "1"
    retrying = AsyncWebClient(
        token=standin.bot_token, base_url=standin.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )
    t0 = time.monotonic()
    assert (await retrying.conversations_info(channel=cid))["ok"]
    assert time.monotonic() - t0 >= 1.0
    assert [c.http_status for c in standin.calls_to("conversations.info")][-2:] == [429, 200]


async def test_slack_tiers_scale_and_post_message_per_channel(standin, client):
    standin.use_slack_tiers(scale=60)  # Tier 2 = 20 per second
    for i in range(20):
        await client.conversations_create(name=f"c{i}")
    e = await error_of(client.conversations_create(name="c20"))
    assert e.response.status_code == 429 and int(e.response.headers["Retry-After"]) >= 1
    a, b = standin.add_channel("a", bot_member=True), standin.add_channel("b", bot_member=True)
    for _ in range(3):
        await client.chat_postMessage(channel=a, text="x")
    assert (await error_of(client.chat_postMessage(channel=a, text="x"))).response["error"] == "ratelimited"
    assert (await client.chat_postMessage(channel=b, text="other channel has its own budget"))["ok"]


async def test_latency(standin, client):
    standin.latency = 0.2
    t0 = time.monotonic()
    await client.auth_test()
    assert time.monotonic() - t0 >= 0.2
    standin.latency = 0.0


# --------------------------------------------------------------------------- files / canvases
async def test_files_upload_v2(standin, client):
    cid = standin.add_channel("ops", bot_member=True)
    r = await client.files_upload_v2(channel=cid, content="timeline\n10:00 paged", filename="timeline.txt", title="Timeline", initial_comment="here")
    assert r["file"]["title"] == "Timeline"
    (f,) = standin.files
    assert f.content == b"timeline\n10:00 paged" and f.channels == [cid] and f.completed
    (m,) = standin.messages(cid)
    assert m.files == [f.id] and m.text == "here"
    other = standin.add_channel("elsewhere")
    e = await error_of(client.files_upload_v2(channel=other, content="x", filename="x.txt"))
    assert e.response["error"] == "not_in_channel"


async def test_canvases(standin, client):
    cid = standin.add_channel("ops", bot_member=True)
    r = await client.conversations_canvases_create(channel_id=cid, document_content={"type": "markdown", "markdown": "# Incident\nstatus: open"})
    cv = standin.canvases[r["canvas_id"]]
    assert standin.channels[cid].canvas_id == cv.id and cv.markdown.startswith("# Incident")
    e = await error_of(client.conversations_canvases_create(channel_id=cid, document_content={"type": "markdown", "markdown": "again"}))
    assert e.response["error"] == "channel_canvas_already_exists"
    secs = await client.canvases_sections_lookup(canvas_id=cv.id, criteria={"contains_text": "status"})
    await client.canvases_edit(canvas_id=cv.id, changes=[{"operation": "replace", "section_id": secs["sections"][0]["id"], "document_content": {"type": "markdown", "markdown": "status: resolved"}}])
    assert cv.markdown == "# Incident\nstatus: resolved"
    await client.canvases_edit(canvas_id=cv.id, changes=[{"operation": "replace", "document_content": {"type": "markdown", "markdown": "all new"}}])
    assert cv.markdown == "all new" and len(cv.edits) == 2
    e = await error_of(client.canvases_edit(canvas_id="F404", changes=[{"operation": "replace", "document_content": {"type": "markdown", "markdown": "x"}}]))
    assert e.response["error"] == "canvas_not_found"
    standin.canvases_enabled = False
    other = standin.add_channel("free", bot_member=True)
    e = await error_of(client.conversations_canvases_create(channel_id=other, document_content={"type": "markdown", "markdown": "x"}))
    assert e.response["error"] == "team_tier_cannot_create_channel_canvases"


# --------------------------------------------------------------------------- Socket Mode with bolt
MODAL = {
    "type": "modal",
    "callback_id": "declare",
    "title": {"type": "plain_text", "text": "Declare incident"},
    "submit": {"type": "plain_text", "text": "Declare"},
    "private_metadata": "meta",
    "blocks": [
        {"type": "input", "block_id": "title", "label": {"type": "plain_text", "text": "Title"}, "element": {"type": "plain_text_input", "action_id": "v"}},
        {
            "type": "input",
            "block_id": "sev",
            "label": {"type": "plain_text", "text": "Severity"},
            "element": {
                "type": "static_select",
                "action_id": "v",
                "options": [{"text": {"type": "plain_text", "text": s}, "value": s} for s in ("sev1", "sev2")],
            },
        },
        {"type": "input", "block_id": "lead", "optional": True, "label": {"type": "plain_text", "text": "Lead"}, "element": {"type": "users_select", "action_id": "v"}},
    ],
}


async def test_bolt_slash_command_modal_and_submission(standin, bolt):
    cid = standin.add_channel("general", members=[ALICE])
    seen = {}

    @bolt.command("/incident")
    async def on_command(ack, body, client):
        await ack(f"Declaring: {body['text']}")
        r = await client.views_open(trigger_id=body["trigger_id"], view=MODAL)
        seen["view_id"] = r["view"]["id"]

    @bolt.view("declare")
    async def on_submit(ack, view):
        values = view["state"]["values"]
        seen["values"] = values
        if values["title"]["v"]["value"] == "bad":
            await ack(response_action="errors", errors={"title": "too vague"})
        else:
            await ack()

    ack = await standin.slash_command(ALICE, cid, "db down")
    assert not ack.timed_out and ack.payload == {"text": "Declaring: db down"} and ack.trigger_id
    assert [e.text for e in standin.ephemerals(ALICE)] == ["Declaring: db down"]
    await standin.wait_for(lambda: standin.open_views(ALICE))
    (view,) = standin.open_views(ALICE)
    assert view.callback_id == "declare" and view.id == seen["view_id"]
    # the trigger was exchanged once
    assert standin.calls_to("views.open")[0].ok

    with pytest.raises(StandinError):  # required "sev" left empty: Slack would not submit
        await standin.submit_view(ALICE, view.id, {"title": {"v": "db"}})
    ack = await standin.submit_view(ALICE, view.id, {"title": {"v": "bad"}, "sev": {"v": "sev1"}})
    assert ack.payload == {"response_action": "errors", "errors": {"title": "too vague"}}
    assert standin.open_views(ALICE) == [view]  # still open
    ack = await standin.submit_view(ALICE, view.id, {"title": {"v": "db down"}, "sev": {"v": "sev2"}, "lead": {"v": BOB}})
    assert ack.payload is None and standin.open_views(ALICE) == []
    assert seen["values"]["sev"]["v"] == {"type": "static_select", "selected_option": {"text": {"type": "plain_text", "text": "sev2"}, "value": "sev2"}}
    assert seen["values"]["title"]["v"] == {"type": "plain_text_input", "value": "db down"}
    assert seen["values"]["lead"]["v"] == {"type": "users_select", "selected_user": BOB}
    with pytest.raises(StandinError):
        await standin.submit_view(ALICE, view.id, {})  # closed
    assert [a.envelope["type"] for a in standin.acks] == ["slash_commands", "interactive", "interactive"]


async def test_triggers_expire_and_are_single_use():
    async with SlackStandin(trigger_ttl=0.2) as s:
        s.add_user(ALICE, "alice")
        cid = s.add_channel("general", members=[ALICE])
        app = AsyncApp(client=AsyncWebClient(token=s.bot_token, base_url=s.api_url))

        @app.command("/incident")
        async def on_command(ack):
            await ack()

        handler = AsyncSocketModeHandler(app, s.app_token)
        await handler.connect_async()
        try:
            c = AsyncWebClient(token=s.bot_token, base_url=s.api_url)
            t1 = (await s.slash_command(ALICE, cid, "")).trigger_id
            assert (await c.views_open(trigger_id=t1, view=MODAL))["ok"]
            assert (await error_of(c.views_open(trigger_id=t1, view=MODAL))).response["error"] == "exchanged_trigger_id"
            t2 = (await s.slash_command(ALICE, cid, "")).trigger_id
            await asyncio.sleep(0.3)
            assert (await error_of(c.views_open(trigger_id=t2, view=MODAL))).response["error"] == "expired_trigger_id"
            assert (await error_of(c.views_open(trigger_id="1.2.3", view=MODAL))).response["error"] == "invalid_trigger_id"
            t3 = (await s.slash_command(ALICE, cid, "")).trigger_id
            long_title = MODAL | {"title": {"type": "plain_text", "text": "x" * 25}}
            e = await error_of(c.views_open(trigger_id=t3, view=long_title))
            assert e.response["error"] == "invalid_arguments"
            assert "[json-pointer:/view/title/text]" in e.response["response_metadata"]["messages"][0]
        finally:
            await handler.close_async()


async def test_bolt_button_click_and_respond(standin, bolt, client):
    cid = standin.add_channel("inc-3", members=[ALICE], bot_member=True)

    @bolt.action("ack_incident")
    async def on_click(ack, body, respond, client):
        await ack()
        assert body["actions"][0]["value"] == "inc-3"
        assert body["container"]["channel_id"] == cid and body["message"]["ts"]
        await respond(text=f"<@{body['user']['id']}> acknowledged", response_type="ephemeral", replace_original=False)
        await client.chat_update(channel=body["channel"]["id"], ts=body["message"]["ts"], text="acked", blocks=[])

    blocks = [
        section("SEV1 *db down*"),
        {"type": "actions", "elements": [
            {"type": "button", "action_id": "ack_incident", "value": "inc-3", "text": {"type": "plain_text", "text": "Ack"}},
        ]},
    ]
    ts = (await client.chat_postMessage(channel=cid, text="SEV1", blocks=blocks))["ts"]
    with pytest.raises(StandinError):
        await standin.click(ALICE, cid, ts, "resolve")  # no such button
    ack = await standin.click(ALICE, cid, ts, "ack_incident")
    assert not ack.timed_out and ack.response_url.startswith(standin.base_url)
    await standin.wait_for(lambda: standin.message(cid, ts).edited)
    assert standin.ephemerals(ALICE)[-1].text == f"<@{ALICE}> acknowledged"
    assert standin.calls_to("response_url")[0].response["ok"]


async def test_events_pin_and_retry(standin, bolt, client):
    cid = standin.add_channel("inc-4", members=[ALICE], bot_member=True)
    ts = (await client.chat_postMessage(channel=cid, text="root cause found"))["ts"]
    got = []

    @bolt.event("pin_added")
    async def on_pin(event):
        got.append(event)

    ack = await standin.pin_message(ALICE, cid, ts)
    assert ack is not None and not ack.timed_out
    assert ack.envelope["payload"]["event"]["item"]["message"]["ts"] == ts
    await standin.wait_for(lambda: got)
    assert got[0]["user"] == ALICE and got[0]["channel_id"] == cid
    # no listener for this event: bolt does not ack it, Slack retries with retry_reason timeout
    standin.ack_timeout = 0.1
    ack = await standin.send_event({"type": "app_mention", "user": ALICE, "text": "hi", "channel": cid, "ts": ts})
    assert ack.timed_out and ack.retry_attempt == 3
    sent = [e for e in standin.envelopes if e["type"] == "events_api" and e["payload"]["event"]["type"] == "app_mention"]
    assert [(e["retry_attempt"], e["retry_reason"]) for e in sent] == [(0, ""), (1, "timeout"), (2, "timeout"), (3, "timeout")]
    assert len({e["payload"]["event_id"] for e in sent}) == 1


async def test_slash_command_ack_timeout(standin, bolt):
    cid = standin.add_channel("general", members=[ALICE])
    standin.ack_timeout = 0.2

    @bolt.command("/incident")
    async def slow(ack):
        await asyncio.sleep(0.4)
        await ack("too late")

    ack = await standin.slash_command(ALICE, cid, "x")
    assert ack.timed_out and ack.payload is None
    assert standin.ephemerals(ALICE)[-1].text == '/incident failed with the error "operation_timeout"'
    await standin.wait_for(lambda: standin.late_acks)
    assert standin.late_acks[0]["payload"] == {"text": "too late"}


async def test_concurrent_envelopes(standin, bolt):
    cid = standin.add_channel("general", members=[ALICE, BOB])

    @bolt.command("/incident")
    async def on_command(ack, body):
        await asyncio.sleep(0.2)
        await ack(body["text"])

    t0 = time.monotonic()
    acks = await asyncio.gather(*(standin.slash_command(u, cid, f"n{i}") for i, u in enumerate([ALICE, BOB, ALICE])))
    assert [a.payload["text"] for a in acks] == ["n0", "n1", "n2"]
    assert time.monotonic() - t0 < 0.6  # handled in parallel


async def test_response_url_rules(standin, bolt):
    import aiohttp

    cid = standin.add_channel("general", members=[ALICE])

    @bolt.command("/incident")
    async def on_command(ack):
        await ack()

    ack = await standin.slash_command(ALICE, cid, "")
    async with aiohttp.ClientSession() as http:
        async def post(body):
            async with http.post(ack.response_url, json=body) as r:
                return r.status, await r.text()

        assert await post({"text": "private"}) == (200, "ok")
        assert await post({"text": "public", "response_type": "in_channel"}) == (200, "ok")
        assert await post({}) == (400, "no_text")
        for _ in range(3):
            assert (await post({"text": "again"}))[0] == 200
        assert await post({"text": "sixth"}) == (404, "used_url")
    assert [e.text for e in standin.ephemerals(ALICE)] == ["private", "again", "again", "again"]
    assert [m.text for m in standin.messages(cid)] == ["public"]


async def test_reconnect_and_ping_pong(standin):
    app = AsyncApp(client=AsyncWebClient(token=standin.bot_token, base_url=standin.api_url))

    @app.command("/incident")
    async def on_command(ack):
        await ack("pong")

    handler = AsyncSocketModeHandler(app, standin.app_token, ping_interval=0.2)
    await handler.connect_async()
    try:
        await standin.wait_connected()
        cid = standin.add_channel("general", members=[ALICE])
        await asyncio.sleep(1.0)  # several client pings answered: no stale-session reconnect
        assert len(standin.calls_to("apps.connections.open")) == 1
        await standin.request_reconnect()
        await standin.wait_for(lambda: len(standin.calls_to("apps.connections.open")) == 2)
        await standin.wait_connected()
        assert (await standin.slash_command(ALICE, cid, "")).payload == {"text": "pong"}
    finally:
        await handler.close_async()


async def test_user_message_mention(standin, bolt):
    cid = standin.add_channel("inc-5", members=[ALICE], bot_member=True)
    got = []

    @bolt.event("app_mention")
    async def on_mention(event):
        got.append(event["text"])

    await standin.post_message(ALICE, cid, f"<@{standin.bot_user_id}> status?")
    assert got == []  # not subscribed (and no app_mentions:read): nothing delivered
    standin.event_subscriptions.add("app_mention")
    standin.scopes.add("app_mentions:read")
    await standin.post_message(ALICE, cid, f"<@{standin.bot_user_id}> status?")
    await standin.wait_for(lambda: got)
    assert [m.user for m in standin.messages(cid)] == [ALICE, ALICE]
