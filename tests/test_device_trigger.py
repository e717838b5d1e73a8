"""Device triggers: one per printer-scoped event, firing only for that printer."""

from __future__ import annotations

from homeassistant.components import automation
from homeassistant.components.device_automation import DeviceAutomationType
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_get_device_automations,
)

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
    assert ours == set(PRINTER_EVENTS) - EVENTS_NOT_FIRED_YET
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
