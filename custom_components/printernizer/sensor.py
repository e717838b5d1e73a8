"""Sensors of a printer: status, progress, temperatures, job, time, layers and family extras."""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
    SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
    EntityCategory,
    UnitOfLength,
    UnitOfMass,
    UnitOfTemperature,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .ams_sensor import async_setup_ams_sensors
from .api.models import PrinterFileClient, PrinterState, PrinterStatus
from .const import DOMAIN
from .core.coordinator import PrinterCoordinator
from .core.jobs import SIGNAL_JOB_ESTIMATES, Job
from .entity import PrinternizerEntity
from .library_entry import is_library_entry
from .library_sensor import async_setup_library_sensors
from .material_sensor import async_setup_material_sensors
from .runtime import DATA_KEY, LibraryConfigEntry, LibraryRuntime, PrinternizerConfigEntry

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class PrinterSensorDescription(SensorEntityDescription):
    """A sensor on the normalized state."""

    value_fn: Callable[[PrinterState], Any]
    #: decides at set-up whether this printer has the sensor
    exists_fn: Callable[[PrinterState], bool] = lambda _: True
    #: extra state attributes, where the sensor has any
    attributes_fn: Callable[[PrinterState], dict[str, Any]] | None = None


def _extra(key: str) -> Callable[[PrinterState], Any]:
    return lambda state: state.extra.get(key)


def _has_extra(key: str) -> Callable[[PrinterState], bool]:
    return lambda state: key in state.extra


def _has_value(key: str) -> Callable[[PrinterState], bool]:
    return lambda state: state.extra.get(key) is not None


def _fan(key: str) -> PrinterSensorDescription:
    return PrinterSensorDescription(
        key=key,
        translation_key=key,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_extra(key),
        exists_fn=_has_extra(key),
    )


def _hms_attributes(state: PrinterState) -> dict[str, Any]:
    messages = state.extra.get("hms_messages") or []
    return {"messages": [dict(message) for message in messages]}


#: Bambu Lab's detailed print stage (``stg_cur``) -> option of the Print stage sensor.
PRINT_STAGES: dict[int, str] = {
    -1: "idle",
    0: "printing",
    1: "auto_bed_leveling",
    2: "heatbed_preheating",
    3: "sweeping_xy_mech_mode",
    4: "changing_filament",
    5: "m400_pause",
    6: "paused_filament_runout",
    7: "heating_hotend",
    8: "calibrating_extrusion",
    9: "scanning_bed_surface",
    10: "inspecting_first_layer",
    11: "identifying_build_plate_type",
    12: "calibrating_micro_lidar",
    13: "homing_toolhead",
    14: "cleaning_nozzle_tip",
    15: "checking_extruder_temperature",
    16: "paused_user",
    17: "paused_front_cover_falling",
    18: "calibrating_micro_lidar",
    19: "calibrating_extrusion_flow",
    20: "paused_nozzle_temperature_malfunction",
    21: "paused_heat_bed_temperature_malfunction",
    22: "filament_unloading",
    23: "paused_skipped_step",
    24: "filament_loading",
    25: "calibrating_motor_noise",
    26: "paused_ams_lost",
    27: "paused_low_fan_speed_heat_break",
    28: "paused_chamber_temperature_control_error",
    29: "cooling_chamber",
    30: "paused_user_gcode",
    31: "motor_noise_showoff",
    32: "paused_nozzle_filament_covered_detected",
    33: "paused_cutter_error",
    34: "paused_first_layer_error",
    35: "paused_nozzle_clog",
    255: "idle",
}
#: Codes not in the table (newer firmware): an enum sensor refuses states outside its options.
STAGE_UNKNOWN = "unknown"
PRINT_STAGE_OPTIONS: list[str] = [*dict.fromkeys(PRINT_STAGES.values()), STAGE_UNKNOWN]


def _print_stage(state: PrinterState) -> str | None:
    code = state.extra.get("print_stage")
    if code is None:
        return None
    if isinstance(code, str) and code in PRINT_STAGE_OPTIONS:
        return code
    try:
        return PRINT_STAGES.get(int(code), STAGE_UNKNOWN)
    except (TypeError, ValueError):
        return STAGE_UNKNOWN


#: Options of the AMS active tray sensor: none, the external spool, AMS 1-4 trays 1-4,
#: AMS HT 1-8 (ids 128-135), unknown.
TRAY_OPTIONS: list[str] = [
    "none",
    "external",
    *(f"ams_{ams}_tray_{tray}" for ams in range(1, 5) for tray in range(1, 5)),
    *(f"ams_ht_{unit}" for unit in range(1, 9)),
    "unknown",
]


def _active_tray(state: PrinterState) -> str:
    """The active tray in words, from the value parse.py leaves in ``extra``.

    An int is Bambu's ``tray_now`` coding: 255 (or none) nothing loaded, 254
    the external spool, 128-135 an AMS HT, otherwise AMS ``value >> 2`` tray
    ``value & 3``. A string already in the options is taken as it is.
    """
    value = state.extra.get("ams_active_tray")
    if value is None:
        return "none"
    if isinstance(value, str):
        return value if value in TRAY_OPTIONS else "unknown"
    if not isinstance(value, int) or isinstance(value, bool):
        return "unknown"
    if value == 255:
        return "none"
    if value == 254:
        return "external"
    if 128 <= value <= 135:
        return f"ams_ht_{value - 127}"
    if 0 <= value < 16:
        return f"ams_{(value >> 2) + 1}_tray_{(value & 3) + 1}"
    return "unknown"


#: End time moves only by this much or more (or when the job changes), so the
#: logbook and history do not fill with every small change of the estimate.
END_TIME_STEP = timedelta(minutes=5)


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
        # 18 h 12 min, not "1,092m 5s" (existing entities are migrated at set-up)
        suggested_unit_of_measurement=UnitOfTime.HOURS,
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
        device_class=SensorDeviceClass.ENUM,
        options=PRINT_STAGE_OPTIONS,
        value_fn=_print_stage,
        exists_fn=_has_extra("print_stage"),
    ),
    PrinterSensorDescription(
        key="ams_active_tray",
        translation_key="ams_active_tray",
        device_class=SensorDeviceClass.ENUM,
        options=TRAY_OPTIONS,
        value_fn=_active_tray,
        exists_fn=_has_extra("ams_active_tray"),
    ),
    PrinterSensorDescription(
        key="chamber_target_temperature",
        translation_key="chamber_target_temperature",
        device_class=SensorDeviceClass.TEMPERATURE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        suggested_display_precision=0,
        value_fn=_extra("chamber_target"),
        exists_fn=_has_value("chamber_target"),
    ),
    _fan("fan_part"),
    _fan("fan_aux"),
    _fan("fan_chamber"),
    _fan("fan_heatbreak"),
    PrinterSensorDescription(
        key="wifi_signal",
        translation_key="wifi_signal",
        device_class=SensorDeviceClass.SIGNAL_STRENGTH,
        native_unit_of_measurement=SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_extra("wifi_signal"),
        exists_fn=_has_extra("wifi_signal"),
    ),
    PrinterSensorDescription(
        key="hms_messages",
        translation_key="hms_messages",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda state: len(state.extra.get("hms_messages") or []),
        exists_fn=_has_extra("hms_messages"),
        attributes_fn=_hms_attributes,
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
    """Add the sensors this printer reports (or the library's)."""
    if is_library_entry(entry):
        async_setup_material_sensors(hass, entry, async_add_entities)  # type: ignore[arg-type]
        await async_setup_library_sensors(hass, entry, async_add_entities)  # type: ignore[arg-type]
        return
    coordinator = entry.runtime_data
    assert not isinstance(coordinator, LibraryRuntime)
    state = coordinator.data
    _migrate_remaining_time_unit(hass, coordinator)
    entities: list[SensorEntity] = [
        (EndTimeSensor if description.key == "end_time" else PrinterSensor)(
            coordinator, description
        )
        for description in SENSORS
        if state is not None and description.exists_fn(state)
    ]
    if isinstance(coordinator.client, PrinterFileClient):
        entities.append(PrinterFilesSensor(coordinator))
    entities += [PrinterJobSensor(coordinator, description) for description in JOB_SENSORS]
    async_add_entities(entities)
    async_setup_ams_sensors(entry, coordinator, async_add_entities)


@callback
def _migrate_remaining_time_unit(hass: HomeAssistant, coordinator: PrinterCoordinator) -> None:
    """Remaining time was suggested in minutes before: move existing entities to hours.

    The suggested unit is stored in the entity registry when the entity is
    first made; a unit the user chose (the ``sensor`` options) is kept.
    """
    registry = er.async_get(hass)
    unique_id = f"{coordinator.printer_id}_remaining_time"
    if (entity_id := registry.async_get_entity_id("sensor", DOMAIN, unique_id)) is None:
        return
    private = registry.async_get(entity_id)
    options: Mapping[str, Any] = private.options.get("sensor.private", {}) if private else {}
    if options.get("suggested_unit_of_measurement") == UnitOfTime.MINUTES:
        registry.async_update_entity_options(
            entity_id,
            "sensor.private",
            {**options, "suggested_unit_of_measurement": UnitOfTime.HOURS},
        )


class PrinterSensor(PrinternizerEntity, SensorEntity):
    """A sensor on the printer's normalized state."""

    entity_description: PrinterSensorDescription

    def __init__(
        self, coordinator: PrinterCoordinator, description: PrinterSensorDescription
    ) -> None:
        """Initialize the sensor."""
        super().__init__(coordinator, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> Any:
        """The value from the current state."""
        return self.entity_description.value_fn(self.coordinator.data)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Attributes of the sensors that have any (HMS messages)."""
        if self.entity_description.attributes_fn is None or self.coordinator.data is None:
            return None
        return self.entity_description.attributes_fn(self.coordinator.data)


class EndTimeSensor(PrinterSensor):
    """End time: a new state only when the estimate moves by 5 minutes or the job changes."""

    _end: datetime | None = None
    _job: str | None = None

    @property
    def native_value(self) -> datetime | None:
        """The end time, held while the estimate only wobbles."""
        state = self.coordinator.data
        end = _end_time(state)
        job = state.job_name if state.is_active else None
        if (
            end is None
            or self._end is None
            or job != self._job
            or abs(end - self._end) >= END_TIME_STEP
        ):
            self._end, self._job = end, job
        return self._end


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
            self._async_write_if_changed()

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
        self._async_write_if_changed()

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
