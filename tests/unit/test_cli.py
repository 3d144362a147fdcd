"""`python -m bot oncall` and `check-config`: the same core as the bot, for checking a config before deploying."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.__main__ import main

ROOT = Path(__file__).resolve().parents[2]


def test_oncall_table_for_the_example_config(capsys):
    assert main(["oncall", "platform-primary", "--days", "7", "--from", "2024-01-01T00:00:00",
                 "--config", str(ROOT / "incident.example.yml")]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["START", "END", "DURATION", "USER"]
    assert "alice@company.com" in out and "dave@company.com" in out   # the override on 2024-01-03
    assert "EST" in out


def test_check_config_ok_and_unknown_schedule(capsys, tmp_path):
    assert main(["check-config", str(ROOT / "incident.example.yml")]) == 0
    assert "OK" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        main(["oncall", "nope", "--config", str(ROOT / "incident.example.yml")])
    assert exit_.value.code == 2
    assert "no schedule 'nope'" in capsys.readouterr().err


def test_operator_commands_read_incident_config(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INCIDENT_CONFIG", str(ROOT / "incident.example.yml"))
    assert main(["check-config"]) == 0
    assert "incident.example.yml: OK" in capsys.readouterr().out
    assert main(["oncall", "platform-secondary", "--days", "2", "--from", "2024-01-01T00:00:00+00:00"]) == 0
    with pytest.raises(SystemExit) as exit_:
        main(["oncall", "platform-secondary", "--from", "yesterday"])
    assert exit_.value.code == 2 and "--from 'yesterday'" in capsys.readouterr().err
