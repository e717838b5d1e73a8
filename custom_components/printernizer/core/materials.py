"""Materials: filament spools with stock, AMS trays feeding them, consumption and low stock.

The :class:`MaterialManager` owns every material (a :class:`MaterialStore`),
fires ``material_created`` / ``material_updated`` (only when a value changed) /
``material_deleted`` / ``material_low_stock`` through the emitter, follows the
printers' AMS trays and deducts what finished jobs used. It runs while the
library entry is loaded (:mod:`..library_entry` starts and stops it).

Validation raises :class:`MaterialValidationError` (a translation key and
placeholders) before anything changes; the actions turn it into a translated
``ServiceValidationError``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date
from operator import attrgetter
from typing import Any, Final
from uuid import uuid4

from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.util import dt as dt_util

from ..api.bambu.ams import EXTERNAL_TRAY_IDS, AmsReport, AmsTray
from ..api.models import PrinterState
from ..emitter import EventEmitter, timestamp
from .consumption import job_filament_grams
from .jobs import Job, JobManager
from .storage import CollectionStore, StoreData

_LOGGER = logging.getLogger(__name__)

STORAGE_KEY: Final = "printernizer.materials"
STORAGE_VERSION: Final = 1

MATERIAL_TYPES: Final = (
    "PLA",
    "PLA_MATTE",
    "PLA_SILK",
    "PLA_CF",
    "PETG",
    "PETG_CF",
    "PET",
    "TPU",
    "ABS",
    "ASA",
    "NYLON",
    "PC",
    "PVA",
    "HIPS",
    "OTHER",
)
#: Bambu tray types that are not a material type name themselves.
_TRAY_TYPE_ALIASES: Final = {
    "PA": "NYLON",
    "PA_CF": "NYLON",
    "PAHT_CF": "NYLON",
    "PA6_CF": "NYLON",
    "PET_CF": "PET",
    "PETG_HF": "PETG",
    "PLA_SILK+": "PLA_SILK",
}
#: A spool's net weight must lie in (0, MAX_WEIGHT] grams.
MAX_WEIGHT: Final = 100_000.0
MAX_DIAMETER: Final = 5.0
#: Weight of a new AMS spool whose weight the printer does not report.
DEFAULT_SPOOL_WEIGHT: Final = 1000.0
DEFAULT_DIAMETER: Final = 1.75
BAMBU_BRAND: Final = "Bambu Lab"
_HEX_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
MAX_TEXT = 255


class MaterialValidationError(ValueError):
    """A bad request (translation key under ``exceptions``); nothing was changed."""

    def __init__(self, key: str, **placeholders: str) -> None:
        """Initialize with the translation key and its placeholders."""
        super().__init__(key)
        self.key = key
        self.placeholders = placeholders


@dataclass(slots=True)
class Material:
    """A filament spool (weights in grams)."""

    material_id: str
    name: str
    material_type: str
    weight: float
    remaining_weight: float
    created_at: str
    updated_at: str
    brand: str | None = None
    color: str | None = None
    color_hex: str | None = None
    diameter: float = DEFAULT_DIAMETER
    cost_per_kg: float | None = None
    currency: str | None = None
    vendor: str | None = None
    purchase_date: str | None = None
    batch_number: str | None = None
    location: str | None = None
    notes: str | None = None
    #: The printer it is (or was last) loaded in.
    printer_id: str | None = None
    #: The AMS tray it sits in (``tray_now`` numbering; 254/255 external spool).
    ams_tray: int | None = None
    #: Loaded in a printer now (a spool taken out of the AMS stays, not loaded).
    loaded: bool = False
    #: In use (False: archived by the user).
    is_active: bool = True
    #: Bambu RFID spool id (the key of an AMS spool with a tag).
    tray_uuid: str | None = None
    #: The printer reports this spool's remaining amount (RFID with a known
    #: ``remain``): it follows the printer and is not deducted by jobs.
    remain_from_printer: bool = False
    #: Created from an AMS tray report.
    from_ams: bool = False

    @property
    def remaining_percentage(self) -> float:
        """Remaining weight in percent of the spool's weight (one decimal)."""
        if self.weight <= 0:
            return 0.0
        return round(100.0 * self.remaining_weight / self.weight, 1)

    def as_dict(self) -> dict[str, Any]:
        """The material as plain JSON (events, responses); every field is a plain value."""
        data = dict(zip(_FIELD_ORDER, _GET_FIELDS(self), strict=True))
        data["remaining_percentage"] = self.remaining_percentage
        return data

    def stored(self) -> dict[str, Any]:
        """The stored fields."""
        return dict(zip(_FIELD_ORDER, _GET_FIELDS(self), strict=True))


_FIELD_ORDER: Final = tuple(f.name for f in fields(Material))
_FIELD_NAMES: Final = frozenset(_FIELD_ORDER)
_GET_FIELDS: Final = attrgetter(*_FIELD_ORDER)
#: Fields an action may set.
EDITABLE: Final = frozenset(
    {
        "name",
        "material_type",
        "brand",
        "color",
        "color_hex",
        "diameter",
        "weight",
        "remaining_weight",
        "cost_per_kg",
        "vendor",
        "purchase_date",
        "batch_number",
        "location",
        "notes",
        "printer_id",
        "ams_tray",
        "loaded",
        "is_active",
    }
)
_TEXT_FIELDS: Final = ("name", "brand", "color", "vendor", "batch_number", "location", "notes")


def material_type_from_tray(tray: AmsTray) -> str:
    """PLA + sub brand "PLA Matte" -> PLA_MATTE; unknown types -> OTHER."""
    base = (tray.tray_type or "").upper().replace("-", "_").replace(" ", "_")
    sub = (tray.sub_brand or "").upper()
    if base == "PLA":
        if "MATTE" in sub:
            return "PLA_MATTE"
        if "SILK" in sub:
            return "PLA_SILK"
        if "CF" in sub:
            return "PLA_CF"
    base = _TRAY_TYPE_ALIASES.get(base, base)
    return base if base in MATERIAL_TYPES else "OTHER"


def default_name(brand: str | None, material_type: str, color: str | None) -> str:
    """Brand + type + colour, e.g. "Bambu Lab PLA_MATTE #000000"."""
    return " ".join(part for part in (brand, material_type, color) if part) or material_type


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool):
        raise MaterialValidationError("invalid_number", field=name, value=str(value))
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise MaterialValidationError("invalid_number", field=name, value=str(value)) from None
    if number != number or number in (float("inf"), float("-inf")):  # noqa: PLR0124 (NaN)
        raise MaterialValidationError("invalid_number", field=name, value=str(value))
    return number


def validate_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Check and normalize field values (no cross-field checks); raise on the first bad one."""
    clean: dict[str, Any] = {}
    for key, value in changes.items():
        if key not in EDITABLE:
            raise MaterialValidationError("unknown_field", field=key)
        if value is None:
            if key in ("name", "material_type", "weight", "remaining_weight", "diameter"):
                raise MaterialValidationError("invalid_number", field=key, value="None")
            clean[key] = None
            continue
        if key == "material_type":
            text = str(value).upper()
            if text not in MATERIAL_TYPES:
                raise MaterialValidationError(
                    "invalid_material_type", value=str(value), allowed=", ".join(MATERIAL_TYPES)
                )
            clean[key] = text
        elif key == "color_hex":
            text = str(value).strip()
            if not text.startswith("#"):
                text = "#" + text
            if not _HEX_COLOR.match(text):
                raise MaterialValidationError("invalid_color", value=str(value))
            clean[key] = text.upper()
        elif key in ("weight", "remaining_weight", "cost_per_kg", "diameter"):
            number = _number(value, key)
            if number < 0 or (key == "weight" and not 0 < number <= MAX_WEIGHT):
                raise MaterialValidationError("invalid_weight", field=key, value=str(value))
            if key == "diameter" and not 0 < number <= MAX_DIAMETER:
                raise MaterialValidationError("invalid_diameter", value=str(value))
            clean[key] = round(number, 3)
        elif key == "purchase_date":
            try:
                clean[key] = date.fromisoformat(str(value)).isoformat()
            except ValueError:
                raise MaterialValidationError("invalid_date", value=str(value)) from None
        elif key in ("loaded", "is_active"):
            clean[key] = bool(value)
        elif key == "ams_tray":
            clean[key] = int(_number(value, key))
        else:
            text = str(value).strip()
            if len(text) > MAX_TEXT * 4 or (key == "name" and not text):
                raise MaterialValidationError("invalid_text", field=key)
            clean[key] = text
    return clean


class MaterialStore(CollectionStore):
    """The materials, their low-stock alert state and the trays last seen (version 1).

    Data: ``{"materials": [material, ...], "low_stock_alerted": [material_id, ...],
    "tray_seen": {material_id: {...}}}``.
    """

    def __init__(self, hass: HomeAssistant) -> None:
        """Initialize the store."""
        super().__init__(hass, STORAGE_KEY, STORAGE_VERSION)


type MaterialListener = Callable[[str, str], None]


def _material_from_raw(raw: Mapping[str, Any]) -> Material | None:
    try:
        return Material(**{k: v for k, v in raw.items() if k in _FIELD_NAMES})
    except TypeError:
        return None


def _tray_facts(tray: AmsTray, printer_id: str) -> dict[str, Any]:
    """What a tray report says about its spool (compared report to report), and where."""
    return {
        "at": [printer_id, tray.slot],
        "tray_type": tray.tray_type,
        "sub_brand": tray.sub_brand,
        "color_hex": tray.color_hex,
        "remain": tray.remain,
        "weight": tray.weight,
        "diameter": tray.diameter,
    }


class MaterialManager:
    """Owns every material; fires the material events."""

    def __init__(
        self,
        hass: HomeAssistant,
        emitter: EventEmitter,
        jobs: JobManager,
        *,
        low_stock_threshold: float,
    ) -> None:
        """Initialize (nothing runs until :meth:`async_start`)."""
        self._hass = hass
        self._emitter = emitter
        self._jobs = jobs
        self.threshold = float(low_stock_threshold)
        self._store = MaterialStore(hass)
        self._materials: dict[str, Material] = {}
        #: Materials whose low-stock alert fired and has not re-armed.
        self._alerted: set[str] = set()
        #: Active materials below the threshold now (kept up to date on every change).
        self._low: set[str] = set()
        #: material_id -> the tray facts last applied to it.
        self._tray_seen: dict[str, dict[str, Any]] = {}
        #: printer_id -> last AMS report processed.
        self._last_ams: dict[str, AmsReport | None] = {}
        #: printer_id -> the trays a running job used (tray_now while active).
        self._job_trays: dict[str, list[int]] = {}
        #: printer_id -> the tray mapping last stored on its job (by identity).
        self._job_mapping: dict[str, tuple[int, ...]] = {}
        self._listeners: list[MaterialListener] = []
        self._material_listeners: dict[str, list[MaterialListener]] = {}
        #: Jobs whose end was deducted in this run.
        self._consumed_jobs: set[str] = set()
        self._unsubs: list[CALLBACK_TYPE] = []

    # --- life cycle --------------------------------------------------------

    async def async_start(self, known_printers: Iterable[str] = ()) -> None:
        """Load the store, listen for finished jobs, check low stock once.

        Materials loaded in a printer that is no longer configured are marked not loaded.
        """
        data = await self._store.async_load() or {}
        for raw in data.get("materials", []):
            material = _material_from_raw(raw) if isinstance(raw, Mapping) else None
            if material is None:
                _LOGGER.warning("Ignoring a malformed stored material: %s", raw)
                continue
            self._materials[material.material_id] = material
        self._alerted = {m for m in data.get("low_stock_alerted", []) if m in self._materials}
        seen = data.get("tray_seen", {})
        if isinstance(seen, Mapping):
            self._tray_seen = {
                k: dict(v) for k, v in seen.items() if k in self._materials and isinstance(v, dict)
            }
        self._unsubs.append(
            self._hass.bus.async_listen("printernizer_job_completed", self._on_job_completed)
        )
        known = set(known_printers)
        for material in list(self._materials.values()):
            if material.loaded and material.printer_id not in known:
                self._apply(material, {"loaded": False, "ams_tray": None})
            self._check_low_stock(material)

    @callback
    def stop(self) -> None:
        """Stop listening; write pending changes soon (the store flushes at shutdown)."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        self._last_ams.clear()
        self._job_trays.clear()
        self._job_mapping.clear()
        if self._materials or self._alerted:
            self._save()

    async def async_flush(self) -> None:
        """Write now (tests, unload)."""
        await self._store.async_save(self._data_to_save())

    @callback
    def _save(self) -> None:
        self._store.schedule_save(self._data_to_save)

    @callback
    def _data_to_save(self) -> StoreData:
        return {
            "materials": [m.stored() for m in self._materials.values()],
            "low_stock_alerted": sorted(self._alerted),
            "tray_seen": self._tray_seen,
        }

    # --- listeners (entities) ------------------------------------------------

    @callback
    def add_listener(
        self, listener: MaterialListener, material_id: str | None = None
    ) -> CALLBACK_TYPE:
        """Call ``listener(change, material_id)`` on created/updated/deleted/low_stock.

        With ``material_id``, only for that material (one sensor per material
        must not make each change cost a call per material).
        """
        listeners = (
            self._listeners
            if material_id is None
            else self._material_listeners.setdefault(material_id, [])
        )
        listeners.append(listener)

        @callback
        def remove() -> None:
            if listener in listeners:
                listeners.remove(listener)
            if material_id is not None and not listeners:
                self._material_listeners.pop(material_id, None)

        return remove

    def _notify(self, change: str, material_id: str) -> None:
        for listener in [*self._listeners, *self._material_listeners.get(material_id, ())]:
            try:
                listener(change, material_id)
            except Exception:
                _LOGGER.exception("Material listener failed")

    # --- queries -------------------------------------------------------------

    def get(self, material_id: str) -> Material | None:
        """A material by id."""
        return self._materials.get(material_id)

    def require(self, material_id: str) -> Material:
        """A material by id, or raise ``unknown_material``."""
        material = self._materials.get(material_id)
        if material is None:
            raise MaterialValidationError("unknown_material", material_id=material_id)
        return material

    @property
    def materials(self) -> list[Material]:
        """Every material (insertion order)."""
        return list(self._materials.values())

    def is_low(self, material: Material) -> bool:
        """Below the low-stock threshold."""
        return material.remaining_percentage < self.threshold

    def low_stock_count(self) -> int:
        """How many active materials are below the threshold."""
        return len(self._low)

    def low_stock(self) -> list[Material]:
        """The active materials below the threshold."""
        return [m for mid in self._low if (m := self._materials.get(mid)) is not None]

    def find(
        self,
        *,
        material_type: str | None = None,
        printer_id: str | None = None,
        low_stock: bool | None = None,
    ) -> list[Material]:
        """Materials matching every filter given, by name."""
        found: Iterable[Material] = self._materials.values()
        if material_type is not None:
            found = (m for m in found if m.material_type == material_type)
        if printer_id is not None:
            found = (m for m in found if m.printer_id == printer_id)
        if low_stock is not None:
            found = (m for m in found if self.is_low(m) == low_stock)
        return sorted(found, key=lambda m: (m.name.casefold(), m.material_id))

    def loaded_in(self, printer_id: str, ams_tray: int | None = None) -> Material | None:
        """The material loaded in a printer (at one AMS tray; None: outside an AMS)."""
        best: Material | None = None
        for material in self._materials.values():
            if (
                material.loaded
                and material.printer_id == printer_id
                and material.ams_tray == ams_tray
                and (best is None or material.updated_at > best.updated_at)
            ):
                best = material
        return best

    # --- operations (validate everything, then change, then fire) -----------

    @callback
    def create(self, values: Mapping[str, Any]) -> Material:
        """Create a material; fires material_created (and low stock when it starts low)."""
        clean = validate_changes(values)
        if "material_type" not in clean:
            raise MaterialValidationError("missing_field", field="material_type")
        if "weight" not in clean:
            raise MaterialValidationError("missing_field", field="weight")
        clean.setdefault("remaining_weight", clean["weight"])
        self._check_consistency(clean)
        now = dt_util.utcnow().isoformat()
        name = clean.pop("name", None) or default_name(
            clean.get("brand"), clean["material_type"], clean.get("color") or clean.get("color_hex")
        )
        material = Material(
            material_id=uuid4().hex,
            name=name,
            created_at=now,
            updated_at=now,
            currency=self._hass.config.currency if clean.get("cost_per_kg") is not None else None,
            **clean,
        )
        if material.printer_id is not None and "loaded" not in clean:
            material.loaded = True
        self._unload_swapped(material)
        self._materials[material.material_id] = material
        self._save()
        self._emitter.fire("material_created", {"material": material.as_dict()})
        self._notify("created", material.material_id)
        self._check_low_stock(material)
        return material

    @callback
    def update(self, material_id: str, values: Mapping[str, Any]) -> Material:
        """Change a material; fires material_updated when a value changed."""
        material = self.require(material_id)
        clean = validate_changes(values)
        if not clean:
            raise MaterialValidationError("nothing_to_update")
        merged = {"weight": material.weight, "remaining_weight": material.remaining_weight}
        merged.update({k: v for k, v in clean.items() if k in merged})
        self._check_consistency(merged)
        if "printer_id" in clean and "loaded" not in clean:
            clean["loaded"] = clean["printer_id"] is not None
        if "printer_id" in clean and clean["printer_id"] != material.printer_id:
            clean.setdefault("ams_tray", None)  # the user moved it out of that AMS
        if clean.get("cost_per_kg") is not None:
            clean["currency"] = self._hass.config.currency
        self._apply(material, clean)
        self._unload_swapped(material)
        return material

    def _unload_swapped(self, material: Material) -> None:
        """A spool loaded by hand outside an AMS replaces the one loaded there before."""
        if not material.loaded or material.printer_id is None or material.ams_tray is not None:
            return
        for other in list(self._materials.values()):
            if (
                other is not material
                and other.loaded
                and other.printer_id == material.printer_id
                and other.ams_tray is None
            ):
                self._apply(other, {"loaded": False})

    @callback
    def delete(self, material_id: str) -> Material:
        """Delete a material; fires material_deleted."""
        material = self.require(material_id)
        del self._materials[material_id]
        self._alerted.discard(material_id)
        was_low = material_id in self._low
        self._low.discard(material_id)
        self._tray_seen.pop(material_id, None)
        self._save()
        self._emitter.fire("material_deleted", {"material_id": material_id})
        self._notify("deleted", material_id)
        if was_low:
            self._notify("low_stock", material_id)
        return material

    @callback
    def consume(self, material_id: str, grams: Any, job_id: str | None = None) -> Material:
        """Deduct ``grams`` (never below zero); with a job, add it to the job's record."""
        material = self.require(material_id)
        amount = _number(grams, "grams")
        if not 0 < amount <= MAX_WEIGHT:
            raise MaterialValidationError("invalid_weight", field="grams", value=str(grams))
        job = None
        if job_id is not None:
            job = self._jobs.get(job_id)
            if job is None:
                raise MaterialValidationError("unknown_job", job_id=job_id)
        self._deduct(material, amount)
        if job is not None:
            self._record_on_job(job, {material_id: amount})
        return material

    def _check_consistency(self, values: Mapping[str, Any]) -> None:
        weight = values["weight"]
        remaining = values["remaining_weight"]
        if remaining > weight:
            raise MaterialValidationError(
                "remaining_above_weight", remaining=str(remaining), weight=str(weight)
            )

    @callback
    def _apply(self, material: Material, changes: Mapping[str, Any]) -> bool:
        """Set values; save, fire material_updated and check low stock when one changed."""
        changed = False
        for key, value in changes.items():
            if getattr(material, key) != value:
                setattr(material, key, value)
                changed = True
        if not changed:
            return False
        material.updated_at = dt_util.utcnow().isoformat()
        self._save()
        self._emitter.fire("material_updated", {"material": material.as_dict()})
        self._notify("updated", material.material_id)
        self._check_low_stock(material)
        return True

    def _deduct(self, material: Material, grams: float) -> None:
        remaining = round(max(0.0, material.remaining_weight - grams), 3)
        self._apply(material, {"remaining_weight": remaining})

    @callback
    def _check_low_stock(self, material: Material) -> None:
        """Fire material_low_stock once per crossing; re-arm above the threshold."""
        percentage = material.remaining_percentage
        mid = material.material_id
        low_now = material.is_active and percentage < self.threshold
        if low_now != (mid in self._low):
            if low_now:
                self._low.add(mid)
            else:
                self._low.discard(mid)
            self._notify("low_stock", mid)
        if percentage < self.threshold:
            if mid in self._alerted or not material.is_active:
                return
            self._alerted.add(mid)
            self._save()
            self._emitter.fire(
                "material_low_stock",
                {
                    "material_id": mid,
                    "remaining_percentage": percentage,
                    "material_name": material.name,
                    "timestamp": timestamp(),
                },
                extra={"printer_id": material.printer_id},
            )
        elif percentage > self.threshold and mid in self._alerted:
            self._alerted.discard(mid)
            self._save()

    # --- printers: AMS trays and active tray ------------------------------------

    @callback
    def printer_state(
        self,
        printer_id: str,
        state: PrinterState | None,
        tray_mapping: tuple[int, ...] | None = None,
    ) -> None:
        """A printer's new state: follow its AMS (when that part changed) and active tray.

        ``tray_mapping``: which tray feeds each filament of the running job
        (``PrinterTrayMappingClient``); stored on the job, so a restart keeps it.
        """
        if state is None:
            return
        if state.is_active:
            active = state.extra.get("ams_active_tray")
            if isinstance(active, int):
                trays = self._job_trays.setdefault(printer_id, [])
                if not trays or trays[-1] != active:
                    trays.append(active)
            if tray_mapping is not None and self._job_mapping.get(printer_id) is not tray_mapping:
                job = self._jobs.printer_job(printer_id)
                if job is not None:
                    self._job_mapping[printer_id] = tray_mapping
                    self._jobs.set_tray_mapping(job, tray_mapping)
        ams = state.extra.get("ams")
        if not isinstance(ams, AmsReport):
            return
        last = self._last_ams.get(printer_id)
        if last is ams or last == ams:
            return
        self._last_ams[printer_id] = ams
        self.sync_ams(printer_id, ams, last)

    @callback
    def printer_removed(self, printer_id: str) -> None:
        """A printer entry was removed: its materials stay, not loaded."""
        self._last_ams.pop(printer_id, None)
        self._job_trays.pop(printer_id, None)
        self._job_mapping.pop(printer_id, None)
        for material in list(self._materials.values()):
            if material.printer_id == printer_id and material.loaded:
                self._apply(material, {"loaded": False, "ams_tray": None})

    @callback
    def sync_ams(
        self, printer_id: str, report: AmsReport, previous: AmsReport | None = None
    ) -> None:
        """Create or update the materials of the trays with a spool; unload the others.

        With ``previous`` (the printer's last report) only the trays that
        changed are looked at: a report where one tray changed costs one tray.
        """
        trays = {tray.slot: tray for tray in report.trays()}
        if previous is not None:
            before = {tray.slot: tray for tray in previous.trays()}
            changed = {slot for slot, tray in trays.items() if before.get(slot) != tray}
            changed |= before.keys() - trays.keys()
            if not changed:
                return
        else:
            changed = None
        occupied: dict[int, str] = {}
        for slot, tray in trays.items():
            if tray.loaded and (changed is None or slot in changed):
                occupied[slot] = self._sync_tray(printer_id, tray).material_id
        for material in list(self._materials.values()):
            if (
                material.loaded
                and material.printer_id == printer_id
                and material.ams_tray is not None
                and (changed is None or material.ams_tray in changed)
                and occupied.get(material.ams_tray) != material.material_id
                and material.material_id not in occupied.values()
            ):
                self._apply(material, {"loaded": False, "ams_tray": None})

    def _sync_tray(self, printer_id: str, tray: AmsTray) -> Material:
        facts = _tray_facts(tray, printer_id)
        material = self._material_for_tray(printer_id, tray, facts)
        if material is None:
            return self._create_from_tray(printer_id, tray, facts)
        seen = self._tray_seen.get(material.material_id, {})
        changes: dict[str, Any] = {"printer_id": printer_id, "ams_tray": tray.slot, "loaded": True}
        # Only what the tray reports and what changed since its last report:
        # the user's own edits stay until the printer says something new.
        if facts["weight"] is not None and facts["weight"] != seen.get("weight"):
            changes["weight"] = facts["weight"]
        if facts["diameter"] is not None and facts["diameter"] != seen.get("diameter"):
            changes["diameter"] = facts["diameter"]
        if facts["color_hex"] is not None and facts["color_hex"] != seen.get("color_hex"):
            changes["color_hex"] = facts["color_hex"]
        if (facts["tray_type"], facts["sub_brand"]) != (
            seen.get("tray_type"),
            seen.get("sub_brand"),
        ):
            changes["material_type"] = material_type_from_tray(tray)
        weight = changes.get("weight", material.weight)
        if tray.remain is not None:
            if tray.remain != seen.get("remain") or "weight" in changes:
                changes["remaining_weight"] = round(weight * tray.remain / 100.0, 1)
            changes["remain_from_printer"] = True
        else:
            changes["remain_from_printer"] = False
        changes["remaining_weight"] = min(
            changes.get("remaining_weight", material.remaining_weight), weight
        )
        if seen != facts:
            self._tray_seen[material.material_id] = facts
            self._save()
        self._apply(material, changes)
        return material

    def _material_for_tray(
        self, printer_id: str, tray: AmsTray, facts: Mapping[str, Any]
    ) -> Material | None:
        if tray.tray_uuid is not None:
            for material in self._materials.values():
                if material.tray_uuid == tray.tray_uuid:
                    return material
            return None
        # Without a tag the spool is known by its place; a different type or
        # colour reported there is another spool.
        spool = (facts["tray_type"], facts["sub_brand"], facts["color_hex"])

        def same_spool(material: Material) -> bool:
            seen = self._tray_seen.get(material.material_id, {})
            return material.tray_uuid is None and spool == (
                seen.get("tray_type"),
                seen.get("sub_brand"),
                seen.get("color_hex"),
            )

        current = self.loaded_in(printer_id, tray.slot)
        if current is not None:
            return current if same_spool(current) else None
        # The same spool put back where it was taken out is not a new material.
        for material in self._materials.values():
            if (
                not material.loaded
                and material.from_ams
                and self._tray_seen.get(material.material_id, {}).get("at") == facts["at"]
                and same_spool(material)
            ):
                return material
        return None

    def _create_from_tray(
        self, printer_id: str, tray: AmsTray, facts: Mapping[str, Any]
    ) -> Material:
        material_type = material_type_from_tray(tray)
        weight = tray.weight or DEFAULT_SPOOL_WEIGHT
        remaining = tray.remaining_grams if tray.remaining_grams is not None else weight
        brand = BAMBU_BRAND if tray.tray_uuid is not None else None
        now = dt_util.utcnow().isoformat()
        material = Material(
            material_id=uuid4().hex,
            name=default_name(brand, tray.sub_brand or material_type, tray.color_hex),
            material_type=material_type,
            weight=weight,
            remaining_weight=min(remaining, weight),
            created_at=now,
            updated_at=now,
            brand=brand,
            color_hex=tray.color_hex,
            diameter=tray.diameter or DEFAULT_DIAMETER,
            printer_id=printer_id,
            ams_tray=tray.slot,
            loaded=True,
            tray_uuid=tray.tray_uuid,
            remain_from_printer=tray.remain is not None,
            from_ams=True,
        )
        self._materials[material.material_id] = material
        self._tray_seen[material.material_id] = dict(facts)
        self._save()
        self._emitter.fire("material_created", {"material": material.as_dict()})
        self._notify("created", material.material_id)
        self._check_low_stock(material)
        return material

    # --- consumption from finished jobs -------------------------------------

    @callback
    def _on_job_completed(self, event: Event[Mapping[str, Any]]) -> None:
        job = self._jobs.get(str(event.data.get("job_id")))
        if job is None:
            return
        trays = self._job_trays.pop(job.printer_id, []) if job.printer_id is not None else []
        try:
            self.consume_job(job, trays)
        except Exception:  # a bug here must not break job tracking
            _LOGGER.exception("Could not deduct the filament of job %s", job.job_id)

    @callback
    def consume_job(self, job: Job, active_trays: list[int] | None = None) -> dict[str, float]:
        """Deduct what an ended job used; record material ids, grams and cost on the job.

        Grams come from :func:`.consumption.job_filament_grams` (per tray where
        known: the job's tray mapping places the file's grams per filament),
        scaled by progress for a failed or cancelled job. The external spool is
        the same whether a figure names it 254 or 255. Grams without a tray go
        to the last tray active during the job, else the spool loaded outside
        an AMS, else the only spool loaded in that printer. Spools whose
        remaining amount the printer reports are not deducted (the printer's
        ``remain`` follows them) but are recorded.
        """
        printer_id = job.printer_id
        if printer_id is None or job.job_id in self._consumed_jobs:
            return {}
        self._consumed_jobs.add(job.job_id)  # a job ended again (update_job) pays once
        planned = job_filament_grams(job)
        if not planned:
            return {}
        factor = 1.0 if job.status == "completed" else max(0.0, min(1.0, job.progress / 100.0))
        used: dict[str, float] = {}
        for tray, grams in planned.items():
            amount = round(grams * factor, 2)
            if amount <= 0:
                continue
            material = self._material_for_job(printer_id, tray, active_trays or [])
            if material is None:
                continue
            used[material.material_id] = used.get(material.material_id, 0.0) + amount
            if not material.remain_from_printer:
                self._deduct(material, amount)
        if used:
            self._record_on_job(job, used)
        return used

    def _material_for_job(
        self, printer_id: str, tray: int | None, active_trays: list[int]
    ) -> Material | None:
        if tray is None and active_trays:
            tray = active_trays[-1]
        if tray in EXTERNAL_TRAY_IDS:  # 254 or 255, whichever id the printer gives it
            for external in (tray, *(EXTERNAL_TRAY_IDS - {tray})):
                if (material := self.loaded_in(printer_id, external)) is not None:
                    return material
            return None
        if tray is not None:
            return self.loaded_in(printer_id, tray)
        if (material := self.loaded_in(printer_id, None)) is not None:
            return material
        loaded = [m for m in self._materials.values() if m.loaded and m.printer_id == printer_id]
        return loaded[0] if len(loaded) == 1 else None

    def _record_on_job(self, job: Job, used: Mapping[str, float]) -> None:
        cost = 0.0
        costed = False
        for material_id, grams in used.items():
            material = self._materials.get(material_id)
            if material is not None and material.cost_per_kg is not None:
                cost += grams / 1000.0 * material.cost_per_kg
                costed = True
        self._jobs.add_consumption(job, used, round(cost, 2) if costed else None)

    # --- diagnostics ----------------------------------------------------------

    def diagnostics(self) -> dict[str, Any]:
        """A summary of the store (no personal notes)."""
        return {
            "materials": len(self._materials),
            "loaded": sum(1 for m in self._materials.values() if m.loaded),
            "from_ams": sum(1 for m in self._materials.values() if m.from_ams),
            "low_stock": self.low_stock_count(),
            "low_stock_alerted": len(self._alerted),
            "threshold": self.threshold,
            "by_type": {
                t: n
                for t in MATERIAL_TYPES
                if (n := sum(1 for m in self._materials.values() if m.material_type == t))
            },
        }
