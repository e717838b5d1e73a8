"""Device triggers: one per printer-scoped event, firing only for that printer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast
from unittest.mock import AsyncMock

import pytest
import voluptuous as vol
from homeassistant.components import automation
from homeassistant.components.device_automation import DeviceAutomationType
from homeassistant.components.device_automation.exceptions import (
    InvalidDeviceAutomationConfig,
)
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.trigger import TriggerInfo
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_get_device_automations,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.printernizer import device_trigger
from custom_components.printernizer.api.models import PrinterStatus
from custom_components.printernizer.const import EVENTS_NOT_FIRED_YET
from custom_components.printernizer.contract import PRINTER_EVENTS

from .fake_client import FakeClient


async def test_triggers_listed_and_fire(
    hass: HomeAssistant,
    fake_entry: MockConfigEntry,
    use_fake: FakeClient,
    service_calls: list[ServiceCall],
) -> None:
    assert await hass.config_entries.async_setup(fake_entry.entry_id)
    await hass.async_block_till_done()
    device = dr.async_get(hass).async_get_device(identifiers={("printernizer", "FAKE0001")})
    triggers = await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, device.id)
    ours = {t["type"] for t in triggers if t["domain"] == "printernizer"}
    statuses = {f"status_{s.value}" for s in PrinterStatus if s is not PrinterStatus.OFFLINE}
    assert ours == (set(PRINTER_EVENTS) - EVENTS_NOT_FIRED_YET) | statuses
    assert "status_cancelled" in ours
    assert {"print_paused", "job_completed", "printer_disconnected"} <= ours
    assert "file_download_started" in ours  # fired since the files work

    assert await async_setup_component(
        hass,
        automation.DOMAIN,
        {
            automation.DOMAIN: [
                {
                    "triggers": [
                        {
                            "trigger": "device",
                            "domain": "printernizer",
                            "device_id": device.id,
                            "type": "job_completed",
                        }
                    ],
                    "actions": [
                        {
                            "action": "test.automation",
                            "data": {"status": "{{ trigger.event.data.status }}"},
                        }
                    ],
                },
                {
                    "triggers": [
                        {
                            "trigger": "device",
                            "domain": "printernizer",
                            "device_id": device.id,
                            "type": "print_paused",
                        }
                    ],
                    "actions": [{"action": "test.automation", "data": {"status": "paused"}}],
                },
            ]
        },
    )
    # another printer's event does not trigger
    hass.bus.async_fire("printernizer_print_paused", {"printer_id": "OTHER", "timestamp": "x"})
    await hass.async_block_till_done()
    assert service_calls == []

    use_fake.update(status=PrinterStatus.PRINTING, job_name="a.gcode")
    await hass.async_block_till_done()
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.workshop_x1_pause_print"}, blocking=True
    )
    await hass.async_block_till_done()
    use_fake.update(status=PrinterStatus.FINISHED, progress=100)
    await hass.async_block_till_done()
    assert [c.data["status"] for c in service_calls if c.domain == "test"] == [
        "paused",
        "completed",
    ]


async def test_capabilities_offer_a_translated_status_filter(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    fake_entry: MockConfigEntry,
    use_fake: FakeClient,
) -> None:
    assert await hass.config_entries.async_setup(fake_entry.entry_id)
    await hass.async_block_till_done()
    device = dr.async_get(hass).async_get_device(identifiers={("printernizer", "FAKE0001")})
    assert await async_setup_component(hass, "device_automation", {})
    client = await hass_ws_client(hass)
    strings = json.loads(
        (Path(__file__).parents[1] / "custom_components/printernizer/strings.json").read_text()
    )

    async def capabilities(trigger_type: str) -> dict[str, Any]:
        await client.send_json_auto_id(
            {
                "type": "device_automation/trigger/capabilities",
                "trigger": {
                    "platform": "device",
                    "domain": "printernizer",
                    "device_id": device.id,
                    "type": trigger_type,
                },
            }
        )
        msg = await client.receive_json()
        assert msg["success"], msg
        result: dict[str, Any] = msg["result"]
        return result

    result = await capabilities("job_completed")
    (field,) = result["extra_fields"]
    assert field["name"] == "status"
    assert field["optional"] is True
    config = field["selector"]["select"]
    assert config["options"] == ["completed", "failed", "cancelled"]
    assert set(config["options"]) <= set(strings["selector"][config["translation_key"]]["options"])
    assert "status" in strings["device_automation"]["extra_fields"]
    for trigger_type in device_trigger.STATUS_FILTERS:
        field = (await capabilities(trigger_type))["extra_fields"][0]["selector"]["select"]
        assert set(field["options"]) <= set(
            strings["selector"][field["translation_key"]]["options"]
        )
    # Every other trigger answers with an empty field list. Without
    # async_get_trigger_capabilities Home Assistant answers {} (no
    # "extra_fields"), which the 2025.4 automation editor read as a list: the
    # console TypeError when a Printernizer trigger was picked.
    for trigger_type in device_trigger.TRIGGER_TYPES:
        if trigger_type not in device_trigger.STATUS_FILTERS:
            assert await capabilities(trigger_type) == {"extra_fields": []}, trigger_type


async def test_status_filter_narrows_job_completed(
    hass: HomeAssistant,
    fake_entry: MockConfigEntry,
    use_fake: FakeClient,
    service_calls: list[ServiceCall],
) -> None:
    assert await hass.config_entries.async_setup(fake_entry.entry_id)
    await hass.async_block_till_done()
    device = dr.async_get(hass).async_get_device(identifiers={("printernizer", "FAKE0001")})
    assert await async_setup_component(
        hass,
        automation.DOMAIN,
        {
            automation.DOMAIN: {
                "triggers": [
                    {
                        "trigger": "device",
                        "domain": "printernizer",
                        "device_id": device.id,
                        "type": "job_completed",
                        "status": "failed",
                    }
                ],
                "actions": [
                    {
                        "action": "test.automation",
                        "data": {"job": "{{ trigger.event.data.job_name }}"},
                    }
                ],
            }
        },
    )
    use_fake.update(status=PrinterStatus.PRINTING, job_name="good.gcode")
    await hass.async_block_till_done()
    use_fake.update(status=PrinterStatus.FINISHED, progress=100)
    await hass.async_block_till_done()
    use_fake.update(status=PrinterStatus.PRINTING, job_name="bad.gcode", progress=0)
    await hass.async_block_till_done()
    use_fake.update(status=PrinterStatus.FAILED)
    await hass.async_block_till_done()
    assert [c.data["job"] for c in service_calls if c.domain == "test"] == ["bad.gcode"]


@pytest.mark.parametrize(
    ("trigger_type", "status"),
    [("print_paused", "failed"), ("job_completed", "printing"), ("job_completed", "nonsense")],
)
def test_status_filter_only_where_it_applies(trigger_type: str, status: str) -> None:
    with pytest.raises(vol.Invalid):
        device_trigger.TRIGGER_SCHEMA(
            {
                "platform": "device",
                "domain": "printernizer",
                "device_id": "abc",
                "type": trigger_type,
                "status": status,
            }
        )


async def test_unknown_device_error_is_translated(hass: HomeAssistant) -> None:
    config = device_trigger.TRIGGER_SCHEMA(
        {
            "platform": "device",
            "domain": "printernizer",
            "device_id": "gone",
            "type": "print_paused",
        }
    )
    with pytest.raises(InvalidDeviceAutomationConfig) as err:
        await device_trigger.async_attach_trigger(hass, config, AsyncMock(), cast(TriggerInfo, {}))
    assert err.value.translation_key == "unknown_device"
    assert err.value.translation_domain == "printernizer"
    assert await device_trigger.async_get_triggers(hass, "gone") == []


async def test_status_trigger_without_status_sensor_is_a_translated_error(
    hass: HomeAssistant, fake_entry: MockConfigEntry, use_fake: FakeClient
) -> None:
    """A status trigger of a printer whose status sensor was removed from the registry."""
    assert await hass.config_entries.async_setup(fake_entry.entry_id)
    await hass.async_block_till_done()
    device = dr.async_get(hass).async_get_device(identifiers={("printernizer", "FAKE0001")})
    assert device is not None
    entities = er.async_get(hass)
    entity_id = entities.async_get_entity_id("sensor", "printernizer", "FAKE0001_status")
    assert entity_id is not None
    config = device_trigger.TRIGGER_SCHEMA(
        {
            "platform": "device",
            "domain": "printernizer",
            "device_id": device.id,
            "type": "status_cancelled",
        }
    )
    entities.async_remove(entity_id)
    with pytest.raises(InvalidDeviceAutomationConfig) as err:
        await device_trigger.async_attach_trigger(hass, config, AsyncMock(), cast(TriggerInfo, {}))
    assert err.value.translation_key == "no_status_sensor"
    assert err.value.translation_placeholders == {"device_id": device.id}


async def test_status_trigger_fires_on_change_to_cancelled(
    hass: HomeAssistant,
    fake_entry: MockConfigEntry,
    use_fake: FakeClient,
    service_calls: list[ServiceCall],
) -> None:
    assert await hass.config_entries.async_setup(fake_entry.entry_id)
    await hass.async_block_till_done()
    device = dr.async_get(hass).async_get_device(identifiers={("printernizer", "FAKE0001")})
    assert await async_setup_component(
        hass,
        automation.DOMAIN,
        {
            automation.DOMAIN: [
                {
                    "triggers": [
                        {
                            "trigger": "device",
                            "domain": "printernizer",
                            "device_id": device.id,
                            "type": f"status_{status}",
                        }
                    ],
                    "actions": [{"action": "test.automation", "data": {"status": status}}],
                }
                for status in ("cancelled", "failed")
            ]
        },
    )
    use_fake.update(status=PrinterStatus.PRINTING, job_name="a.gcode")
    use_fake.update(status=PrinterStatus.CANCELLED, cancelled=True)
    await hass.async_block_till_done()
    use_fake.update(nozzle_temp=30.0)  # same status: no second trigger
    await hass.async_block_till_done()
    assert [c.data["status"] for c in service_calls if c.domain == "test"] == ["cancelled"]
