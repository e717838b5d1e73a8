"""Base entity of a printer device."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .api.models import CommandNotAllowedError, CommandTimeoutError, PrinterError
from .const import DOMAIN, FAMILY_BAMBU
from .core.coordinator import PrinterCoordinator


def printer_device_info(coordinator: PrinterCoordinator) -> DeviceInfo:
    """Device registry entry of a printer."""
    info = coordinator.client.info
    family = coordinator.monitor.family
    return DeviceInfo(
        identifiers={(DOMAIN, coordinator.printer_id)},
        name=coordinator.config_entry.title,
        manufacturer=(info.manufacturer if info else None)
        or ("Bambu Lab" if family == FAMILY_BAMBU else "Prusa Research"),
        model=info.model if info else None,
        sw_version=info.firmware if info else None,
        serial_number=info.serial if info else None,
    )


class PrinternizerEntity(CoordinatorEntity[PrinterCoordinator]):
    """An entity of one printer; unavailable while the printer is offline."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: PrinterCoordinator, key: str) -> None:
        """Initialize the entity."""
        super().__init__(coordinator)
        self._attr_unique_id = f"{coordinator.printer_id}_{key}"
        self._attr_device_info = printer_device_info(coordinator)

    @property
    def available(self) -> bool:
        """Available while the printer is online."""
        return self.coordinator.online and self.coordinator.data is not None


async def async_control(
    coordinator: PrinterCoordinator, command: str, call: Callable[[], Awaitable[None]]
) -> None:
    """Run a control call (speed level, light) with the command errors translated."""
    if not coordinator.online:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="printer_offline",
            translation_placeholders={"name": coordinator.monitor.name},
        )
    try:
        await call()
    except PrinterError as err:
        if isinstance(err, CommandNotAllowedError):
            key = "command_not_allowed"
        elif isinstance(err, CommandTimeoutError):
            key = "command_timeout"
        else:
            key = "command_failed"
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders={
                "command": command,
                "name": coordinator.monitor.name,
                "error": str(err),
            },
        ) from err
