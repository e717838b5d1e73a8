"""Pure mapping of PrusaLink JSON to the normalized model (no I/O, no Home Assistant).

Every function raises :class:`PrusaLinkParseError` (a :class:`ValueError`) on
malformed input; the client turns that into a ``PrinterConnectionError``.
Numbers are checked before any conversion: NaN, ±Infinity and integers beyond
64 bits are unknown (``None``), never an ``OverflowError``/``ValueError``;
temperatures outside -50..500 °C are unknown, ``time_remaining`` and
``time_printing`` beyond a year are unknown, progress is clamped to 0..100.

State mapping (``printer.state`` of ``/api/v1/status``):

========== ===========================================================
IDLE       idle
READY      idle (the printer was told a print is coming; nothing runs)
BUSY       preparing (the printer is busy: homing, heating, calibrating,
           MMU work...; never idle: the user should not start anything)
PRINTING   printing
PAUSED     paused
ATTENTION  paused while a job is present (the printer waits for the user:
           filament runout, crash, ...); error without a job
FINISHED   finished
STOPPED    cancelled (``cancelled=True``)
ERROR      error (``error`` set)
========== ===========================================================

``extra`` keys: ``speed``, ``flow``, ``z_height``, ``fan_hotend``,
``fan_print``, ``nozzle_diameter``, ``thumbnail`` (``refs.thumbnail`` path of
the job's file), ``job_file_path``, ``time_printing``, ``prusalink_state``
(the raw state). Keys whose value is unknown are left out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..models import PrinterInfo, PrinterState, PrinterStatus

MANUFACTURER = "Prusa Research"


class PrusaLinkParseError(ValueError):
    """A PrusaLink response did not have the expected shape or types."""


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """What ``/api/version`` tells."""

    api: str
    api_tuple: tuple[int, ...]
    server: str | None
    text: str | None
    hostname: str | None
    firmware: str | None
    printer: str | None
    capabilities: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class PrinterDetails:
    """What ``/api/v1/info`` tells."""

    serial: str | None
    hostname: str | None
    name: str | None
    nozzle_diameter: float | None
    mmu: bool | None


# --- small typed getters ------------------------------------------------------


def _obj(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PrusaLinkParseError(f"{what}: expected an object, got {type(value).__name__}")
    return value


def _opt_obj(data: Mapping[str, Any], key: str, what: str) -> Mapping[str, Any] | None:
    value = data.get(key)
    if value is None:
        return None
    return _obj(value, f"{what}.{key}")


def _opt_str(data: Mapping[str, Any], key: str, what: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise PrusaLinkParseError(f"{what}.{key}: expected a string")
    return value


_INT64 = 2**63


def _opt_num(data: Mapping[str, Any], key: str, what: str) -> float | None:
    """A number; NaN, ±Infinity and integers beyond 64 bits are unknown (None)."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PrusaLinkParseError(f"{what}.{key}: expected a number")
    if isinstance(value, int):
        return float(value) if -_INT64 <= value < _INT64 else None
    return value if math.isfinite(value) else None


def _opt_int(data: Mapping[str, Any], key: str, what: str) -> int | None:
    value = _opt_num(data, key, what)
    return None if value is None else int(value)


#: Plausible temperatures (°C); anything else is unknown.
TEMP_RANGE = (-50.0, 500.0)
#: Longest plausible remaining/printing time (seconds): a year.
MAX_SECONDS = 366 * 24 * 3600


def _opt_temp(data: Mapping[str, Any], key: str, what: str) -> float | None:
    value = _opt_num(data, key, what)
    if value is None or not TEMP_RANGE[0] <= value <= TEMP_RANGE[1]:
        return None
    return value


def _opt_ranged(data: Mapping[str, Any], key: str, what: str, high: int) -> int | None:
    value = _opt_int(data, key, what)
    return value if value is not None and 0 <= value <= high else None


_SURROGATES = re.compile("[\ud800-\udfff]")


def _text(value: str | None, limit: int | None = 255) -> str | None:
    """Text for a state: lone surrogates replaced, at most ``limit`` characters."""
    if value is None:
        return None
    return _SURROGATES.sub("\ufffd", value[:limit] if limit else value)


def _opt_seconds(data: Mapping[str, Any], key: str, what: str) -> int | None:
    value = _opt_int(data, key, what)
    return value if value is not None and 0 <= value <= MAX_SECONDS else None


def _opt_bool(data: Mapping[str, Any], key: str, what: str) -> bool | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise PrusaLinkParseError(f"{what}.{key}: expected a boolean")
    return value


def _opt_job_id(data: Mapping[str, Any], what: str) -> int | None:
    value = data.get("id")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _INT64:
        raise PrusaLinkParseError(f"{what}.id: expected an integer")
    return int(value)


# --- /api/version and /api/v1/info -------------------------------------------


def parse_api_version(text: str) -> tuple[int, ...]:
    """Turn ``"2.0.0"`` (or ``"2.1.0-rc1"``) into ``(2, 0, 0)``."""
    parts: list[int] = []
    for piece in text.strip().split("."):
        digits = ""
        for char in piece:
            if not char.isdigit():
                break
            digits += char
        if not digits:
            break
        parts.append(int(digits))
    if not parts:
        raise PrusaLinkParseError(f"version.api: not a version: {text!r}")
    return tuple(parts)


def parse_version(data: Any) -> VersionInfo:
    """Parse ``GET /api/version``."""
    data = _obj(data, "version")
    api = _opt_str(data, "api", "version")
    if api is None:
        raise PrusaLinkParseError("version.api: missing")
    capabilities = _opt_obj(data, "capabilities", "version") or {}
    return VersionInfo(
        api=api,
        api_tuple=parse_api_version(api),
        # Buddy firmware reports "server", the spec (PrusaLink on a Pi) "version".
        server=_text(_opt_str(data, "server", "version") or _opt_str(data, "version", "version")),
        text=_text(_opt_str(data, "text", "version")),
        hostname=_text(_opt_str(data, "hostname", "version")),
        firmware=_text(_opt_str(data, "firmware", "version")),
        printer=_text(_opt_str(data, "printer", "version")),
        # flags only (diagnostics): no surrogates, no numbers beyond 64 bits
        capabilities={
            _SURROGATES.sub("\ufffd", str(key)): value
            for key, value in capabilities.items()
            if type(value) is bool
        },
    )


def parse_info(data: Any) -> PrinterDetails:
    """Parse ``GET /api/v1/info``."""
    data = _obj(data, "info")
    serial = _text(_opt_str(data, "serial", "info"))
    return PrinterDetails(
        serial=(serial.strip() or None) if serial is not None else None,
        hostname=_text(_opt_str(data, "hostname", "info")),
        name=_text(_opt_str(data, "name", "info")),
        nozzle_diameter=_opt_num(data, "nozzle_diameter", "info"),
        mmu=_opt_bool(data, "mmu", "info"),
    )


def _model_from_hostname(hostname: str | None) -> str | None:
    """Guess a model from a default hostname such as ``prusa-core-one`` or ``PrusaXL``."""
    if not hostname:
        return None
    name = hostname.split(".", 1)[0].lower().replace("_", "-")
    known = {
        "core-one": "CORE One",
        "coreone": "CORE One",
        "mk4s": "MK4S",
        "mk4": "MK4",
        "mk3.9s": "MK3.9S",
        "mk3.9": "MK3.9",
        "mk3.5s": "MK3.5S",
        "mk3.5": "MK3.5",
        "mk3s": "MK3S",
        "mk3": "MK3",
        "mini": "MINI",
        "xl": "XL",
    }
    stripped = name.removeprefix("prusa").lstrip("-")
    for key, model in known.items():
        if stripped.startswith(key):
            return model
    return None


def build_printer_info(version: VersionInfo, details: PrinterDetails | None) -> PrinterInfo:
    """Combine version and info into :class:`PrinterInfo`.

    PrusaLink does not name the model explicitly: ``printer`` in
    ``/api/version`` is a printer-type version (e.g. ``"7.1.0"``), so the model
    is guessed from the default hostname where possible, else reported as
    ``"PrusaLink printer <printer>"``.
    """
    hostname = (details.hostname if details else None) or version.hostname
    name = (details.name if details else None) or hostname
    model = _model_from_hostname(version.hostname) or _model_from_hostname(hostname)
    if model is None:
        model = f"PrusaLink printer {version.printer}" if version.printer else "PrusaLink printer"
    return PrinterInfo(
        serial=details.serial if details else None,
        model=model,
        name=name,
        firmware=version.firmware,
        manufacturer=MANUFACTURER,
        hostname=hostname,
    )


# --- /api/v1/status and /api/v1/job ------------------------------------------

_STATE_MAP = {
    "IDLE": PrinterStatus.IDLE,
    "READY": PrinterStatus.IDLE,
    "BUSY": PrinterStatus.PREPARING,
    "PRINTING": PrinterStatus.PRINTING,
    "PAUSED": PrinterStatus.PAUSED,
    "FINISHED": PrinterStatus.FINISHED,
    "STOPPED": PrinterStatus.CANCELLED,
    "ERROR": PrinterStatus.ERROR,
}


def status_job_id(status: Any) -> int | None:
    """Return ``job.id`` from a ``/api/v1/status`` body (``None`` without a job)."""
    status = _obj(status, "status")
    job = _opt_obj(status, "job", "status")
    return _opt_job_id(job, "status.job") if job is not None else None


def map_state(raw_state: str, *, has_job: bool) -> PrinterStatus:
    """Map a PrusaLink ``printer.state`` to :class:`PrinterStatus` (see module doc)."""
    if raw_state == "ATTENTION":
        return PrinterStatus.PAUSED if has_job else PrinterStatus.ERROR
    try:
        return _STATE_MAP[raw_state]
    except KeyError:
        raise PrusaLinkParseError(f"status.printer.state: unknown state {raw_state!r}") from None


def _job_error(raw_state: str, printer: Mapping[str, Any]) -> str | None:
    """Return an error text for ERROR/ATTENTION states."""
    if raw_state not in ("ERROR", "ATTENTION"):
        return None
    status_printer = printer.get("status_printer")
    if isinstance(status_printer, Mapping):
        message = status_printer.get("message")
        if isinstance(message, str) and message and message.upper() != "OK":
            return message
    return raw_state


def parse_state(
    status: Any,
    job: Any = None,
    *,
    nozzle_diameter: float | None = None,
) -> PrinterState:
    """Build a :class:`PrinterState` from ``/api/v1/status`` and (optionally) ``/api/v1/job``.

    ``job`` is the last ``/api/v1/job`` body for the same job id, or ``None``.
    """
    status = _obj(status, "status")
    printer = _obj(status.get("printer"), "status.printer")
    raw_state = _opt_str(printer, "state", "status.printer")
    if raw_state is None:
        raise PrusaLinkParseError("status.printer.state: missing")
    raw_state = raw_state.upper()
    status_job = _opt_obj(status, "job", "status")
    job_id = _opt_job_id(status_job, "status.job") if status_job is not None else None

    job_body = _obj(job, "job") if job is not None else None
    file = _opt_obj(job_body, "file", "job") if job_body is not None else None
    if job_body is not None and job_id is not None:
        body_id = _opt_job_id(job_body, "job")
        if body_id is not None and body_id != job_id:
            file = None  # stale job body: do not show another job's file

    has_job = job_id is not None
    mapped = map_state(raw_state, has_job=has_job)

    progress_value: float | None = None
    remaining: int | None = None
    time_printing: int | None = None
    if status_job is not None:
        progress_value = _opt_num(status_job, "progress", "status.job")
        remaining = _opt_seconds(status_job, "time_remaining", "status.job")
        time_printing = _opt_seconds(status_job, "time_printing", "status.job")
    progress = 0
    if progress_value is not None:
        progress = max(0, min(100, int(progress_value)))
    if remaining is not None and remaining < 0:
        remaining = None

    job_name: str | None = None
    thumbnail: str | None = None
    file_path: str | None = None
    if file is not None:
        job_name = _opt_str(file, "display_name", "job.file") or _opt_str(file, "name", "job.file")
        refs = _opt_obj(file, "refs", "job.file")
        if refs is not None:
            thumbnail = _opt_str(refs, "thumbnail", "job.file.refs")
        folder = _opt_str(file, "path", "job.file")
        short_name = _opt_str(file, "name", "job.file")
        if short_name is not None:
            file_path = f"{(folder or '').rstrip('/')}/{short_name}"

    extra: dict[str, Any] = {
        "prusalink_state": raw_state,
        "speed": _opt_ranged(printer, "speed", "status.printer", 1000),
        "flow": _opt_ranged(printer, "flow", "status.printer", 1000),
        "z_height": _opt_num(printer, "axis_z", "status.printer"),
        "fan_hotend": _opt_ranged(printer, "fan_hotend", "status.printer", 100_000),
        "fan_print": _opt_ranged(printer, "fan_print", "status.printer", 100_000),
        "nozzle_diameter": nozzle_diameter,
        "thumbnail": _text(thumbnail, limit=None),
        "job_file_path": _text(file_path, limit=None),
        "time_printing": time_printing,
    }

    return PrinterState(
        status=mapped,
        nozzle_temp=_opt_temp(printer, "temp_nozzle", "status.printer"),
        nozzle_target=_opt_temp(printer, "target_nozzle", "status.printer"),
        bed_temp=_opt_temp(printer, "temp_bed", "status.printer"),
        bed_target=_opt_temp(printer, "target_bed", "status.printer"),
        chamber_temp=_opt_temp(printer, "temp_chamber", "status.printer"),
        progress=progress,
        job_name=_text(job_name),
        printer_job_id=str(job_id) if job_id is not None else None,
        remaining_seconds=remaining,
        layer=None,
        total_layers=None,
        error=_text(_job_error(raw_state, printer)),
        cancelled=raw_state == "STOPPED",
        extra={key: value for key, value in extra.items() if value is not None},
    )
