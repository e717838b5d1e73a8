"""Shared fixtures."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.const import MATCH_ALL
from homeassistant.core import Event, HomeAssistant, callback
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printernizer.const import CONF_ACCESS_CODE, CONF_FAMILY, CONF_SERIAL, DOMAIN
from custom_components.printernizer.contract import BUS_PREFIX, EVENTS, validate
from custom_components.printernizer.emitter import EventEmitter

from .fake_client import FakeClient


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom_components/ in every test."""


@pytest.fixture(autouse=True)
def no_discovery_listener() -> Generator[None]:
    """Tests do not bind UDP 2021/1990; the discovery tests bind a free port on 127.0.0.1."""
    with patch("custom_components.printernizer.discovery.DISCOVERY_PORTS", ()):
        yield


@pytest.fixture(autouse=True)
def strict_contract() -> Generator[None]:
    """A payload that breaks the contract fails the test."""
    with patch.object(EventEmitter, "strict_default", True):
        yield


class EventRecorder:
    """Records every Printernizer event and checks each against the contract."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    @callback
    def record(self, event: Event) -> None:
        if not event.event_type.startswith(BUS_PREFIX):
            return
        name = event.event_type.removeprefix(BUS_PREFIX)
        assert name in EVENTS, name
        assert validate(name, event.data) == [], (name, event.data)
        self.events.append((name, dict(event.data)))

    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    def of(self, name: str) -> list[dict[str, Any]]:
        return [data for n, data in self.events if n == name]

    def clear(self) -> None:
        self.events.clear()


@pytest.fixture
def events(hass: HomeAssistant) -> EventRecorder:
    """Every Printernizer event fired during the test, validated."""
    recorder = EventRecorder()
    hass.bus.async_listen(MATCH_ALL, recorder.record)
    return recorder


@pytest.fixture
def fake_client() -> FakeClient:
    """A push fake printer."""
    return FakeClient()


@pytest.fixture
def fake_entry(hass: HomeAssistant) -> MockConfigEntry:
    """A config entry of the fake printer."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Workshop X1",
        unique_id="FAKE0001",
        data={
            CONF_FAMILY: "bambu_lab",
            "host": "192.0.2.10",
            CONF_SERIAL: "FAKE0001",
            CONF_ACCESS_CODE: "12345678",
        },
    )
    entry.add_to_hass(hass)
    return entry


@pytest.fixture
def use_fake(fake_client: FakeClient) -> Generator[FakeClient]:
    """Make the integration talk to the fake client."""
    with patch("custom_components.printernizer.clients.create_client", return_value=fake_client):
        yield fake_client


async def wait_for(
    hass: HomeAssistant, condition: Callable[[], bool], *, timeout: float = 10.0
) -> None:
    """Wait until ``condition()`` holds (for pushes over real sockets); fail after ``timeout``.

    The bound only turns a hang into a failure; no test relies on how long it takes.
    """
    async with asyncio.timeout(timeout):
        while True:
            await hass.async_block_till_done()
            if condition():
                return
            await asyncio.sleep(0.01)


def printer_flows(hass: HomeAssistant) -> list[Any]:
    """Config flows in progress, without the library entry's offer (see test_library_entry.py)."""
    return [
        flow
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"].get("unique_id") != "printernizer_library"
    ]
