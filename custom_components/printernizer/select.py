"""Print speed level select (Bambu Lab ``spd_lvl``), confirmed by the printer's echo."""

from __future__ import annotations

from typing import Any

from homeassistant.components.select import SelectEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api.controls import SPEED_LEVELS, SpeedLevelClient
from .core.coordinator import PrinterCoordinator
from .entity import PrinternizerEntity, async_control
from .runtime import PrinternizerConfigEntry

PARALLEL_UPDATES = 1

_LEVELS = {name: level for level, name in SPEED_LEVELS.items()}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PrinternizerConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the speed select for printers that report and accept a speed level."""
    coordinator = entry.runtime_data
    state = coordinator.data
    if (
        isinstance(coordinator.client, SpeedLevelClient)
        and state is not None
        and "speed_level" in state.extra
    ):
        async_add_entities([SpeedLevelSelect(coordinator)])


class SpeedLevelSelect(PrinternizerEntity, SelectEntity):
    """Silent, standard, sport or ludicrous."""

    _attr_translation_key = "speed_level"
    _attr_entity_category = EntityCategory.CONFIG
    _attr_options = list(_LEVELS)

    def __init__(self, coordinator: PrinterCoordinator) -> None:
        """Initialize the select."""
        super().__init__(coordinator, "speed_level")

    @property
    def current_option(self) -> str | None:
        """The level the printer reports."""
        level = self.coordinator.data.extra.get("speed_level")
        return SPEED_LEVELS.get(level) if isinstance(level, int) else None

    def _output_values(self) -> Any:
        return self.current_option

    async def async_select_option(self, option: str) -> None:
        """Send the level; returns once the printer confirmed."""
        client = self.coordinator.client
        assert isinstance(client, SpeedLevelClient)
        await async_control(
            self.coordinator, "print_speed", lambda: client.async_set_speed_level(_LEVELS[option])
        )
