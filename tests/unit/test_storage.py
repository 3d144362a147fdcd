"""Storage start-up: a database from an older schema is refused with an operator-facing message (no migrations
yet), and naive datetimes never reach the database."""
from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from storage.engine import DatabaseError, init_database
from storage.models import UtcDateTime


async def test_an_older_schema_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE incidents (id INTEGER PRIMARY KEY, title TEXT)")
    with pytest.raises(DatabaseError) as err:
        await init_database(f"sqlite+aiosqlite:///{path}")
    assert "older Tocsin" in str(err.value) and "incidents.year" in str(err.value)


async def test_a_fresh_database_gets_the_whole_schema(tmp_path):
    engine, _ = await init_database(f"sqlite+aiosqlite:///{tmp_path / 'new.db'}")
    await engine.dispose()


def test_naive_datetimes_are_refused_and_results_are_aware_utc():
    column = UtcDateTime()
    with pytest.raises(ValueError):
        column.process_bind_param(dt.datetime(2026, 1, 1), None)
    back = column.process_result_value(dt.datetime(2026, 1, 1, 12), None)
    assert back.tzinfo is not None and back.utcoffset() == dt.timedelta(0)
