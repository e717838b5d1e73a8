"""PrusaLinkClient with an HTTP client factory: it owns its clients (opens, closes, reopens)."""

from __future__ import annotations

import httpx
from prusalink_helpers import SimFactory

from custom_components.printernizer.api.models import PrinterStatus
from custom_components.printernizer.api.prusalink import PrusaLinkClient


async def test_owned_http_client_is_opened_on_use_closed_on_disconnect_and_reopened(
    make_sim: SimFactory,
) -> None:
    sim = await make_sim()
    opened: list[httpx.AsyncClient] = []

    def factory() -> httpx.AsyncClient:
        opened.append(http := httpx.AsyncClient())
        return http

    client = PrusaLinkClient(factory, sim.url, password=sim.password)
    assert opened == []  # no I/O, no client before the first request
    await client.async_connect()
    assert (await client.async_poll()).status is PrinterStatus.IDLE
    assert len(opened) == 1  # every request of the printer on one pool
    assert not opened[0].is_closed

    await client.async_disconnect()
    assert opened[0].is_closed

    # used again (a reconnect): a new client, the closed one is never reused
    await client.async_connect()
    files = await client.async_list_files()  # files.py goes through the same client
    assert files
    assert len(opened) == 2
    assert not opened[1].is_closed
    await client.async_disconnect()
    await client.async_disconnect()  # twice is fine
    assert opened[1].is_closed
    assert len(opened) == 2


async def test_injected_http_client_stays_open(make_sim: SimFactory) -> None:
    sim = await make_sim()
    async with httpx.AsyncClient() as http:
        client = PrusaLinkClient(http, sim.url, password=sim.password)
        await client.async_connect()
        await client.async_disconnect()
        assert not http.is_closed
        # still usable after a disconnect
        await client.async_connect()
        assert (await client.async_poll()).status is PrinterStatus.IDLE
