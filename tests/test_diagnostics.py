"""Diagnostics never contain secrets."""

from __future__ import annotations

import json

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from .fake_client import FakeClient


async def test_diagnostics_redacted(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    fake_entry: MockConfigEntry,
    use_fake: FakeClient,
) -> None:
    assert await hass.config_entries.async_setup(fake_entry.entry_id)
    await hass.async_block_till_done()
    diag = await get_diagnostics_for_config_entry(hass, hass_client, fake_entry)
    text = json.dumps(diag)
    assert "12345678" not in text
    assert "must-be-redacted" not in text
    assert "FAKE0001" not in text
    assert diag["entry"]["data"]["access_code"] == "**REDACTED**"
    assert diag["state"]["status"] == "idle"
    assert diag["online"] is True
    assert diag["events"]["event_counts"]["printer_connected"] == 1
