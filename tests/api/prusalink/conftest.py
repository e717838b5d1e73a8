"""Fixtures for the PrusaLink client and simulator tests (real sockets on 127.0.0.1 only)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from prusalink_helpers import ClientFactory, OpenApi, Recorded, SimFactory  # noqa: E402

from custom_components.printernizer.api.prusalink import PrusaLinkClient  # noqa: E402
from simulator.prusalink import PrusaLinkSimulator  # noqa: E402

_OPENAPI: OpenApi | None = None


@pytest.fixture(scope="session")
def openapi() -> OpenApi:
    """The loaded OpenAPI spec."""
    global _OPENAPI  # noqa: PLW0603
    if _OPENAPI is None:
        _OPENAPI = OpenApi()
    return _OPENAPI


@pytest.fixture(autouse=True)
def _allow_local_sockets(socket_enabled: None) -> None:
    """Real sockets, on 127.0.0.1 only (the simulator binds there)."""


@pytest.fixture
def recorded() -> list[Recorded]:
    """Every HTTP exchange the test's httpx client saw."""
    return []


@pytest.fixture
async def http(recorded: list[Recorded], openapi: OpenApi) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client owned by the test; every simulator response is checked against the spec.

    Responses that the simulator's fail modes produce on purpose (500) are not
    part of the API and are skipped.
    """

    async def _record(response: httpx.Response) -> None:
        await response.aread()
        recorded.append(
            Recorded(
                method=response.request.method,
                path=response.request.url.path,
                status=response.status_code,
                content_type=response.headers.get("content-type", ""),
                body=response.content,
            )
        )

    async with httpx.AsyncClient(event_hooks={"response": [_record]}) as client:
        yield client
    for exchange in recorded:
        if exchange.status >= 500:
            continue
        if exchange.path.startswith(("/usb/", "/thumb/")):
            continue  # binary downloads, not in the spec; checked in their own test
        openapi.check(exchange)


@pytest.fixture
async def make_sim() -> AsyncIterator[SimFactory]:
    """Start simulators on 127.0.0.1 (free ports); all are stopped at teardown."""
    sims: list[PrusaLinkSimulator] = []

    async def _make(**kwargs: Any) -> PrusaLinkSimulator:
        sim = PrusaLinkSimulator(**kwargs)
        await sim.start()
        sims.append(sim)
        return sim

    yield _make
    for sim in sims:
        await sim.stop()


@pytest.fixture
async def sim(make_sim: SimFactory) -> PrusaLinkSimulator:
    """A digest-auth simulator with default settings."""
    return await make_sim()


@pytest.fixture
async def download_session(
    request: pytest.FixtureRequest,
) -> AsyncIterator[aiohttp.ClientSession | None]:
    """The aiohttp session downloads go through, or None (httpx, the fallback).

    None unless a test asks with ``@pytest.mark.parametrize("download_session",
    ["httpx", "aiohttp"], indirect=True)``; the session is closed after the test.
    """
    if getattr(request, "param", "httpx") == "httpx":
        yield None
        return
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def make_client(
    http: httpx.AsyncClient, download_session: aiohttp.ClientSession | None
) -> ClientFactory:
    """Build a client for a simulator (its password unless given; downloads through
    ``download_session`` when there is one)."""

    def _make(sim: PrusaLinkSimulator, **kwargs: Any) -> PrusaLinkClient:
        kwargs.setdefault("password", sim.password)
        kwargs.setdefault("session", download_session)
        return PrusaLinkClient(http, sim.url, **kwargs)

    return _make


@pytest.fixture
async def client(sim: PrusaLinkSimulator, make_client: ClientFactory) -> PrusaLinkClient:
    """A connected client for ``sim``."""
    client = make_client(sim)
    await client.async_connect()
    return client
