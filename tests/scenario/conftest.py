from __future__ import annotations

import pytest

from tests.scenario.harness import make_standin, populate, start_bot


@pytest.fixture
async def slack():
    s = make_standin()
    await s.start()
    s.ids = populate(s)
    yield s
    await s.stop()


@pytest.fixture
async def bot(slack, tmp_path, request):
    marker = request.node.get_closest_marker("config")
    config_text = marker.args[0] if marker else ""
    b = await start_bot(slack, tmp_path / "tocsin.db", config_text)
    yield b
    await b.stop()
