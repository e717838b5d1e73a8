"""Pure reading of Bambu Lab AMS units and trays from a merged ``print`` report.

No Home Assistant import, no I/O, never raises on malformed input.

Facts (see the project's print-files reference):

* ``ams.ams[]``: units with ``id``, ``humidity`` (index 1-5), ``humidity_raw``
  (percent, newer firmware), ``temp`` and ``tray[]``.
* Per tray: ``tray_type``, ``tray_sub_brands``, ``tray_color`` (RRGGBBAA),
  ``remain`` (0-100, -1 unknown), ``tray_weight`` (grams as a string, "0"
  unknown), ``tray_diameter`` ("0.00" unknown), ``tray_uuid`` (32 hex, zeros for
  spools without a Bambu RFID tag), ``tag_uid``, ``tray_info_idx``. An empty
  slot carries no ``tray_type`` (or an empty one).
* ``vt_tray``: the external spool, id 254 (P1/A1) or 255 (X1).

Rules decided here:

* A tray's global slot is ``ams_id * 4 + tray_id`` (the numbering of
  ``ams.tray_now``); the external spool keeps its id (254/255). Single-tray
  AMS HT units report ids from 128 (the real X1C capture has one, id 128):
  their one tray's slot is the unit id.
* ``remain`` is known only for a spool with an RFID tag (non-zero ``tray_uuid``
  or ``tag_uid``) and a value in 0-100: the real A1 capture reports 100 and
  the external spools 0 for spools without a tag, which are placeholders.
* AMS temperatures of exactly 0 (AMS lite, P1P capture) or outside 0-80 °C and
  humidity outside 0-100 % are unknown (units report bogus values while powering on).

:func:`read_ams` reuses the previous result when the report's ``ams`` and
``vt_tray`` objects are the very same ones (the delta merge keeps untouched
sub-objects), so a report without AMS changes costs one identity check.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

#: Trays per AMS unit (the index numbering of ``tray_now``).
TRAYS_PER_UNIT = 4
EXTERNAL_TRAY_IDS = frozenset({254, 255})
#: AMS HT units (one tray each) have ids 128-135.
AMS_HT_FIRST_ID = 128
_AMS_HT_LAST_ID = 135
#: Four-tray units have ids 0-3 (ids up to 63 are accepted).
_AMS_LAST_ID = 63
_ZEROS = frozenset("0")


class AmsTray(NamedTuple):
    """One tray (or the external spool holder) as the printer reports it.

    Named tuples (here and below): immutable, compared by value, cheap to build
    and plain JSON for diagnostics.
    """

    #: AMS unit id (None for the external spool).
    ams_id: int | None
    #: Tray id within the unit (0-3), or 254/255 for the external spool.
    tray_id: int
    #: Global slot (the ``tray_now`` numbering): ``ams_id * 4 + tray_id``; 254/255 external.
    slot: int
    #: A spool sits in the tray.
    loaded: bool
    tray_type: str | None = None
    sub_brand: str | None = None
    #: ``#RRGGBB`` (None when unknown).
    color_hex: str | None = None
    #: Percent 0-100 when the printer knows it (RFID spools), else None.
    remain: int | None = None
    #: Net spool weight in grams when known.
    weight: float | None = None
    diameter: float | None = None
    #: Bambu spool id (None for the all-zero id of spools without a tag).
    tray_uuid: str | None = None
    tag_uid: str | None = None
    #: Filament preset id (``GFA01``, ...).
    info_idx: str | None = None

    @property
    def external(self) -> bool:
        """The external spool holder (``vt_tray``)."""
        return self.ams_id is None

    @property
    def has_rfid(self) -> bool:
        """The spool carries a tag the printer read."""
        return self.tray_uuid is not None or self.tag_uid is not None

    @property
    def remaining_grams(self) -> float | None:
        """``remain`` x ``weight`` when both are known."""
        if self.remain is None or self.weight is None:
            return None
        return round(self.weight * self.remain / 100.0, 1)


class AmsUnit(NamedTuple):
    """One AMS unit."""

    ams_id: int
    #: Bambu's humidity index 1 (wet) - 5 (dry); None when unknown.
    humidity_level: int | None
    #: Relative humidity in percent (newer firmware), None when unknown.
    humidity: float | None
    temperature: float | None
    trays: tuple[AmsTray, ...]


class _AmsFields(NamedTuple):
    units: tuple[AmsUnit, ...] = ()
    external: tuple[AmsTray, ...] = ()


class AmsReport(_AmsFields):
    """Every AMS unit and external spool of a printer.

    :func:`read_ams` keeps the raw objects it was read from on the instance
    (attributes outside the tuple: not compared, not serialized).
    """

    def trays(self) -> tuple[AmsTray, ...]:
        """Every tray: the units' in order, then the external spool(s)."""
        found = tuple(tray for unit in self.units for tray in unit.trays)
        return found + self.external

    def tray(self, slot: int) -> AmsTray | None:
        """The tray with a global index (``tray_now`` numbering)."""
        for tray in self.trays():
            if tray.slot == slot:
                return tray
        return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return result if math.isfinite(result) else None


def _text(value: Any) -> str | None:
    if isinstance(value, str) and (text := value.strip()):
        return text
    return None


def _hex_id(value: Any) -> str | None:
    """An RFID id, None for a missing or all-zero one."""
    text = _text(value)
    if text is None or set(text) <= _ZEROS:
        return None
    return text.upper()


def color_from_tray(value: Any) -> str | None:
    """``RRGGBBAA`` (or ``RRGGBB``) -> ``#RRGGBB``; None when malformed."""
    text = _text(value)
    if text is None or len(text) not in (6, 8):
        return None
    try:
        int(text, 16)
    except ValueError:
        return None
    return "#" + text[:6].upper()


def read_tray(raw: Any, ams_id: int | None) -> AmsTray | None:
    """One tray; None when it has no usable id."""
    if not isinstance(raw, Mapping):
        return None
    tray_id = _int(raw.get("id"))
    if tray_id is None or tray_id < 0:
        return None
    if ams_id is None:
        slot = tray_id
    elif ams_id >= AMS_HT_FIRST_ID:
        if tray_id != 0:
            return None
        slot = ams_id
    else:
        if tray_id >= TRAYS_PER_UNIT:
            return None
        slot = ams_id * TRAYS_PER_UNIT + tray_id
    tray_type = _text(raw.get("tray_type"))
    if tray_type is None:
        return AmsTray(ams_id=ams_id, tray_id=tray_id, slot=slot, loaded=False)
    tray_uuid = _hex_id(raw.get("tray_uuid"))
    tag_uid = _hex_id(raw.get("tag_uid"))
    remain = _int(raw.get("remain"))
    if remain is None or not 0 <= remain <= 100 or (tray_uuid is None and tag_uid is None):
        remain = None
    weight = _float(raw.get("tray_weight"))
    diameter = _float(raw.get("tray_diameter"))
    return AmsTray(
        ams_id=ams_id,
        tray_id=tray_id,
        slot=slot,
        loaded=True,
        tray_type=tray_type.upper(),
        sub_brand=_text(raw.get("tray_sub_brands")),
        color_hex=color_from_tray(raw.get("tray_color")),
        remain=remain,
        weight=weight if weight is not None and weight > 0 else None,
        diameter=diameter if diameter is not None and diameter > 0 else None,
        tray_uuid=tray_uuid,
        tag_uid=tag_uid,
        info_idx=_text(raw.get("tray_info_idx")),
    )


def _read_unit(raw: Any) -> AmsUnit | None:
    if not isinstance(raw, Mapping):
        return None
    ams_id = _int(raw.get("id"))
    if ams_id is None or not (
        0 <= ams_id <= _AMS_LAST_ID or AMS_HT_FIRST_ID <= ams_id <= _AMS_HT_LAST_ID
    ):
        return None
    trays_raw = raw.get("tray")
    trays: list[AmsTray] = []
    if isinstance(trays_raw, list):
        for item in trays_raw:
            if (tray := read_tray(item, ams_id)) is not None:
                trays.append(tray)
    level = _int(raw.get("humidity"))
    humidity = _float(raw.get("humidity_raw"))
    temperature = _float(raw.get("temp"))
    return AmsUnit(
        ams_id=ams_id,
        humidity_level=level if level is not None and 1 <= level <= 5 else None,
        humidity=humidity if humidity is not None and 0 <= humidity <= 100 else None,
        temperature=(temperature if temperature is not None and 0 < temperature <= 80 else None),
        trays=tuple(sorted(trays, key=lambda t: t.tray_id)),
    )


#: A project names at most this many filaments (the slicer's numbering).
MAX_MAPPED_FILAMENTS = 64
#: A tray mapping's entry for a filament no tray feeds (not used, or not mapped).
UNMAPPED = -1
#: The flat ``ams_mapping`` numbers AMS HT units 16-23 (after four 4-tray units).
_FLAT_HT_FIRST = 16
#: ``print.mapping``: a filament the plate does not use.
_PRINTER_UNUSED = 0xFFFF


def _tray_of(unit: int | None, slot: int | None) -> int:
    """A tray in ``tray_now`` numbering from a unit id and a slot, else UNMAPPED."""
    if unit is None or slot is None:
        return UNMAPPED
    if 0 <= unit <= _AMS_LAST_ID and 0 <= slot < TRAYS_PER_UNIT:
        return unit * TRAYS_PER_UNIT + slot
    if AMS_HT_FIRST_ID <= unit <= _AMS_HT_LAST_ID and slot == 0:
        return unit
    if unit in EXTERNAL_TRAY_IDS and slot == 0:
        return unit
    return UNMAPPED


def _mapping(entries: list[int]) -> tuple[int, ...] | None:
    return tuple(entries) if any(t != UNMAPPED for t in entries) else None


def _entries(value: Any) -> list[Any] | None:
    if not isinstance(value, list) or not 0 < len(value) <= MAX_MAPPED_FILAMENTS:
        return None
    return value


def read_tray_mapping(value: Any) -> tuple[int, ...] | None:
    """A ``project_file`` command's flat ``ams_mapping``: which tray feeds each filament.

    Index: the slicer's filament number minus one (a 3MF's ``<filament id>`` is
    1-based). Value: AMS index * 4 + tray; 16-23 an AMS HT (unit 128-135);
    254/255 the external spool; -1 none. The result uses the ``tray_now``
    numbering (an AMS HT is its unit id) with -1 for every entry that names no
    tray. Not a list, empty, longer than :data:`MAX_MAPPED_FILAMENTS` or
    without one tray: None.
    """
    if (raw := _entries(value)) is None:
        return None
    out = []
    for item in raw:
        tray = _int(item)
        if tray is None:
            out.append(UNMAPPED)
        elif 0 <= tray < _FLAT_HT_FIRST:
            out.append(tray)
        elif _FLAT_HT_FIRST <= tray < _FLAT_HT_FIRST + 8:
            out.append(AMS_HT_FIRST_ID + tray - _FLAT_HT_FIRST)
        else:
            out.append(tray if tray in EXTERNAL_TRAY_IDS else UNMAPPED)
    return _mapping(out)


def read_tray_mapping2(value: Any) -> tuple[int, ...] | None:
    """``ams_mapping2`` (newer slicers): ``[{"ams_id", "slot_id"}, ...]``, 255/255 unused.

    Same index and result as :func:`read_tray_mapping`.
    """
    if (raw := _entries(value)) is None:
        return None
    out = []
    for item in raw:
        if not isinstance(item, Mapping):
            out.append(UNMAPPED)
            continue
        unit, slot = _int(item.get("ams_id")), _int(item.get("slot_id"))
        out.append(UNMAPPED if (unit, slot) == (255, 255) else _tray_of(unit, slot))
    return _mapping(out)


def read_printer_mapping(value: Any) -> tuple[int, ...] | None:
    """``print.mapping`` (the printer's own, in X1 and P2S reports): unit << 8 | slot.

    One entry per filament of the slicer's project (index: filament number
    minus one); 0xFFFF a filament the plate does not use; unit 255 (or 254)
    slot 0 the external spool. Same result as :func:`read_tray_mapping`.
    """
    if (raw := _entries(value)) is None:
        return None
    out = []
    for item in raw:
        number = _int(item)
        if number is None or not 0 <= number < _PRINTER_UNUSED:
            out.append(UNMAPPED)
        else:
            out.append(_tray_of(number >> 8, number & 0xFF))
    return _mapping(out)


def read_ams(report: Mapping[str, Any], previous: AmsReport | None = None) -> AmsReport | None:
    """Read the AMS units and external spool of a merged ``print`` report.

    None when the report has neither. ``previous`` (the last result for this
    printer) is returned as is when the raw ``ams`` and ``vt_tray`` objects did
    not change.
    """
    if not isinstance(report, Mapping):
        return None
    ams = report.get("ams")
    vt_tray = report.get("vt_tray")
    if (
        previous is not None
        and getattr(previous, "_ams_src", None) is ams
        and getattr(previous, "_vt_src", None) is vt_tray
    ):
        return previous
    units: list[AmsUnit] = []
    if isinstance(ams, Mapping) and isinstance(raw_units := ams.get("ams"), list):
        for raw in raw_units:
            if (unit := _read_unit(raw)) is not None:
                units.append(unit)
    external: list[AmsTray] = []
    if isinstance(vt_tray, Mapping):
        tray = read_tray(vt_tray, None)
        if tray is not None and tray.tray_id in EXTERNAL_TRAY_IDS:
            external.append(tray)
    if not units and not external:
        return None
    result = AmsReport(units=tuple(sorted(units, key=lambda u: u.ams_id)), external=tuple(external))
    result._ams_src = ams  # type: ignore[attr-defined]
    result._vt_src = vt_tray  # type: ignore[attr-defined]
    return result
