"""Device triggers: each printer-scoped Printernizer event and each status, per printer.

Events with a status (job completed, job status changed, connection progress,
status updated) can be narrowed to one status: the trigger's optional
``status`` field, offered by :func:`async_get_trigger_capabilities`. The
``status_<status>`` types fire when the printer's Status sensor becomes that status.
"""

from __future__ import annotations

from typing import Any

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
from homeassistant.helpers import selector
from homeassistant.helpers.trigger import TriggerActionType, TriggerInfo
from homeassistant.helpers.typing import ConfigType

from .api.models import PrinterStatus
from .const import ATTR_STATUS, DOMAIN, EVENTS_NOT_FIRED_YET
from .contract import BUS_PREFIX, EVENTS, PRINTER_EVENTS

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


def _contract_statuses(event: str) -> tuple[str, ...]:
    field = EVENTS[event].fields.get(ATTR_STATUS)
    return field.values if field is not None and field.values else ()


#: Trigger type -> (the statuses it can be narrowed to, their selector's translation key).
STATUS_FILTERS: dict[str, tuple[tuple[str, ...], str]] = {
    "job_completed": (_contract_statuses("job_completed"), "job_status"),
    "job_status_changed": (_contract_statuses("job_status_changed"), "job_status"),
    "printer_connection_progress": (
        _contract_statuses("printer_connection_progress"),
        "connection_status",
    ),
    "printer_status_update": (tuple(status.value for status in PrinterStatus), "printer_status"),
}

_ALL_STATUSES = sorted({status for values, _ in STATUS_FILTERS.values() for status in values})


def _check_status(config: dict[str, Any]) -> dict[str, Any]:
    """A status only on the types that have one, and one of theirs."""
    status = config.get(ATTR_STATUS)
    if status is None:
        return config
    allowed = STATUS_FILTERS.get(config[CONF_TYPE], ((), ""))[0]
    if status not in allowed:
        raise vol.Invalid(f"{config[CONF_TYPE]} cannot be narrowed to status {status!r}")
    return config


TRIGGER_SCHEMA = vol.All(
    DEVICE_TRIGGER_BASE_SCHEMA.extend(
        {
            vol.Required(CONF_TYPE): vol.In(TRIGGER_TYPES),
            vol.Optional(ATTR_STATUS): vol.In(_ALL_STATUSES),
        }
    ),
    _check_status,
)


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


async def async_get_trigger_capabilities(
    hass: HomeAssistant, config: ConfigType
) -> dict[str, vol.Schema]:
    """The optional status filter of the types that have one; nothing for the others."""
    if (status_filter := STATUS_FILTERS.get(config[CONF_TYPE])) is None:
        return {}
    values, translation_key = status_filter
    return {
        "extra_fields": vol.Schema(
            {
                vol.Optional(ATTR_STATUS): selector.SelectSelector(
                    selector.SelectSelectorConfig(
                        options=list(values),
                        translation_key=translation_key,
                        mode=selector.SelectSelectorMode.DROPDOWN,
                    )
                )
            }
        )
    }


async def async_attach_trigger(
    hass: HomeAssistant,
    config: ConfigType,
    action: TriggerActionType,
    trigger_info: TriggerInfo,
) -> CALLBACK_TYPE:
    """Listen for the event of this printer on the bus, or for its status sensor's state."""
    printer_id = _printer_id(hass, config[CONF_DEVICE_ID])
    if printer_id is None:
        raise InvalidDeviceAutomationConfig(
            translation_domain=DOMAIN,
            translation_key="unknown_device",
            translation_placeholders={"device_id": config[CONF_DEVICE_ID]},
        )
    trigger_type: str = config[CONF_TYPE]
    if trigger_type.startswith(STATUS_PREFIX):
        entity_id = er.async_get(hass).async_get_entity_id(
            Platform.SENSOR, DOMAIN, f"{printer_id}_status"
        )
        if entity_id is None:
            raise InvalidDeviceAutomationConfig(
                translation_domain=DOMAIN,
                translation_key="no_status_sensor",
                translation_placeholders={"device_id": config[CONF_DEVICE_ID]},
            )
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
    event_data: dict[str, str] = {"printer_id": printer_id}
    if (status := config.get(ATTR_STATUS)) is not None:
        event_data[ATTR_STATUS] = status
    event_config = event_trigger.TRIGGER_SCHEMA(
        {
            CONF_PLATFORM: "event",
            event_trigger.CONF_EVENT_TYPE: f"{BUS_PREFIX}{config[CONF_TYPE]}",
            CONF_EVENT_DATA: event_data,
        }
    )
    return await event_trigger.async_attach_trigger(
        hass, event_config, action, trigger_info, platform_type="device"
    )
