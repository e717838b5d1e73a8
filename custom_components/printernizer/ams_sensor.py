"""Bambu Lab AMS sensors on the printer device: per tray and per AMS unit.

Created at set-up from the printer's AMS report (``state.extra["ams"]``, see
api/bambu/ams.py); what the printer does not know is unknown, never 0 or -1.
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
from homeassistant.const import PERCENTAGE, UnitOfTemperature

from .api.bambu.ams import AmsReport, AmsTray, AmsUnit
from .api.models import PrinterState
from .core.coordinator import PrinterCoordinator
from .entity import PrinternizerEntity


@dataclass(frozen=True, kw_only=True)
class AmsTraySensorDescription(SensorEntityDescription):
    """A sensor on one tray."""

    value_fn: Callable[[AmsTray], Any]
    attrs_fn: Callable[[AmsTray], dict[str, Any]] | None = None


@dataclass(frozen=True, kw_only=True)
class AmsUnitSensorDescription(SensorEntityDescription):
    """A sensor on one AMS unit."""

    value_fn: Callable[[AmsUnit], Any]
    attrs_fn: Callable[[AmsUnit], dict[str, Any]] | None = None


def _tray_attrs(tray: AmsTray) -> dict[str, Any]:
    return {
        "sub_brand": tray.sub_brand,
        "color_hex": tray.color_hex,
        "diameter": tray.diameter,
        "weight": tray.weight,
        "filament_id": tray.info_idx,
        "rfid": tray.has_rfid,
    }


TRAY_SENSORS: tuple[AmsTraySensorDescription, ...] = (
    AmsTraySensorDescription(
        key="filament_type",
        translation_key="ams_tray_type",
        value_fn=lambda tray: tray.tray_type if tray.loaded else None,
        attrs_fn=_tray_attrs,
    ),
    AmsTraySensorDescription(
        key="color",
        translation_key="ams_tray_color",
        value_fn=lambda tray: tray.color_hex if tray.loaded else None,
    ),
    AmsTraySensorDescription(
        key="remaining",
        translation_key="ams_tray_remaining",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda tray: tray.remain if tray.loaded else None,
    ),
)

UNIT_SENSORS: tuple[AmsUnitSensorDescription, ...] = (
    AmsUnitSensorDescription(
        key="humidity",
        translation_key="ams_humidity",
        device_class=SensorDeviceClass.HUMIDITY,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda unit: unit.humidity,
        attrs_fn=lambda unit: {"humidity_level": unit.humidity_level},
    ),
    AmsUnitSensorDescription(
        key="temperature",
        translation_key="ams_temperature",
        device_class=SensorDeviceClass.TEMPERATURE,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=lambda unit: unit.temperature,
    ),
)


def _ams(state: PrinterState | None) -> AmsReport | None:
    ams = state.extra.get("ams") if state is not None else None
    return ams if isinstance(ams, AmsReport) else None


def _tray_label(tray: AmsTray) -> dict[str, str]:
    if tray.ams_id is None:
        return {"ams": "external", "tray": "external"}
    return {"ams": str(tray.ams_id + 1), "tray": str(tray.tray_id + 1)}


def ams_sensors(coordinator: PrinterCoordinator) -> list[SensorEntity]:
    """The AMS sensors of a printer (none without AMS units or an external spool)."""
    report = _ams(coordinator.data)
    if report is None:
        return []
    entities: list[SensorEntity] = []
    for unit in report.units:
        entities += [AmsUnitSensor(coordinator, unit.ams_id, d) for d in UNIT_SENSORS]
        for tray in unit.trays:
            entities += [AmsTraySensor(coordinator, tray, d) for d in TRAY_SENSORS]
    for tray in report.external:
        entities += [AmsTraySensor(coordinator, tray, d) for d in TRAY_SENSORS]
    return entities


class AmsTraySensor(PrinternizerEntity, SensorEntity):
    """A sensor on one AMS tray (or the external spool)."""

    entity_description: AmsTraySensorDescription

    def __init__(
        self,
        coordinator: PrinterCoordinator,
        tray: AmsTray,
        description: AmsTraySensorDescription,
    ) -> None:
        """Initialize the sensor."""
        where = "external" if tray.ams_id is None else f"ams{tray.ams_id}_tray{tray.tray_id}"
        super().__init__(coordinator, f"{where}_{description.key}")
        self.entity_description = description
        self._index = tray.slot
        labels = _tray_label(tray)
        if tray.ams_id is None:
            self._attr_translation_key = f"{description.translation_key}_external"
        self._attr_translation_placeholders = labels

    def _tray(self) -> AmsTray | None:
        report = _ams(self.coordinator.data)
        return report.tray(self._index) if report is not None else None

    @property
    def native_value(self) -> Any:
        """The tray's value (unknown when the printer does not know)."""
        tray = self._tray()
        return self.entity_description.value_fn(tray) if tray is not None else None

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """More facts about the spool."""
        tray = self._tray()
        if tray is None or self.entity_description.attrs_fn is None or not tray.loaded:
            return None
        return self.entity_description.attrs_fn(tray)


class AmsUnitSensor(PrinternizerEntity, SensorEntity):
    """Humidity or temperature of one AMS unit."""

    entity_description: AmsUnitSensorDescription

    def __init__(
        self, coordinator: PrinterCoordinator, ams_id: int, description: AmsUnitSensorDescription
    ) -> None:
        """Initialize the sensor."""
        super().__init__(coordinator, f"ams{ams_id}_{description.key}")
        self.entity_description = description
        self._ams_id = ams_id
        self._attr_translation_placeholders = {"ams": str(ams_id + 1)}

    def _unit(self) -> AmsUnit | None:
        report = _ams(self.coordinator.data)
        if report is None:
            return None
        return next((u for u in report.units if u.ams_id == self._ams_id), None)

    @property
    def native_value(self) -> Any:
        """The unit's value (unknown when not reported or out of range)."""
        unit = self._unit()
        return self.entity_description.value_fn(unit) if unit is not None else None

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """The humidity level (1-5)."""
        unit = self._unit()
        if unit is None or self.entity_description.attrs_fn is None:
            return None
        return self.entity_description.attrs_fn(unit)
