"""Channel names: every title, however typed, gives a name Slack accepts on the first try."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.naming import NAME_MAX, channel_name, normalize_prefix, slugify

VALID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@pytest.mark.parametrize(("title", "expected"), [
    ("Checkout latency spike", "inc-2026-007-checkout-latency-spike"),
    ("Café déjà vu in Zürich", "inc-2026-007-cafe-deja-vu-in-zurich"),
    ("Straße, Øresund, Æbleskiver, Łódź, Đakovo", "inc-2026-007-strasse-oresund-aebleskiver-lodz-dakovo"),
    ("🔥🔥🔥", "inc-2026-007-incident"),
    (":fire: :rotating_light:", "inc-2026-007-incident"),
    ("", "inc-2026-007-incident"),
    ("Checkout &amp; payments down", "inc-2026-007-checkout-payments-down"),
    ("API 5xx &gt; 10%", "inc-2026-007-api-5xx-10"),
    ("  DB -- down!!  ", "inc-2026-007-db-down"),
    ("Can't log in", "inc-2026-007-cant-log-in"),
    ("<@U123ABC> says <#C1|payments> is down, see <https://grafana.example/d/1|the dashboard>",
     "inc-2026-007-says-payments-is-down-see-the-dashboard"),
    ("<https://status.example> flapping", "inc-2026-007-flapping"),
    ("error:db:timeout", "inc-2026-007-error-db-timeout"),
    ("ﬁle sizes² ①", "inc-2026-007-file-sizes2-1"),
    ("日本語のタイトル", "inc-2026-007-incident"),
])
def test_examples(title: str, expected: str) -> None:
    assert channel_name("inc", 2026, 7, title) == expected


def test_number_is_padded_to_three_digits_but_never_cut() -> None:
    assert channel_name("inc", 2026, 1, "x") == "inc-2026-001-x"
    assert channel_name("inc", 2026, 1234, "x") == "inc-2026-1234-x"


def test_suffix_counts_from_two() -> None:
    assert channel_name("inc", 2026, 7, "db down", suffix=1) == "inc-2026-007-db-down-2"
    assert channel_name("inc", 2026, 7, "db down", suffix=0) == "inc-2026-007-db-down"


def test_long_title_is_cut_at_a_word_and_keeps_the_suffix() -> None:
    title = ("Elevated error rates on checkout and payments after the deploy of the new connection pool " * 4).strip()
    assert len(title) >= 300
    name = channel_name("inc", 2026, 7, title, suffix=4)
    assert len(name) <= NAME_MAX
    assert name.endswith("-5")
    body = name[len("inc-2026-007-"):-len("-5")]
    assert slugify(title).startswith(body + "-")        # ends on a whole word


def test_one_long_word_is_cut_hard() -> None:
    name = channel_name("inc", 2026, 7, "x" * 300, suffix=1)
    assert len(name) == NAME_MAX
    assert VALID.match(name) and name.endswith("x-2")


@pytest.mark.parametrize(("raw", "expected"), [
    ("inc", "inc"), ("INC", "inc"), (" Ops_Team ", "ops-team"), ("--x--", "x"), ("🔥", "inc"), ("", "inc"),
    ("é" * 40, "e" * 20),
])
def test_normalize_prefix(raw: str, expected: str) -> None:
    assert normalize_prefix(raw) == expected


def test_prefix_is_normalized_inside_channel_name() -> None:
    assert channel_name("Sev Ops!", 2026, 7, "x") == "sev-ops-2026-007-x"


def test_negative_numbers_are_refused() -> None:
    with pytest.raises(ValueError):
        channel_name("inc", 2026, -1, "x")


PREFIXES = ["inc", "incident", "INC", "ops team", "p", "🔥", "very-long-prefix-for-incidents-here"]


@settings(max_examples=400, deadline=None)
@given(title=st.text(alphabet=st.characters(blacklist_categories=("Cs",))),
       prefix=st.sampled_from(PREFIXES),
       number=st.integers(1, 99999),
       suffix=st.integers(0, 50))
def test_any_title_gives_a_valid_name(title: str, prefix: str, number: int, suffix: int) -> None:
    name = channel_name(prefix, 2026, number, title, suffix=suffix)
    assert VALID.match(name), name
    assert len(name) <= NAME_MAX
    assert name.startswith(f"{normalize_prefix(prefix)}-2026-{number:03d}-")
    if suffix:
        assert name.endswith(f"-{suffix + 1}")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",))))
def test_slug_is_always_valid(title: str) -> None:
    assert VALID.match(slugify(title))
