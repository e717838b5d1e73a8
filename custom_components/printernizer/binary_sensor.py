"""Binary sensors of a printer: connectivity and printer error."""

from __future__ import annotations

from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .core.coordinator import PrinterCoordinator
from .entity import PrinternizerEntity
from .runtime import PrinternizerConfigEntry

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PrinternizerConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors."""
    coordinator = entry.runtime_data
    entities: list[BinarySensorEntity] = [ConnectivitySensor(coordinator)]
    state = coordinator.data
    if state is not None and ("hms" in state.extra or "prusalink_state" in state.extra):
        entities.append(PrinterErrorSensor(coordinator))
    async_add_entities(entities)


class ConnectivitySensor(PrinternizerEntity, BinarySensorEntity):
    """Whether the printer is reachable; always available."""

    _attr_device_class = BinarySensorDeviceClass.CONNECTIVITY
    _attr_entity_category = EntityCategory.DIAGNOSTIC
    _attr_translation_key = "connectivity"

    def __init__(self, coordinator: PrinterCoordinator) -> None:
        """Initialize the sensor."""
        super().__init__(coordinator, "connectivity")

    @property
    def available(self) -> bool:
        """The connectivity sensor itself never goes unavailable."""
        return True

    @property
    def is_on(self) -> bool:
        """On while the printer is online."""
        return self.coordinator.online

    def _output_values(self) -> Any:
        return self.is_on


class PrinterErrorSensor(PrinternizerEntity, BinarySensorEntity):
    """A printer problem is active.

    Bambu Lab: ``print_error`` or HMS messages; PrusaLink: the ERROR or
    ATTENTION state (the printer waits for the user: filament runout, crash...).
    """

    _attr_device_class = BinarySensorDeviceClass.PROBLEM
    _attr_translation_key = "printer_error"

    def __init__(self, coordinator: PrinterCoordinator) -> None:
        """Initialize the sensor."""
        super().__init__(coordinator, "printer_error")

    @property
    def is_on(self) -> bool:
        """On while the printer reports an error, an HMS message or needs attention."""
        state = self.coordinator.data
        if "prusalink_state" in state.extra:
            return state.extra["prusalink_state"] in ("ERROR", "ATTENTION")
        return bool(state.error or state.extra.get("hms"))

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Bambu Lab: the error code (hex) and HMS codes; PrusaLink: the message and state."""
        state = self.coordinator.data
        if "prusalink_state" in state.extra:
            return {"message": state.error, "prusalink_state": state.extra["prusalink_state"]}
        return {"error_code": state.error, "hms_codes": list(state.extra.get("hms") or [])}

    def _output_values(self) -> Any:
        return (self.is_on, self.extra_state_attributes)
