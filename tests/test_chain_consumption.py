"""Consumption end to end on the simulators, from the print file's own metadata.

The chain: a spool loaded on the printer (Bambu: the material an AMS tray or the
external spool report created; PrusaLink: a material assigned to the printer)
-> the simulator prints a file whose metadata carries the filament grams (the
Bambu simulator's generated ``.gcode.3mf`` with its ``slice_info`` plate weight;
the PrusaLink simulator's file ``meta``, its binary G-code's or a plain
G-code's ``filament used [g]``) -> auto-download and
processing (or PrusaLink's file ``meta``) give the job its estimate -> the job
ends completed / failed / cancelled through the simulator's controls -> the
spool's remaining weight drops by the file's grams (scaled by progress when the
print did not complete), the job records material, grams and cost, and
``material_updated`` carries the contract payload.

Nothing here sets a job's grams by hand. Pushes over MQTT are waited on
(``wait_for``); PrusaLink polls and auto-download retries run on a frozen clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.printernizer.core.autodownload import RETRY_INTERVAL
from custom_components.printernizer.core.jobs import Job
from custom_components.printernizer.core.materials import Material, MaterialManager
from custom_components.printernizer.runtime import DATA_KEY
from simulator.bambu import BambuSimulator
from simulator.bambu.ftps import make_3mf
from simulator.prusalink import PrusaLinkSimulator

from .conftest import EventRecorder, wait_for
from .files_helpers import device_id, library, library_entry, setup_entries
from .sim_helpers import (
    PASSWORD,
    PRUSA_SERIAL,
    SERIAL,
    bambu_entry,
    call,
    fast_clients,
    start_bambu,
    start_prusa,
)

#: The Bambu simulator's job file states this plate weight (slice_info ``weight``).
BAMBU_FILE_GRAMS = 12.5
#: The PrusaLink simulator's benchy.bgcode: 2,820 s at 15 g an hour (``filament used [g]``).
PRUSA_FILE_GRAMS = 11.75
COST_PER_KG = 20.0


@pytest.fixture(autouse=True)
def _sockets(socket_enabled: None, monkeypatch: pytest.MonkeyPatch) -> None:
    fast_clients(monkeypatch)


@pytest.fixture
async def bambu(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[BambuSimulator]:
    sim = await start_bambu(monkeypatch)
    yield sim
    await sim.stop()


@pytest.fixture
async def prusa() -> AsyncIterator[PrusaLinkSimulator]:
    sim = await start_prusa()
    yield sim
    await sim.stop()


def _materials(hass: HomeAssistant) -> MaterialManager:
    runtime = hass.data[DATA_KEY].library
    assert runtime is not None and runtime.materials is not None
    return runtime.materials


async def _bambu_setup(hass: HomeAssistant, sim: BambuSimulator, tmp_path: Path) -> None:
    await setup_entries(hass, bambu_entry(hass, sim), library_entry(hass, tmp_path / "lib"))
    materials = _materials(hass)
    # The P1P capture: four AMS trays and the external spool, without RFID.
    await wait_for(hass, lambda: len([m for m in materials.materials if m.loaded]) == 5)


async def _bambu_print_with_estimate(hass: HomeAssistant, sim: BambuSimulator, name: str) -> Job:
    """Start a print; return its job once processing gave it the file's grams."""
    jobs = hass.data[DATA_KEY].jobs
    await sim.start_print(name, total_layers=50)
    await sim.set_progress(5)
    await wait_for(hass, lambda: getattr(jobs.printer_job(SERIAL), "progress", None) == 5)
    job = jobs.printer_job(SERIAL)
    assert job is not None
    # auto-download -> file_download_complete -> processing -> the job's estimate
    await wait_for(hass, lambda: job.estimated_filament_g is not None)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert job.library_file_id is not None
    stored = library(hass).get(job.library_file_id)
    assert stored is not None and stored.metadata is not None
    assert stored.metadata["filament_used"] == BAMBU_FILE_GRAMS
    assert job.estimated_filament_g == BAMBU_FILE_GRAMS
    assert (job.filament_used_g, job.filament_used_g_by_tray, job.consumed_g) == (None, None, None)
    return job


async def _bambu_end(sim: BambuSimulator, end: str) -> None:
    if end == "completed":
        await sim.set_progress(100)
        await sim.finish()
    elif end == "failed":
        await sim.fail()
    else:
        await sim.cancel()


def _check_updated(events: EventRecorder, material: Material, remaining: float) -> None:
    """One material_updated for the spool, with the complete material as its payload."""
    (updated,) = [
        e["material"]
        for e in events.of("material_updated")
        if e["material"]["material_id"] == material.material_id
    ]
    assert updated == material.as_dict()
    assert updated["remaining_weight"] == remaining
    assert updated["remaining_percentage"] == round(100 * remaining / material.weight, 1)
    assert updated["cost_per_kg"] == COST_PER_KG


@pytest.mark.parametrize(
    ("end", "grams"),
    [
        ("completed", BAMBU_FILE_GRAMS),
        ("failed", round(BAMBU_FILE_GRAMS * 0.4, 2)),
        ("cancelled", round(BAMBU_FILE_GRAMS * 0.4, 2)),
    ],
)
async def test_bambu_print_deducts_the_files_grams_from_the_active_tray(
    hass: HomeAssistant,
    bambu: BambuSimulator,
    tmp_path: Path,
    events: EventRecorder,
    end: str,
    grams: float,
) -> None:
    await _bambu_setup(hass, bambu, tmp_path)
    materials = _materials(hass)
    tray0 = materials.loaded_in(SERIAL, 0)  # tray_now 0 in the capture
    assert tray0 is not None and tray0.remaining_weight == 1000
    others = {m.material_id: m.remaining_weight for m in materials.materials if m is not tray0}
    await call(
        hass,
        "update_material",
        {"material_id": tray0.material_id, "cost_per_kg": COST_PER_KG},
    )
    job = await _bambu_print_with_estimate(hass, bambu, "chain.3mf")
    await bambu.set_progress(40)
    await wait_for(hass, lambda: job.progress == 40)
    events.clear()
    await _bambu_end(bambu, end)
    await wait_for(hass, lambda: not job.is_active)
    assert job.status == end
    remaining = round(1000 - grams, 3)
    assert materials.get(tray0.material_id).remaining_weight == remaining
    assert job.material_ids == [tray0.material_id]
    assert job.consumed_g == grams
    assert job.consumed_cost == round(grams / 1000 * COST_PER_KG, 2)
    # only the tray that printed lost filament
    assert {m.material_id: m.remaining_weight for m in materials.materials if m is not tray0} == (
        others
    )
    _check_updated(events, tray0, remaining)
    # The job record the actions return carries the same.
    listed = await call(hass, "list_jobs", {"status": end})
    (record,) = listed["jobs"]
    assert (record["material_ids"], record["consumed_g"]) == ([tray0.material_id], grams)


#: A three-colour project as Bambu Studio numbers its filaments (3 is not used on this plate).
OWL_FILAMENTS = [
    (1, "PLA", "#FFFFFF", 5.0),
    (2, "PETG", "#000000", 2.5),
    (4, "PLA", "#FF0000", 1.25),
]
#: The slicer chose: filament 1 from tray 3 (index 2), 2 from tray 1, 4 from the external spool.
OWL_MAPPING = [2, 0, -1, 254]


@pytest.mark.parametrize(
    ("end", "factor"), [("completed", 1.0), ("failed", 0.4), ("cancelled", 0.4)]
)
async def test_bambu_multi_colour_print_pays_per_tray_through_the_mapping(
    hass: HomeAssistant,
    bambu: BambuSimulator,
    tmp_path: Path,
    events: EventRecorder,
    end: str,
    factor: float,
) -> None:
    """A slicer's print (``project_file``): each filament's grams from the tray it was mapped to."""
    await _bambu_setup(hass, bambu, tmp_path)
    materials = _materials(hass)
    jobs = hass.data[DATA_KEY].jobs
    spools = {tray: materials.loaded_in(SERIAL, tray) for tray in (0, 1, 2, 3, 254)}
    assert all(m is not None and m.remaining_weight == 1000 for m in spools.values())
    # the slicer uploads the file, then asks the printer to print it
    await bambu.ftps.put_file("/owl.gcode.3mf", make_3mf("owl", filaments=OWL_FILAMENTS))
    await bambu.request(
        {
            "print": {
                "sequence_id": "20001",
                "command": "project_file",
                "param": "Metadata/plate_1.gcode",
                "subtask_name": "owl",
                "url": "file:///sdcard/owl.gcode.3mf",
                "use_ams": True,
                "ams_mapping": OWL_MAPPING,
            }
        }
    )
    await bambu.set_progress(5)
    await wait_for(hass, lambda: getattr(jobs.printer_job(SERIAL), "progress", None) == 5)
    job = jobs.printer_job(SERIAL)
    assert job is not None and job.job_name == "owl"
    await wait_for(hass, lambda: job.estimated_filament_g_by_slot is not None)
    assert job.estimated_filament_g_by_slot == {"1": 5.0, "2": 2.5, "4": 1.25}
    assert job.estimated_filament_g == 8.75
    assert job.tray_mapping == OWL_MAPPING
    await bambu.set_progress(40)
    await wait_for(hass, lambda: job.progress == 40)
    events.clear()
    await _bambu_end(bambu, end)
    await wait_for(hass, lambda: not job.is_active)
    assert job.status == end
    paid = {2: round(5.0 * factor, 2), 0: round(2.5 * factor, 2), 254: round(1.25 * factor, 2)}
    for tray, spool in spools.items():
        assert spool is not None
        assert materials.get(spool.material_id).remaining_weight == round(
            1000 - paid.get(tray, 0.0), 3
        ), tray
    assert set(job.material_ids) == {spools[t].material_id for t in paid}  # type: ignore[union-attr]
    assert job.consumed_g == round(sum(paid.values()), 2)
    updated = {e["material"]["material_id"] for e in events.of("material_updated")}
    assert updated == {spools[t].material_id for t in paid}  # type: ignore[union-attr]
    # the job record the actions return shows the mapping it was paid by
    listed = await call(hass, "list_jobs", {"status": end})
    (record,) = listed["jobs"]
    assert record["tray_mapping"] == OWL_MAPPING


async def test_bambu_external_spool_and_a_reprint_of_the_same_file(
    hass: HomeAssistant, bambu: BambuSimulator, tmp_path: Path, events: EventRecorder
) -> None:
    """tray_now 254: the external spool pays; printing the file again pays again, once."""
    await _bambu_setup(hass, bambu, tmp_path)
    materials = _materials(hass)
    external = materials.loaded_in(SERIAL, 254)
    assert external is not None
    await call(
        hass, "update_material", {"material_id": external.material_id, "cost_per_kg": COST_PER_KG}
    )
    tray0_before = materials.loaded_in(SERIAL, 0).remaining_weight
    ams = bambu.state["ams"]
    ams["tray_now"] = "254"
    await bambu.update(ams=ams)
    first = await _bambu_print_with_estimate(hass, bambu, "chain.3mf")
    events.clear()
    await bambu.finish()
    await wait_for(hass, lambda: not first.is_active)
    assert first.material_ids == [external.material_id]
    assert materials.get(external.material_id).remaining_weight == 1000 - BAMBU_FILE_GRAMS
    _check_updated(events, external, 1000 - BAMBU_FILE_GRAMS)

    # The same file again: already in the library, the new job links it and
    # gets the same estimate without a second download.
    await bambu.idle()
    events.clear()
    second = await _bambu_print_with_estimate(hass, bambu, "chain.3mf")
    assert second.job_id != first.job_id
    assert second.library_file_id == first.library_file_id
    assert "file_download_complete" not in events.names()
    await bambu.finish()
    await wait_for(hass, lambda: not second.is_active)
    assert materials.get(external.material_id).remaining_weight == 1000 - 2 * BAMBU_FILE_GRAMS
    assert second.consumed_cost == round(BAMBU_FILE_GRAMS / 1000 * COST_PER_KG, 2)
    assert materials.loaded_in(SERIAL, 0).remaining_weight == tray0_before
    # the first job paid once
    assert first.consumed_g == BAMBU_FILE_GRAMS


async def test_bambu_file_that_appears_later(
    hass: HomeAssistant, bambu: BambuSimulator, tmp_path: Path, events: EventRecorder
) -> None:
    """X1-style: the job's file is written after the start; the retry finds it.

    The retry waits on ``async_call_later``: the test moves Home Assistant's
    clock past it instead of waiting for it.
    """
    await _bambu_setup(hass, bambu, tmp_path)
    materials = _materials(hass)
    tray0 = materials.loaded_in(SERIAL, 0)
    assert tray0 is not None
    jobs = hass.data[DATA_KEY].jobs
    # The print starts while the printer has not written its file yet.
    await bambu.update(
        gcode_state="RUNNING",
        subtask_name="late",
        gcode_file="late.gcode.3mf",
        task_id="77",
        subtask_id="77",
        mc_percent=5,
    )
    await wait_for(hass, lambda: jobs.printer_job(SERIAL) is not None)
    job = jobs.printer_job(SERIAL)
    assert job is not None
    await hass.async_block_till_done(wait_background_tasks=True)  # the first look: no file
    assert "auto_download_triggered" not in events.names()
    assert job.library_file_id is None
    await bambu.ftps.put_file("/late.gcode.3mf", make_3mf("late"))
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=RETRY_INTERVAL + 1))
    await wait_for(hass, lambda: job.estimated_filament_g is not None)
    assert job.estimated_filament_g == BAMBU_FILE_GRAMS
    (triggered,) = events.of("auto_download_triggered")
    assert triggered["filename"] == "late.gcode.3mf"
    await bambu.update(mc_percent=50)
    await wait_for(hass, lambda: job.progress == 50)
    await bambu.cancel()
    await wait_for(hass, lambda: not job.is_active)
    assert job.status == "cancelled"
    half = round(BAMBU_FILE_GRAMS / 2, 2)
    assert materials.get(tray0.material_id).remaining_weight == 1000 - half
    assert (job.material_ids, job.consumed_g) == ([tray0.material_id], half)
    assert job.consumed_cost is None  # no cost_per_kg on that spool


async def _prusa_setup(hass: HomeAssistant, sim: PrusaLinkSimulator, tmp_path: Path) -> str:
    printer = MockConfigEntry(
        domain="printernizer",
        title="Prusa MK4",
        unique_id=PRUSA_SERIAL,
        data={"family": "prusa", "host": sim.url, "username": "maker", "password": PASSWORD},
    )
    printer.add_to_hass(hass)
    await setup_entries(hass, printer, library_entry(hass, tmp_path / "lib"))
    created = await call(
        hass,
        "create_material",
        {
            "material_type": "PLA",
            "weight": 1000,
            "cost_per_kg": COST_PER_KG,
            "device_id": device_id(hass, PRUSA_SERIAL),
        },
    )
    material_id: str = created["material"]["material_id"]
    return material_id


@pytest.mark.parametrize(
    ("end", "grams"),
    [
        ("completed", PRUSA_FILE_GRAMS),
        ("failed", round(PRUSA_FILE_GRAMS * 0.6, 2)),
        ("cancelled", round(PRUSA_FILE_GRAMS * 0.6, 2)),
    ],
)
async def test_prusa_print_deducts_the_files_grams(
    hass: HomeAssistant,
    prusa: PrusaLinkSimulator,
    tmp_path: Path,
    events: EventRecorder,
    freezer: FrozenDateTimeFactory,
    end: str,
    grams: float,
) -> None:
    material_id = await _prusa_setup(hass, prusa, tmp_path)
    materials = _materials(hass)
    jobs = hass.data[DATA_KEY].jobs

    async def poll(seconds: float) -> None:
        freezer.tick(timedelta(seconds=seconds))
        async_fire_time_changed(hass, dt_util.utcnow())
        await hass.async_block_till_done(wait_background_tasks=True)

    prusa.start_print("benchy.bgcode")
    prusa.set_progress(10)
    await poll(30.5)
    job = jobs.printer_job(PRUSA_SERIAL)
    assert job is not None and job.progress == 10
    # The file's grams reach the job: PrusaLink's file meta or the downloaded file.
    await wait_for(hass, lambda: job.estimated_filament_g is not None)
    assert job.estimated_filament_g == PRUSA_FILE_GRAMS
    assert (job.filament_used_g, job.consumed_g) == (None, None)
    prusa.set_progress(60)
    await poll(5.5)
    assert job.progress == 60
    events.clear()
    if end == "completed":
        prusa.finish()
    elif end == "failed":
        prusa.fail()
    else:
        prusa.stop_job()
    await poll(5.5)
    assert job.status == end
    material = materials.get(material_id)
    remaining = round(1000 - grams, 3)
    assert material.remaining_weight == remaining
    assert (job.material_ids, job.consumed_g) == ([material_id], grams)
    assert job.consumed_cost == round(grams / 1000 * COST_PER_KG, 2)
    _check_updated(events, material, remaining)


async def test_prusa_gcode_file_processed_in_the_library(
    hass: HomeAssistant,
    prusa: PrusaLinkSimulator,
    tmp_path: Path,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A plain G-code job: the downloaded file's ``filament used [g]`` (960 s: 4 g)."""
    material_id = await _prusa_setup(hass, prusa, tmp_path)
    jobs = hass.data[DATA_KEY].jobs
    prusa.start_print("calibration-cube.gcode")
    prusa.set_progress(10)
    freezer.tick(timedelta(seconds=30.5))
    async_fire_time_changed(hass, dt_util.utcnow())
    await hass.async_block_till_done(wait_background_tasks=True)
    job = jobs.printer_job(PRUSA_SERIAL)
    assert job is not None
    await wait_for(hass, lambda: job.library_file_id is not None)
    await wait_for(
        hass,
        lambda: (
            (file := library(hass).get(job.library_file_id)) is not None
            and file.metadata is not None
        ),
    )
    assert library(hass).get(job.library_file_id).metadata["filament_used"] == 4.0
    assert job.estimated_filament_g == 4.0
    prusa.finish()
    freezer.tick(timedelta(seconds=5.5))
    async_fire_time_changed(hass, dt_util.utcnow())
    await hass.async_block_till_done(wait_background_tasks=True)
    assert job.status == "completed"
    assert _materials(hass).get(material_id).remaining_weight == 996.0
    assert (job.material_ids, job.consumed_g, job.consumed_cost) == ([material_id], 4.0, 0.08)
