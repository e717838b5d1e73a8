"""Firmware update available (Bambu Lab ``upgrade_state``): reported, not installed."""

from __future__ import annotations

from typing import Any

from homeassistant.components.update import UpdateDeviceClass, UpdateEntity
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
    """Add the firmware entity for printers that report their update state."""
    coordinator = entry.runtime_data
    state = coordinator.data
    if state is not None and "firmware_update" in state.extra:
        async_add_entities([FirmwareUpdate(coordinator)])


class FirmwareUpdate(PrinternizerEntity, UpdateEntity):
    """Installed firmware and, when the printer offers one, the newer version.

    Installing is left to the printer's screen or Bambu Handy (no install feature).
    """

    _attr_translation_key = "firmware"
    _attr_device_class = UpdateDeviceClass.FIRMWARE

    def __init__(self, coordinator: PrinterCoordinator) -> None:
        """Initialize the update entity."""
        super().__init__(coordinator, "firmware")

    @property
    def installed_version(self) -> str | None:
        """The firmware the printer runs (get_version)."""
        info = self.coordinator.client.info
        return info.firmware if info else None

    @property
    def latest_version(self) -> str | None:
        """The offered version while one is available, else the installed one."""
        update: Any = self.coordinator.data.extra.get("firmware_update") or {}
        if update.get("available"):
            version = update.get("version")
            return str(version) if version else None
        return self.installed_version

    def _output_values(self) -> Any:
        return (self.installed_version, self.latest_version)
