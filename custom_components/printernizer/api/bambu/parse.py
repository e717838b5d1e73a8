"""Pure parsing of Bambu Lab MQTT reports: decode, merge, normalize.

Nothing here does I/O and nothing here raises on malformed input: bad values
are logged at debug level and ignored.

Decoding: orjson first (Home Assistant ships it); when it refuses a payload
(invalid UTF-8, NaN/Infinity, lone surrogates, nesting deeper than 1024) a
lenient path decodes the bytes with replacement characters, turns NaN,
Infinity and numbers beyond 64 bits into floats or None, replaces lone
surrogates with U+FFFD and cuts nesting below :data:`MAX_DEPTH`. A report is
never dropped for one bad string. :func:`merge_report` (deltas) and
:func:`adopt_full_report` (full reports, taken over without a copy; its
:func:`adopt_full_report_changed` also lists the keys that changed) bound the
depth of what is kept the same way, whichever decoder produced it.

Conventions (documented for the core):

* ``error``: a nonzero ``print_error`` (other than 50348044, "cancelled by
  user") is rendered as Bambu's wiki notation, the 32-bit value as two
  upper-case 16-bit hex halves joined by ``_``: 0x03004000 -> ``"0300_4000"``.
* ``extra`` keys:

  - ``print_stage``: ``stg_cur`` (int, Bambu's detailed stage id; -1 = none)
    or, where absent, ``mc_print_stage`` as int; ``None`` when neither.
  - ``hms``: list of HMS codes, ``"AAAA_AAAA_CCCC_CCCC"`` (attr and code as
    16-bit hex groups, the form Bambu's HMS wiki uses after ``HMS_``).
  - ``hms_messages``: the same entries as dicts ``{"code", "severity",
    "url"}``; severity from the code's high 16 bits (1 fatal, 2 serious,
    3 common, 4 info, else unknown), ``url`` Bambu's wiki page for the code.
  - ``ams_active_tray``: the active tray in ``ams.tray_now`` notation (AMS
    index * 4 + tray; 128-135 an AMS HT; 254 the external spool), ``None``
    when no tray is loaded; only for printers with AMS units. On printers with
    more than one extruder (H2D, H2D Pro, H2C, X2D) it comes from the active
    extruder's ``device.extruder.info[].snow`` (AMS index in the high byte,
    tray in the low byte; AMS index 254 external, 255 none), else from
    ``ams.tray_now``. ``active_extruder`` (int, from ``device.extruder.state``
    bits 4-7) is set where the printer reports extruders.
  - ``wifi_signal``: dBm as int (``"-53dBm"`` -> -53), ``None`` when unknown.
  - ``nozzle_diameter``: float in mm, ``None`` when unknown; from the active
    extruder's ``device.nozzle.info[].diameter`` or ``nozzle_diameter``,
    whichever a report updated last.
  - ``chamber_target``: chamber target temperature (high 16 bits of
    ``device.ctc.info.temp``), ``None`` when unknown or without a chamber.
  - ``fan_part``, ``fan_aux``, ``fan_chamber``, ``fan_heatbreak``: percent
    (int 0-100) from ``cooling_fan_speed``, ``big_fan1_speed``,
    ``big_fan2_speed``, ``heatbreak_fan_speed`` (0-15 scale); absent keys
    are left out.
  - ``speed_level``: ``spd_lvl`` (1 silent, 2 standard, 3 sport,
    4 ludicrous); left out when absent.
  - ``chamber_light``: ``"on"``/``"off"`` from ``lights_report``; left out
    when the printer reports no chamber light.
  - ``firmware_update``: ``{"available": bool, "version": str | None}``
    from ``upgrade_state`` (``new_version_state == 1``; ``new_ver_list``'s
    ``ota`` entry or ``ota_new_version_number``); left out when absent.
  - ``ams``: :class:`~.ams.AmsReport` (units, trays, external spool; read in
    ams.py), only when the report has AMS units or an external spool.

* Temperatures: newer firmware packs them into ``device.bed.info.temp``,
  ``device.extruder.info[n].temp`` and ``device.ctc.info.temp`` (low 16 bits
  current, high 16 bits target), older reports use the plain ``*_temper``
  fields, and some printers send both. Whichever a report updated last wins
  (the caller tracks it with :func:`plain_newer`; in one report that carries
  both, the packed value wins). ``chamber_temp`` is ``None`` for models
  without a chamber sensor and, while the model is unknown, comes only from
  ``device.ctc`` (the placeholder ``chamber_temper`` is never shown then).

Value rules (one per field; a value outside its range is dropped to unknown
unless the rule says it is clamped):

==================== ======================================================
field                rule
==================== ======================================================
temperatures         finite, -50..500 °C, else unknown (65535 = unknown)
progress             clamped to 0..100; unknown -> 0
remaining_seconds    minutes 0..525600 (a year), negative -> 0, else unknown
layer                0..1,000,000 else unknown; above total_layers (> 0):
                     clamped to total_layers
total_layers         0..1,000,000 else unknown
job_name, job id     text: lone surrogates -> U+FFFD, cut to 255 characters
print_error          masked to 32 bits
print_stage          -1..255 else unknown
ams_active_tray      0..255 else unknown
active_extruder      0..15
wifi_signal          -150..0 dBm else unknown
nozzle_diameter      0.05..5 mm else unknown
fan percentages      scale 0..15 else unknown
speed_level          1..4 else unknown
firmware version     text, cut to 255 characters
integers (any)       never beyond 64 bits: such numbers become floats
==================== ======================================================
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import operator
import re
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from typing import Any, TypeGuard

import orjson

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
MODELS_WITHOUT_CHAMBER_SENSOR = frozenset({"P1P", "P1S", "A1", "A1 mini", "A2L"})

#: Product names (``product_name`` of the ``ota`` module, newer firmware).
PRODUCT_NAMES: dict[str, str] = {
    "Bambu Lab X1-Carbon": "X1C",
    "Bambu Lab X1 Carbon": "X1C",
    "Bambu Lab X1": "X1",
    "Bambu Lab X1E": "X1E",
    "Bambu Lab P1P": "P1P",
    "Bambu Lab P1S": "P1S",
    "Bambu Lab P2S": "P2S",
    "Bambu Lab A1": "A1",
    "Bambu Lab A1 mini": "A1 mini",
    "Bambu Lab A1 Mini": "A1 mini",
    "Bambu Lab A2L": "A2L",
    "Bambu Lab H2D": "H2D",
    "Bambu Lab H2D Pro": "H2D Pro",
    "Bambu Lab H2S": "H2S",
    "Bambu Lab H2C": "H2C",
    "Bambu Lab X2D": "X2D",
}


def model_name(code: str | None, product: str | None = None) -> str | None:
    """Return the model name for a Bambu model code and/or product name.

    A known code or product name gives its model; otherwise the product name
    without its ``"Bambu Lab "`` prefix, or the code itself.
    """
    for value in (code, product):
        if value and (known := MODEL_CODES.get(value) or PRODUCT_NAMES.get(value)):
            return known
    if product:
        return product.removeprefix("Bambu Lab ").strip() or product
    return code or None


#: Types ``json.loads`` produces that are not mappings (see :func:`_is_mapping`).
_JSON_NON_MAPPINGS = frozenset({str, int, float, bool, list, type(None)})
_SCALARS = frozenset({str, int, float, bool, type(None)})


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

#: Deepest nesting kept from a report (Bambu's own reports nest about 6 deep).
MAX_DEPTH = 32
_INT64_MIN = -(2**63)
_UINT64_MAX = 2**64 - 1
_SURROGATES = re.compile("[\ud800-\udfff]")


def _parse_int(text: str) -> int | float | None:
    """JSON integer as orjson reads it: beyond 64 bits a float (None when infinite)."""
    if len(text) < 19:
        return int(text)
    if len(text) <= 21:
        value = int(text)
        if _INT64_MIN <= value <= _UINT64_MAX:
            return value
    result = float(text)
    return result if math.isfinite(result) else None


def _parse_float(text: str) -> float | None:
    result = float(text)
    return result if math.isfinite(result) else None


def _parse_constant(_text: str) -> None:
    """NaN, Infinity and -Infinity become None."""
    return None


def _clean(value: Any, depth: int) -> Any:
    """Replace lone surrogates and cut nesting deeper than ``depth`` (lenient path)."""
    cls = type(value)
    if cls is str:
        return _SURROGATES.sub("\ufffd", value) if _SURROGATES.search(value) else value
    if cls is dict:
        if depth <= 0:
            return None
        return {_clean(k, 1): _clean(v, depth - 1) for k, v in value.items()}
    if cls is list:
        if depth <= 0:
            return None
        return [_clean(v, depth - 1) for v in value]
    return value


def _lenient_loads(payload: Any) -> Any:
    """Decode what orjson refused: replacement characters, no NaN, 64-bit numbers."""
    if isinstance(payload, bytes | bytearray | memoryview):
        text = bytes(payload).decode("utf-8", errors="replace")
    elif isinstance(payload, str):
        text = payload
    else:
        raise TypeError(f"cannot decode {type(payload).__name__}")
    data = json.loads(
        text,
        parse_int=_parse_int,
        parse_float=_parse_float,
        parse_constant=_parse_constant,
    )
    return _clean(data, MAX_DEPTH + 1)


def decode_payload(payload: bytes | str) -> dict[str, Any] | None:
    """Decode an MQTT payload into a dict, or None (logged) when it is not one.

    orjson first; where it refuses, the lenient path (module docstring).
    """
    try:
        data = orjson.loads(payload)
    except (orjson.JSONDecodeError, TypeError):
        try:
            data = _lenient_loads(payload)
        except (ValueError, TypeError, RecursionError) as err:
            _LOGGER.debug("Ignoring non-JSON payload: %s", err)
            return None
    if type(data) is not dict:
        _LOGGER.debug("Ignoring non-object payload of type %s", type(data).__name__)
        return None
    return data


def dumps(value: Any) -> str:
    """Serialise a merged report (diagnostics); non-string keys and odd values tolerated."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=repr).decode()
    except TypeError:  # beyond orjson's limits (depth 255, 64-bit integers)
        return json.dumps(value, default=repr)


def is_full_report(report: Mapping[str, Any]) -> bool:
    """Return True when a ``print`` report looks like a full (pushall) report.

    Full reports carry ``gcode_state`` and either ``msg == 0`` (the printer's
    own marker; deltas carry ``msg: 1``) or many keys (>= 40; a P1P pushall
    has about 70, deltas a handful).
    """
    if (type(report) is not dict and not _is_mapping(report)) or "gcode_state" not in report:
        return False
    return report.get("msg") == 0 or len(report) >= 40


def merge_report(
    base: Mapping[str, Any] | None, delta: Mapping[str, Any], _depth: int = MAX_DEPTH
) -> dict[str, Any]:
    """Merge a delta into a report, returning a new dict.

    Nested dicts are merged recursively, any other value (lists included)
    replaces the old one; keys the delta does not carry are kept. The
    per-extruder lists ``device.extruder.info`` and ``device.nozzle.info``
    are merged by ``id``: a delta listing one extruder keeps the other.
    Nesting deeper than :data:`MAX_DEPTH` is cut (dropped), so what is kept
    can always be serialised.
    """
    if not _is_mapping(delta):
        return dict(base) if _is_mapping(base) else {}
    if _SCALARS.issuperset(map(type, delta.values())):  # the common delta: no objects
        return {**base, **delta} if _is_mapping(base) else dict(delta)
    result: dict[str, Any] = dict(base) if _is_mapping(base) else {}
    for key, value in delta.items():
        cls = type(value)
        if cls is dict or (cls not in _JSON_NON_MAPPINGS and _is_mapping(value)):
            if _depth <= 1:
                result.pop(key, None)
                continue
            result[key] = merge_report(result.get(key), value, _depth - 1)
        elif cls is list:
            if _depth <= 1:
                result.pop(key, None)
                continue
            result[key] = _bounded_list(value, _depth - 1)
        else:
            result[key] = value
    if _depth == MAX_DEPTH and _is_mapping(device := delta.get("device")):
        _merge_extruders(result, base, device)
    return result


def merge_delta(report: dict[str, Any], delta: Mapping[str, Any]) -> dict[str, Any]:
    """Merge a delta into ``report``, the caller's own merged report (never handed out).

    A delta of scalars only (the common delta) is merged in place and
    ``report`` returned: no copy of the whole report per message. Any other
    delta goes through :func:`merge_report` (a new dict, nesting bounded).
    The result is equal to ``merge_report(report, delta)`` either way.
    """
    if (
        type(report) is dict
        and type(delta) is dict
        and _SCALARS.issuperset(map(type, delta.values()))
    ):
        report.update(delta)
        return report
    return merge_report(report, delta)


def _depth_ok(value: Any, depth: int) -> bool:
    """True when ``value`` nests no deeper than ``depth`` containers (no copy made)."""
    stack: list[tuple[Any, int]] = [(value, depth)]
    while stack:
        node, left = stack.pop()
        if left <= 0:
            return False
        for item in node.values() if type(node) is dict else node:
            cls = type(item)
            if cls is dict or cls is list:
                stack.append((item, left - 1))
    return True


def _bounded_list(value: list[Any], depth: int) -> list[Any]:
    """``value``, or a copy with containers nested deeper than ``depth`` dropped (None)."""
    if _depth_ok(value, depth):
        return value  # the common case: kept as it is, like any other value
    result: list[Any] = []
    for item in value:
        if type(item) is list:
            result.append(_bounded_list(item, depth - 1) if depth > 1 else None)
        elif _is_mapping(item):
            result.append(merge_report(None, item, depth - 1) if depth > 1 else None)
        else:
            result.append(item)
    return result


def adopt_full_report(base: Mapping[str, Any] | None, report: dict[str, Any]) -> dict[str, Any]:
    """A full report replaces the merged one: ``report`` itself (freshly decoded, owned
    by the caller), nesting bounded like :func:`merge_report`, plus the top-level keys
    of ``base`` it does not carry. Cheaper than merging: nothing is copied.

    A top-level object or list equal (``==``) to the one in ``base`` is replaced
    by ``base``'s: it was bounded already, and what was derived from it (the AMS
    trays, see :func:`~.ams.read_ams`) is reused by identity. So a value that
    changed only its JSON type among equal numbers (``1``, ``1.0``, ``true``)
    keeps the older one until the object changes otherwise.
    """
    return adopt_full_report_changed(base, report)[0]


#: Stands in for a key ``base`` lacks (:func:`adopt_full_report_changed`).
_MISSING: Any = object()


def adopt_full_report_changed(
    base: Mapping[str, Any] | None, report: dict[str, Any]
) -> tuple[dict[str, Any], list[str] | None]:
    """:func:`adopt_full_report`, and the top-level keys whose value changed.

    A key is changed when ``base`` lacks it, or its value differs in value or
    in JSON type at the top (``1``, ``1.0`` and ``true`` differ; an object or
    list equal to ``base``'s is unchanged: it is ``base``'s after the call).
    The keys ``report`` took over from ``base`` are unchanged. None (unknown)
    when ``base`` is empty. Passed to :func:`normalize` as ``changed``, a full
    report is derived like a delta: only the parts of the state its changed
    keys touch.
    """
    if not base or (type(base) is not dict and not _is_mapping(base)):
        return (report if _depth_ok(report, MAX_DEPTH) else merge_report(None, report)), None
    get = base.get
    changed: list[str] = []
    added = 0  # keys base lacks
    # one pass over every value; replacing a value keeps the dict's size and keys
    for key, value in report.items():
        old = get(key, _MISSING)
        if old is value:  # None, booleans, small integers
            continue
        cls = type(value)
        if cls is type(old) and old == value:
            report[key] = old  # an object or list: base's (a scalar: the same either way)
            continue
        if (cls is dict or cls is list) and not _depth_ok(value, MAX_DEPTH - 1):
            report[key] = (
                merge_report(None, value, MAX_DEPTH - 1)
                if cls is dict
                else _bounded_list(value, MAX_DEPTH - 1)
            )
        changed.append(key)
        if old is _MISSING:
            added += 1
    if len(report) - added != len(base):  # some key of base is missing (not the common case)
        for key in base.keys() - report.keys():
            report[key] = base[key]
    return report, changed


def _by_id(entries: Any) -> dict[int, Mapping[str, Any]] | None:
    if not isinstance(entries, list):
        return None
    result: dict[int, Mapping[str, Any]] = {}
    for entry in entries:
        if not _is_mapping(entry) or type(ident := entry.get("id")) is not int:
            return None
        result[ident] = entry
    return result


def _merge_extruders(
    result: dict[str, Any], base: Mapping[str, Any] | None, device: Mapping[str, Any]
) -> None:
    """Merge ``device.{extruder,nozzle}.info`` entries by id into ``result``."""
    old_device = base.get("device") if _is_mapping(base) else None
    if not _is_mapping(old_device):
        return
    for part in ("extruder", "nozzle"):
        new_info = _by_id(_get(device, part, "info"))
        old_info = _by_id(_get(old_device, part, "info"))
        if not new_info or not old_info:
            continue
        merged = dict(old_info)
        for ident, entry in new_info.items():
            merged[ident] = merge_report(old_info.get(ident), entry, MAX_DEPTH - 3)
        result["device"][part] = {
            **result["device"][part],
            "info": [merged[ident] for ident in sorted(merged)],
        }


# --- value helpers -----------------------------------------------------------

#: Home Assistant's limit for a state (and so for any text shown as one).
MAX_TEXT = 255
TEMP_MIN, TEMP_MAX = -50.0, 500.0
MAX_REMAINING_MINUTES = 525_600
MAX_LAYERS = 1_000_000


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
    cls = type(value)
    if cls is int:  # the common case (bool is a subclass, so not here)
        return value  # type: ignore[no-any-return]
    if cls is str:  # Bambu sends many numbers as strings ("0", " 12", "1.5")
        if len(value) <= 40:
            try:
                return int(value)
            except ValueError:
                pass
            try:
                number = float(value)
            except ValueError:
                number = math.nan
            if math.isfinite(number):
                return int(number)
        _LOGGER.debug("Ignoring malformed %s: %r", name, value)
        return None
    if value is None or cls is bool:
        return None
    if cls is float:
        if math.isfinite(value):
            return int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    _LOGGER.debug("Ignoring malformed %s: %r", name, value)
    return None


def _ranged(value: int | None, low: int, high: int) -> int | None:
    return value if value is not None and low <= value <= high else None


def _temp(value: Any, name: str) -> float | None:
    """A temperature: finite and within TEMP_MIN..TEMP_MAX, else unknown."""
    cls = type(value)
    if cls is float and TEMP_MIN <= value <= TEMP_MAX:  # the common cases (never NaN)
        return value  # type: ignore[no-any-return]
    if cls is int and -50 <= value <= 500:
        return float(value)
    result = _float(value, name)
    if result is None or not TEMP_MIN <= result <= TEMP_MAX:
        return None
    return result


def _text(value: str) -> str:
    """Text safe for Home Assistant: no lone surrogates, at most MAX_TEXT characters."""
    if len(value) > MAX_TEXT:
        value = value[:MAX_TEXT]
    if not value.isascii() and _SURROGATES.search(value):
        value = _SURROGATES.sub("\ufffd", value)
    return value


def _str(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return _text(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return _text(str(value)) if -(10**40) < value < 10**40 else None
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


#: HMS severity from the high 16 bits of an HMS ``code``.
HMS_SEVERITY: dict[int, str] = {1: "fatal", 2: "serious", 3: "common", 4: "info"}
HMS_WIKI_URL = "https://wiki.bambulab.com/en/x1/troubleshooting/hmscode/{code}"


def _hms(value: Any) -> tuple[list[str], list[dict[str, str]]]:
    codes: list[str] = []
    messages: list[dict[str, str]] = []
    if not isinstance(value, list):
        return codes, messages
    for item in value:
        if not _is_mapping(item):
            continue
        attr = _int(item.get("attr"), "hms attr")
        code = _int(item.get("code"), "hms code")
        if attr is None or code is None:
            continue
        code &= 0xFFFFFFFF
        text = f"{format_error_code(attr & 0xFFFFFFFF)}_{format_error_code(code)}"
        codes.append(text)
        messages.append(
            {
                "code": text,
                "severity": HMS_SEVERITY.get(code >> 16, "unknown"),
                "url": HMS_WIKI_URL.format(code=text),
            }
        )
    return codes, messages


def _extruders(device: Any) -> tuple[int | None, Mapping[str, Any] | None, int]:
    """Return (active extruder id, its ``device.extruder.info`` entry, extruder count)."""
    extruder = _get(device, "extruder")
    if not _is_mapping(extruder):
        return None, None, 0
    state = _int(extruder.get("state"), "extruder state")
    count = state & 0xF if state is not None and state >= 0 else 0
    active = (state >> 4) & 0xF if state is not None and state >= 0 else 0
    info = extruder.get("info")
    if not isinstance(info, list) or not info:
        return active, None, count
    for entry in info:
        if _is_mapping(entry) and entry.get("id") == active:
            return active, entry, count
    first = info[0]
    return active, first if _is_mapping(first) else None, count


def _entry_by_id(entries: Any, ident: int | None) -> Mapping[str, Any] | None:
    if not isinstance(entries, list):
        return None
    for entry in entries:
        if _is_mapping(entry) and entry.get("id") == ident:
            return entry
    return None


def tray_from_snow(value: Any) -> int | None:
    """Active tray in ``tray_now`` notation from an extruder's ``snow`` (None: none loaded)."""
    snow = _int(value, "snow")
    if snow is None or not 0 <= snow <= 0xFFFF:
        return None
    ams, tray = snow >> 8, snow & 0xFF
    if ams == 255:
        return None
    if ams == 254:
        return 254
    if 128 <= ams <= 135:
        return ams
    if ams < 64 and tray < 4:
        return ams * 4 + tray
    return None


def tray_from_tray_now(value: Any) -> int | None:
    """The legacy single-nozzle ``ams.tray_now`` (255 none, 254 external, >= 128 AMS HT)."""
    tray = _ranged(_int(value, "ams.tray_now"), 0, 255)
    return None if tray is None or tray == 255 else tray


#: Temperature groups: the plain fields of each.
_PLAIN_FIELDS: dict[str, tuple[str, ...]] = {
    "nozzle": ("nozzle_temper", "nozzle_target_temper"),
    "bed": ("bed_temper", "bed_target_temper"),
    "chamber": ("chamber_temper",),
    "diameter": ("nozzle_diameter",),
}


_PLAIN_KEY_GROUP: dict[str, str] = {
    key: group for group, fields in _PLAIN_FIELDS.items() for key in fields
}
_PLAIN_KEY_ITEMS = tuple(_PLAIN_KEY_GROUP.items())
#: Which of the :data:`_PLAIN_KEY_GROUP` keys a report carries (in that order,
#: as :func:`plain_newer` lists them) -> their groups.
_PLAIN_OF: dict[tuple[bool, ...], frozenset[str]] = {
    present: frozenset(
        group for (_key, group), there in zip(_PLAIN_KEY_ITEMS, present, strict=True) if there
    )
    for present in itertools.product((False, True), repeat=len(_PLAIN_KEY_ITEMS))
}
#: Reports of at most this many keys (deltas) look their plain groups up by
#: shape; longer ones (full reports: one shape each) intersect the keys.
_PLAIN_SHAPE = 24


def plain_newer(
    delta: Mapping[str, Any], merged: Mapping[str, Any], previous: frozenset[str] = frozenset()
) -> frozenset[str]:
    """Return the groups (nozzle, bed, chamber, diameter) whose plain field is newest.

    ``delta`` is the report just received, ``merged`` the report after merging
    it, ``previous`` the answer for the report before. A group moves to
    "plain" when the delta carries only its plain field, back to "packed"
    when it carries the packed one (for the active extruder).
    """
    device = delta.get("device")
    if len(delta) <= _PLAIN_SHAPE:
        plain: AbstractSet[str] = _shape(delta)[1]
    elif device is None and not previous:  # a full report without packed temperatures
        return _PLAIN_OF[
            "nozzle_temper" in delta,
            "nozzle_target_temper" in delta,
            "bed_temper" in delta,
            "bed_target_temper" in delta,
            "chamber_temper" in delta,
            "nozzle_diameter" in delta,
        ]
    else:
        plain = {group for key, group in _PLAIN_KEY_ITEMS if key in delta}
    if not _is_mapping(device):
        return previous if plain <= previous else previous | plain
    active, _, _ = _extruders(merged.get("device"))
    packed = set()
    if "temp" in (_entry_by_id(_get(device, "extruder", "info"), active) or {}):
        packed.add("nozzle")
    if _get(device, "bed", "info", "temp") is not None:
        packed.add("bed")
    if _get(device, "ctc", "info", "temp") is not None:
        packed.add("chamber")
    if "diameter" in (_entry_by_id(_get(device, "nozzle", "info"), active) or {}):
        packed.add("diameter")
    return frozenset((previous | plain) - packed)


def _temps(
    report: Mapping[str, Any],
    plain: frozenset[str],
    chamber_sensor: bool | None,
    device: Any,
    packed: tuple[_Pair | None, _Pair | None, _Pair | None],
) -> tuple[float | None, float | None, float | None, float | None, float | None, float | None]:
    """The state's temperatures (nozzle, its target, bed, its target, chamber), and the
    chamber target; ``device`` is the report's, ``packed`` its temperatures."""
    # the common case (a float in range, never NaN) inline: this runs for every delta
    # (targets are mostly whole numbers: an int in range is a float of its value)
    nozzle = report.get("nozzle_temper")
    if not (type(nozzle) is float and TEMP_MIN <= nozzle <= TEMP_MAX):
        nozzle = _temp(nozzle, "nozzle_temper")
    nozzle_target = report.get("nozzle_target_temper")
    if type(nozzle_target) is int and -50 <= nozzle_target <= 500:
        nozzle_target = float(nozzle_target)
    elif not (type(nozzle_target) is float and TEMP_MIN <= nozzle_target <= TEMP_MAX):
        nozzle_target = _temp(nozzle_target, "nozzle_target_temper")
    bed = report.get("bed_temper")
    if not (type(bed) is float and TEMP_MIN <= bed <= TEMP_MAX):
        bed = _temp(bed, "bed_temper")
    bed_target = report.get("bed_target_temper")
    if type(bed_target) is int and -50 <= bed_target <= 500:
        bed_target = float(bed_target)
    elif not (type(bed_target) is float and TEMP_MIN <= bed_target <= TEMP_MAX):
        bed_target = _temp(bed_target, "bed_target_temper")
    chamber = _temp(report.get("chamber_temper"), "chamber_temper") if chamber_sensor else None
    chamber_target: float | None = None
    if device is not None:
        packed_bed, packed_nozzle, packed_chamber = packed
        if packed_bed is not None and ("bed" not in plain or bed is None):
            bed, bed_target = packed_bed
        if packed_nozzle is not None and ("nozzle" not in plain or nozzle is None):
            nozzle, nozzle_target = packed_nozzle
        if chamber_sensor is not False and packed_chamber is not None:
            if chamber is None or "chamber" not in plain:
                chamber = packed_chamber[0]
            chamber_target = packed_chamber[1]
    return nozzle, nozzle_target, bed, bed_target, chamber, chamber_target


_Pair = tuple[float | None, float | None]
#: :func:`_device_facts`: the extruders, and the packed bed, active nozzle and
#: chamber temperatures (current, target; None where not packed).
_Extruders = tuple[int | None, Mapping[str, Any] | None, int]
_DeviceFacts = tuple[_Extruders, tuple[_Pair | None, _Pair | None, _Pair | None]]
_NO_DEVICE: _DeviceFacts = ((None, None, 0), (None, None, None))
#: id(device) -> (device, its facts); the device object is held, so its id is not reused.
_DEVICE_FACTS: dict[int, tuple[Any, _DeviceFacts]] = {}


def _unpacked(value: Any, name: str) -> _Pair | None:
    packed = unpack_temp(value, name)
    return None if packed is None else (_temp(packed[0], ""), _temp(packed[1], ""))


def _device_facts(device: Any, reuse: bool) -> _DeviceFacts:
    """What the temperatures and extras read from a report's ``device`` object.

    ``reuse``: the answer for the very same object may be taken from an
    earlier call (bounded cache by identity). Only where :func:`normalize`
    has a ``previous`` state: its caller never changes an object of a report
    in place (see there), so an object seen before has the same content.
    """
    if device is None:
        return _NO_DEVICE
    if reuse and (known := _DEVICE_FACTS.get(id(device))) is not None and known[0] is device:
        return known[1]
    extruders = _extruders(device)
    if _is_mapping(device):
        extruder = extruders[1]
        packed = (
            _unpacked(_get(device, "bed", "info", "temp"), "device.bed temp"),
            None if extruder is None else _unpacked(extruder.get("temp"), "device.extruder temp"),
            _unpacked(_get(device, "ctc", "info", "temp"), "device.ctc temp"),
        )
    else:
        packed = (None, None, None)
    facts = (extruders, packed)
    if len(_DEVICE_FACTS) >= 256:  # bounded: one entry per printer in practice
        _DEVICE_FACTS.clear()
    _DEVICE_FACTS[id(device)] = (device, facts)
    return facts


def _wifi_dbm(value: Any) -> int | None:
    if isinstance(value, str):
        value = value.strip().lower().removesuffix("dbm").strip()
    return _ranged(_int(value, "wifi_signal"), -150, 0)


def _nozzle_diameter(
    report: Mapping[str, Any], plain: frozenset[str], active: int | None
) -> float | None:
    plain_value = _float(report.get("nozzle_diameter"), "nozzle_diameter")
    if "diameter" not in plain or plain_value is None:
        entry = _entry_by_id(_get(report, "device", "nozzle", "info"), active or 0)
        if entry is not None and (
            packed := _float(entry.get("diameter"), "device.nozzle diameter")
        ):
            plain_value = packed
    if plain_value is None or not 0.05 <= plain_value <= 5:
        return None
    return plain_value


#: Extra key -> report field of the fans (strings on a 0-15 scale).
FAN_FIELDS: dict[str, str] = {
    "fan_part": "cooling_fan_speed",
    "fan_aux": "big_fan1_speed",
    "fan_chamber": "big_fan2_speed",
    "fan_heatbreak": "heatbreak_fan_speed",
}


def fan_percent(value: Any) -> int | None:
    """A fan speed on Bambu's 0-15 scale as a whole percent (None when out of range)."""
    raw = _ranged(_int(value, "fan speed"), 0, 15)
    return None if raw is None else round(raw * 100 / 15)


def _chamber_light(value: Any) -> str | None:
    if not isinstance(value, list):
        return None
    for item in value:
        if _is_mapping(item) and item.get("node") == "chamber_light":
            mode = item.get("mode")
            return "on" if mode == "on" else "off" if isinstance(mode, str) else None
    return None


def _firmware_update(value: Any) -> dict[str, Any] | None:
    if not _is_mapping(value):
        return None
    available = _int(value.get("new_version_state"), "new_version_state") == 1
    version: str | None = None
    versions = value.get("new_ver_list")
    if isinstance(versions, list):
        for item in versions:
            if _is_mapping(item) and item.get("name") == "ota":
                version = _str(item.get("new_ver"))
                break
    version = version or _str(value.get("ota_new_version_number"))
    return {"available": available, "version": version if available else None}


#: Report keys the extras (other than ``print_stage``) are derived from.
_EXTRA_SOURCES = frozenset(
    {
        "hms",
        "wifi_signal",
        "nozzle_diameter",
        "device",
        "ams",
        "spd_lvl",
        "lights_report",
        "upgrade_state",
        *FAN_FIELDS.values(),
    }
)


def _extras(
    report: Mapping[str, Any],
    plain: frozenset[str],
    device: Any,
    extruders: tuple[int | None, Mapping[str, Any] | None, int],
) -> dict[str, Any]:
    """The extras derived from :data:`_EXTRA_SOURCES` (see the module docstring)."""
    active, extruder, count = extruders
    hms_codes, hms_messages = _hms(report.get("hms"))
    extra: dict[str, Any] = {
        "hms": hms_codes,
        "hms_messages": hms_messages,
        "wifi_signal": _wifi_dbm(report.get("wifi_signal")),
        "nozzle_diameter": _nozzle_diameter(report, plain, active),
    }
    if _is_mapping(_get(device, "extruder")):
        extra["active_extruder"] = active
    ams = report.get("ams")
    if _is_mapping(ams) and isinstance(units := ams.get("ams"), list) and units:
        # Only printers with AMS units have the key (and so the sensor).
        if count > 1 and extruder is not None and "snow" in extruder:
            extra["ams_active_tray"] = tray_from_snow(extruder.get("snow"))
        else:
            extra["ams_active_tray"] = tray_from_tray_now(ams.get("tray_now"))
    for key, field_name in FAN_FIELDS.items():
        if field_name in report:
            extra[key] = fan_percent(report[field_name])
    if "spd_lvl" in report:
        extra["speed_level"] = _ranged(_int(report["spd_lvl"], "spd_lvl"), 1, 4)
    if (light := _chamber_light(report.get("lights_report"))) is not None:
        extra["chamber_light"] = light
    if (update := _firmware_update(report.get("upgrade_state"))) is not None:
        extra["firmware_update"] = update
    return extra


# --- normalization -----------------------------------------------------------

#: Report key -> the part of the state derived from it (see :func:`normalize`).
_SECTION_OF: dict[str, str] = {
    "gcode_state": "status",
    "print_error": "status",
    "mc_percent": "progress",
    "mc_remaining_time": "remaining",
    "layer_num": "layers",
    "total_layer_num": "layers",
    "task_id": "job",
    "subtask_name": "job",
    "gcode_file": "job",
    "stg_cur": "stage",
    "mc_print_stage": "stage",
    "vt_tray": "ams",
    **{key: "temps" for key in _PLAIN_KEY_GROUP if key != "nozzle_diameter"},
    **{key: "extras" for key in _EXTRA_SOURCES},
}


def normalize(
    report: Mapping[str, Any],
    previous: PrinterState | None = None,
    *,
    chamber_sensor: bool | None = True,
    plain: frozenset[str] = frozenset(),
    changed: AbstractSet[str] | None = None,
) -> PrinterState:
    """Turn a merged ``print`` report into a :class:`PrinterState`.

    ``changed`` (the keys of the delta just merged, or the changed keys of a
    full report from :func:`adopt_full_report_changed`; None when unknown)
    lets the parts of the state derived only from keys the delta did not carry
    (see :data:`_SECTION_OF`) be taken from ``previous``, which must then come
    from this function with the same ``chamber_sensor`` and ``plain``, for the
    report before the delta: the result is the same, for less work.

    With ``previous``, an object of ``report`` that was in the report before
    must not have been changed in place since (:func:`merge_report`,
    :func:`merge_delta` and :func:`adopt_full_report` never do: they make new
    objects, or keep the old one where it is equal): what was read from the
    very same ``device`` object (packed temperatures, extruders) is reused.

    An unknown or missing ``gcode_state`` keeps the previous status (IDLE when
    there is none). ``chamber_sensor=False`` (a model without one, see
    :data:`MODELS_WITHOUT_CHAMBER_SENSOR`) leaves ``chamber_temp`` None;
    ``None`` (model not known yet) takes it only from ``device.ctc``.
    ``plain`` is :func:`plain_newer`'s answer. Values follow the rules in the
    module docstring. Never raises.
    """
    if not _is_mapping(report):
        report = {}
    reuse = previous is not None
    if changed is None or previous is None or "hms" not in previous.extra:
        touched: AbstractSet[str | None] | None = None
        if previous is None:
            previous = _NO_STATE
    else:
        touched = _shape(changed)[0]

    if touched is None or "status" in touched:
        status, error, cancelled = _status(report, previous)
    else:
        status, error, cancelled = previous.status, previous.error, previous.cancelled

    if touched is None or "progress" in touched:
        progress = report.get("mc_percent")
        if type(progress) is not int:
            progress = _int(progress, "mc_percent")
        progress = (0 if progress < 0 else min(100, progress)) if progress is not None else 0
    else:
        progress = previous.progress

    if touched is None or "remaining" in touched:
        remaining = report.get("mc_remaining_time")
        if type(remaining) is not int:
            remaining = _int(remaining, "mc_remaining_time")
        remaining_seconds = (
            max(0, remaining) * 60
            if remaining is not None and remaining <= MAX_REMAINING_MINUTES
            else None
        )
    else:
        remaining_seconds = previous.remaining_seconds

    if touched is None or "layers" in touched:
        total_layers = report.get("total_layer_num")
        if type(total_layers) is not int:
            total_layers = _int(total_layers, "total_layer_num")
        if total_layers is not None and not 0 <= total_layers <= MAX_LAYERS:
            total_layers = None
        layer = report.get("layer_num")
        if type(layer) is not int:
            layer = _int(layer, "layer_num")
        if layer is not None and not 0 <= layer <= MAX_LAYERS:
            layer = None
        if layer is not None and total_layers and layer > total_layers:
            layer = total_layers
    else:
        layer, total_layers = previous.layer, previous.total_layers

    if touched is None or "job" in touched:
        task_id = _str(report.get("task_id"))
        job_id = task_id if task_id and task_id != "0" else None
        job_name = _str(report.get("subtask_name")) or _str(report.get("gcode_file"))
    else:
        job_id, job_name = previous.printer_job_id, previous.job_name

    extras = touched is None or "extras" in touched
    if extras or "temps" in touched:  # type: ignore[operator]
        device = report.get("device")
        extruders, packed = _device_facts(device, reuse)
        nozzle_temp, nozzle_target, bed_temp, bed_target, chamber_temp, chamber_target = _temps(
            report, plain, chamber_sensor, device, packed
        )
    else:
        nozzle_temp, nozzle_target = previous.nozzle_temp, previous.nozzle_target
        bed_temp, bed_target = previous.bed_temp, previous.bed_target
        chamber_temp = previous.chamber_temp

    stage_changed = extras
    if extras or "stage" in touched:  # type: ignore[operator]
        stage = report.get("stg_cur")
        if type(stage) is not int:
            stage = _int(stage, "stg_cur")
            if stage is None:
                stage = _int(report.get("mc_print_stage"), "mc_print_stage")
        print_stage = stage if stage is not None and -1 <= stage <= 255 else None
        stage_changed = (
            extras
            or "print_stage" not in previous.extra
            or print_stage != previous.extra["print_stage"]
        )
    if extras:
        sources = (*map(report.get, _EXTRA_KEYS), plain, chamber_sensor)
        old = previous.extra
        if type(old) is _Extras and _same(old.sources, sources):
            extra = _Extras(old)  # a full report that changed none of their sources
        else:
            extra = _Extras(_extras(report, plain, device, extruders))
            extra["chamber_target"] = chamber_target
        extra.sources = sources
    elif stage_changed or "ams" in touched:  # type: ignore[operator]
        extra = _Extras(previous.extra)
        extra.sources = getattr(previous.extra, "sources", ())
    else:  # nothing the extras come from changed: the same object (cheap to compare)
        extra = previous.extra  # type: ignore[assignment]
    if stage_changed:
        extra["print_stage"] = print_stage
    if extras or "ams" in touched:  # type: ignore[operator]
        # AMS trays for materials (issue 12): parsed in ams.py, reused while unchanged
        if (trays := read_ams(report, previous.extra.get("ams"))) is not None:
            extra["ams"] = trays
        else:
            extra.pop("ams", None)

    return PrinterState(
        status=status,
        nozzle_temp=nozzle_temp,
        nozzle_target=nozzle_target,
        bed_temp=bed_temp,
        bed_target=bed_target,
        chamber_temp=chamber_temp,
        progress=progress,
        job_name=job_name,
        printer_job_id=job_id,
        remaining_seconds=remaining_seconds,
        layer=layer,
        total_layers=total_layers,
        error=error,
        cancelled=cancelled,
        extra=extra,
    )


#: Per delta shape (its keys, in order): the sections it touches and its plain
#: temperature groups. Deltas of one printer repeat a few shapes.
_SHAPES: dict[tuple[str, ...], tuple[frozenset[str | None], frozenset[str]]] = {}
#: Most keys of a remembered shape (full reports have more: not remembered).
_MAX_SHAPE = 64


def _shape(keys: Iterable[str]) -> tuple[frozenset[str | None], frozenset[str]]:
    """The sections (:data:`_SECTION_OF`) and the plain groups the keys of a delta touch."""
    shape = tuple(keys)
    known = _SHAPES.get(shape)
    if known is None:
        known = (
            frozenset(map(_SECTION_OF.get, shape)),
            frozenset(_PLAIN_KEY_GROUP[key] for key in shape if key in _PLAIN_KEY_GROUP),
        )
        if len(shape) <= _MAX_SHAPE:  # bounded: hostile deltas of ever new shapes
            if len(_SHAPES) >= 256:
                _SHAPES.clear()
            _SHAPES[shape] = known
    return known


#: The report keys of :data:`_EXTRA_SOURCES`, in a fixed order.
_EXTRA_KEYS = tuple(sorted(_EXTRA_SOURCES))


class _Extras(dict[str, Any]):
    """A state's extras, with the values they were derived from.

    ``sources``: the :data:`_EXTRA_KEYS` values of the report, ``plain`` and
    ``chamber_sensor``. A full report whose sources are the same (see
    :func:`_same`) takes the extras over instead of deriving them again.
    """

    __slots__ = ("sources",)

    sources: tuple[Any, ...]


def _same(old: tuple[Any, ...], new: tuple[Any, ...]) -> bool:
    """Equal, and of the same JSON types at the top (``1``, ``1.0`` and ``true`` differ).

    Objects and lists are compared by value: after :func:`adopt_full_report`
    the unchanged ones are the same objects, so this is mostly identity.
    """
    return old == new and all(map(operator.is_, map(type, old), map(type, new)))


#: Stands in for a missing previous state (IDLE, no extras).
_NO_STATE = PrinterState(status=PrinterStatus.OFFLINE)


def _status(
    report: Mapping[str, Any], previous: PrinterState
) -> tuple[PrinterStatus, str | None, bool]:
    """(status, error, cancelled) from ``gcode_state`` and ``print_error``."""
    gcode_state = report.get("gcode_state")
    status = GCODE_STATE_MAP.get(gcode_state) if isinstance(gcode_state, str) else None
    if status is None:
        if gcode_state is not None:
            _LOGGER.debug("Unknown gcode_state %r, keeping previous status", gcode_state)
        status = previous.status if previous.status != PrinterStatus.OFFLINE else PrinterStatus.IDLE
    print_error = report.get("print_error")
    if type(print_error) is not int:
        print_error = _int(print_error, "print_error") or 0
    print_error &= 0xFFFFFFFF
    cancelled = status == PrinterStatus.FAILED and print_error == PRINT_ERROR_CANCELLED
    if cancelled:  # FAILED with the cancel code until the next print
        status = PrinterStatus.CANCELLED
    error = (
        format_error_code(print_error)
        if print_error and print_error != PRINT_ERROR_CANCELLED
        else None
    )
    return status, error, cancelled


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
    sn = _str(ota.get("sn"))
    if sn and "*" in sn:
        sn = None
    return PrinterInfo(
        serial=serial or sn,
        model=model_name(_str(ota.get("project_name")), _str(ota.get("product_name"))),
        firmware=_str(ota.get("sw_ver")),
        manufacturer="Bambu Lab",
    )
