"""Base entity of a printer device, and the printer's device registry entry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final, cast

from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .api.models import CommandTimeoutError, PrinterError
from .const import DOMAIN, FAMILY_BAMBU, FAMILY_PRUSA
from .core.coordinator import PrinterCoordinator

if TYPE_CHECKING:  # pragma: no cover
    from homeassistant.components.sensor import SensorEntity

#: Entry data key of the MAC address learned by DHCP (PrusaLink).
CONF_MAC = "mac"

#: Nothing written yet (the first coordinator update always writes).
_UNWRITTEN: Final = object()


def printer_device_info(coordinator: PrinterCoordinator) -> DeviceInfo:
    """Device registry entry of a printer: what the printer reported, and the entry's facts."""
    info = coordinator.client.info
    family = coordinator.monitor.family
    data = coordinator.config_entry.data
    device = DeviceInfo(
        identifiers={(DOMAIN, coordinator.printer_id)},
        name=coordinator.config_entry.title,
        manufacturer=(info.manufacturer if info else None)
        or ("Bambu Lab" if family == FAMILY_BAMBU else "Prusa Research"),
    )
    # Only what is known: an unknown fact never erases one reported before.
    if info is not None and info.model:
        device["model"] = info.model
    if info is not None and info.firmware:
        device["sw_version"] = info.firmware
    if info is not None and info.serial:
        device["serial_number"] = info.serial
    if family == FAMILY_PRUSA and (host := data.get(CONF_HOST)):
        # PrusaLink's own web interface
        device["configuration_url"] = host if "://" in host else f"http://{host}"
    if mac := data.get(CONF_MAC):
        device["connections"] = {(dr.CONNECTION_NETWORK_MAC, dr.format_mac(mac))}
    return device


@callback
def async_update_device(hass: HomeAssistant, coordinator: PrinterCoordinator) -> None:
    """Create the printer's device, or bring it up to date (model, firmware, serial, URL, MAC).

    Called once before the first refresh (so the first events already name
    the device) and again whenever the coordinator has news; the registry is
    only written when something changed.
    """
    info = printer_device_info(coordinator)
    registry = dr.async_get(hass)
    device = registry.async_get_device(identifiers=info["identifiers"])
    if (
        device is not None
        and all(
            getattr(device, key) == value
            for key, value in info.items()
            if key not in ("identifiers", "connections", "name")
        )
        and info.get("connections", set()) <= device.connections
    ):
        return
    registry.async_get_or_create(config_entry_id=coordinator.config_entry.entry_id, **info)


class PrinternizerEntity(CoordinatorEntity[PrinterCoordinator]):
    """An entity of one printer; unavailable while the printer is offline."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: PrinterCoordinator, key: str) -> None:
        """Initialize the entity."""
        super().__init__(coordinator)
        self._attr_unique_id = f"{coordinator.printer_id}_{key}"
        self._attr_device_info = printer_device_info(coordinator)

    #: What the last write through ``_async_write_if_changed`` showed.
    _written: Any = _UNWRITTEN

    @property
    def available(self) -> bool:
        """Available while the printer is online."""
        return self.coordinator.online and self.coordinator.data is not None

    def _output_values(self) -> Any:
        """The values this entity's state is made of, while it is available.

        Cheap on purpose (the entity's own value functions, not Home
        Assistant's state machinery): it is compared on every coordinator
        update. Everything the entity itself decides must be in it (value,
        attributes, option...); what Home Assistant manages (names from the
        registry, an image's access token, a button's last press) Home
        Assistant writes itself. A value is paired with its type (``1``,
        ``1.0`` and ``True`` are equal but show differently). The values are
        kept until the next update, so attributes must be new objects each
        time (one changed in place would compare equal to itself).

        The default is the sensors' (native value and extra attributes, here
        and in ams_sensor.py); every other platform overrides it.
        """
        sensor = cast("SensorEntity", self)
        value = sensor.native_value
        return (type(value), value, sensor.extra_state_attributes)

    def _output(self) -> Any:
        """Availability, and the values while available (unavailable shows nothing else)."""
        if not self.available:
            return False
        return (True, self._output_values())

    @callback
    def _async_write_if_changed(self) -> None:
        """Write the state only when what it shows changed since the last such write.

        Trade-off: an unchanged entity is not written, so its ``last_reported``
        is not refreshed on every printer report (``last_updated`` and
        ``last_changed`` are as before). A Bambu Lab printer reports every
        second and changes a value or two of some 50 entities; writing them all
        was most of Home Assistant's CPU with many printers (BENCHMARKS.md,
        bench_scale).
        """
        output = self._output()
        if output == self._written:
            return
        self.async_write_ha_state()
        self._written = output

    @callback
    def _handle_coordinator_update(self) -> None:
        """A coordinator update: write only the entities whose state changed."""
        self._async_write_if_changed()


async def async_control(
    coordinator: PrinterCoordinator, command: str, call: Callable[[], Awaitable[None]]
) -> None:
    """Run a control call (speed level, light) with the command errors translated.

    Only available entities are called (Home Assistant skips the others), and an
    entity is available while its printer is online; the controls are allowed in
    every printer state.
    """
    try:
        await call()
    except PrinterError as err:
        key = "command_timeout" if isinstance(err, CommandTimeoutError) else "command_failed"
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders={
                "command": command,
                "name": coordinator.monitor.name,
                "error": str(err),
            },
        ) from err
