"""Chamber light (Bambu Lab ``lights_report`` / ``ledctrl``), confirmed by the printer's echo."""

from __future__ import annotations

from typing import Any

from homeassistant.components.light import LightEntity
from homeassistant.components.light.const import ColorMode
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api.controls import ChamberLightClient
from .core.coordinator import PrinterCoordinator
from .entity import PrinternizerEntity, async_control
from .runtime import PrinternizerConfigEntry

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PrinternizerConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the chamber light for printers that report one."""
    coordinator = entry.runtime_data
    state = coordinator.data
    if (
        isinstance(coordinator.client, ChamberLightClient)
        and state is not None
        and "chamber_light" in state.extra
    ):
        async_add_entities([ChamberLight(coordinator)])


class ChamberLight(PrinternizerEntity, LightEntity):
    """On or off; the state is what the printer reports."""

    _attr_translation_key = "chamber_light"
    _attr_color_mode = ColorMode.ONOFF
    _attr_supported_color_modes = {ColorMode.ONOFF}

    def __init__(self, coordinator: PrinterCoordinator) -> None:
        """Initialize the light."""
        super().__init__(coordinator, "chamber_light")

    @property
    def is_on(self) -> bool | None:
        """True while the printer reports the light on."""
        mode = self.coordinator.data.extra.get("chamber_light")
        return None if mode is None else mode == "on"

    def _output_values(self) -> Any:
        return self.is_on

    async def _async_switch(self, on: bool) -> None:
        client = self.coordinator.client
        assert isinstance(client, ChamberLightClient)
        await async_control(self.coordinator, "ledctrl", lambda: client.async_set_chamber_light(on))

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Switch the light on."""
        await self._async_switch(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Switch the light off."""
        await self._async_switch(False)
