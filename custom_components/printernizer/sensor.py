"""Sensors of a printer: status, progress, temperatures, job, time, layers and family extras."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfLength,
    UnitOfMass,
    UnitOfTemperature,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .api.models import PrinterFileClient, PrinterState, PrinterStatus
from .core.jobs import SIGNAL_JOB_ESTIMATES, Job
from .entity import PrinternizerEntity
from .library_entry import is_library_entry
from .library_sensor import async_setup_library_sensors
from .runtime import DATA_KEY, LibraryConfigEntry, LibraryRuntime, PrinternizerConfigEntry

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class PrinterSensorDescription(SensorEntityDescription):
    """A sensor on the normalized state."""

    value_fn: Callable[[PrinterState], Any]
    #: decides at set-up whether this printer has the sensor
    exists_fn: Callable[[PrinterState], bool] = lambda _: True


def _extra(key: str) -> Callable[[PrinterState], Any]:
    return lambda state: state.extra.get(key)


def _has_extra(key: str) -> Callable[[PrinterState], bool]:
    return lambda state: key in state.extra


def _end_time(state: PrinterState) -> datetime | None:
    if not state.is_active or state.remaining_seconds is None:
        return None
    # Whole minutes, so the end time does not jitter with every update.
    end = dt_util.utcnow() + timedelta(seconds=state.remaining_seconds)
    return end.replace(second=0, microsecond=0)


def _temperature(key: str, attr: str, **kwargs: Any) -> PrinterSensorDescription:
    return PrinterSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.TEMPERATURE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        suggested_display_precision=1,
        value_fn=lambda state: getattr(state, attr),
        **kwargs,
    )


SENSORS: tuple[PrinterSensorDescription, ...] = (
    PrinterSensorDescription(
        key="status",
        translation_key="status",
        device_class=SensorDeviceClass.ENUM,
        options=[status.value for status in PrinterStatus],
        value_fn=lambda state: state.status.value,
    ),
    PrinterSensorDescription(
        key="progress",
        translation_key="progress",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda state: state.progress,
    ),
    _temperature("nozzle_temperature", "nozzle_temp"),
    _temperature("nozzle_target_temperature", "nozzle_target"),
    _temperature("bed_temperature", "bed_temp"),
    _temperature("bed_target_temperature", "bed_target"),
    _temperature(
        "chamber_temperature",
        "chamber_temp",
        exists_fn=lambda state: state.chamber_temp is not None,
    ),
    PrinterSensorDescription(
        key="current_job",
        translation_key="current_job",
        value_fn=lambda state: state.job_name,
    ),
    PrinterSensorDescription(
        key="remaining_time",
        translation_key="remaining_time",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.MINUTES,
        value_fn=lambda state: state.remaining_seconds if state.is_active else None,
    ),
    PrinterSensorDescription(
        key="end_time",
        translation_key="end_time",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=_end_time,
    ),
    PrinterSensorDescription(
        key="current_layer",
        translation_key="current_layer",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda state: state.layer,
        exists_fn=lambda state: state.layer is not None or state.total_layers is not None,
    ),
    PrinterSensorDescription(
        key="total_layers",
        translation_key="total_layers",
        value_fn=lambda state: state.total_layers,
        exists_fn=lambda state: state.layer is not None or state.total_layers is not None,
    ),
    # --- Bambu Lab extras
    PrinterSensorDescription(
        key="print_stage",
        translation_key="print_stage",
        value_fn=_extra("print_stage"),
        exists_fn=_has_extra("print_stage"),
    ),
    PrinterSensorDescription(
        key="ams_active_tray",
        translation_key="ams_active_tray",
        value_fn=_extra("ams_active_tray"),
        exists_fn=_has_extra("ams_active_tray"),
    ),
    # --- PrusaLink extras
    PrinterSensorDescription(
        key="print_speed",
        translation_key="print_speed",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_extra("speed"),
        exists_fn=_has_extra("speed"),
    ),
    PrinterSensorDescription(
        key="flow",
        translation_key="flow",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_extra("flow"),
        exists_fn=_has_extra("flow"),
    ),
    PrinterSensorDescription(
        key="z_height",
        translation_key="z_height",
        device_class=SensorDeviceClass.DISTANCE,
        native_unit_of_measurement=UnitOfLength.MILLIMETERS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        value_fn=_extra("z_height"),
        exists_fn=_has_extra("z_height"),
    ),
    PrinterSensorDescription(
        key="fan_hotend",
        translation_key="fan_hotend",
        native_unit_of_measurement="rpm",
        state_class=SensorStateClass.MEASUREMENT,
        entity_registry_enabled_default=False,
        value_fn=_extra("fan_hotend"),
        exists_fn=_has_extra("fan_hotend"),
    ),
    PrinterSensorDescription(
        key="fan_print",
        translation_key="fan_print",
        native_unit_of_measurement="rpm",
        state_class=SensorStateClass.MEASUREMENT,
        entity_registry_enabled_default=False,
        value_fn=_extra("fan_print"),
        exists_fn=_has_extra("fan_print"),
    ),
    PrinterSensorDescription(
        key="nozzle_diameter",
        translation_key="nozzle_diameter",
        device_class=SensorDeviceClass.DISTANCE,
        native_unit_of_measurement=UnitOfLength.MILLIMETERS,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_extra("nozzle_diameter"),
        exists_fn=_has_extra("nozzle_diameter"),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PrinternizerConfigEntry | LibraryConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors this printer reports (or the library's sensors)."""
    if is_library_entry(entry):
        await async_setup_library_sensors(hass, entry, async_add_entities)  # type: ignore[arg-type]
        return
    coordinator = entry.runtime_data
    assert not isinstance(coordinator, LibraryRuntime)
    state = coordinator.data
    entities: list[SensorEntity] = [
        PrinterSensor(coordinator, description)
        for description in SENSORS
        if state is not None and description.exists_fn(state)
    ]
    if isinstance(coordinator.client, PrinterFileClient):
        entities.append(PrinterFilesSensor(coordinator))
    entities += [PrinterJobSensor(coordinator, description) for description in JOB_SENSORS]
    async_add_entities(entities)


class PrinterSensor(PrinternizerEntity, SensorEntity):
    """A sensor on the printer's normalized state."""

    entity_description: PrinterSensorDescription

    def __init__(self, coordinator: Any, description: PrinterSensorDescription) -> None:
        """Initialize the sensor."""
        super().__init__(coordinator, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> Any:
        """The value from the current state."""
        return self.entity_description.value_fn(self.coordinator.data)


# --- processing (issue 11): the current (or last) job's file estimates ---


@dataclass(frozen=True, kw_only=True)
class JobSensorDescription(SensorEntityDescription):
    """A sensor on the printer's current (or last) job record."""

    value_fn: Callable[[Job], Any]


JOB_SENSORS: tuple[JobSensorDescription, ...] = (
    JobSensorDescription(
        key="job_estimated_print_time",
        translation_key="job_estimated_print_time",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=0,
        value_fn=lambda job: job.estimated_print_time,
    ),
    JobSensorDescription(
        key="job_estimated_filament",
        translation_key="job_estimated_filament",
        device_class=SensorDeviceClass.WEIGHT,
        native_unit_of_measurement=UnitOfMass.GRAMS,
        suggested_display_precision=1,
        value_fn=lambda job: job.estimated_filament_g,
    ),
)


class PrinterJobSensor(PrinternizerEntity, SensorEntity):
    """The slicer's estimate for the printer's current (or last) job."""

    entity_description: JobSensorDescription

    def __init__(self, coordinator: Any, description: JobSensorDescription) -> None:
        """Initialize the sensor."""
        super().__init__(coordinator, description.key)
        self.entity_description = description

    async def async_added_to_hass(self) -> None:
        """Follow the job's estimates as well as the printer."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(self.hass, SIGNAL_JOB_ESTIMATES, self._estimates_changed)
        )

    @callback
    def _estimates_changed(self, printer_id: str | None) -> None:
        if printer_id == self.coordinator.printer_id:
            self.async_write_ha_state()

    @property
    def native_value(self) -> Any:
        """The estimate, None when the job's file states none."""
        job = self.hass.data[DATA_KEY].jobs.current_or_last(self.coordinator.printer_id)
        return self.entity_description.value_fn(job) if job is not None else None


class PrinterFilesSensor(PrinternizerEntity, SensorEntity):
    """How many files are on the printer (from its file index)."""

    _attr_translation_key = "files"
    _attr_state_class = SensorStateClass.MEASUREMENT
    _attr_native_unit_of_measurement = "files"

    def __init__(self, coordinator: Any) -> None:
        """Initialize the sensor."""
        super().__init__(coordinator, "files")

    async def async_added_to_hass(self) -> None:
        """Follow the file index."""
        await super().async_added_to_hass()
        index = self.hass.data[DATA_KEY].file_index
        self.async_on_remove(index.async_add_listener(self._index_changed))

    @callback
    def _index_changed(self) -> None:
        self.async_write_ha_state()

    @property
    def available(self) -> bool:
        """Available once the printer was listed (the count of its last listing)."""
        return self.hass.data[DATA_KEY].file_index.known(self.coordinator.printer_id)

    @property
    def native_value(self) -> int | None:
        """Files on the printer."""
        return self.hass.data[DATA_KEY].file_index.count(self.coordinator.printer_id)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """When the printer was last listed."""
        return {
            "last_discovery": self.hass.data[DATA_KEY].file_index.last_discovery(
                self.coordinator.printer_id
            )
        }
