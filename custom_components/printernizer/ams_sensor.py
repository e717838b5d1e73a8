"""Bambu Lab AMS sensors on the printer device: per tray and per AMS unit.

Created from the printer's AMS report (``state.extra["ams"]``, see
api/bambu/ams.py): those it reports at set-up, then those of an AMS unit or
tray that appears later (an AMS connected while the printer runs), without a
reload. A unit that goes away keeps its entities (they say unknown until it is
back); what the printer does not know is unknown, never 0 or -1.
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
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import PERCENTAGE, UnitOfTemperature
from homeassistant.core import callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

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


def _tray_where(tray: AmsTray) -> str:
    return "external" if tray.ams_id is None else f"ams{tray.ams_id}_tray{tray.tray_id}"


def ams_sensors(
    coordinator: PrinterCoordinator, report: AmsReport, known: set[str]
) -> list[SensorEntity]:
    """The sensors of the units and trays in ``report`` whose place is not in ``known``.

    ``known`` holds the places (``ams0``, ``ams0_tray1``, ``external``) that
    have their sensors already; the new ones are added to it.
    """
    entities: list[SensorEntity] = []
    for unit in report.units:
        if _new(known, f"ams{unit.ams_id}"):
            entities += [AmsUnitSensor(coordinator, unit.ams_id, d) for d in UNIT_SENSORS]
    for tray in report.trays():
        if _new(known, _tray_where(tray)):
            entities += [AmsTraySensor(coordinator, tray, d) for d in TRAY_SENSORS]
    return entities


def _new(known: set[str], place: str) -> bool:
    if place in known:
        return False
    known.add(place)
    return True


@callback
def async_setup_ams_sensors(
    entry: ConfigEntry[Any],
    coordinator: PrinterCoordinator,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the AMS sensors the printer reports, and later those of units and trays it gains."""
    known: set[str] = set()
    last: AmsReport | None = None

    @callback
    def add_new() -> None:
        nonlocal last
        report = _ams(coordinator.data)
        if report is None or report is last:
            return  # no AMS, or the very report already looked at (unchanged AMS)
        last = report
        if entities := ams_sensors(coordinator, report, known):
            async_add_entities(entities)

    add_new()
    entry.async_on_unload(coordinator.async_add_listener(add_new))


class _AmsEntity(PrinternizerEntity):
    """Skips a coordinator update that carries the very AMS report it last looked at.

    The parser hands over the same :class:`AmsReport` object while the AMS
    part of the reports did not change (most reports), so an AMS sensor has
    nothing to look at then: with the same availability its state is the same.
    """

    _seen: tuple[AmsReport | None, bool] | None = None

    @callback
    def _handle_coordinator_update(self) -> None:
        seen = (_ams(self.coordinator.data), self.available)
        last = self._seen
        if last is not None and last[0] is seen[0] and last[1] == seen[1]:
            return
        self._seen = seen
        super()._handle_coordinator_update()


class AmsTraySensor(_AmsEntity, SensorEntity):
    """A sensor on one AMS tray (or the external spool)."""

    entity_description: AmsTraySensorDescription

    def __init__(
        self,
        coordinator: PrinterCoordinator,
        tray: AmsTray,
        description: AmsTraySensorDescription,
    ) -> None:
        """Initialize the sensor."""
        super().__init__(coordinator, f"{_tray_where(tray)}_{description.key}")
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


class AmsUnitSensor(_AmsEntity, SensorEntity):
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
