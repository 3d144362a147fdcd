"""manifest.yml must grant every scope the code needs: each Web API method called anywhere under bot/ (found by
reading the source, not by a list kept beside it) and each event subscribed to."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

from bot.slack.scopes import EVENT_SCOPES, IMPLIED_METHODS, METHOD_SCOPES

ROOT = Path(__file__).resolve().parents[2]
METHOD_NAME = re.compile(r"^[a-z]+(\.[a-zA-Z]+)+$")


def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def called_methods() -> set[str]:
    """Literal first arguments of `.call("…")` / `.api_call("…")`, plus gateway conveniences used anywhere."""
    found: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                name = node.func.attr
                if name in ("call", "api_call") and node.args and isinstance(node.args[0], ast.Constant) \
                        and isinstance(node.args[0].value, str) and METHOD_NAME.match(node.args[0].value):
                    found.add(node.args[0].value)
                if name in IMPLIED_METHODS:
                    found.update(IMPLIED_METHODS[name])
    return found


def test_every_called_method_is_known_and_covered_by_a_manifest_scope():
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    methods = called_methods()
    assert {"conversations.create", "chat.postMessage", "pins.add", "conversations.open"} <= methods
    unknown = methods - METHOD_SCOPES.keys()
    assert not unknown, f"add these methods to bot/slack/scopes.py with their scopes: {unknown}"
    missing = {m: METHOD_SCOPES[m] for m in methods if METHOD_SCOPES[m] and not set(METHOD_SCOPES[m]) & scopes}
    assert not missing, f"manifest.yml lacks a scope for: {missing}"


def test_every_event_listened_to_is_subscribed_and_scoped():
    m = manifest()
    scopes = set(m["oauth_config"]["scopes"]["bot"])
    subscribed = set(m["settings"]["event_subscriptions"]["bot_events"])
    source = "\n".join(p.read_text() for p in (ROOT / "bot" / "listeners").rglob("*.py"))
    listened = set(re.findall(r'@app\.event\("([a-z_]+)"\)', source))
    assert listened, "no event listeners found"
    for event in listened:
        needed = EVENT_SCOPES[event]
        assert not needed or set(needed) & scopes, f"{event} needs one of {needed}"
    assert listened - {"pin_removed", "reaction_removed"} <= subscribed


def test_manifest_shape():
    m = manifest()
    assert m["settings"]["socket_mode_enabled"] is True
    assert m["settings"]["interactivity"]["is_enabled"] is True
    assert m["features"]["app_home"]["home_tab_enabled"] is True
    commands = {c["command"]: c for c in m["features"]["slash_commands"]}
    assert commands["/incident"]["should_escape"] is True
    assert "commands" in m["oauth_config"]["scopes"]["bot"]
