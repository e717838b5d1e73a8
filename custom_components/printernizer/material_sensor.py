"""Sensors of the library entry's Materials device: one per spool, and the low-stock count.

Material sensors come and go with the materials: a new material adds its
sensor, a deleted one removes its sensor and registry entry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity, SensorStateClass
from homeassistant.const import UnitOfMass
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN, LIBRARY_UNIQUE_ID, MATERIALS_DEVICE_ID
from .core.materials import MaterialManager
from .runtime import LibraryConfigEntry


def materials_device_info() -> DeviceInfo:
    """The Materials device (a service device under the library's)."""
    return DeviceInfo(
        identifiers={(DOMAIN, MATERIALS_DEVICE_ID)},
        translation_key="materials",
        name="Materials",
        manufacturer="Printernizer",
        model="Materials",
        entry_type=DeviceEntryType.SERVICE,
        via_device=(DOMAIN, LIBRARY_UNIQUE_ID),
    )


def material_unique_id(material_id: str) -> str:
    """Unique id of a material's sensor."""
    return f"material_{material_id}"


@callback
def async_setup_material_sensors(
    hass: HomeAssistant,
    entry: LibraryConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the low-stock count and a sensor per material; follow materials as they change."""
    materials = entry.runtime_data.materials
    assert materials is not None  # started before the library's platforms are set up
    registry = er.async_get(hass)
    live = {material_unique_id(m.material_id) for m in materials.materials}
    # Registry entries of materials deleted while the entry was not loaded.
    for reg in er.async_entries_for_config_entry(registry, entry.entry_id):
        if reg.unique_id.startswith("material_") and reg.unique_id not in live:
            registry.async_remove(reg.entity_id)
    entities: list[SensorEntity] = [LowStockCountSensor(materials)]
    entities += [MaterialSensor(materials, m.material_id) for m in materials.materials]
    async_add_entities(entities)

    @callback
    def changed(change: str, material_id: str) -> None:
        if change == "created":
            async_add_entities([MaterialSensor(materials, material_id)])
        elif change == "deleted":
            entity_id = registry.async_get_entity_id(
                "sensor", DOMAIN, material_unique_id(material_id)
            )
            if entity_id is not None:
                registry.async_remove(entity_id)

    entry.async_on_unload(materials.add_listener(changed))


class _MaterialsEntity(SensorEntity):
    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, materials: MaterialManager) -> None:
        self._materials = materials
        self._attr_device_info = materials_device_info()

    #: Only this material's changes (None: every material's).
    _follow_id: str | None = None
    #: The listener: ``(change, material_id)``, writes the state when it concerns the entity.
    _changed: Callable[[str, str], None]

    async def async_added_to_hass(self) -> None:
        """Follow changes."""
        self.async_on_remove(self._materials.add_listener(self._changed, self._follow_id))


class MaterialSensor(_MaterialsEntity):
    """A spool: remaining grams; percentage, type, colour and location as attributes."""

    _attr_device_class = SensorDeviceClass.WEIGHT
    _attr_state_class = SensorStateClass.MEASUREMENT
    _attr_native_unit_of_measurement = UnitOfMass.GRAMS
    _attr_suggested_display_precision = 0

    def __init__(self, materials: MaterialManager, material_id: str) -> None:
        """Initialize the sensor of one material."""
        super().__init__(materials)
        self._material_id = material_id
        self._follow_id = material_id
        self._attr_unique_id = material_unique_id(material_id)
        material = materials.get(material_id)
        # The user's own name for the spool (no translation applies to it).
        self._attr_name = material.name if material else material_id

    @callback
    def _changed(self, change: str, material_id: str) -> None:
        if change == "deleted":
            return  # the registry entry goes (async_setup_material_sensors)
        if (material := self._materials.get(material_id)) is not None:
            self._attr_name = material.name
        self.async_write_ha_state()

    @property
    def available(self) -> bool:
        """Available while the material exists."""
        return self._materials.get(self._material_id) is not None

    @property
    def native_value(self) -> float | None:
        """Remaining grams."""
        material = self._materials.get(self._material_id)
        return material.remaining_weight if material else None

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Percentage, type, colour, location, where it is loaded."""
        material = self._materials.get(self._material_id)
        if material is None:
            return None
        return {
            "material_id": material.material_id,
            "remaining_percentage": material.remaining_percentage,
            "weight": material.weight,
            "material_type": material.material_type,
            "brand": material.brand,
            "color": material.color,
            "color_hex": material.color_hex,
            "location": material.location,
            "loaded": material.loaded,
            "ams_tray": material.ams_tray,
            "low_stock": self._materials.is_low(material),
        }


class LowStockCountSensor(_MaterialsEntity):
    """How many active materials are below the low-stock threshold."""

    _attr_translation_key = "materials_low_stock"
    _attr_state_class = SensorStateClass.MEASUREMENT

    def __init__(self, materials: MaterialManager) -> None:
        """Initialize the count."""
        super().__init__(materials)
        self._attr_unique_id = "materials_low_stock"

    @callback
    def _changed(self, change: str, material_id: str) -> None:
        if change == "low_stock":
            self.async_write_ha_state()

    @property
    def native_value(self) -> int:
        """The count."""
        return self._materials.low_stock_count()

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The threshold and the materials below it."""
        return {
            "threshold": self._materials.threshold,
            "materials": sorted(m.name for m in self._materials.low_stock()),
        }
