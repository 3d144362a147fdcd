"""incident.yml: the example parses, the defaults hold, and every mistake an operator can make stops the bot with
a message naming the dotted key path and the line it is on."""
from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest
import yaml

from bot.config import (
    Config,
    ConfigError,
    default_severities,
    load_config,
    parse_config,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "incident.example.yml"
SOURCE = "test.yml"
MARK = "# <-"

# A valid schedule that cases extend with `with_schedule`.
SCHEDULE = """\
schedules:
  primary:
    time_zone: UTC
    layers:
      - name: week
        start: 2024-01-01T09:00:00
        rotation: weekly
        users: [alice]
"""


TOP, SCHED, LAYER = 0, 4, 8  # indentation of top-level keys, keys of `primary`, keys of its first layer


def with_schedule(extra: str, level: int) -> str:
    """SCHEDULE with `extra` (any indentation) added at `level`."""
    return SCHEDULE + textwrap.indent(textwrap.dedent(extra), " " * level)


def marked_line(text: str) -> int:
    """1-based number of the single line carrying the `# <-` marker."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if MARK in line]
    assert len(hits) == 1, "a case must mark exactly one line"
    return hits[0]


def config_error(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, SOURCE)
    return str(info.value)


# --- the example and the defaults ---

def test_example_file_parses() -> None:
    cfg = load_config(EXAMPLE)
    assert cfg == parse_config(EXAMPLE.read_text(encoding="utf-8"))
    assert cfg.announce_channel == "incidents"
    assert cfg.channel_prefix == "inc"
    assert cfg.severity_keys() == ["sev1", "sev2", "sev3", "sev4"]
    assert cfg.severities["sev1"].page and cfg.severities["sev1"].update_every == dt.timedelta(minutes=30)
    assert cfg.severities["sev1"].notify_channels == ("exec-updates",)
    assert cfg.severities["sev2"].update_every == dt.timedelta(hours=1)
    assert cfg.severities["sev3"].update_every is None and not cfg.severities["sev3"].page
    assert cfg.default_team == "platform" and cfg.team_for(None) == "platform" and cfg.team_for("x") == "x"
    assert cfg.teams["platform"].escalation_policy == "platform-critical"
    primary = cfg.schedules["platform-primary"]
    assert primary.time_zone == "America/New_York"
    assert [layer.name for layer in primary.layers] == ["weekly", "weekend-cover"]
    assert primary.layers[0].start == dt.datetime(2024, 1, 1, 9, 0)
    restriction = primary.layers[1].restrictions[0]
    assert (restriction.type, restriction.start_day, restriction.start_time, restriction.end_day, restriction.end_time) \
        == ("weekly", 6, "09:00", 7, "21:00")
    assert primary.overrides[0].end - primary.overrides[0].start == dt.timedelta(days=1)
    policy = cfg.escalation_policies["platform-critical"]
    assert policy.repeat == 1
    assert [s.timeout for s in policy.steps] == [dt.timedelta(minutes=5), dt.timedelta(minutes=15)]
    assert [(t.schedule, t.user) for t in policy.steps[1].targets] == [("platform-secondary", None), (None, "erin@company.com")]


@pytest.mark.parametrize("make", [lambda: load_config(None), lambda: parse_config(""), lambda: parse_config("# only a comment\n"),
                                  lambda: Config()], ids=["no-file", "empty-text", "comment-only", "Config()"])
def test_builtin_defaults(make) -> None:
    cfg = make()
    assert cfg.severity_keys() == ["sev1", "sev2", "sev3", "sev4"]
    assert cfg.severities["sev1"].update_every == dt.timedelta(minutes=30)
    assert cfg.severities["sev2"].update_every == dt.timedelta(hours=1)
    assert cfg.severities["sev3"].update_every is None and cfg.severities["sev4"].update_every is None
    assert cfg.severity_label("sev1") == "SEV1 - Critical"
    assert cfg.announce_channel == "incidents"
    assert cfg.channel_prefix == "inc"
    assert cfg.default_team is None and cfg.teams == {} and cfg.schedules == {} and cfg.escalation_policies == {}
    assert cfg.all_user_refs() == []


def test_defaults_are_not_shared_between_instances() -> None:
    assert default_severities() == Config().severities
    assert Config().severities is not Config().severities


def test_a_file_that_gives_severities_replaces_the_builtin_set() -> None:
    cfg = parse_config("severities:\n  p1: {update_every: 10m}\n  p2: {}\n")
    assert cfg.severity_keys() == ["p1", "p2"]
    assert cfg.severities["p1"].update_every == dt.timedelta(minutes=10)


def test_announce_channel_loses_its_hash() -> None:
    assert parse_config("announce_channel: '#ops-incidents'\n").announce_channel == "ops-incidents"


def test_unreadable_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yml"
    with pytest.raises(ConfigError, match="nope.yml"):
        load_config(missing)


def test_load_config_names_the_file_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "incident.yml"
    path.write_text("announce_channel: x\nteems: {}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"teems \({path}, line 2\)"):
        load_config(path)


# --- every error class: dotted key path and the right line ---

ERROR_CASES = [
    pytest.param("""\
        announce_channel: incidents
        escalation_polices: {}   # <-
        """, "escalation_polices", "unknown key", id="unknown-top-level-key"),
    pytest.param("""\
        severities:
          sev1:
            label: SEV1
            colour: red          # <-
          sev2: {}
        """, "severities.sev1.colour", "unknown key", id="unknown-nested-key"),
    pytest.param(with_schedule("""\
        escalation_policies:
          p:
            steps:
              - timeout: 5m
                targets:
                  - schedule: primary
                  - schedule: secondary   # <-
        """, TOP), "escalation_policies.p.steps.0.targets.1.schedule", "no schedule 'secondary'", id="unknown-schedule-in-target"),
    pytest.param(with_schedule("""\
        escalation_policies:
          p:
            steps:
              - timeout: 5m
                targets: [{schedule: primary}]
              - timeout: 5m
                targets: [{user: bob}, {schedule: nope}]   # <-
        """, TOP), "escalation_policies.p.steps.1.targets.1.schedule", "no schedule 'nope'", id="unknown-schedule-flow-style"),
    pytest.param("""\
        escalation_policies:
          p:
            steps:
              - timeout: 5m
                targets:
                  - team: ghosts          # <-
        """, "escalation_policies.p.steps.0.targets.0.team", "no team 'ghosts'", id="unknown-team-in-target"),
    pytest.param("""\
        announce_channel: incidents
        default_team: ghosts    # <-
        teams:
          platform: {members: [alice]}
        """, "default_team", "no team 'ghosts'", id="unknown-default-team"),
    pytest.param("""\
        teams:
          platform:
            name: Platform
            escalation_policy: platform-critical   # <-
        """, "teams.platform.escalation_policy", "no policy 'platform-critical'", id="team-with-missing-policy"),
    pytest.param("""\
        schedules:
          primary:
            time_zone: UTC
            layers:
              - name: week
                start: 2024-01-01T09:00:00
                rotation: weekly
                users: []      # <-
        """, "schedules.primary.layers.0.users", "must not be empty", id="empty-rotation"),
    pytest.param("""\
        schedules:
          primary:
            time_zone: UTC
            layers: []      # <-
        """, "schedules.primary.layers", "must not be empty", id="no-layers"),
    pytest.param("""\
        schedules:
          primary:
            time_zone: Mars/Olympus_Mons    # <-
            layers:
              - {name: week, start: 2024-01-01T09:00:00, rotation: weekly, users: [alice]}
        """, "schedules.primary.time_zone", "not an IANA time zone", id="bad-time-zone"),
    pytest.param("""\
        schedules:
          primary:
            time_zone: UTC
            layers:
              - name: week
                start: 2024-01-01T09:00:00
                rotation: fortnightly      # <-
                users: [alice]
        """, "schedules.primary.layers.0.rotation", "'fortnightly' is not a rotation", id="bad-rotation"),
    pytest.param("""\
        schedules:
          primary:
            time_zone: UTC
            layers:
              - name: week
                start: 2024-01-01T09:00:00
                users: [alice]
              - name: other        # <-
                start: 2024-01-01T09:00:00
                users: [bob]
        """, "schedules.primary.layers.1.rotation", "is required", id="missing-rotation"),
    pytest.param(with_schedule("""\
        escalation_policies:
          p:
            steps:
              - timeout: 5x       # <-
                targets: [{schedule: primary}]
        """, TOP), "escalation_policies.p.steps.0.timeout", "'5x' is not a duration", id="bad-step-timeout"),
    pytest.param("""\
        severities:
          sev1:
            update_every: soon    # <-
        """, "severities.sev1.update_every", "'soon' is not a duration", id="bad-update-every"),
    pytest.param(with_schedule("""\
        escalation_policies:
          p:
            steps:
              - timeout: 5m
                targets:
                  - {schedule: primary}
                  - {schedule: primary, user: alice}    # <-
        """, TOP), "escalation_policies.p.steps.0.targets.1", "exactly one of", id="target-with-two-keys"),
    pytest.param("""\
        escalation_policies:
          p:
            steps:
              - timeout: 5m
                targets:
                  - {}    # <-
        """, "escalation_policies.p.steps.0.targets.0", "exactly one of", id="target-with-no-key"),
    pytest.param("""\
        escalation_policies:
          p:
            repeat: 1
            steps: []    # <-
        """, "escalation_policies.p.steps", "must not be empty", id="policy-without-steps"),
    pytest.param(with_schedule("""\
                restrictions:
                  - {type: daily, start_time: "21:00", end_time: "09:00"}
                  - {type: weekly, start_time: "09:00", end_time: "17:00"}   # <-
        """, LAYER), "schedules.primary.layers.0.restrictions.1", "needs start_day and end_day", id="weekly-without-days"),
    pytest.param(with_schedule("""\
                restrictions:
                  - {type: daily, start_day: 1, start_time: "09:00", end_time: "17:00"}   # <-
        """, LAYER), "schedules.primary.layers.0.restrictions.0", "takes no start_day", id="daily-with-days"),
    pytest.param(with_schedule("""\
                restrictions:
                  - type: daily
                    start_time: "25:00"    # <-
                    end_time: "09:00"
        """, LAYER), "schedules.primary.layers.0.restrictions.0.start_time", "'25:00' is not a time of day", id="bad-time-quoted"),
    pytest.param(with_schedule("""\
                restrictions:
                  - type: daily
                    start_time: "09:00"
                    end_time: 25:00        # <-
        """, LAYER), "schedules.primary.layers.0.restrictions.0.end_time", "'25:00' is not a time of day",
        id="bad-time-unquoted-sexagesimal"),
    pytest.param(with_schedule("""\
                restrictions:
                  - type: weekly
                    start_day: 8           # <-
                    start_time: "09:00"
                    end_day: 1
                    end_time: "09:00"
        """, LAYER), "schedules.primary.layers.0.restrictions.0.start_day", "less than or equal to 7", id="day-out-of-range"),
    pytest.param(with_schedule("""\
            overrides:
              - user: bob
                start: 2024-01-03T00:00:00
                end: 2024-01-04T00:00:00
              - {user: bob, start: 2024-01-05T00:00:00, end: 2024-01-04T00:00:00}   # <-
        """, SCHED), "schedules.primary.overrides.1", "end must be after its start", id="override-ends-before-start"),
    pytest.param("""\
        schedules:
          primary:
            time_zone: Europe/London
            layers:
              - name: week
                start: 2024-01-01T09:00:00Z     # <-
                rotation: weekly
                users: [alice]
        """, "schedules.primary.layers.0.start", "without an offset", id="aware-layer-start"),
    pytest.param(with_schedule("""\
            overrides:
              - user: bob
                start: 2024-01-03T00:00:00
                end: 2024-01-04T00:00:00+02:00     # <-
        """, SCHED), "schedules.primary.overrides.0.end", "without an offset", id="override-naive-start-aware-end"),
    pytest.param("""\
        channel_prefix: Incidents!    # <-
        """, "channel_prefix", "channel_prefix must be lowercase", id="bad-channel-prefix"),
    pytest.param("""\
        announce_channel: "#"    # <-
        """, "announce_channel", "needs a channel name", id="empty-announce-channel"),
    pytest.param("""\
        severities:    # <-
          Sev 1: {}
        """, "severities", "severity key 'Sev 1'", id="bad-severity-key"),  # named at the mapping, not the key
    pytest.param("""\
        announce_channel: incidents
        severities: {}    # <-
        """, "severities", "at least one severity", id="no-severities"),
    pytest.param("""\
        severities:
          sev1:
            page: maybe    # <-
        """, "severities.sev1.page", "valid boolean", id="bad-bool"),
]


@pytest.mark.parametrize(("text", "path", "message"), ERROR_CASES)
def test_errors_name_the_key_path_and_line(text: str, path: str, message: str) -> None:
    text = textwrap.dedent(text)
    error = config_error(text)
    assert error.startswith("Invalid incident config: ")
    assert f"{path} ({SOURCE}, line {marked_line(text)}): " in error, error
    assert message in error, error


def test_every_dangling_reference_is_reported_at_its_own_line() -> None:
    text = textwrap.dedent("""\
        default_team: ghosts
        teams:
          a: {escalation_policy: missing}
        escalation_policies:
          p:
            steps:
              - timeout: 5m
                targets:
                  - {schedule: nope}
                  - {team: ghosts}
        """)
    error = config_error(text)
    for path, line in [("default_team", 1), ("teams.a.escalation_policy", 3),
                       ("escalation_policies.p.steps.0.targets.0.schedule", 9),
                       ("escalation_policies.p.steps.0.targets.1.team", 10)]:
        assert f"{path} ({SOURCE}, line {line}): " in error, error
    assert "(top level)" not in error


def test_several_field_errors_are_all_reported() -> None:
    error = config_error("announce_channel: incidents\nteems: {}\nchannel_prefix: 'A B'\n")
    assert f"teems ({SOURCE}, line 2)" in error and f"channel_prefix ({SOURCE}, line 3)" in error


def test_a_bad_entry_does_not_also_report_its_list_as_empty() -> None:
    error = config_error(with_schedule("""\
        escalation_policies:
          p:
            steps:
              - timeout: 5x
                targets: [{schedule: primary, user: alice}]
        """, TOP).replace("rotation: weekly", "rotation: fortnightly"))
    assert "layers.0.rotation" in error and "steps.0.timeout" in error and "targets.0 (" in error
    assert "must not be empty" not in error, error


def test_reference_errors_keep_their_message_when_built_in_python() -> None:
    with pytest.raises(ValueError, match="default_team: no team 'x' under teams"):
        Config(default_team="x")


@pytest.mark.parametrize(("text", "line", "problem"), [
    ("announce_channel: incidents\n severities: {}\n", 2, "mapping values are not allowed here"),
    ("a: 1\nb: [1, 2\nc: 3\n", 3, "expected ',' or ']'"),
    ("teams:\n\t- x\n", 2, "cannot start any token"),
    ("announce_channel: x\n---\nchannel_prefix: y\n", 2, "another document"),
])
def test_invalid_yaml_names_the_line(text: str, line: int, problem: str) -> None:
    error = config_error(text)
    assert f"{SOURCE}, line {line} is not valid YAML" in error, error
    assert problem in error


@pytest.mark.parametrize("text", ["- announce_channel: x\n", "just a sentence\n", "42\n", "[]\n"])
def test_top_level_must_be_a_mapping(text: str) -> None:
    assert f"{SOURCE} must be a mapping" in config_error(text)


# --- YAML quirks, order, helpers ---

def test_unquoted_times_are_read_as_times_of_day() -> None:
    # PyYAML reads 9:00 and 21:00 as base-60 integers (540, 1260); 09:00 happens to stay a string.
    text = with_schedule("""\
        restrictions:
          - {type: daily, start_time: 09:00, end_time: 21:00}
          - {type: daily, start_time: 9:00, end_time: 17:30}
          - {type: daily, start_time: "00:00", end_time: 00:05}
        """, LAYER)
    raw = yaml.safe_load(text)["schedules"]["primary"]["layers"][0]["restrictions"]
    assert raw[0]["end_time"] == 1260 and raw[1]["start_time"] == 540  # the quirk this guards against
    restrictions = parse_config(text).schedules["primary"].layers[0].restrictions
    assert [(r.start_time, r.end_time) for r in restrictions] == [("09:00", "21:00"), ("09:00", "17:30"), ("00:00", "00:05")]


def test_severity_order_is_preserved() -> None:
    cfg = parse_config("severities:\n  zeta: {}\n  alpha: {label: A}\n  mid: {}\n")
    assert cfg.severity_keys() == ["zeta", "alpha", "mid"]
    assert list(cfg.severities) == ["zeta", "alpha", "mid"]


def test_severity_label_falls_back_to_the_upper_cased_key() -> None:
    cfg = parse_config("severities:\n  p1: {label: 'P1 - Wake everyone'}\n  p2: {description: no label}\n  p3: {label: ''}\n")
    assert cfg.severity_label("p1") == "P1 - Wake everyone"
    assert cfg.severity_label("p2") == "P2"
    assert cfg.severity_label("p3") == "P3"
    assert cfg.severity_label("unknown-sev") == "UNKNOWN-SEV"


def _follow(data, path: str):
    for part in path.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def test_all_user_refs_lists_every_reference_with_its_key_path() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    refs = parse_config(text).all_user_refs()
    assert refs == [
        ("teams.platform.members.0", "alice@company.com"),
        ("teams.platform.members.1", "U0BOB0001"),
        ("schedules.platform-primary.layers.0.users.0", "alice@company.com"),
        ("schedules.platform-primary.layers.0.users.1", "bob@company.com"),
        ("schedules.platform-primary.layers.0.users.2", "carol@company.com"),
        ("schedules.platform-primary.layers.1.users.0", "dave@company.com"),
        ("schedules.platform-primary.overrides.0.user", "dave@company.com"),
        ("schedules.platform-secondary.layers.0.users.0", "erin@company.com"),
        ("schedules.platform-secondary.layers.0.users.1", "frank@company.com"),
        ("escalation_policies.platform-critical.steps.1.targets.1.user", "erin@company.com"),
    ]
    data = yaml.safe_load(text)
    for path, user in refs:  # every path really leads to that user in the file
        assert _follow(data, path) == user


def test_all_user_refs_covers_user_targets_in_every_step() -> None:
    text = SCHEDULE + textwrap.dedent("""\
        teams:
          t: {members: [m1]}
        escalation_policies:
          p:
            steps:
              - timeout: 1m
                targets: [{user: u1}, {schedule: primary}, {team: t}, {user: u2}]
              - timeout: 2m
                targets: [{user: u3}]
        """)
    refs = parse_config(text).all_user_refs()
    assert ("escalation_policies.p.steps.0.targets.0.user", "u1") in refs
    assert ("escalation_policies.p.steps.0.targets.3.user", "u2") in refs
    assert ("escalation_policies.p.steps.1.targets.0.user", "u3") in refs
    assert ("teams.t.members.0", "m1") in refs
    assert ("schedules.primary.layers.0.users.0", "alice") in refs
    assert len(refs) == 5


def test_config_is_frozen() -> None:
    cfg = Config()
    with pytest.raises(Exception):
        cfg.announce_channel = "other"  # type: ignore[misc]


def test_page_true_without_a_policy_to_page_is_an_error():
    text = "severities:\n  sev1:\n    page: true\n"
    with pytest.raises(ConfigError) as err:
        parse_config(text, "test.yml")
    assert "severities.sev1.page" in str(err.value) and "default_team" in str(err.value)
