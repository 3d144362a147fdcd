from __future__ import annotations

import os

import pytest

from tests.scenario.harness import (
    POSTGRES_ENV,
    make_standin,
    populate,
    postgres_database,
    start_bot,
)


@pytest.fixture
async def slack():
    s = make_standin()
    await s.start()
    s.ids = populate(s)
    yield s
    await s.stop()


@pytest.fixture(params=["sqlite", "postgres"])
async def db_url(request, tmp_path):
    """Every scenario that uses the `bot` fixture runs on SQLite, and on PostgreSQL when TOCSIN_TEST_POSTGRES_URL
    names a server (.ci/run starts one)."""
    if request.param == "sqlite":
        return str(tmp_path / "tocsin.db")
    admin = os.environ.get(POSTGRES_ENV)
    if not admin:
        pytest.skip(f"{POSTGRES_ENV} not set")
    return await postgres_database(admin)


@pytest.fixture
async def bot(slack, db_url, request):
    marker = request.node.get_closest_marker("config")
    config_text = marker.args[0] if marker else ""
    b = await start_bot(slack, db_url, config_text)
    b.db_url = db_url
    yield b
    await b.stop()
