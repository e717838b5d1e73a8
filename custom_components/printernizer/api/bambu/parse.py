"""Pure parsing of Bambu Lab MQTT reports: decode, merge, normalize.

Nothing here does I/O and nothing here raises on malformed input: bad values
are logged at debug level and ignored.

Conventions (documented for the core):

* ``error``: a nonzero ``print_error`` (other than 50348044, "cancelled by
  user") is rendered as Bambu's wiki notation, the 32-bit value as two
  upper-case 16-bit hex halves joined by ``_``: 0x03004000 -> ``"0300_4000"``.
* ``extra`` keys:

  - ``print_stage``: ``stg_cur`` (int, Bambu's detailed stage id; -1 = none)
    or, where absent, ``mc_print_stage`` as int; ``None`` when neither.
  - ``hms``: list of HMS codes, ``"AAAA_AAAA_CCCC_CCCC"`` (attr and code as
    16-bit hex groups, the form Bambu's HMS wiki uses after ``HMS_``).
  - ``ams_active_tray``: ``ams.tray_now`` as int (254 = external spool),
    ``None`` when 255 (no tray) or absent.
  - ``wifi_signal``: dBm as int (``"-53dBm"`` -> -53), ``None`` when unknown.
  - ``nozzle_diameter``: float in mm, ``None`` when unknown.
  - ``ams``: :class:`~.ams.AmsReport` (units, trays, external spool; read in
    ams.py), only when the report has AMS units or an external spool.

* Temperatures: newer firmware packs them into ``device.bed.info.temp``,
  ``device.extruder.info[n].temp`` and ``device.ctc.info.temp`` (low 16 bits
  current, high 16 bits target). Packed values win when present; otherwise the
  classic ``*_temper`` fields are used. ``chamber_temp`` is ``chamber_temper``
  or, when absent, ``device.ctc.info.temp``; ``None`` when neither exists.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from typing import Any, TypeGuard

from ..models import PrinterInfo, PrinterState, PrinterStatus
from .ams import read_ams

_LOGGER = logging.getLogger(__name__)

#: ``print_error`` value meaning "print cancelled by the user".
PRINT_ERROR_CANCELLED = 50348044

GCODE_STATE_MAP: dict[str, PrinterStatus] = {
    "IDLE": PrinterStatus.IDLE,
    "INIT": PrinterStatus.IDLE,
    "OFFLINE": PrinterStatus.IDLE,
    "PREPARE": PrinterStatus.PREPARING,
    "SLICING": PrinterStatus.PREPARING,
    "RUNNING": PrinterStatus.PRINTING,
    "PAUSE": PrinterStatus.PAUSED,
    "FINISH": PrinterStatus.FINISHED,
    "FAILED": PrinterStatus.FAILED,
}

#: Model codes (``project_name`` of the ``ota`` module in ``get_version``, SSDP
#: ``DevModel.bambu.com``) to model names. Sources: Bambu Studio's printer
#: profiles (``resources/profiles/BBL/machine/*.json``, ``model_id``), the
#: community SSDP lists (gist Alex-Schaefer/72a9e2491a42da2ef99fb87601955cc3,
#: github psychoticbeef/BambuLabOrcaSlicerDiscovery) and the captures in
#: ``tests/fixtures/bambu`` (C11 = P1P, N2S = A1).
MODEL_CODES: dict[str, str] = {
    "3DPrinter-X1-Carbon": "X1C",
    "3DPrinter-X1": "X1",
    "BL-P001": "X1C",
    "BL-P002": "X1",
    "C13": "X1E",
    "C11": "P1P",
    "C12": "P1S",
    "N7": "P2S",
    "N6": "X2D",
    "N1": "A1 mini",
    "N2S": "A1",
    "O1D": "H2D",
    "O1S": "H2S",
    "O1C": "H2C",
    "O1C2": "H2C",
}

#: Models that have no chamber temperature sensor: they still send
#: ``chamber_temper``, always the same placeholder (5), so it is dropped. The
#: X1 series, P2S and the H2 series have the sensor (as in ha-bambulab's
#: feature table).
MODELS_WITHOUT_CHAMBER_SENSOR = frozenset({"P1P", "P1S", "A1", "A1 mini"})

#: Product names (``product_name`` of the ``ota`` module, newer firmware).
PRODUCT_NAMES: dict[str, str] = {
    "Bambu Lab X1-Carbon": "X1C",
    "Bambu Lab X1 Carbon": "X1C",
    "Bambu Lab X1": "X1",
    "Bambu Lab X1E": "X1E",
    "Bambu Lab P1P": "P1P",
    "Bambu Lab P1S": "P1S",
    "Bambu Lab A1": "A1",
    "Bambu Lab A1 mini": "A1 mini",
    "Bambu Lab H2D": "H2D",
}


def model_name(code: str | None) -> str | None:
    """Return the model name for a Bambu model code (the code itself when unknown)."""
    if not code:
        return None
    return MODEL_CODES.get(code) or PRODUCT_NAMES.get(code) or code


#: Types ``json.loads`` produces that are not mappings (see :func:`_is_mapping`).
_JSON_NON_MAPPINGS = frozenset({str, int, float, bool, list, type(None)})


def _is_mapping(value: Any) -> TypeGuard[Mapping[str, Any]]:
    """Return ``isinstance(value, Mapping)``.

    Decoded JSON is made of dicts and the types above, which are answered by
    their exact type: the ``Mapping`` ABC check costs several times more, and
    merge and normalize make it for nearly every value of every report.
    """
    cls = type(value)
    if cls is dict:
        return True
    if cls in _JSON_NON_MAPPINGS:
        return False
    return isinstance(value, Mapping)


# --- decoding ----------------------------------------------------------------


def decode_payload(payload: bytes | str) -> dict[str, Any] | None:
    """Decode an MQTT payload into a dict, or None (logged) when it is not one."""
    try:
        data = json.loads(payload)
    except (ValueError, TypeError, RecursionError) as err:
        _LOGGER.debug("Ignoring non-JSON payload: %s", err)
        return None
    if not isinstance(data, dict):
        _LOGGER.debug("Ignoring non-object payload of type %s", type(data).__name__)
        return None
    return data


def is_full_report(report: Mapping[str, Any]) -> bool:
    """Return True when a ``print`` report looks like a full (pushall) report.

    Full reports carry ``gcode_state`` and either ``msg == 0`` (the printer's
    own marker; deltas carry ``msg: 1``) or many keys (>= 40; a P1P pushall
    has about 70, deltas a handful).
    """
    if not _is_mapping(report) or "gcode_state" not in report:
        return False
    return report.get("msg") == 0 or len(report) >= 40


def merge_report(base: Mapping[str, Any] | None, delta: Mapping[str, Any]) -> dict[str, Any]:
    """Merge a delta into a report, returning a new dict.

    Nested dicts are merged recursively, any other value (lists included)
    replaces the old one; keys the delta does not carry are kept.
    """
    result: dict[str, Any] = dict(base) if _is_mapping(base) else {}
    if not _is_mapping(delta):
        return result
    for key, value in delta.items():
        if _is_mapping(value):
            result[key] = merge_report(result.get(key), value)
        else:
            result[key] = value
    return result


# --- value helpers -----------------------------------------------------------


def _float(value: Any, name: str) -> float | None:
    if type(value) is float and math.isfinite(value):  # the common case
        return value
    if value is None or isinstance(value, bool):
        return None
    try:
        result = float(value)
    except (TypeError, ValueError, OverflowError):
        _LOGGER.debug("Ignoring malformed %s: %r", name, value)
        return None
    if not math.isfinite(result):
        _LOGGER.debug("Ignoring non-finite %s: %r", name, value)
        return None
    return result


def _int(value: Any, name: str) -> int | None:
    if type(value) is int:  # the common case (bool is a subclass, so not here)
        return value
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError("not finite")
            return int(value)
        if isinstance(value, str):
            value = value.strip()
            return int(float(value)) if "." in value else int(value)
        if isinstance(value, int):
            return value
    except (TypeError, ValueError, OverflowError):
        pass
    _LOGGER.debug("Ignoring malformed %s: %r", name, value)
    return None


def _str(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _get(data: Any, *path: str) -> Any:
    """Follow ``path`` through nested mappings; None where a step is missing or not one."""
    for key in path:
        if not _is_mapping(data):
            return None
        data = data.get(key)
    return data


def unpack_temp(value: Any, name: str = "packed temperature") -> tuple[float, float] | None:
    """Split a packed temperature (low 16 bits current, high 16 bits target)."""
    raw = _int(value, name)
    if raw is None or raw < 0:
        return None
    return float(raw & 0xFFFF), float((raw >> 16) & 0xFFFF)


def format_error_code(code: int) -> str:
    """Render a 32-bit Bambu error code as ``"XXXX_XXXX"``."""
    return f"{(code >> 16) & 0xFFFF:04X}_{code & 0xFFFF:04X}"


def _hms_codes(value: Any) -> list[str]:
    codes: list[str] = []
    if not isinstance(value, list):
        return codes
    for item in value:
        if not _is_mapping(item):
            continue
        attr = _int(item.get("attr"), "hms attr")
        code = _int(item.get("code"), "hms code")
        if attr is None or code is None:
            continue
        codes.append(
            f"{format_error_code(attr & 0xFFFFFFFF)}_{format_error_code(code & 0xFFFFFFFF)}"
        )
    return codes


def _active_extruder(device: Mapping[str, Any]) -> Any:
    extruder = device.get("extruder")
    if not _is_mapping(extruder):
        return None
    info = extruder.get("info")
    if not isinstance(info, list) or not info:
        return None
    state = _int(extruder.get("state"), "extruder state")
    active = (state >> 4) & 0xF if state is not None and state >= 0 else 0
    for entry in info:
        if _is_mapping(entry) and entry.get("id") == active:
            return entry
    return info[0]


def _temps(report: Mapping[str, Any]) -> dict[str, float | None]:
    result: dict[str, float | None] = {
        "nozzle_temp": _float(report.get("nozzle_temper"), "nozzle_temper"),
        "nozzle_target": _float(report.get("nozzle_target_temper"), "nozzle_target_temper"),
        "bed_temp": _float(report.get("bed_temper"), "bed_temper"),
        "bed_target": _float(report.get("bed_target_temper"), "bed_target_temper"),
        "chamber_temp": _float(report.get("chamber_temper"), "chamber_temper"),
    }
    device = report.get("device")
    if _is_mapping(device):
        if packed := unpack_temp(_get(device, "bed", "info", "temp"), "device.bed temp"):
            result["bed_temp"], result["bed_target"] = packed
        extruder = _active_extruder(device)
        if _is_mapping(extruder) and (
            packed := unpack_temp(extruder.get("temp"), "device.extruder temp")
        ):
            result["nozzle_temp"], result["nozzle_target"] = packed
        if result["chamber_temp"] is None and (
            packed := unpack_temp(_get(device, "ctc", "info", "temp"), "device.ctc temp")
        ):
            result["chamber_temp"] = packed[0]
    return result


def _wifi_dbm(value: Any) -> int | None:
    if isinstance(value, str):
        value = value.strip().lower().removesuffix("dbm").strip()
    return _int(value, "wifi_signal")


# --- normalization -----------------------------------------------------------


def normalize(
    report: Mapping[str, Any],
    previous: PrinterState | None = None,
    *,
    chamber_sensor: bool = True,
) -> PrinterState:
    """Turn a merged ``print`` report into a :class:`PrinterState`.

    An unknown or missing ``gcode_state`` keeps the previous status (IDLE when
    there is none). ``chamber_sensor=False`` (a model without one, see
    :data:`MODELS_WITHOUT_CHAMBER_SENSOR`) leaves ``chamber_temp`` None. Never raises.
    """
    if not _is_mapping(report):
        report = {}
    gcode_state = report.get("gcode_state")
    status = GCODE_STATE_MAP.get(gcode_state) if isinstance(gcode_state, str) else None
    if status is None:
        if gcode_state is not None:
            _LOGGER.debug("Unknown gcode_state %r, keeping previous status", gcode_state)
        status = (
            previous.status
            if previous is not None and previous.status != PrinterStatus.OFFLINE
            else PrinterStatus.IDLE
        )

    print_error = _int(report.get("print_error"), "print_error") or 0
    cancelled = status == PrinterStatus.FAILED and print_error == PRINT_ERROR_CANCELLED
    error = (
        format_error_code(print_error & 0xFFFFFFFF)
        if print_error and print_error != PRINT_ERROR_CANCELLED
        else None
    )

    progress = _int(report.get("mc_percent"), "mc_percent")
    progress = min(100, max(0, progress)) if progress is not None else 0
    remaining = _int(report.get("mc_remaining_time"), "mc_remaining_time")
    remaining_seconds = max(0, remaining) * 60 if remaining is not None else None

    task_id = _str(report.get("task_id"))
    job_name = _str(report.get("subtask_name")) or _str(report.get("gcode_file"))

    stage = _int(report.get("stg_cur"), "stg_cur")
    if stage is None:
        stage = _int(report.get("mc_print_stage"), "mc_print_stage")
    extra: dict[str, Any] = {
        "print_stage": stage,
        "hms": _hms_codes(report.get("hms")),
        "wifi_signal": _wifi_dbm(report.get("wifi_signal")),
        "nozzle_diameter": _float(report.get("nozzle_diameter"), "nozzle_diameter"),
    }
    ams = report.get("ams")
    if _is_mapping(ams) and isinstance(units := ams.get("ams"), list) and units:
        # Only printers with AMS units have the key (and so the sensor);
        # 255 means no tray is loaded.
        tray_now = _int(ams.get("tray_now"), "ams.tray_now")
        extra["ams_active_tray"] = None if tray_now is None or tray_now == 255 else tray_now
    # --- AMS trays for materials (issue 12): parsed in ams.py, reused while unchanged
    if (trays := read_ams(report, previous.extra.get("ams") if previous else None)) is not None:
        extra["ams"] = trays

    temps = _temps(report)
    if not chamber_sensor:
        temps["chamber_temp"] = None
    return PrinterState(
        status=status,
        progress=progress,
        job_name=job_name,
        printer_job_id=task_id if task_id and task_id != "0" else None,
        remaining_seconds=remaining_seconds,
        layer=_int(report.get("layer_num"), "layer_num"),
        total_layers=_int(report.get("total_layer_num"), "total_layer_num"),
        error=error,
        cancelled=cancelled,
        extra=extra,
        **temps,
    )


def parse_version(answer: Mapping[str, Any], serial: str | None = None) -> PrinterInfo:
    """Build :class:`PrinterInfo` from a ``get_version`` answer (``info`` object or its content)."""
    if _is_mapping(answer) and _is_mapping(answer.get("info")):
        answer = answer["info"]
    modules = answer.get("module") if _is_mapping(answer) else None
    ota: Mapping[str, Any] = {}
    if isinstance(modules, list):
        for module in modules:
            if _is_mapping(module) and module.get("name") == "ota":
                ota = module
                break
    code = _str(ota.get("project_name")) or _str(ota.get("product_name"))
    sn = _str(ota.get("sn"))
    if sn and "*" in sn:
        sn = None
    return PrinterInfo(
        serial=serial or sn,
        model=model_name(code),
        firmware=_str(ota.get("sw_ver")),
        manufacturer="Bambu Lab",
    )
