"""The Markdown postmortem (against a golden file), its Slack chunks, and the mrkdwn helpers it relies on.

Regenerate the golden file only on purpose: `UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/unit/test_postmortem.py`,
then read the diff.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.mrkdwn import escape, mentions_to_names, strip_markup, truncate, unescape
from bot.core.postmortem import (
    DRAFT_MARKER,
    EVENT_KINDS,
    KIND_LABELS,
    ActionItem,
    PageRecord,
    PostmortemInput,
    StatusUpdate,
    TimelineEntry,
    postmortem_filename,
    render_postmortem,
    slack_chunks,
)

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
NOW = dt.datetime(2026, 3, 5, 9, 30, tzinfo=UTC)
GOLDEN = Path(__file__).parent / "golden" / "postmortem_rich.md"
NAMES = {"UALICE": "Alice Martin", "UBOB": "Bob", "UCAROL": "Carol", "UDAVE": "Dave", "UERIN": "Erin"}


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


TIMELINE_TEXT = {
    "declared": (0, "UDAVE", "Declared by <@UDAVE> as SEV1 - Critical"),
    "paged": (0.2, None, "Paged <@UERIN> (step 1 of Payments escalation)"),
    "channel_failed": (0.3, None, "Could not create <#C0|inc-2026-007-checkout-latency-spike>: name_taken; retried"),
    "pinned": (0.5, None, "Pinned the incident card"),
    "step_skipped": (4, None, "Step 2 skipped: nobody on call in `payments-secondary`"),
    "declined": (5, "UERIN", "<@UERIN> declined the page"),
    "escalated": (5.1, None, "Escalated to step 3: paging <@UBOB>"),
    "acknowledged": (7, "UBOB", "<@UBOB> acknowledged the page"),
    "ic_assigned": (8, "UALICE", "<@UALICE> is now incident commander"),
    "sme_joined": (9, "UCAROL", "<@UCAROL> joined as SME"),
    "note": (12, "UCAROL", "p99 latency > 4s | pool at 100%\nsee <https://grafana.example/d/pool|the pool dashboard>"),
    "status_changed": (20, "UALICE", "Status: investigating → identified"),
    "cause_set": (21, "UALICE", "Root cause recorded"),
    "severity_changed": (22, "UALICE", "Severity: SEV1 - Critical → SEV2 - Major"),
    "status_update": (25, "UALICE", "Posted a status update"),
    "action_added": (30, "UALICE", "Action item: add pool saturation alert (owner <@UCAROL>)"),
    "impact_set": (31, "UALICE", "Impact recorded"),
    "reminder": (55, None, "Reminder: no status update for 30 minutes"),
    "resolved": (65, "UALICE", "Resolved by <@UALICE>"),
    "reopened": (70, "UBOB", "Reopened by <@UBOB>: errors are back"),
    "escalation_exhausted": (71, None, "Escalation exhausted after 2 rounds; nobody acknowledged"),
    "action_done": (80, "UCAROL", "Done: roll back release 2.1.3"),
    "postmortem_generated": (95, "UALICE", "Postmortem generated"),
}


def rich_incident(**changes) -> PostmortemInput:
    """An incident with one of every event kind, mentions everywhere, and text that tries to break the table."""
    timeline = tuple(
        TimelineEntry(at=at(minute), kind=kind, actor=actor, text=text,
                      permalink=(f"https://example.slack.com/archives/C07/p{int(minute * 1000)}"
                                 if kind in ("note", "status_update") else None))
        for kind, (minute, actor, text) in TIMELINE_TEXT.items()
    )
    pm = PostmortemInput(
        reference="INC-2026-007",
        title="Checkout latency spike &amp; <@UBOB> paged",
        severity_label="SEV2 - Major",
        status="resolved",
        declared_at=T0,
        declared_by="UDAVE",
        first_ack_at=at(7),
        first_ic_at=at(8),
        resolved_at=at(90),
        ic="UALICE",
        smes=("UCAROL", "UBOB"),
        summary="Checkout requests timed out for about 90 minutes; <@UCAROL> traced it to the connection pool.",
        impact="About 25% of checkout attempts failed.\nCustomers saw &lt;HTTP 504&gt; errors.",
        root_cause="Connection leak in payments release 2.1.3 exhausted the database pool.",
        resolution="Rolled back to 2.1.2 and raised the pool size; see <https://status.example/inc/7|the status page>.",
        channel_name="inc-2026-007-checkout-latency-spike",
        timeline=timeline,
        updates=(
            StatusUpdate(at=at(45), author=None, status="identified", text="Still rolling back."),
            StatusUpdate(at=at(25), author="UALICE", status="identified",
                         text="Cause found: connection leak.\n\nRolling back, ETA 20 min. cc <@UBOB>"),
        ),
        actions=(
            ActionItem(text="Add pool saturation alert", owner="UCAROL", done=False),
            ActionItem(text="Roll back release 2.1.3", owner="UBOB", done=True),
            ActionItem(text="Write a runbook for\npool exhaustion", owner=None, done=False),
        ),
        pages=(
            PageRecord(at=at(5.1), user="UBOB", outcome="acknowledged"),
            PageRecord(at=at(0.2), user="UERIN", outcome="declined"),
            PageRecord(at=at(70.5), user="UNOBODY", outcome="no response"),
        ),
        names=NAMES,
    )
    return dataclasses.replace(pm, **changes)


def test_rich_incident_matches_golden() -> None:
    rendered = render_postmortem(rich_incident(), NOW, draft=False)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(rendered, encoding="utf-8")
    assert GOLDEN.exists(), "no golden file; run once with UPDATE_GOLDEN=1 and review it"
    assert rendered == GOLDEN.read_text(encoding="utf-8")


def test_fixture_covers_every_event_kind() -> None:
    assert {e.kind for e in rich_incident().timeline} == set(EVENT_KINDS)
    assert set(KIND_LABELS) == set(EVENT_KINDS)


def test_every_event_kind_appears_in_the_timeline() -> None:
    table = _section(render_postmortem(rich_incident(), NOW, draft=False), "Timeline (UTC)")
    for kind in EVENT_KINDS:
        assert f"**{KIND_LABELS[kind]}**" in table, kind


def test_timeline_is_in_time_order() -> None:
    pm = rich_incident()
    shuffled = dataclasses.replace(pm, timeline=tuple(reversed(pm.timeline)))
    assert render_postmortem(shuffled, NOW, draft=False) == render_postmortem(pm, NOW, draft=False)
    rows = _table_rows(render_postmortem(pm, NOW, draft=False))[2:]
    times = [row[0] for row in rows]
    assert times == sorted(times)


def test_mentions_become_names() -> None:
    text = render_postmortem(rich_incident(), NOW, draft=False)
    assert "<@U" not in text and "<#C" not in text and "&amp;" not in text and "&lt;" not in text
    assert "@Alice Martin is now incident commander" in text
    assert "- **Incident commander:** Alice Martin" in text
    assert "- **SMEs:** Carol, Bob" in text
    assert "| Alice Martin |" in text               # actor ids become names too
    assert "| Tocsin |" in text                     # and the bot has a name
    assert "UNOBODY, no response" in text           # an id without a name stays readable


def test_draft_marker_only_in_draft() -> None:
    open_pm = rich_incident(status="monitoring", resolved_at=None)
    draft = render_postmortem(open_pm, NOW, draft=True)
    final = render_postmortem(rich_incident(), NOW, draft=False)
    assert DRAFT_MARKER in draft.splitlines()[2]
    assert DRAFT_MARKER not in final and "DRAFT" not in final
    assert "- **Duration:** 23h 30m so far" in draft
    assert "- **Resolved:** —" in draft and "- **Time to resolve:** —" in draft


def test_table_stays_rectangular_with_pipes_and_newlines() -> None:
    nasty = TimelineEntry(at=at(3), kind="note", actor="UBOB|x",
                          text="a | b \\| c\nd\r\ne\u2028f ]) [x](y)", permalink="https://x.example/a b|(c)")
    pm = rich_incident(timeline=rich_incident().timeline + (nasty,), names=NAMES | {"UBOB|x": "Bob | the\nbuilder"})
    rows = _table_rows(render_postmortem(pm, NOW, draft=False))
    assert len(rows) == 2 + len(pm.timeline)
    assert {len(row) for row in rows} == {3}
    assert any(r"a \| b \\\| c<br>d<br>e<br>f \]) \[x\](y)" in cell for row in rows for cell in row)
    assert any("(https://x.example/a%20b%7C%28c%29)" in cell for row in rows for cell in row)


def test_permalink_links_the_event_and_odd_schemes_are_not_linked() -> None:
    text = render_postmortem(rich_incident(), NOW, draft=False)
    assert "[Posted a status update](https://example.slack.com/archives/C07/p25000)" in text
    entry = TimelineEntry(at=at(1), kind="note", actor=None, text="click", permalink="javascript:alert(1)")
    text = render_postmortem(rich_incident(timeline=(entry,)), NOW, draft=False)
    assert "javascript" not in text and "| **Note**: click | Tocsin |" in text


def test_missing_fields_get_placeholders() -> None:
    pm = rich_incident(impact=None, root_cause="  ", resolution=None, summary=None, ic=None, smes=(),
                       declared_by=None, first_ack_at=None, first_ic_at=None, timeline=(), updates=(), actions=(),
                       pages=(), channel_name=None)
    text = render_postmortem(pm, NOW, draft=False)
    for heading in ("Impact", "Root cause", "Resolution"):
        assert _section(text, heading) == "_Not recorded yet._"
    assert "- **Incident commander:** —" in text and "- **Declared by:** Tocsin" in text
    assert "- **Paged:** —" in text and "- **Acknowledged by:** —" in text
    assert "- **First acknowledged:** —" in text and "- **Time to acknowledge:** —" in text
    assert _section(text, "Action items") == "_No action items yet._"
    assert _section(text, "Status updates") == "_No status updates were posted._"
    assert len(_table_rows(text)) == 3 and {len(r) for r in _table_rows(text)} == {3}


def test_review_sections_have_placeholder_bullets() -> None:
    text = render_postmortem(rich_incident(), NOW, draft=False)
    for heading in ("What went well", "What went wrong", "Where we got lucky", "Lessons learned"):
        assert _section(text, heading).startswith("- _")


def test_action_items_are_checkboxes() -> None:
    section = _section(render_postmortem(rich_incident(), NOW, draft=False), "Action items")
    assert section.splitlines() == [
        "- [ ] Add pool saturation alert (owner: Carol)",
        "- [x] Roll back release 2.1.3 (owner: Bob)",
        "- [ ] Write a runbook for pool exhaustion (no owner)",
    ]


def test_long_title_and_text_stay_on_their_lines() -> None:
    pm = rich_incident(title="x" * 300 + "\n# injected heading")
    text = render_postmortem(pm, NOW, draft=False)
    assert text.splitlines()[0] == f"# Postmortem: INC-2026-007 — {'x' * 300} # injected heading"


def test_filename() -> None:
    assert postmortem_filename(rich_incident()) == "inc-2026-007-postmortem.md"
    assert postmortem_filename(rich_incident(reference="")) == "incident-postmortem.md"


def test_rendering_does_not_depend_on_the_input_time_zone() -> None:
    tokyo = dt.timezone(dt.timedelta(hours=9))
    pm = rich_incident()
    moved = dataclasses.replace(pm, timeline=tuple(dataclasses.replace(e, at=e.at.astimezone(tokyo))
                                                   for e in pm.timeline))
    assert render_postmortem(moved, NOW, draft=False) == render_postmortem(pm, NOW, draft=False)


# --- slack_chunks -----------------------------------------------------------------------------------------------

def test_rich_postmortem_chunks_for_slack() -> None:
    pm = rich_incident(timeline=rich_incident().timeline * 20, root_cause="y" * 7000)
    text = render_postmortem(pm, NOW, draft=False)
    chunks = slack_chunks(text)
    assert len(chunks) > 3
    assert all(0 < len(c) <= 3000 for c in chunks)
    assert "".join(chunks) == text
    whole_lines = [c for c in chunks if "y" * 100 not in c]
    assert all(c.endswith("\n") for c in whole_lines)          # cut at line ends except inside the long line


def test_slack_chunks_edges() -> None:
    assert slack_chunks("") == []
    assert slack_chunks("abc") == ["abc"]
    assert slack_chunks("ab\ncd\n", limit=3) == ["ab\n", "cd\n"]
    assert slack_chunks("abcdefg", limit=3) == ["abc", "def", "g"]
    assert slack_chunks("a\nbcdefg\nh", limit=3) == ["a\n", "bcd", "efg", "\nh"]
    with pytest.raises(ValueError):
        slack_chunks("x", limit=0)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from("ab |\n\r\u2028é")), limit=st.integers(1, 12))
def test_slack_chunks_property(text: str, limit: int) -> None:
    chunks = slack_chunks(text, limit)
    assert "".join(chunks) == text
    assert all(0 < len(c) <= limit for c in chunks)


# --- mrkdwn -----------------------------------------------------------------------------------------------------

def test_escape_and_unescape() -> None:
    assert escape("a & <b> &amp;") == "a &amp; &lt;b&gt; &amp;amp;"
    assert unescape(escape("a & <b> &amp;")) == "a & <b> &amp;"


@pytest.mark.parametrize(("text", "limit", "expected"), [
    ("hello", 5, "hello"), ("hello!", 5, "hell…"), ("hello", 0, ""), ("hello", 1, "h"),
    ("a &amp; b", 6, "a …"), ("a &amp; b", 8, "a &amp;…"), ("R&D team", 4, "R&D…"),
])
def test_truncate(text: str, limit: int, expected: str) -> None:
    assert truncate(text, limit) == expected


@settings(max_examples=200, deadline=None)
@given(text=st.text(), limit=st.integers(0, 50), ellipsis=st.sampled_from(["…", "...", ""]))
def test_truncate_never_exceeds_the_limit(text: str, limit: int, ellipsis: str) -> None:
    out = truncate(text, limit, ellipsis)
    assert len(out) <= limit
    if len(text) <= limit:
        assert out == text


def test_mentions_to_names() -> None:
    names = {"U1": "Alice", "U2": "Bobby"}
    text = ("<@U1> <@U2|bob> <@U3|carol> <@U4> in <#C1|ops> <#C2> <https://a.example|dash> <https://b.example> "
            "<mailto:x@y.example|x@y.example> <!here> <!subteam^S1|@sre> &lt;b&gt; &amp;lt;")
    assert mentions_to_names(text, names) == (
        "@Alice @Bobby @carol @U4 in #ops #C2 dash (https://a.example) https://b.example "
        "x@y.example @here @sre <b> &lt;"
    )


def test_strip_markup_keeps_labels_only() -> None:
    text = "<@U1> fixed <#C1|ops> via <https://x|the fix> &amp; <https://y>"
    assert strip_markup(text) == " fixed ops via the fix & "


# --- helpers ----------------------------------------------------------------------------------------------------

def _section(markdown: str, heading: str) -> str:
    """The body under `## heading`, up to the next heading."""
    match = re.search(rf"^## {re.escape(heading)}\n\n(.*?)(?=\n\n## |\n\n---|\Z)", markdown, re.S | re.M)
    assert match, heading
    return match.group(1).strip()


def _table_rows(markdown: str) -> list[list[str]]:
    """Cells of each table row as GitHub's table parser splits them: at pipes not escaped by a backslash."""
    rows = []
    for line in _section(markdown, "Timeline (UTC)").splitlines():
        cells, cell, i = [], "", 0
        body = line.strip()
        assert body.startswith("|") and body.endswith("|") and not body.endswith("\\|"), line
        body = body[1:-1]
        while i < len(body):
            if body[i] == "\\" and i + 1 < len(body):
                cell += body[i:i + 2]
                i += 2
                continue
            if body[i] == "|":
                cells.append(cell.strip())
                cell = ""
            else:
                cell += body[i]
            i += 1
        cells.append(cell.strip())
        rows.append(cells)
    return rows
