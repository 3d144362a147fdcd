"""The operator's YAML config (`incident.yml`), as pydantic models.

Unknown keys are errors, not silently ignored: a typo in `escalation_polices` must not leave a team unpaged.
Errors name the key path and the line in the file, so a bad config stops the bot with a message an operator can act on.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.core.durations import parse_duration

SEVERITY_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,30}$")
TIME_OF_DAY = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class ConfigError(Exception):
    """A config problem an operator can fix; the message names the key path and line."""


class _ReferenceErrors(ValueError):
    """Dangling references, each with the key path it was found at, so the error can name its line."""

    def __init__(self, problems: list[tuple[tuple[Any, ...], str]]):
        self.problems = problems
        super().__init__("; ".join(f"{'.'.join(str(p) for p in loc)}: {msg}" for loc, msg in problems))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _duration(value: Any) -> dt.timedelta | None:
    if value is None:
        return None
    if isinstance(value, dt.timedelta):
        return value
    return parse_duration(value)


class SeverityConfig(_Strict):
    label: str | None = None
    description: str = ""
    page: bool = False
    update_every: dt.timedelta | None = None
    notify_channels: tuple[str, ...] = ()

    _parse_update_every = field_validator("update_every", mode="before")(classmethod(lambda cls, v: _duration(v)))


class TeamConfig(_Strict):
    name: str | None = None
    members: tuple[str, ...] = ()
    escalation_policy: str | None = None


class RestrictionConfig(_Strict):
    type: Literal["daily", "weekly"]
    start_time: str
    end_time: str
    start_day: int | None = Field(default=None, ge=1, le=7)
    end_day: int | None = Field(default=None, ge=1, le=7)

    @field_validator("start_time", "end_time", mode="before")
    @classmethod
    def _time(cls, value: Any) -> str:
        if isinstance(value, int):  # YAML 1.1 reads 09:00 unquoted as sexagesimal 540
            value = f"{value // 60:02d}:{value % 60:02d}"
        text = str(value)
        if not TIME_OF_DAY.match(text):
            raise ValueError(f"{text!r} is not a time of day; use HH:MM, e.g. \"09:00\"")
        return text

    @model_validator(mode="after")
    def _days(self) -> "RestrictionConfig":
        if self.type == "weekly" and (self.start_day is None or self.end_day is None):
            raise ValueError("a weekly restriction needs start_day and end_day (1 = Monday … 7 = Sunday)")
        if self.type == "daily" and (self.start_day is not None or self.end_day is not None):
            raise ValueError("a daily restriction takes no start_day/end_day; use type: weekly")
        return self


class LayerConfig(_Strict):
    name: str
    start: dt.datetime
    rotation: str
    users: tuple[str, ...] = Field(min_length=1)
    restrictions: tuple[RestrictionConfig, ...] = ()

    @field_validator("start")
    @classmethod
    def _naive(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is not None:
            raise ValueError("layer start is local to the schedule's time_zone; give it without an offset")
        return value

    @field_validator("rotation")
    @classmethod
    def _rotation(cls, value: str) -> str:
        from bot.core.oncall import parse_rotation

        parse_rotation(str(value))
        return str(value)


class OverrideConfig(_Strict):
    user: str
    start: dt.datetime
    end: dt.datetime

    @field_validator("start", "end")
    @classmethod
    def _naive(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is not None:
            raise ValueError("override times are local to the schedule's time_zone; give them without an offset")
        return value

    @model_validator(mode="after")
    def _order(self) -> "OverrideConfig":
        if self.end <= self.start:
            raise ValueError("override end must be after its start")
        return self


class ScheduleConfig(_Strict):
    time_zone: str
    layers: tuple[LayerConfig, ...] = Field(min_length=1)
    overrides: tuple[OverrideConfig, ...] = ()

    @field_validator("time_zone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as America/New_York or Europe/London")
        return value


class TargetConfig(_Strict):
    schedule: str | None = None
    user: str | None = None
    team: str | None = None

    @model_validator(mode="after")
    def _one(self) -> "TargetConfig":
        given = [k for k in ("schedule", "user", "team") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError("a target is exactly one of {schedule: …}, {user: …} or {team: …}")
        return self


class StepConfig(_Strict):
    timeout: dt.timedelta
    targets: tuple[TargetConfig, ...] = Field(min_length=1)

    _parse_timeout = field_validator("timeout", mode="before")(classmethod(lambda cls, v: _duration(v)))


class PolicyConfig(_Strict):
    repeat: int = Field(default=0, ge=0, le=20)
    steps: tuple[StepConfig, ...] = Field(min_length=1)


def default_severities() -> dict[str, SeverityConfig]:
    """sev1..sev4 as defined in the seeds (SRO-001): update cadence 30m for sev1 and 1h for sev2."""
    return {
        "sev1": SeverityConfig(label="SEV1 - Critical", description="Complete service unavailability for most users",
                               update_every=dt.timedelta(minutes=30)),
        "sev2": SeverityConfig(label="SEV2 - Major",
                               description="Significant service degradation or important feature unavailability",
                               update_every=dt.timedelta(hours=1)),
        "sev3": SeverityConfig(label="SEV3 - Moderate", description="Minimal user impact or workaround available"),
        "sev4": SeverityConfig(label="SEV4 - Low", description="Cosmetic or informational issues, no user impact"),
    }


class Config(_Strict):
    announce_channel: str = "incidents"
    channel_prefix: str = "inc"
    severities: dict[str, SeverityConfig] = Field(default_factory=default_severities)
    default_team: str | None = None
    teams: dict[str, TeamConfig] = Field(default_factory=dict)
    schedules: dict[str, ScheduleConfig] = Field(default_factory=dict)
    escalation_policies: dict[str, PolicyConfig] = Field(default_factory=dict)

    @field_validator("announce_channel")
    @classmethod
    def _announce(cls, value: str) -> str:
        value = value.strip().lstrip("#")
        if not value:
            raise ValueError("announce_channel needs a channel name or ID")
        return value

    @field_validator("channel_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", value) or len(value) > 20:
            raise ValueError("channel_prefix must be lowercase letters, digits and inner hyphens, at most 20 characters")
        return value

    @field_validator("severities")
    @classmethod
    def _severities(cls, value: dict[str, SeverityConfig]) -> dict[str, SeverityConfig]:
        if not value:
            raise ValueError("at least one severity is needed")
        for key in value:
            if not SEVERITY_KEY.match(key):
                raise ValueError(f"severity key {key!r} must be lowercase letters, digits, - or _")
        return value

    @model_validator(mode="after")
    def _references(self) -> "Config":
        problems: list[tuple[tuple[Any, ...], str]] = []
        if self.default_team and self.default_team not in self.teams:
            problems.append((("default_team",), f"no team {self.default_team!r} under teams"))
        for name, team in self.teams.items():
            if team.escalation_policy and team.escalation_policy not in self.escalation_policies:
                problems.append((("teams", name, "escalation_policy"),
                                 f"no policy {team.escalation_policy!r} under escalation_policies"))
        for pname, policy in self.escalation_policies.items():
            for i, step in enumerate(policy.steps):
                for j, target in enumerate(step.targets):
                    where = ("escalation_policies", pname, "steps", i, "targets", j)
                    if target.schedule and target.schedule not in self.schedules:
                        problems.append((where + ("schedule",), f"no schedule {target.schedule!r} under schedules"))
                    if target.team and target.team not in self.teams:
                        problems.append((where + ("team",), f"no team {target.team!r} under teams"))
        paging = [key for key, sev in self.severities.items() if sev.page]
        if paging and problems == []:
            team = self.teams.get(self.default_team) if self.default_team else None
            if team is None or not team.escalation_policy:
                # declared incidents belong to default_team: without its policy, `page: true` would page nobody
                problems.append((("severities", paging[0], "page"),
                                 "page: true needs default_team with an escalation_policy, or nobody would be paged"))
        if problems:
            raise _ReferenceErrors(problems)
        return self

    # --- helpers used by services (pure) ---
    def severity_label(self, key: str) -> str:
        sev = self.severities.get(key)
        return (sev.label if sev and sev.label else key.upper())

    def severity_keys(self) -> list[str]:
        return list(self.severities)

    def team_for(self, team: str | None) -> str | None:
        return team or self.default_team

    def all_user_refs(self) -> list[tuple[str, str]]:
        """Every user reference in the config with its key path, for resolution at start-up."""
        refs: list[tuple[str, str]] = []
        for tname, team in self.teams.items():
            refs += [(f"teams.{tname}.members.{i}", u) for i, u in enumerate(team.members)]
        for sname, sched in self.schedules.items():
            for li, layer in enumerate(sched.layers):
                refs += [(f"schedules.{sname}.layers.{li}.users.{i}", u) for i, u in enumerate(layer.users)]
            refs += [(f"schedules.{sname}.overrides.{i}.user", o.user) for i, o in enumerate(sched.overrides)]
        for pname, policy in self.escalation_policies.items():
            for si, step in enumerate(policy.steps):
                refs += [(f"escalation_policies.{pname}.steps.{si}.targets.{ti}.user", t.user)
                         for ti, t in enumerate(step.targets) if t.user]
        return refs


def _line_of(root: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Follow a pydantic error location through the composed YAML nodes to the line it came from."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for key_node, value_node in node.value:
                if key_node.value == str(part):
                    nxt = value_node
                    line = key_node.start_mark.line + 1
                    break
            if nxt is None:
                break
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _format_errors(err: ValidationError, root: yaml.Node | None, source: str) -> str:
    lines = []
    items = []
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        cause = (e.get("ctx") or {}).get("error")
        if isinstance(cause, _ReferenceErrors):  # one error per dangling reference, each at its own key
            items += [(loc + where, {**e, "msg": msg}) for where, msg in cause.problems]
        elif e["type"] == "too_short" and isinstance(e["input"], (list, tuple)) and e["input"]:
            continue  # not empty: entries failed and are reported themselves; "must not be empty" would mislead
        else:
            items.append((loc, e))
    for loc, e in items:
        path = ".".join(str(p) for p in loc) or "(top level)"
        line = _line_of(root, loc)
        where = f"{source}, line {line}" if line else source
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; unknown keys are not ignored)"
        elif e["type"] == "too_short":
            msg = "must not be empty (give at least one entry)"
        elif e["type"] == "missing":
            msg = "is required"
        lines.append(f"{path} ({where}): {msg}")
    return "Invalid incident config: " + "; ".join(lines)


def parse_config(text: str, source: str = "incident.yml") -> Config:
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        raise ConfigError(f"Invalid incident config: {source}{where} is not valid YAML ({getattr(exc, 'problem', exc)})")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"Invalid incident config: {source} must be a mapping of keys such as announce_channel, severities")
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, root, source)) from None


def load_config(path: Path | None) -> Config:
    """Load the config file, or the built-in defaults when there is none."""
    if path is None:
        return Config()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"INCIDENT_CONFIG: cannot read {path} ({exc.strerror or exc})")
    return parse_config(text, str(path))
