"""Fixtures for the trending client and simulator tests (real sockets on 127.0.0.1 only)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from custom_components.printernizer.api.trending import MakerWorldClient, PrintablesClient
from simulator.trending import TrendingSimulator


@pytest.fixture(autouse=True)
def _allow_local_sockets(socket_enabled: None) -> None:
    """Real sockets, on 127.0.0.1 only (the simulator binds there)."""


@pytest.fixture
async def sim() -> AsyncIterator[TrendingSimulator]:
    """A running trending simulator on a free port."""
    async with TrendingSimulator() as simulator:
        yield simulator


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """An aiohttp session owned by the test (Home Assistant's shared one in production)."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def makerworld(sim: TrendingSimulator, session: aiohttp.ClientSession) -> MakerWorldClient:
    """A MakerWorld client pointed at the simulator."""
    return MakerWorldClient(session, api_url=sim.url, web_url=sim.url, timeout=5.0)


@pytest.fixture
def printables(sim: TrendingSimulator, session: aiohttp.ClientSession) -> PrintablesClient:
    """A Printables client pointed at the simulator."""
    return PrintablesClient(
        session, api_url=sim.url, web_url=sim.url, media_url=sim.url, timeout=5.0
    )
