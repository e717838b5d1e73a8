"""Pause, resume and stop buttons; each is available only when its command makes sense."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api.models import PrinterStatus
from .core.coordinator import PrinterCoordinator
from .core.jobs import has_job
from .core.monitor import Command
from .entity import PrinternizerEntity
from .runtime import PrinternizerConfigEntry

PARALLEL_UPDATES = 1

#: The printer statuses in which each command makes sense.
COMMAND_STATUSES: dict[str, frozenset[PrinterStatus]] = {
    "pause": frozenset({PrinterStatus.PRINTING, PrinterStatus.PREPARING}),
    "resume": frozenset({PrinterStatus.PAUSED}),
    "stop": frozenset({PrinterStatus.PRINTING, PrinterStatus.PREPARING, PrinterStatus.PAUSED}),
}


@dataclass(frozen=True, kw_only=True)
class CommandButtonDescription(ButtonEntityDescription):
    """A button that sends a print command."""

    command: Command


BUTTONS = (
    CommandButtonDescription(key="pause", translation_key="pause", command="pause"),
    CommandButtonDescription(key="resume", translation_key="resume", command="resume"),
    CommandButtonDescription(key="stop", translation_key="stop", command="stop"),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PrinternizerConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the command buttons."""
    async_add_entities(CommandButton(entry.runtime_data, d) for d in BUTTONS)


class CommandButton(PrinternizerEntity, ButtonEntity):
    """Sends pause/resume/stop and waits for the printer's confirmation."""

    entity_description: CommandButtonDescription

    def __init__(
        self, coordinator: PrinterCoordinator, description: CommandButtonDescription
    ) -> None:
        """Initialize the button."""
        super().__init__(coordinator, description.key)
        self.entity_description = description

    @property
    def available(self) -> bool:
        """Available only while the command makes sense (a job is under way)."""
        if not super().available:
            return False
        state = self.coordinator.data
        return state.status in COMMAND_STATUSES[self.entity_description.command] and has_job(state)

    def _output_values(self) -> Any:
        """Only the availability is the button's (the last press is Home Assistant's)."""
        return None

    async def async_press(self) -> None:
        """Send the command."""
        await self.coordinator.async_command(self.entity_description.command)
