"""Device triggers: each printer-scoped Printernizer event and each status, per printer."""

from __future__ import annotations

import voluptuous as vol
from homeassistant.components.device_automation import DEVICE_TRIGGER_BASE_SCHEMA
from homeassistant.components.device_automation.exceptions import (
    InvalidDeviceAutomationConfig,
)
from homeassistant.components.homeassistant.triggers import event as event_trigger
from homeassistant.components.homeassistant.triggers import state as state_trigger
from homeassistant.const import (
    CONF_DEVICE_ID,
    CONF_DOMAIN,
    CONF_ENTITY_ID,
    CONF_EVENT_DATA,
    CONF_PLATFORM,
    CONF_TYPE,
    Platform,
)
from homeassistant.core import CALLBACK_TYPE, HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.trigger import TriggerActionType, TriggerInfo
from homeassistant.helpers.typing import ConfigType

from .api.models import PrinterStatus
from .const import DOMAIN, EVENTS_NOT_FIRED_YET
from .contract import BUS_PREFIX, PRINTER_EVENTS

#: Every printer-scoped event that Printernizer fires.
EVENT_TRIGGER_TYPES: tuple[str, ...] = tuple(
    event for event in PRINTER_EVENTS if event not in EVENTS_NOT_FIRED_YET
)
STATUS_PREFIX = "status_"
#: "The Status sensor became <status>" (offline: the sensor is unavailable then).
STATUS_TRIGGER_TYPES: tuple[str, ...] = tuple(
    f"{STATUS_PREFIX}{status.value}"
    for status in PrinterStatus
    if status is not PrinterStatus.OFFLINE
)
TRIGGER_TYPES: tuple[str, ...] = EVENT_TRIGGER_TYPES + STATUS_TRIGGER_TYPES

TRIGGER_SCHEMA = DEVICE_TRIGGER_BASE_SCHEMA.extend({vol.Required(CONF_TYPE): vol.In(TRIGGER_TYPES)})


def _printer_id(hass: HomeAssistant, device_id: str) -> str | None:
    device = dr.async_get(hass).async_get(device_id)
    if device is None:
        return None
    return next((ident for dom, ident in device.identifiers if dom == DOMAIN), None)


async def async_get_triggers(hass: HomeAssistant, device_id: str) -> list[dict[str, str]]:
    """List the triggers of a printer device."""
    if _printer_id(hass, device_id) is None:
        return []
    return [
        {
            CONF_PLATFORM: "device",
            CONF_DOMAIN: DOMAIN,
            CONF_DEVICE_ID: device_id,
            CONF_TYPE: event,
        }
        for event in TRIGGER_TYPES
    ]


async def async_attach_trigger(
    hass: HomeAssistant,
    config: ConfigType,
    action: TriggerActionType,
    trigger_info: TriggerInfo,
) -> CALLBACK_TYPE:
    """Listen for the event of this printer on the bus, or for its status sensor's state."""
    printer_id = _printer_id(hass, config[CONF_DEVICE_ID])
    if printer_id is None:
        raise InvalidDeviceAutomationConfig(f"Unknown device {config[CONF_DEVICE_ID]}")
    trigger_type: str = config[CONF_TYPE]
    if trigger_type.startswith(STATUS_PREFIX):
        entity_id = er.async_get(hass).async_get_entity_id(
            Platform.SENSOR, DOMAIN, f"{printer_id}_status"
        )
        if entity_id is None:
            raise InvalidDeviceAutomationConfig(f"No status sensor for {config[CONF_DEVICE_ID]}")
        state_config = await state_trigger.async_validate_trigger_config(
            hass,
            {
                CONF_PLATFORM: "state",
                CONF_ENTITY_ID: [entity_id],
                state_trigger.CONF_TO: trigger_type.removeprefix(STATUS_PREFIX),
            },
        )
        return await state_trigger.async_attach_trigger(
            hass, state_config, action, trigger_info, platform_type="device"
        )
    event_config = event_trigger.TRIGGER_SCHEMA(
        {
            CONF_PLATFORM: "event",
            event_trigger.CONF_EVENT_TYPE: f"{BUS_PREFIX}{config[CONF_TYPE]}",
            CONF_EVENT_DATA: {"printer_id": printer_id},
        }
    )
    return await event_trigger.async_attach_trigger(
        hass, event_config, action, trigger_info, platform_type="device"
    )
