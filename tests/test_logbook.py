"""Logbook: Printernizer's events in words, on the printer's device page too."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.components.recorder import Recorder
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.printernizer import logbook
from custom_components.printernizer.api.models import PrinterStatus
from custom_components.printernizer.contract import EVENTS

from .fake_client import FakeClient


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """The recorder (the logbook reads from it) starts before Home Assistant's fixture."""


def test_every_event_described_but_the_periodic_ones() -> None:
    assert set(logbook.MESSAGES) == set(EVENTS)
    assert {"printer_status", "job_update", "printer_status_update"} <= logbook.NOT_LOGGED
    assert set(EVENTS) > logbook.NOT_LOGGED


async def test_names_without_a_loaded_printer(hass: HomeAssistant) -> None:
    described: dict[str, Any] = {}
    logbook.async_describe_events(
        hass, lambda domain, event_type, describe: described.__setitem__(event_type, describe)
    )
    assert "printernizer_printer_status" not in described  # periodic: not logged
    gone = Event("printernizer_printer_disconnected", {"printer_id": "GONE", "name": "Old"})
    assert described[gone.event_type](gone) == {"name": "Old", "message": "Printer disconnected"}
    deleted = Event("printernizer_job_deleted", {"job_id": "j"})
    assert described[deleted.event_type](deleted)["name"] == "Printernizer"


def test_messages() -> None:
    m = logbook.MESSAGES
    assert m["print_paused"]({}) == "Print paused"
    assert m["job_completed"]({"status": "failed", "job_name": "a.3mf"}) == (
        "Job completed (failed): a.3mf"
    )
    assert m["material_low_stock"]({"material_name": "PLA black", "remaining_percentage": 12}) == (
        "Filament low: PLA black (12 % left)"
    )
    assert m["material_created"]({"material": {"name": "PETG"}}) == "Spool added: PETG"
    assert m["files_discovered"]({"new_files": 3}) == "Files discovered: 3 new"
    assert m["files_discovered"]({"new_files": [{}], "total_new_files": 1}) == (
        "Files discovered: 1 new"
    )
    assert m["printer_connection_progress"]({"status": "failed", "message": "timed out"}) == (
        "Connection: failed (timed out)"
    )
    for name, describe in m.items():  # every message copes with an empty payload
        assert isinstance(describe({}), str), name


async def test_device_logbook_shows_printer_events(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    fake_entry: MockConfigEntry,
    use_fake: FakeClient,
) -> None:
    # The frontend's files are not installed here; the logbook only adds its panel to it.
    hass.config.components.add("frontend")
    assert await async_setup_component(hass, "http", {})
    with patch("homeassistant.components.logbook.frontend.async_register_built_in_panel"):
        assert await async_setup_component(hass, "logbook", {})
    assert await hass.config_entries.async_setup(fake_entry.entry_id)
    await hass.async_block_till_done()
    device = dr.async_get(hass).async_get_device(identifiers={("printernizer", "FAKE0001")})
    use_fake.update(status=PrinterStatus.PRINTING, job_name="benchy.3mf")
    await hass.async_block_till_done()
    use_fake.update(status=PrinterStatus.FAILED)
    await hass.async_block_till_done()
    await async_wait_recording_done(hass)

    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": "logbook/get_events",
            "start_time": "2000-01-01T00:00:00+00:00",
            "device_ids": [device.id],
        }
    )
    msg = await client.receive_json()
    assert msg["success"], msg
    entries: list[dict[str, Any]] = [e for e in msg["result"] if e.get("domain") == "printernizer"]
    messages = [e["message"] for e in entries]
    assert "Printer connected" in messages
    assert "Job started: benchy.3mf" in messages
    assert "Job completed (failed): benchy.3mf" in messages
    assert {e["name"] for e in entries} == {"Workshop X1"}
    assert not any(m.startswith("Job progress") for m in messages)
    await hass.config_entries.async_unload(fake_entry.entry_id)
