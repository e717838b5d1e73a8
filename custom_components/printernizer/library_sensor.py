"""Sensors of the library entry (its service device): files, and later materials and ideas.

``sensor.py`` calls :func:`async_setup_library_sensors` for the library entry;
each area adds its descriptions to :data:`LIBRARY_SENSORS` (a value function on
the :class:`~.runtime.LibraryRuntime` and a subscribe function telling the
sensor when to update).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import UnitOfInformation
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import LIBRARY_TITLE
from .library_entry import library_device_info_identifier
from .runtime import LibraryConfigEntry, LibraryRuntime


@dataclass(frozen=True, kw_only=True)
class LibrarySensorDescription(SensorEntityDescription):
    """A sensor on the library's runtime."""

    value_fn: Callable[[LibraryRuntime], Any]
    #: Subscribe to changes: (runtime, update callback) -> unsubscribe.
    subscribe_fn: Callable[[LibraryRuntime, Callable[[], None]], CALLBACK_TYPE]
    exists_fn: Callable[[LibraryRuntime], bool] = lambda _: True
    attributes_fn: Callable[[LibraryRuntime], dict[str, Any]] | None = None


def _subscribe_library(runtime: LibraryRuntime, update: Callable[[], None]) -> CALLBACK_TYPE:
    assert runtime.library is not None
    return runtime.library.async_add_listener(update)


LIBRARY_SENSORS: tuple[LibrarySensorDescription, ...] = (
    LibrarySensorDescription(
        key="library_files",
        translation_key="library_files",
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement="files",
        value_fn=lambda runtime: len(runtime.library) if runtime.library else None,
        subscribe_fn=_subscribe_library,
        exists_fn=lambda runtime: runtime.library is not None,
    ),
    LibrarySensorDescription(
        key="library_size",
        translation_key="library_size",
        device_class=SensorDeviceClass.DATA_SIZE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        suggested_unit_of_measurement=UnitOfInformation.MEGABYTES,
        suggested_display_precision=1,
        value_fn=lambda runtime: runtime.library.total_bytes if runtime.library else None,
        subscribe_fn=_subscribe_library,
        exists_fn=lambda runtime: runtime.library is not None,
        attributes_fn=lambda runtime: {
            "quota": runtime.library.quota_bytes if runtime.library else None,
        },
    ),
)


async def async_setup_library_sensors(
    hass: HomeAssistant,
    entry: LibraryConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the library's sensors."""
    runtime = entry.runtime_data
    async_add_entities(
        LibrarySensor(entry, description)
        for description in LIBRARY_SENSORS
        if description.exists_fn(runtime)
    )


class LibrarySensor(SensorEntity):
    """A sensor of the library's service device."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    entity_description: LibrarySensorDescription

    def __init__(self, entry: LibraryConfigEntry, description: LibrarySensorDescription) -> None:
        """Initialize the sensor."""
        self._runtime = entry.runtime_data
        self.entity_description = description
        self._attr_unique_id = f"{entry.unique_id or entry.entry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={library_device_info_identifier()}, name=LIBRARY_TITLE
        )

    async def async_added_to_hass(self) -> None:
        """Follow the runtime's changes."""
        self.async_on_remove(
            self.entity_description.subscribe_fn(self._runtime, self._handle_update)
        )

    @callback
    def _handle_update(self) -> None:
        self.async_write_ha_state()

    @property
    def native_value(self) -> Any:
        """The current value."""
        return self.entity_description.value_fn(self._runtime)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Extra attributes, where the description has them."""
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(self._runtime)
