"""Materials: CRUD and events, validation, low stock, AMS trays, consumption, entities."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printernizer import async_remove_config_entry_device
from custom_components.printernizer.api.bambu.ams import AmsTray
from custom_components.printernizer.api.bambu.parse import normalize
from custom_components.printernizer.api.models import PrinterStatus
from custom_components.printernizer.const import (
    CONF_ENTRY_KIND,
    DOMAIN,
    ENTRY_KIND_LIBRARY,
    LIBRARY_UNIQUE_ID,
    MATERIALS_DEVICE_ID,
    OPT_LIBRARY_FOLDER,
    OPT_LOW_STOCK_THRESHOLD,
)
from custom_components.printernizer.core.consumption import MAX_JOB_GRAMS, job_filament_grams
from custom_components.printernizer.core.jobs import Job
from custom_components.printernizer.core.materials import (
    MAX_TEXT,
    MaterialManager,
    MaterialValidationError,
    material_type_from_tray,
    validate_changes,
)
from custom_components.printernizer.diagnostics import async_get_config_entry_diagnostics
from custom_components.printernizer.runtime import DATA_KEY
from simulator.bambu import load_fixture
from simulator.bambu.simulator import FIXTURES_DIR

from .conftest import EventRecorder
from .fake_client import IDLE, FakeClient

ROOT = Path(__file__).parents[1] / "custom_components" / DOMAIN
PRINTER = "FAKE0001"


def _new_library_entry(hass: HomeAssistant, tmp_path: Path) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Printernizer library",
        unique_id=LIBRARY_UNIQUE_ID,
        data={CONF_ENTRY_KIND: ENTRY_KIND_LIBRARY},
        options={OPT_LIBRARY_FOLDER: str(tmp_path / "library"), OPT_LOW_STOCK_THRESHOLD: 20},
    )
    entry.add_to_hass(hass)
    return entry


@pytest.fixture
def library_entry(hass: HomeAssistant, tmp_path: Path) -> MockConfigEntry:
    return _new_library_entry(hass, tmp_path)


async def _ensure_loaded(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set up an entry (setting up the first entry of the domain sets up all added ones)."""
    if entry.state is ConfigEntryState.NOT_LOADED:
        assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


@pytest.fixture
async def library(hass: HomeAssistant, library_entry: MockConfigEntry) -> MockConfigEntry:
    await _ensure_loaded(hass, library_entry)
    return library_entry


def _materials(hass: HomeAssistant) -> MaterialManager:
    library = hass.data[DATA_KEY].library
    assert library is not None and library.materials is not None
    return library.materials


async def _call(hass: HomeAssistant, service: str, data: dict, response: bool = True) -> Any:
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=response
    )


def _snapshot(hass: HomeAssistant) -> list[dict]:
    return [m.as_dict() for m in _materials(hass).materials]


def _sensor_of(hass: HomeAssistant, material_id: str) -> str | None:
    return er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"material_{material_id}")


# --- CRUD, events, entities ----------------------------------------------------


async def test_crud_with_events_and_entities(
    hass: HomeAssistant, library: MockConfigEntry, events: EventRecorder
) -> None:
    hass.config.currency = "EUR"
    result = await _call(
        hass,
        "create_material",
        {
            "material_type": "pla_matte",
            "brand": "Acme",
            "color": "Black",
            "color_hex": "#1a1a1a",
            "weight": 1000,
            "remaining_weight": 800,
            "cost_per_kg": 24.99,
            "purchase_date": "2026-11-30",
            "location": "Shelf 2",
        },
    )
    material = result["material"]
    assert material["name"] == "Acme PLA_MATTE Black"
    assert material["material_type"] == "PLA_MATTE"
    assert material["color_hex"] == "#1A1A1A"
    assert material["remaining_percentage"] == 80.0
    assert material["currency"] == "EUR"
    (created,) = events.of("material_created")
    assert created["material"] == {k: v for k, v in material.items() if k != "low_stock"}
    json.dumps(created)  # plain JSON, as the recorder stores it
    mid = material["material_id"]

    await hass.async_block_till_done()
    entity_id = _sensor_of(hass, mid)
    assert entity_id is not None
    state = hass.states.get(entity_id)
    assert state.state == "800.0"
    assert state.attributes["remaining_percentage"] == 80.0
    assert state.attributes["material_type"] == "PLA_MATTE"
    assert state.attributes["location"] == "Shelf 2"
    device = dr.async_get(hass).async_get(er.async_get(hass).async_get(entity_id).device_id)
    assert (DOMAIN, MATERIALS_DEVICE_ID) in device.identifiers
    assert hass.states.get("sensor.materials_materials_low_on_stock").state == "0"

    events.clear()
    result = await _call(hass, "update_material", {"material_id": mid, "remaining_weight": 500})
    assert result["material"]["remaining_weight"] == 500
    (updated,) = events.of("material_updated")
    assert updated["material"]["remaining_weight"] == 500
    assert hass.states.get(entity_id).state == "500.0"
    # the same value again is no change: no event
    events.clear()
    await _call(hass, "update_material", {"material_id": mid, "remaining_weight": 500})
    assert events.of("material_updated") == []

    listed = await _call(hass, "list_materials", {"material_type": "PLA_MATTE"})
    assert [m["material_id"] for m in listed["materials"]] == [mid]
    assert listed["low_stock_threshold"] == 20
    assert (await _call(hass, "list_materials", {"material_type": "PETG"}))["materials"] == []
    assert (await _call(hass, "list_materials", {"low_stock": True}))["materials"] == []

    await _call(hass, "delete_material", {"material_id": mid}, response=False)
    assert events.of("material_deleted") == [{"material_id": mid}]
    await hass.async_block_till_done()
    assert _sensor_of(hass, mid) is None
    assert hass.states.get(entity_id) is None
    assert _materials(hass).materials == []


@pytest.mark.parametrize(
    ("service", "data", "key"),
    [
        ("create_material", {"material_type": "PLA", "weight": -5}, "invalid_weight"),
        ("create_material", {"material_type": "PLA", "weight": 0}, "invalid_weight"),
        ("create_material", {"material_type": "PLA", "weight": 10_000_000}, "invalid_weight"),
        ("create_material", {"material_type": "PLA", "weight": "heavy"}, "invalid_number"),
        (
            "create_material",
            {"material_type": "PLA", "weight": 1000, "remaining_weight": 1200},
            "remaining_above_weight",
        ),
        (
            "create_material",
            {"material_type": "PLA", "weight": 1000, "remaining_weight": -1},
            "invalid_weight",
        ),
        (
            "create_material",
            {"material_type": "PLA", "weight": 1000, "color_hex": "red"},
            "invalid_color",
        ),
        (
            "create_material",
            {"material_type": "PLA", "weight": 1000, "color_hex": "#12345G"},
            "invalid_color",
        ),
        (
            "create_material",
            {"material_type": "WOOD_GLUE", "weight": 1000},
            "invalid_material_type",
        ),
        ("create_material", {"weight": 1000}, "missing_field"),
        (
            "create_material",
            {"material_type": "PLA", "weight": 1000, "purchase_date": "yesterday"},
            "invalid_date",
        ),
        (
            "create_material",
            {"material_type": "PLA", "weight": 1000, "diameter": 0},
            "invalid_diameter",
        ),
        (
            "create_material",
            {"material_type": "PLA", "weight": 1000, "device_id": "nope"},
            "unknown_device",
        ),
        (
            "update_material",
            {"material_id": "EXISTING", "remaining_weight": 1001},
            "remaining_above_weight",
        ),
        ("update_material", {"material_id": "EXISTING", "weight": 100}, "remaining_above_weight"),
        ("update_material", {"material_id": "EXISTING", "weight": -1}, "invalid_weight"),
        ("update_material", {"material_id": "EXISTING", "color_hex": "#FFF"}, "invalid_color"),
        ("update_material", {"material_id": "EXISTING"}, "nothing_to_update"),
        ("update_material", {"material_id": "missing", "weight": 10}, "unknown_material"),
        ("delete_material", {"material_id": "missing"}, "unknown_material"),
        ("record_consumption", {"material_id": "missing", "grams": 5}, "unknown_material"),
        ("record_consumption", {"material_id": "EXISTING", "grams": -5}, "invalid_weight"),
        ("record_consumption", {"material_id": "EXISTING", "grams": 0}, "invalid_weight"),
        (
            "record_consumption",
            {"material_id": "EXISTING", "grams": 5, "job_id": "nope"},
            "unknown_job",
        ),
        ("list_materials", {"material_type": "CHEESE"}, "invalid_material_type"),
    ],
)
async def test_bad_input_refused_nothing_changed(
    hass: HomeAssistant,
    library: MockConfigEntry,
    events: EventRecorder,
    service: str,
    data: dict,
    key: str,
) -> None:
    existing = _materials(hass).create(
        {"material_type": "PLA", "weight": 1000, "remaining_weight": 600}
    )
    data = {k: (existing.material_id if v == "EXISTING" else v) for k, v in data.items()}
    before = _snapshot(hass)
    events.clear()
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, service, data, response=service != "delete_material")
    assert err.value.translation_key == key
    assert _snapshot(hass) == before
    assert events.events == []


async def test_actions_need_the_library(
    hass: HomeAssistant, library_entry: MockConfigEntry
) -> None:
    await _ensure_loaded(hass, library_entry)
    assert await hass.config_entries.async_unload(library_entry.entry_id)
    assert library_entry.state is ConfigEntryState.NOT_LOADED
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "list_materials", {})
    assert err.value.translation_key == "library_not_loaded"


def test_every_material_error_is_translated() -> None:
    strings = json.loads((ROOT / "strings.json").read_text())
    assert strings == json.loads((ROOT / "translations" / "en.json").read_text())
    source = "".join(
        (ROOT / p).read_text()
        for p in ("core/materials.py", "services/materials.py", "services/helpers.py")
    )
    keys = set(re.findall(r'MaterialValidationError\(\s*"([a-z_]+)"', source))
    keys |= set(re.findall(r'validation_error\(\s*"([a-z_]+)"', source))
    assert {"unknown_material", "remaining_above_weight", "library_not_loaded"} <= keys
    assert keys <= set(strings["exceptions"]), keys - set(strings["exceptions"])


# --- low stock -------------------------------------------------------------------


async def test_low_stock_once_rearmed_not_repeated_after_restart(
    hass: HomeAssistant, library: MockConfigEntry, events: EventRecorder
) -> None:
    created = await _call(
        hass, "create_material", {"material_type": "PETG", "weight": 1000, "name": "Spool A"}
    )
    mid = created["material"]["material_id"]
    await _call(hass, "record_consumption", {"material_id": mid, "grams": 700})
    assert events.of("material_low_stock") == []  # 30 %
    await _call(hass, "record_consumption", {"material_id": mid, "grams": 150})  # 15 %
    (low,) = events.of("material_low_stock")
    assert low["material_id"] == mid
    assert low["material_name"] == "Spool A"
    assert low["remaining_percentage"] == 15.0
    await _call(hass, "record_consumption", {"material_id": mid, "grams": 50})  # 10 %: still low
    assert len(events.of("material_low_stock")) == 1
    assert hass.states.get("sensor.materials_materials_low_on_stock").state == "1"
    low_only = await _call(hass, "list_materials", {"low_stock": True})
    assert [m["material_id"] for m in low_only["materials"]] == [mid]

    # a restart (reload of the library entry, a new store on the same storage): no repeat
    assert await hass.config_entries.async_reload(library.entry_id)
    await hass.async_block_till_done()
    assert _materials(hass).get(mid).remaining_weight == 100
    await _call(hass, "record_consumption", {"material_id": mid, "grams": 10})
    assert len(events.of("material_low_stock")) == 1

    # refill: re-armed above the threshold, fires again on the next crossing
    await _call(hass, "update_material", {"material_id": mid, "remaining_weight": 900})
    assert hass.states.get("sensor.materials_materials_low_on_stock").state == "0"
    await _call(hass, "record_consumption", {"material_id": mid, "grams": 750})
    assert len(events.of("material_low_stock")) == 2


async def test_exactly_at_threshold_is_not_low(
    hass: HomeAssistant, library: MockConfigEntry, events: EventRecorder
) -> None:
    await _call(
        hass, "create_material", {"material_type": "PLA", "weight": 1000, "remaining_weight": 200}
    )
    assert events.of("material_low_stock") == []
    await _call(
        hass, "create_material", {"material_type": "PLA", "weight": 1000, "remaining_weight": 199}
    )
    assert len(events.of("material_low_stock")) == 1


# --- AMS trays -------------------------------------------------------------------


def _bambu_state(fixture: str, **changes: Any) -> Any:
    raw, _version = load_fixture(FIXTURES_DIR / fixture)
    return replace(normalize(raw), **changes), raw


@pytest.fixture
async def printer(
    hass: HomeAssistant, fake_entry: MockConfigEntry, use_fake: FakeClient
) -> FakeClient:
    state, _raw = _bambu_state("P1P.json", status=PrinterStatus.IDLE)
    use_fake.state = state
    await _ensure_loaded(hass, fake_entry)
    return use_fake


async def test_p1p_trays_become_materials(
    hass: HomeAssistant, events: EventRecorder, printer: FakeClient, library: MockConfigEntry
) -> None:
    materials = _materials(hass).materials
    # four AMS trays and the external spool, none with RFID
    assert sorted(m.ams_tray for m in materials) == [0, 1, 2, 3, 254]
    for material in materials:
        assert material.printer_id == PRINTER and material.loaded and material.from_ams
        assert material.material_type == "PLA"
        assert material.weight == 1000  # not reported: a full default spool
        assert material.remaining_weight == 1000
        assert not material.remain_from_printer
        assert material.tray_uuid is None
    assert len(events.of("material_created")) == 5
    # entities per tray: unknown remaining (remain -1), type and colour known
    assert hass.states.get("sensor.workshop_x1_ams_1_tray_1_remaining").state == "unknown"
    assert hass.states.get("sensor.workshop_x1_ams_1_tray_1_filament_type").state == "PLA"
    assert hass.states.get("sensor.workshop_x1_ams_1_tray_1_colour").state == "#D357FE"
    assert hass.states.get("sensor.workshop_x1_ams_1_temperature").state == "unknown"
    assert hass.states.get("sensor.workshop_x1_external_spool_filament_type").state == "PLA"

    # the same report again changes nothing: no events
    events.clear()
    printer.update(nozzle_temp=30.0)
    await hass.async_block_till_done()
    assert events.of("material_updated") == [] and events.of("material_created") == []

    # the user corrects the remaining weight; a report without that information keeps it
    tray0 = next(m for m in _materials(hass).materials if m.ams_tray == 0)
    await _call(
        hass, "update_material", {"material_id": tray0.material_id, "remaining_weight": 420}
    )
    _state, raw = _bambu_state("P1P.json", status=PrinterStatus.IDLE)
    raw["ams"]["tray_now"] = "1"
    printer.set_state(replace(normalize(raw), status=PrinterStatus.IDLE))
    await hass.async_block_till_done()
    assert _materials(hass).get(tray0.material_id).remaining_weight == 420

    # tray 3 is emptied: its material stays, not loaded
    raw["ams"]["ams"][0]["tray"][3] = {"id": "3"}
    printer.set_state(replace(normalize(raw), status=PrinterStatus.IDLE))
    await hass.async_block_till_done()
    gone = [m for m in _materials(hass).materials if not m.loaded]
    assert len(gone) == 1 and gone[0].ams_tray is None
    assert hass.states.get("sensor.workshop_x1_ams_1_tray_4_filament_type").state == "unknown"

    # put back: the same material again; another colour there is another spool
    _state, fresh = _bambu_state("P1P.json")
    raw["ams"]["ams"][0]["tray"][3] = fresh["ams"]["ams"][0]["tray"][3]
    printer.set_state(replace(normalize(raw), status=PrinterStatus.IDLE))
    await hass.async_block_till_done()
    assert _materials(hass).get(gone[0].material_id).loaded
    assert len(_materials(hass).materials) == 5
    raw["ams"]["ams"][0]["tray"][3] = dict(fresh["ams"]["ams"][0]["tray"][3], tray_color="00FF00FF")
    printer.set_state(replace(normalize(raw), status=PrinterStatus.IDLE))
    await hass.async_block_till_done()
    assert not _materials(hass).get(gone[0].material_id).loaded
    assert len(_materials(hass).materials) == 6
    assert _materials(hass).loaded_in(PRINTER, 3).color_hex == "#00FF00"


async def test_x1c_rfid_trays_follow_the_printer(
    hass: HomeAssistant,
    fake_entry: MockConfigEntry,
    use_fake: FakeClient,
    events: EventRecorder,
    tmp_path: Path,
) -> None:
    state, raw = _bambu_state("MOCK-X1CMULTIAMS.json", status=PrinterStatus.IDLE)
    use_fake.state = state
    await _ensure_loaded(hass, fake_entry)
    # the library comes after the printer: it picks up the trays at once
    await _ensure_loaded(hass, _new_library_entry(hass, tmp_path))
    materials = _materials(hass)
    loaded = [m for m in materials.materials if m.loaded]
    assert len(loaded) == 12  # 11 spools in three AMS units and one in the AMS HT
    first = next(m for m in loaded if m.ams_tray == 0)
    assert first.tray_uuid == "5F3D8925633343C29FB9A97FA9125971"
    assert first.brand == "Bambu Lab"
    assert first.material_type == "PLA_MATTE"
    assert (first.weight, first.remaining_weight, first.remain_from_printer) == (1000, 930, True)
    assert next(m for m in loaded if m.ams_tray == 128).material_type == "NYLON"
    assert hass.states.get("sensor.workshop_x1_ams_1_humidity").state == "8.0"
    assert hass.states.get("sensor.workshop_x1_ams_2_temperature").state == "25.4"
    assert hass.states.get("sensor.workshop_x1_ams_1_tray_1_remaining").state == "93"
    # tray 5 (AMS 2, tray 2) reports 20 %: not below the 20 % threshold; tray 4 at 21 %
    assert events.of("material_low_stock") == []

    # the user renames it; the printer reports a lower remain: only that changes
    await _call(
        hass,
        "update_material",
        {"material_id": first.material_id, "name": "Black matte", "location": "AMS"},
    )
    events.clear()
    raw["ams"]["ams"][0]["tray"][0]["remain"] = 15
    use_fake.set_state(replace(normalize(raw), status=PrinterStatus.IDLE))
    await hass.async_block_till_done()
    (updated,) = events.of("material_updated")
    assert updated["material"]["remaining_weight"] == 150
    assert updated["material"]["name"] == "Black matte"
    assert updated["material"]["location"] == "AMS"
    assert len(events.of("material_low_stock")) == 1

    # the spool moves to the other AMS: same material (RFID), new place
    raw["ams"]["ams"][2]["tray"][0] = dict(raw["ams"]["ams"][0]["tray"][0], id="0")
    raw["ams"]["ams"][0]["tray"][0] = {"id": "0"}
    use_fake.set_state(replace(normalize(raw), status=PrinterStatus.IDLE))
    await hass.async_block_till_done()
    moved = materials.get(first.material_id)
    assert (moved.ams_tray, moved.loaded) == (8, True)
    assert len([m for m in materials.materials if m.loaded]) == 12

    # removing the printer keeps its materials, not loaded
    assert await hass.config_entries.async_remove(fake_entry.entry_id)
    await hass.async_block_till_done()
    assert len(materials.materials) == 12
    assert not any(m.loaded for m in materials.materials)


# --- consumption -------------------------------------------------------------------


async def _run_job(
    hass: HomeAssistant, client: FakeClient, end: str, progress: int, grams: Any
) -> Any:
    jobs = hass.data[DATA_KEY].jobs
    client.update(status=PrinterStatus.PRINTING, job_name="benchy", printer_job_id="7", progress=10)
    await hass.async_block_till_done()
    job = jobs.printer_job(PRINTER)
    assert job is not None
    # the seam the file metadata fills (files/processing work): grams for the whole print
    if isinstance(grams, dict):
        job.filament_used_g_by_tray = grams
    else:
        job.filament_used_g = grams
    client.update(progress=progress)
    await hass.async_block_till_done()
    if end == "completed":
        client.update(status=PrinterStatus.FINISHED, progress=100)
    elif end == "cancelled":
        client.update(status=PrinterStatus.FAILED, cancelled=True)
    else:
        client.update(status=PrinterStatus.FAILED, error="0300_4000")
    await hass.async_block_till_done()
    assert job.status == end
    return job


@pytest.mark.parametrize(
    ("end", "progress", "deducted"),
    [("completed", 60, 40.0), ("failed", 50, 20.0), ("cancelled", 25, 10.0)],
)
async def test_consumption_from_job_end(
    hass: HomeAssistant,
    fake_entry: MockConfigEntry,
    use_fake: FakeClient,
    library: MockConfigEntry,
    end: str,
    progress: int,
    deducted: float,
) -> None:
    """A Prusa-like printer without AMS: the spool loaded in it pays."""
    hass.config.currency = "EUR"
    use_fake.state = IDLE
    await _ensure_loaded(hass, fake_entry)
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, PRINTER)})
    created = await _call(
        hass,
        "create_material",
        {"material_type": "PETG", "weight": 1000, "cost_per_kg": 20, "device_id": device.id},
    )
    mid = created["material"]["material_id"]
    assert created["material"]["loaded"] is True
    job = await _run_job(hass, use_fake, end, progress, 40.0)
    assert _materials(hass).get(mid).remaining_weight == 1000 - deducted
    assert job.material_ids == [mid]
    assert job.consumed_g == deducted
    assert job.consumed_cost == round(deducted / 1000 * 20, 2)
    listed = await _call(hass, "list_jobs", {})
    assert listed["jobs"][0]["consumed_g"] == deducted


async def test_consumption_per_tray_and_rfid_not_deducted(
    hass: HomeAssistant, library: MockConfigEntry, use_fake: FakeClient
) -> None:
    """A printer added while the library runs; grams per tray; RFID spools follow the printer."""
    _state, raw = _bambu_state("MOCK-X1CMULTIAMS.json", status=PrinterStatus.IDLE)
    # make AMS 1 tray 2 a spool without RFID
    tray = raw["ams"]["ams"][0]["tray"][1]
    tray["tray_uuid"] = "0" * 32
    tray["tag_uid"] = "0" * 16
    use_fake.state = replace(normalize(raw), status=PrinterStatus.IDLE)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Workshop X1",
        unique_id=PRINTER,
        data={"family": "bambu_lab", "host": "192.0.2.10", "serial": PRINTER, "access_code": "1"},
    )
    entry.add_to_hass(hass)
    await _ensure_loaded(hass, entry)
    materials = _materials(hass)
    rfid = materials.loaded_in(PRINTER, 0)
    plain = materials.loaded_in(PRINTER, 1)
    assert rfid.remain_from_printer and not plain.remain_from_printer
    before = (rfid.remaining_weight, plain.remaining_weight)
    job = await _run_job(hass, use_fake, "completed", 90, {"0": 12.5, "1": 30.0})
    assert materials.get(rfid.material_id).remaining_weight == before[0]  # the printer's remain
    assert materials.get(plain.material_id).remaining_weight == before[1] - 30.0
    assert sorted(job.material_ids) == sorted([rfid.material_id, plain.material_id])
    assert job.consumed_g == 42.5


async def test_consumption_external_spool_by_either_id(
    hass: HomeAssistant, library: MockConfigEntry, use_fake: FakeClient
) -> None:
    """An X1 numbers its external spool 255; a tray mapping says 254: the same spool pays."""
    _state, raw = _bambu_state("MOCK-X1CMULTIAMS.json", status=PrinterStatus.IDLE)
    raw["vt_tray"] = {
        "id": "255",
        "tray_type": "PETG",
        "tray_color": "FF0000FF",
        "tray_uuid": "0" * 32,
        "tag_uid": "0" * 16,
        "remain": 0,
    }
    use_fake.state = replace(normalize(raw), status=PrinterStatus.IDLE)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Workshop X1",
        unique_id=PRINTER,
        data={"family": "bambu_lab", "host": "192.0.2.10", "serial": PRINTER, "access_code": "1"},
    )
    entry.add_to_hass(hass)
    await _ensure_loaded(hass, entry)
    materials = _materials(hass)
    external = materials.loaded_in(PRINTER, 255)
    assert external is not None and materials.loaded_in(PRINTER, 254) is None
    before = external.remaining_weight
    job = await _run_job(hass, use_fake, "completed", 90, {"254": 10.0})
    assert materials.get(external.material_id).remaining_weight == before - 10.0
    assert job.material_ids == [external.material_id]


async def test_consumption_from_the_active_tray(
    hass: HomeAssistant, printer: FakeClient, library: MockConfigEntry
) -> None:
    """Grams without a tray go to the tray active during the print (P1P tray_now 0)."""
    materials = _materials(hass)
    assert printer.state.extra["ams_active_tray"] == 0
    tray0 = materials.loaded_in(PRINTER, 0)
    job = await _run_job(hass, printer, "completed", 50, 25.0)
    assert materials.get(tray0.material_id).remaining_weight == 975.0
    assert job.material_ids == [tray0.material_id]


async def test_no_grams_no_deduction(
    hass: HomeAssistant, printer: FakeClient, library: MockConfigEntry
) -> None:
    before = _snapshot(hass)
    job = await _run_job(hass, printer, "completed", 50, None)
    assert job.material_ids == [] and job.consumed_g is None
    assert _snapshot(hass) == before


async def test_record_consumption_on_a_job(
    hass: HomeAssistant, fake_entry: MockConfigEntry, use_fake: FakeClient, library: MockConfigEntry
) -> None:
    await _ensure_loaded(hass, fake_entry)
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, PRINTER)})
    job = (await _call(hass, "create_job", {"device_id": device.id, "job_name": "vase"}))["job"]
    mid = (await _call(hass, "create_material", {"material_type": "PLA", "weight": 750}))[
        "material"
    ]["material_id"]
    result = await _call(
        hass, "record_consumption", {"material_id": mid, "grams": 12.5, "job_id": job["job_id"]}
    )
    assert result["material"]["remaining_weight"] == 737.5
    stored = hass.data[DATA_KEY].jobs.get(job["job_id"])
    assert (stored.material_ids, stored.consumed_g) == ([mid], 12.5)


# --- stores, devices, diagnostics -----------------------------------------------


async def test_job_store_migrates_to_version_2(hass: HomeAssistant, hass_storage: dict) -> None:
    hass_storage["printernizer.jobs"] = {
        "version": 1,
        "minor_version": 1,
        "key": "printernizer.jobs",
        "data": {
            "jobs": [
                {
                    "job_id": "old",
                    "printer_id": PRINTER,
                    "job_name": "benchy",
                    "status": "completed",
                    "progress": 100,
                    "created_at": "2026-01-01T00:00:00+00:00",
                    "source": "printer",
                }
            ]
        },
    }
    from homeassistant.setup import async_setup_component

    assert await async_setup_component(hass, DOMAIN, {})
    job = hass.data[DATA_KEY].jobs.get("old")
    assert job is not None
    assert (job.material_ids, job.consumed_g, job.filament_used_g) == ([], None, None)


async def test_stale_devices_can_be_removed(hass: HomeAssistant, library: MockConfigEntry) -> None:
    registry = dr.async_get(hass)
    stale = registry.async_get_or_create(
        config_entry_id=library.entry_id, identifiers={(DOMAIN, "material_gone")}
    )
    await _call(hass, "create_material", {"material_type": "PLA", "weight": 1000})
    await hass.async_block_till_done()
    materials_device = registry.async_get_device(identifiers={(DOMAIN, MATERIALS_DEVICE_ID)})
    assert materials_device is not None
    assert await async_remove_config_entry_device(hass, library, stale)
    assert not await async_remove_config_entry_device(hass, library, materials_device)


async def test_diagnostics_summarize_materials(
    hass: HomeAssistant, library: MockConfigEntry
) -> None:
    await _call(
        hass, "create_material", {"material_type": "PLA", "weight": 1000, "notes": "secret note"}
    )
    diag = await async_get_config_entry_diagnostics(hass, library)
    assert diag["materials"]["materials"] == 1
    assert diag["materials"]["by_type"] == {"PLA": 1}
    assert "secret note" not in json.dumps(diag)


async def test_material_entities_restored_without_stale_ones(
    hass: HomeAssistant, library: MockConfigEntry, hass_storage: dict
) -> None:
    keep = (await _call(hass, "create_material", {"material_type": "PLA", "weight": 1000}))[
        "material"
    ]["material_id"]
    drop = (await _call(hass, "create_material", {"material_type": "ABS", "weight": 1000}))[
        "material"
    ]["material_id"]
    await hass.async_block_till_done()
    stale_entity = _sensor_of(hass, drop)
    assert stale_entity is not None
    assert await hass.config_entries.async_unload(library.entry_id)
    assert hass.data[DATA_KEY].library is None
    # the material is deleted while the library is not loaded (the store edited meanwhile)
    stored = hass_storage["printernizer.materials"]["data"]
    stored["materials"] = [m for m in stored["materials"] if m["material_id"] != drop]
    assert er.async_get(hass).async_get(stale_entity) is not None
    assert await hass.config_entries.async_setup(library.entry_id)
    await hass.async_block_till_done()
    assert _sensor_of(hass, keep) is not None
    assert _sensor_of(hass, drop) is None
    assert er.async_get(hass).async_get(stale_entity) is None
    assert hass.states.get(_sensor_of(hass, keep)).state == "1000.0"


async def test_a_sensor_outliving_its_material_reports_nothing(
    hass: HomeAssistant, library: MockConfigEntry
) -> None:
    """The delete removes the entity at once; the object, if still held, reports nothing."""
    created = await _call(
        hass, "create_material", {"material_type": "TPU", "weight": 500, "remaining_weight": 50}
    )
    mid = created["material"]["material_id"]
    await hass.async_block_till_done()
    entity_id = _sensor_of(hass, mid)
    entity = hass.data["entity_components"]["sensor"].get_entity(entity_id)
    assert entity.extra_state_attributes["low_stock"] is True
    _materials(hass).delete(mid)  # low stock is notified after the delete: no state write
    assert hass.states.get(entity_id) is None
    assert _sensor_of(hass, mid) is None
    assert not entity.available
    assert (entity.native_value, entity.extra_state_attributes) == (None, None)
    await hass.async_block_till_done()
    assert hass.states.get(entity_id) is None


async def test_low_stock_count_follows_changes_and_deletes(
    hass: HomeAssistant, library: MockConfigEntry
) -> None:
    count = "sensor.materials_materials_low_on_stock"
    low = await _call(
        hass, "create_material", {"material_type": "TPU", "weight": 500, "remaining_weight": 50}
    )
    mid = low["material"]["material_id"]
    await hass.async_block_till_done()
    assert hass.states.get(count).state == "1"
    assert hass.states.get(count).attributes["materials"] == ["TPU"]
    # archived materials do not count
    await _call(hass, "update_material", {"material_id": mid, "is_active": False})
    assert hass.states.get(count).state == "0"
    await _call(hass, "update_material", {"material_id": mid, "is_active": True, "name": "Flex"})
    assert hass.states.get(count).state == "1"
    assert hass.states.get(_sensor_of(hass, mid)).name == "Materials Flex"
    await _call(hass, "delete_material", {"material_id": mid}, response=False)
    await hass.async_block_till_done()
    assert hass.states.get(count).state == "0"


async def test_printer_removed_while_library_not_loaded(
    hass: HomeAssistant, printer: FakeClient, fake_entry: MockConfigEntry, library: MockConfigEntry
) -> None:
    assert any(m.loaded for m in _materials(hass).materials)
    assert await hass.config_entries.async_unload(library.entry_id)
    assert await hass.config_entries.async_remove(fake_entry.entry_id)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_setup(library.entry_id)
    await hass.async_block_till_done()
    materials = _materials(hass).materials
    assert len(materials) == 5
    assert not any(m.loaded for m in materials)


async def test_loading_a_spool_by_hand_replaces_the_previous_one(
    hass: HomeAssistant, fake_entry: MockConfigEntry, use_fake: FakeClient, library: MockConfigEntry
) -> None:
    await _ensure_loaded(hass, fake_entry)
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, PRINTER)})
    first = await _call(
        hass, "create_material", {"material_type": "PLA", "weight": 1000, "device_id": device.id}
    )
    second = await _call(hass, "create_material", {"material_type": "PETG", "weight": 1000})
    second_id = second["material"]["material_id"]
    await _call(hass, "update_material", {"material_id": second_id, "device_id": device.id})
    materials = _materials(hass)
    assert materials.loaded_in(PRINTER, None).material_id == second_id
    assert not materials.get(first["material"]["material_id"]).loaded
    by_printer = await _call(hass, "list_materials", {"device_id": device.id})
    assert len(by_printer["materials"]) == 2  # loaded or last loaded there


def test_consumption_grams_fall_back_to_the_file_estimate() -> None:
    """A job whose only figure is the slicer's estimate from its file still deducts it."""
    job = Job(
        job_id="j",
        printer_id="p",
        job_name="benchy.3mf",
        status="completed",
        progress=100,
        created_at="2026-12-01T00:00:00+00:00",
        source="printer",
    )
    assert job_filament_grams(job) == {}
    job.estimated_filament_g = 12.5
    assert job_filament_grams(job) == {None: 12.5}
    job.filament_used_g = 10.0  # a figure of what was used wins over the estimate
    assert job_filament_grams(job) == {None: 10.0}


# --- validation and tray rules (pure) -------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"bogus": 1}, "unknown_field"),
        ({"weight": None}, "invalid_number"),
        ({"weight": True}, "invalid_number"),
        ({"weight": float("nan")}, "invalid_number"),
        ({"cost_per_kg": "inf"}, "invalid_number"),
        ({"diameter": "thick"}, "invalid_number"),
        ({"ams_tray": "second"}, "invalid_number"),
        ({"name": "   "}, "invalid_text"),
        ({"notes": "x" * (MAX_TEXT * 4 + 1)}, "invalid_text"),
    ],
)
def test_validate_changes_refuses(changes: dict[str, Any], key: str) -> None:
    with pytest.raises(MaterialValidationError) as err:
        validate_changes(changes)
    assert err.value.key == key


def test_validate_changes_normalizes() -> None:
    assert validate_changes(
        {
            "notes": None,
            "ams_tray": "3",
            "color_hex": "ff8800",
            "material_type": "petg",
            "loaded": 1,
            "purchase_date": "2026-01-02",
            "name": "  Spare  ",
        }
    ) == {
        "notes": None,
        "ams_tray": 3,
        "color_hex": "#FF8800",
        "material_type": "PETG",
        "loaded": True,
        "purchase_date": "2026-01-02",
        "name": "Spare",
    }


@pytest.mark.parametrize(
    ("tray_type", "sub_brand", "expected"),
    [
        ("PLA", "PLA Matte", "PLA_MATTE"),
        ("PLA", "PLA Silk+", "PLA_SILK"),
        ("PLA", "PLA-CF", "PLA_CF"),
        ("PLA", "PLA Basic", "PLA"),
        ("PA-CF", None, "NYLON"),
        ("PETG HF", None, "PETG"),
        ("WOOD", None, "OTHER"),
        (None, None, "OTHER"),
    ],
)
def test_material_type_from_tray(
    tray_type: str | None, sub_brand: str | None, expected: str
) -> None:
    tray = AmsTray(0, 0, 0, True, tray_type=tray_type, sub_brand=sub_brand)
    assert material_type_from_tray(tray) == expected


# --- store, listeners, edge cases of the manager ---------------------------------------


async def test_malformed_stored_materials_are_skipped(
    hass: HomeAssistant,
    hass_storage: dict,
    library_entry: MockConfigEntry,
    events: EventRecorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A hand-edited store: broken records are skipped, the rest loads; weight 0 is 0 %."""
    good = {
        "material_id": "good",
        "name": "Odd spool",
        "material_type": "PLA",
        "weight": 0,
        "remaining_weight": 0,
        "created_at": "2026-01-01T00:00:00+00:00",
        "updated_at": "2026-01-01T00:00:00+00:00",
        "unknown_key": "ignored",
    }
    hass_storage["printernizer.materials"] = {
        "version": 1,
        "minor_version": 1,
        "key": "printernizer.materials",
        "data": {
            "materials": [{"material_id": "no-fields"}, "not a record", good],
            "low_stock_alerted": ["good", "gone"],
            "tray_seen": {"good": {"at": ["X", 0]}, "gone": {}, "bad": "x"},
        },
    }
    await _ensure_loaded(hass, library_entry)
    materials = _materials(hass)
    assert [m.material_id for m in materials.materials] == ["good"]
    assert materials.get("good").remaining_percentage == 0.0
    assert materials.low_stock_count() == 1
    # already alerted before the restart: not again
    assert events.of("material_low_stock") == []
    assert caplog.text.count("Ignoring a malformed stored material") == 2


async def test_a_failing_listener_does_not_stop_the_others(
    hass: HomeAssistant, library: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    materials = _materials(hass)
    seen: list[tuple[str, str]] = []

    def broken(change: str, material_id: str) -> None:
        raise RuntimeError("listener bug")

    remove_broken = materials.add_listener(broken)
    remove_seen = materials.add_listener(lambda c, m: seen.append((c, m)))
    created = await _call(hass, "create_material", {"material_type": "PLA", "weight": 1000})
    mid = created["material"]["material_id"]
    await hass.async_block_till_done()
    assert "Material listener failed" in caplog.text
    assert seen == [("created", mid)]
    assert _sensor_of(hass, mid) is not None  # the entities' listener ran too
    remove_broken()
    remove_broken()  # twice: harmless
    remove_seen()
    await _call(hass, "update_material", {"material_id": mid, "name": "Renamed"})
    assert seen == [("created", mid)]


async def test_create_needs_a_weight_and_cost_takes_the_currency(
    hass: HomeAssistant, library: MockConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "create_material", {"material_type": "PLA"})
    assert err.value.translation_key == "missing_field"
    assert _snapshot(hass) == []
    hass.config.currency = "CHF"
    created = await _call(hass, "create_material", {"material_type": "PLA", "weight": 1000})
    assert created["material"]["currency"] is None  # no cost, no currency
    updated = await _call(
        hass,
        "update_material",
        {"material_id": created["material"]["material_id"], "cost_per_kg": 24},
    )
    assert (updated["material"]["cost_per_kg"], updated["material"]["currency"]) == (24, "CHF")


async def test_ams_report_that_changes_no_tray_is_quiet(
    hass: HomeAssistant, events: EventRecorder, printer: FakeClient, library: MockConfigEntry
) -> None:
    """Humidity or temperature of a unit change, no tray does: no material event."""
    before = _snapshot(hass)
    events.clear()
    _state, raw = _bambu_state("P1P.json", status=PrinterStatus.IDLE)
    raw["ams"]["ams"][0]["humidity"] = "1"
    raw["ams"]["ams"][0]["temp"] = "31.5"
    printer.set_state(replace(normalize(raw), status=PrinterStatus.IDLE))
    await hass.async_block_till_done()
    assert hass.states.get("sensor.workshop_x1_ams_1_temperature").state == "31.5"
    assert [n for n in events.names() if n.startswith("material_")] == []
    assert _snapshot(hass) == before
    # A state without a report (not connected yet) changes nothing either.
    _materials(hass).printer_state(PRINTER, None)
    assert _snapshot(hass) == before
    # A report without AMS (the unit unplugged): its sensors stay, unknown; the spools stay.
    extra = {k: v for k, v in printer.state.extra.items() if k != "ams"}
    printer.set_state(replace(printer.state, extra=extra))
    await hass.async_block_till_done()
    for sensor in ("ams_1_humidity", "ams_1_temperature", "ams_1_tray_1_filament_type"):
        assert hass.states.get(f"sensor.workshop_x1_{sensor}").state == "unknown"
    assert _snapshot(hass) == before


async def test_rfid_spool_facts_the_printer_reports_anew_are_applied(
    hass: HomeAssistant,
    fake_entry: MockConfigEntry,
    use_fake: FakeClient,
    events: EventRecorder,
    tmp_path: Path,
) -> None:
    """The same RFID spool reported with another weight, diameter, colour and sub type."""
    state, raw = _bambu_state("MOCK-X1CMULTIAMS.json", status=PrinterStatus.IDLE)
    use_fake.state = state
    await _ensure_loaded(hass, fake_entry)
    await _ensure_loaded(hass, _new_library_entry(hass, tmp_path))
    materials = _materials(hass)
    first = materials.loaded_in(PRINTER, 0)
    assert first is not None and first.tray_uuid is not None
    count = len(materials.materials)
    events.clear()
    tray = raw["ams"]["ams"][0]["tray"][0]
    tray.update(
        tray_weight="500", tray_diameter="2.85", tray_color="FF0000FF", tray_sub_brands="PLA Silk"
    )
    use_fake.set_state(replace(normalize(raw), status=PrinterStatus.IDLE))
    await hass.async_block_till_done()
    spool = materials.get(first.material_id)
    assert len(materials.materials) == count
    assert (spool.weight, spool.diameter, spool.color_hex, spool.material_type) == (
        500,
        2.85,
        "#FF0000",
        "PLA_SILK",
    )
    assert spool.remaining_weight == 500 * tray["remain"] / 100
    (updated,) = events.of("material_updated")
    assert updated["material"] == spool.as_dict()


# --- consumption edge cases ------------------------------------------------------------


async def _spool_in(hass: HomeAssistant, **values: Any) -> str:
    material = _materials(hass).create({"material_type": "PLA", "weight": 1000, **values})
    await hass.async_block_till_done()
    return material.material_id


async def test_nothing_printed_nothing_deducted(
    hass: HomeAssistant, fake_entry: MockConfigEntry, use_fake: FakeClient, library: MockConfigEntry
) -> None:
    """Failed at 0 %, or grams for a tray where no spool is: nothing deducted, nothing recorded."""
    use_fake.state = IDLE
    await _ensure_loaded(hass, fake_entry)
    mid = await _spool_in(hass, printer_id=PRINTER)
    job = await _run_job(hass, use_fake, "failed", 0, 40.0)
    assert (job.material_ids, job.consumed_g) == ([], None)
    use_fake.update(status=PrinterStatus.IDLE, cancelled=False, error=None)
    await hass.async_block_till_done()
    job = await _run_job(hass, use_fake, "completed", 50, {"7": 5.0, "bogus": 3.0})
    assert (job.material_ids, job.consumed_g) == ([], None)
    assert _materials(hass).get(mid).remaining_weight == 1000


@pytest.mark.parametrize("spools", [1, 2])
async def test_without_an_active_tray_the_only_loaded_spool_pays(
    hass: HomeAssistant,
    fake_entry: MockConfigEntry,
    use_fake: FakeClient,
    library: MockConfigEntry,
    spools: int,
) -> None:
    """No tray reported active, no spool outside an AMS: one loaded spool pays, two: nobody."""
    use_fake.state = IDLE
    await _ensure_loaded(hass, fake_entry)
    ids = [await _spool_in(hass, printer_id=PRINTER, ams_tray=slot) for slot in range(spools)]
    job = await _run_job(hass, use_fake, "completed", 50, 20.0)
    remaining = [_materials(hass).get(mid).remaining_weight for mid in ids]
    if spools == 1:
        assert (job.material_ids, remaining) == (ids, [980.0])
    else:
        assert (job.material_ids, remaining) == ([], [1000, 1000])


async def test_a_job_ended_again_pays_once_and_manual_jobs_pay_nothing(
    hass: HomeAssistant, fake_entry: MockConfigEntry, use_fake: FakeClient, library: MockConfigEntry
) -> None:
    use_fake.state = IDLE
    await _ensure_loaded(hass, fake_entry)
    mid = await _spool_in(hass, printer_id=PRINTER)
    job = await _run_job(hass, use_fake, "completed", 50, 20.0)
    assert _materials(hass).get(mid).remaining_weight == 980
    await _call(hass, "update_job", {"job_id": job.job_id, "status": "failed"})
    await _call(hass, "update_job", {"job_id": job.job_id, "status": "completed"})
    assert _materials(hass).get(mid).remaining_weight == 980
    assert job.consumed_g == 20.0
    # a job of no printer: nothing to deduct from
    jobs = hass.data[DATA_KEY].jobs
    manual = jobs.create(None, "vase")
    manual.filament_used_g = 30.0
    jobs.set_status(manual, "completed")
    await hass.async_block_till_done()
    assert (manual.material_ids, manual.consumed_g) == ([], None)
    assert _materials(hass).get(mid).remaining_weight == 980
    # anyone can fire on the bus: a job_completed of an unknown job is ignored
    hass.bus.async_fire("printernizer_job_completed", {"job_id": "not-a-job"})
    hass.bus.async_fire("printernizer_job_completed", {})
    await hass.async_block_till_done()
    assert _materials(hass).get(mid).remaining_weight == 980


async def test_a_consumption_bug_does_not_break_job_tracking(
    hass: HomeAssistant,
    fake_entry: MockConfigEntry,
    use_fake: FakeClient,
    library: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    use_fake.state = IDLE
    await _ensure_loaded(hass, fake_entry)
    mid = await _spool_in(hass, printer_id=PRINTER)
    with patch(
        "custom_components.printernizer.core.materials.job_filament_grams",
        side_effect=RuntimeError("bug"),
    ):
        job = await _run_job(hass, use_fake, "completed", 50, 20.0)
    assert job.status == "completed"
    assert "Could not deduct the filament of job" in caplog.text
    assert _materials(hass).get(mid).remaining_weight == 1000


def test_consumption_grams_from_untrusted_records() -> None:
    """Stored job records are data: non-numbers, bad trays and absurd figures are ignored."""
    job = Job(
        job_id="j",
        printer_id="p",
        job_name="benchy.3mf",
        status="completed",
        progress=100,
        created_at="2026-12-01T00:00:00+00:00",
        source="printer",
    )
    job.filament_used_g_by_tray = {
        "0": "2.5",
        "1": "lots",
        "x": 4.0,
        "2": float("inf"),
        "3": MAX_JOB_GRAMS + 1,
        "4": True,
        "5": [1],
        "00": 1.5,  # the same tray as "0"
    }
    assert job_filament_grams(job) == {0: 4.0}
    job.filament_used_g_by_tray = {"x": 1.0}
    job.filament_used_g = "-3"  # type: ignore[assignment]
    job.estimated_filament_g = 7.5
    assert job_filament_grams(job) == {None: 7.5}


def _job(**values: Any) -> Job:
    job = Job(
        job_id="j",
        printer_id="p",
        job_name="owl.3mf",
        status="completed",
        progress=100,
        created_at="2026-12-01T00:00:00+00:00",
        source="printer",
    )
    for key, value in values.items():
        setattr(job, key, value)
    return job


def test_consumption_grams_per_tray_through_the_tray_mapping() -> None:
    """A 3MF's grams per filament land on the trays the job's mapping names."""
    by_slot = {"1": 5.0, "2": 2.5, "4": 1.25}
    # filament 1 <- tray 2, filament 2 <- tray 0 of the second AMS (4), 4 <- external spool
    job = _job(tray_mapping=[2, 4, -1, 254], estimated_filament_g_by_slot=by_slot)
    job.estimated_filament_g = 8.75
    assert job_filament_grams(job) == {2: 5.0, 4: 2.5, 254: 1.25}
    # a filament the mapping does not place: the tray active during the print
    job.tray_mapping = [2, -1]
    assert job_filament_grams(job) == {2: 5.0, None: 3.75}
    # two filaments from one tray add up
    job.tray_mapping = [1, 1, 0, 1]
    assert job_filament_grams(job) == {1: 7.5 + 1.25}
    # a mapping that places nothing, or no mapping: the whole print's grams
    job.tray_mapping = [-1, -1, -1, -1]
    assert job_filament_grams(job) == {None: 8.75}
    job.tray_mapping = None
    assert job_filament_grams(job) == {None: 8.75}
    # explicit grams per tray still win
    job.tray_mapping = [2]
    job.filament_used_g_by_tray = {"3": 4.0}
    assert job_filament_grams(job) == {3: 4.0}


def test_consumption_mapping_from_untrusted_records() -> None:
    """Stored mappings and per-filament figures are data too."""
    job = _job(
        tray_mapping=[0, "1", 300, True, -7, 3],
        estimated_filament_g_by_slot={
            "1": 1.0,
            "2": 2.0,  # "1" is no tray
            "3": 3.0,  # 300 is no tray
            "4": 4.0,  # True is no tray
            "5": 5.0,  # -7 is no tray
            "6": "x",  # no grams
            "0": 9.0,  # no filament 0
            "z": 9.0,
            "9": 1.5,  # beyond the mapping
        },
    )
    assert job_filament_grams(job) == {0: 1.0, None: 2.0 + 3.0 + 4.0 + 5.0 + 1.5}
    job.tray_mapping = "0,1"  # type: ignore[assignment]
    job.estimated_filament_g = 2.0
    assert job_filament_grams(job) == {None: 2.0}
    job.tray_mapping = [0]
    job.estimated_filament_g_by_slot = ["1"]  # type: ignore[assignment]
    assert job_filament_grams(job) == {None: 2.0}


# --- jobs: the records consumption writes to ----------------------------------------------


async def test_job_store_skips_malformed_records(
    hass: HomeAssistant, hass_storage: dict, caplog: pytest.LogCaptureFixture
) -> None:
    good = {
        "job_id": "ok",
        "printer_id": PRINTER,
        "job_name": "benchy",
        "status": "completed",
        "progress": 100,
        "created_at": "2026-01-01T00:00:00+00:00",
        "source": "printer",
        "consumed_g": 12.5,
    }
    hass_storage["printernizer.jobs"] = {
        "version": 2,
        "minor_version": 1,
        "key": "printernizer.jobs",
        "data": {"jobs": [{"job_id": "broken", "unknown": 1}, good]},
    }
    from homeassistant.setup import async_setup_component

    assert await async_setup_component(hass, DOMAIN, {})
    jobs = hass.data[DATA_KEY].jobs
    assert [j.job_id for j in jobs.jobs()] == ["ok"]
    assert jobs.get("ok").consumed_g == 12.5
    assert "Ignoring a malformed stored job" in caplog.text


async def test_job_queries_deletion_and_guards(
    hass: HomeAssistant,
    fake_entry: MockConfigEntry,
    use_fake: FakeClient,
    events: EventRecorder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_fake.state = IDLE
    await _ensure_loaded(hass, fake_entry)
    jobs = hass.data[DATA_KEY].jobs
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, PRINTER)})
    done = jobs.create(PRINTER, "done")
    jobs.set_status(done, "completed")
    other = jobs.create("OTHER", "elsewhere")
    by_printer = await _call(hass, "list_jobs", {"device_id": device.id})
    assert [j["job_id"] for j in by_printer["jobs"]] == [done.job_id]
    finished = await _call(hass, "list_jobs", {"status": "completed"})
    assert [j["job_id"] for j in finished["jobs"]] == [done.job_id]
    with pytest.raises(ValueError, match="invalid job status"):
        jobs.set_status(other, "exploded")
    assert other.status == "pending"
    # unchanged links and estimates are no change
    jobs.set_library_file(done, None)
    assert jobs.set_estimates(done, print_time=None, filament_g=None) is False
    assert jobs.set_estimates(done, print_time=60, filament_g=2.0) is True

    # deleting the printer's running job: job_deleted; that print makes no new job
    use_fake.update(
        status=PrinterStatus.PRINTING, job_name="benchy", printer_job_id="7", progress=5
    )
    await hass.async_block_till_done()
    running = jobs.printer_job(PRINTER)
    assert running is not None
    events.clear()
    await _call(hass, "delete_job", {"job_id": running.job_id}, response=False)
    assert events.of("job_deleted")[0]["job_id"] == running.job_id
    assert jobs.delete(running.job_id) is None
    use_fake.update(progress=6)
    await hass.async_block_till_done()
    assert jobs.printer_job(PRINTER) is None

    # beyond MAX_JOBS the oldest ended jobs go
    monkeypatch.setattr("custom_components.printernizer.core.jobs.MAX_JOBS", 2)
    newest = jobs.create(PRINTER, "newest")
    assert jobs.get(done.job_id) is None
    assert {j.job_id for j in jobs.jobs()} == {other.job_id, newest.job_id}


async def test_job_tracking_fills_the_printer_job_id_and_ends_unseen_finishes(
    hass: HomeAssistant, fake_entry: MockConfigEntry, use_fake: FakeClient
) -> None:
    use_fake.state = IDLE
    await _ensure_loaded(hass, fake_entry)
    jobs = hass.data[DATA_KEY].jobs
    use_fake.update(status=PrinterStatus.PRINTING, job_name="benchy", progress=5)
    await hass.async_block_till_done()
    job = jobs.printer_job(PRINTER)
    assert job is not None and job.printer_job_id is None
    use_fake.update(printer_job_id="42", progress=50)
    await hass.async_block_till_done()
    assert jobs.printer_job(PRINTER) is job and job.printer_job_id == "42"
    # a report that names no job is still that job
    use_fake.update(printer_job_id=None, job_name=None, progress=100)
    await hass.async_block_till_done()
    assert jobs.printer_job(PRINTER) is job and job.progress == 100
    # idle without a FINISH seen, at 100 %: completed
    use_fake.update(status=PrinterStatus.IDLE)
    await hass.async_block_till_done()
    assert job.status == "completed"
    assert len(jobs.jobs()) == 1
