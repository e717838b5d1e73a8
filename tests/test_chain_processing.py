"""The whole processing chain through the simulators, per printer family.

A print starts on the simulator -> auto-download fetches the job's file into
the library -> ``file_needs_thumbnail_processing`` -> ``file_thumbnails_processed``
and ``file_metadata_extracted`` with what the simulator's file really contains
-> the printer's job preview entity serves the job's thumbnail.

Deterministic and fast: the Bambu simulator writes the job's file before it
reports the print (MQTT push, no auto-download retry timer involved); the
PrusaLink coordinator polls, so its 30 s interval is passed with ``freezer`` +
``async_fire_time_changed`` before waiting on the events. An earlier version
hung until its timeout for two reasons: without the tick the PrusaLink job is
never seen, and the simulator's default ``.bgcode`` files were not binary G-code
then (the magic, then text), so ``file_metadata_extracted`` never came for them
(``metadata_extraction_failed``). They are real binary G-code now (libbgcode
format 1, CRC32, metadata blocks and a PNG thumbnail); one test prints the
simulator's own ``benchy.bgcode``, another a bgcode written by
``tests/metadata/writers.py`` with compressed blocks and a QOI thumbnail, and
the simulator's own text G-code is printed as it is.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from PIL import Image
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.printernizer.api.bambu.client import job_plate_index
from custom_components.printernizer.const import DOMAIN
from custom_components.printernizer.runtime import DATA_KEY
from simulator.bambu import BambuSimulator
from simulator.bambu.ftps import make_3mf
from simulator.prusalink import PrusaLinkSimulator

from .conftest import EventRecorder, wait_for
from .files_helpers import library, library_entry, setup_entries
from .metadata import writers
from .sim_helpers import (
    PRUSA_SERIAL,
    SERIAL,
    bambu_entry,
    fast_clients,
    prusa_entry,
    start_bambu,
    start_prusa,
)

CHAIN = [
    "auto_download_triggered",
    "file_download_started",
    "library_file_added",
    "file_download_complete",
    "file_needs_thumbnail_processing",
    "file_thumbnails_processed",
    "file_metadata_extracted",
]


@pytest.fixture(autouse=True)
def _sockets(socket_enabled: None, monkeypatch: pytest.MonkeyPatch) -> None:
    fast_clients(monkeypatch)


@pytest.fixture
async def p1p(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[BambuSimulator]:
    simulator = await start_bambu(monkeypatch, "P1P")
    yield simulator
    await simulator.stop()


@pytest.fixture
async def x1c(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[BambuSimulator]:
    simulator = await start_bambu(monkeypatch, "X1C")
    yield simulator
    await simulator.stop()


@pytest.fixture
async def prusa() -> AsyncIterator[PrusaLinkSimulator]:
    simulator = await start_prusa()
    yield simulator
    await simulator.stop()


def _chain(events: EventRecorder) -> list[str]:
    return [n for n in events.names() if n in CHAIN]


async def _preview(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, unique_id: str
) -> tuple[str, bytes]:
    """The job preview entity's content type and bytes, fetched like the frontend does."""
    entity_id = er.async_get(hass).async_get_entity_id("image", DOMAIN, unique_id)
    assert entity_id is not None
    state = hass.states.get(entity_id)
    assert state is not None and state.state != "unavailable"
    client = await hass_client()
    response = await client.get(f"/api/image_proxy/{entity_id}")
    assert response.status == 200
    return response.content_type, await response.read()


def _size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        return image.size


async def test_bambu_print_to_metadata_and_preview(
    hass: HomeAssistant,
    p1p: BambuSimulator,
    tmp_path: Path,
    events: EventRecorder,
    hass_client: ClientSessionGenerator,
) -> None:
    """P1P: the simulator's generated ``.gcode.3mf`` over FTPS, through to the preview."""
    await setup_entries(hass, bambu_entry(hass, p1p), library_entry(hass, tmp_path / "lib"))
    await p1p.start_print("chain.3mf", total_layers=100)
    await p1p.set_progress(5)
    await wait_for(hass, lambda: bool(events.of("file_metadata_extracted")))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert _chain(events) == CHAIN

    # what the simulator's file contains (simulator/bambu/ftps.py: make_3mf)
    expected = make_3mf("chain")
    (complete,) = events.of("file_download_complete")
    assert complete["filename"] == "chain.gcode.3mf"
    assert complete["file_size"] == len(expected)
    (needs,) = events.of("file_needs_thumbnail_processing")
    assert needs["file_id"] == complete["file_id"]
    assert needs["file_path"] == complete["file_path"]
    (extracted,) = events.of("file_metadata_extracted")
    meta = extracted["metadata"]
    assert meta["print_time"] == 3600
    assert meta["filament_used"] == pytest.approx(12.5)
    assert meta["total_layers"] == 100
    assert meta["plate"] == 1
    assert [p["index"] for p in meta["plates"]] == [1]

    (processed,) = events.of("file_thumbnails_processed")
    thumbnails = processed["thumbnails"]
    assert set(thumbnails) == {"small", "medium", "large"}
    large = await hass.async_add_executor_job(Path(thumbnails["large"]).read_bytes)
    assert _size(large) == (128, 128)  # the plate's 128x128 image, never upscaled

    # the job gained the file's estimates; the preview entity serves the large preview
    job = hass.data[DATA_KEY].jobs.jobs()[0]
    assert job.library_file_id == complete["file_id"]
    assert (job.estimated_print_time, job.estimated_filament_g) == (3600, pytest.approx(12.5))
    content_type, body = await _preview(hass, hass_client, f"{SERIAL}_job_preview")
    assert content_type == "image/png"
    assert body == large
    with Image.open(io.BytesIO(body)) as image:
        assert image.convert("RGB").getpixel((64, 64)) == (0, 174, 66)


async def test_bambu_x1_prints_plate_two(
    hass: HomeAssistant,
    x1c: BambuSimulator,
    tmp_path: Path,
    events: EventRecorder,
    hass_client: ClientSessionGenerator,
) -> None:
    """X1 LAN print of plate 2 (``/data/Metadata/plate_2.gcode``): plate 2's metadata on top."""
    two_plates = writers.threemf(
        [
            writers.PlateSpec(1, prediction=1000, weight=5.0, image=(300, 300)),
            writers.PlateSpec(
                2,
                prediction=2000,
                weight=7.5,
                image=(200, 100),
                filaments=[("PETG", "#FFFFFF", 7.5)],
            ),
        ]
    )
    await x1c.ftps.put_file("/two plates.gcode.3mf", two_plates)
    await setup_entries(hass, bambu_entry(hass, x1c), library_entry(hass, tmp_path / "lib"))
    await x1c.update(
        gcode_state="RUNNING",
        subtask_name="two plates",
        gcode_file="/data/Metadata/plate_2.gcode",
        task_id="77",
        subtask_id="77",
        mc_percent=3,
        mc_remaining_time=30,
        layer_num=1,
        total_layer_num=42,
    )
    await wait_for(hass, lambda: bool(events.of("file_metadata_extracted")))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert _chain(events) == CHAIN
    (extracted,) = events.of("file_metadata_extracted")
    meta = extracted["metadata"]
    assert meta["plate"] == 2
    assert meta["print_time"] == 2000
    assert meta["filament_used"] == pytest.approx(7.5)
    assert meta["total_layers"] == 42
    assert [f["type"] for f in meta["filaments"]] == ["PETG"]
    assert [(p["index"], p["print_time"]) for p in meta["plates"]] == [(1, 1000), (2, 2000)]
    job = hass.data[DATA_KEY].jobs.jobs()[0]
    assert (job.estimated_print_time, job.estimated_filament_g) == (2000, pytest.approx(7.5))
    content_type, body = await _preview(hass, hass_client, f"{SERIAL}_job_preview")
    assert content_type == "image/png"
    assert _size(body) == (200, 100)  # plate 2's image, not plate 1's

    # The plate comes from the job: linked, or (during its download) the auto-downloaded
    # file's printer's job not linked yet; no running job, no plate.
    runtime = hass.data[DATA_KEY].library
    assert runtime is not None and runtime.processor is not None
    checksum = extracted["file_id"]
    assert runtime.processor.job_plate(checksum) == 2
    job.library_file_id = None
    assert runtime.processor.job_plate(checksum) == 2
    job.library_file_id = checksum
    await x1c.update(gcode_state="FINISH", mc_percent=100)
    await wait_for(hass, lambda: not job.is_active)
    assert runtime.processor.job_plate(checksum) is None

    # plate 1 of the same file next: linked without a download, plate 1's estimates
    events.clear()
    await x1c.update(
        gcode_state="RUNNING",
        gcode_file="/data/Metadata/plate_1.gcode",
        task_id="78",
        subtask_id="78",
        mc_percent=1,
    )
    jobs = hass.data[DATA_KEY].jobs

    def active() -> Any:
        return jobs.printer_job(printer_id=SERIAL)

    await wait_for(hass, lambda: active() is not None and active().library_file_id == checksum)
    second = active()
    await x1c.update(mc_percent=2)
    await wait_for(hass, lambda: second.estimated_print_time is not None)
    assert second.job_id != job.job_id
    assert (second.estimated_print_time, second.estimated_filament_g) == (1000, 5.0)
    assert events.of("file_download_complete") == []
    assert (job.estimated_print_time, job.estimated_filament_g) == (2000, 7.5)  # kept


@pytest.mark.parametrize(
    ("gcode_file", "plate"),
    [
        ("/data/Metadata/plate_2.gcode", 2),  # X1 LAN
        ("Metadata/plate_12.gcode", 12),
        ("/cache/Benchy_plate_3.gcode", 3),  # cloud
        ("benchy_PLATE_4.gcode.3mf", 4),
        ("benchy.gcode.3mf", None),  # P1/A1 LAN: the whole file
        ("plate_0.gcode", None),
        ("myplate_2.gcode", None),
        ("plate_2.gcode.bak", None),
        ("", None),
        (None, None),
        (7, None),
        ("/" * 2000 + "plate_2.gcode", None),  # untrusted: bounded
    ],
)
def test_job_plate_from_gcode_file(gcode_file: object, plate: int | None) -> None:
    assert job_plate_index(gcode_file) == plate


async def test_prusalink_print_to_metadata_and_preview(
    hass: HomeAssistant,
    prusa: PrusaLinkSimulator,
    tmp_path: Path,
    events: EventRecorder,
    freezer: FrozenDateTimeFactory,
    hass_client: ClientSessionGenerator,
) -> None:
    """MK4: a real binary G-code with a QOI and a PNG thumbnail, through to the preview."""
    content = writers.bgcode(
        writers.BgcodeSpec(
            thumbnails=[(writers.png(16, 16), 16, 16, 0), (writers.qoi(240, 240), 240, 240, 2)]
        )
    )
    prusa.add_file("chain.bgcode", 3723, content=content)
    await _prusa_print_processed(hass, prusa, tmp_path, events, freezer, "chain.bgcode")
    assert _chain(events) == CHAIN

    (complete,) = events.of("file_download_complete")
    assert complete["filename"] == "chain.bgcode"
    assert complete["file_size"] == len(content)
    (extracted,) = events.of("file_metadata_extracted")
    meta = extracted["metadata"]
    # tests/metadata/writers.py: PRINTER_METADATA and the print metadata block
    assert meta["print_time"] == 3723
    assert meta["filament_used"] == pytest.approx(9.10)
    assert meta["layer_height"] == pytest.approx(0.2)
    assert meta["infill"] == pytest.approx(15)
    assert meta["printer_model"] == "MK4"
    assert meta["slicer"] == "PrusaSlicer"
    (processed,) = events.of("file_thumbnails_processed")
    large = await hass.async_add_executor_job(Path(processed["thumbnails"]["large"]).read_bytes)
    assert _size(large) == (240, 240)  # from the largest (QOI) image, never upscaled

    job = hass.data[DATA_KEY].jobs.jobs()[0]
    assert job.library_file_id == complete["file_id"]
    assert job.estimated_print_time == 3723
    content_type, body = await _preview(hass, hass_client, f"{PRUSA_SERIAL}_job_preview")
    assert content_type == "image/png"
    assert body == large
    assert library(hass).get(complete["file_id"]).thumbnails == processed["thumbnails"]


async def _prusa_print_processed(
    hass: HomeAssistant,
    prusa: PrusaLinkSimulator,
    tmp_path: Path,
    events: EventRecorder,
    freezer: FrozenDateTimeFactory,
    name: str,
) -> None:
    """Set up the printer and the library, print ``name``, wait until it was processed."""
    await setup_entries(hass, prusa_entry(hass, prusa), library_entry(hass, tmp_path / "lib"))
    prusa.start_print(name)
    prusa.set_progress(3)
    await _poll(hass, freezer)
    await wait_for(hass, lambda: bool(events.of("file_metadata_extracted")))
    await hass.async_block_till_done(wait_background_tasks=True)


async def _poll(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Pass the PrusaLink coordinator's poll interval (it sees the job only then)."""
    freezer.tick(timedelta(seconds=30.5))
    async_fire_time_changed(hass, dt_util.utcnow())
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_prusalink_simulators_own_bgcode(
    hass: HomeAssistant,
    prusa: PrusaLinkSimulator,
    tmp_path: Path,
    events: EventRecorder,
    freezer: FrozenDateTimeFactory,
    hass_client: ClientSessionGenerator,
) -> None:
    """The simulator's ``benchy.bgcode`` is binary G-code: metadata and its embedded thumbnail."""
    await _prusa_print_processed(hass, prusa, tmp_path, events, freezer, "benchy.bgcode")
    assert _chain(events) == CHAIN
    assert not events.of("metadata_extraction_failed")
    (extracted,) = events.of("file_metadata_extracted")
    meta = extracted["metadata"]
    # simulator/prusalink/assets.py: 2,820 s at 15 g an hour
    assert meta["file_format"] == "bgcode"
    assert (meta["print_time"], meta["filament_used"]) == (2820, 11.75)
    assert meta["printer_model"] == "MK4"
    assert meta["slicer"] == "Printernizer PrusaLink simulator"
    (processed,) = events.of("file_thumbnails_processed")
    large = await hass.async_add_executor_job(Path(processed["thumbnails"]["large"]).read_bytes)
    assert _size(large) == (64, 48)  # the embedded PNG, never upscaled
    content_type, body = await _preview(hass, hass_client, f"{PRUSA_SERIAL}_job_preview")
    assert (content_type, body) == ("image/png", large)


async def test_prusalink_simulator_gcode_without_thumbnail(
    hass: HomeAssistant,
    prusa: PrusaLinkSimulator,
    tmp_path: Path,
    events: EventRecorder,
    freezer: FrozenDateTimeFactory,
    hass_client: ClientSessionGenerator,
) -> None:
    """The simulator's own ``calibration-cube.gcode``: its metadata; the preview from the printer.

    The file has no embedded thumbnail (``thumbnail_processing_failed``), so the
    preview entity serves the one PrusaLink renders (``refs.thumbnail``).
    """
    await _prusa_print_processed(hass, prusa, tmp_path, events, freezer, "calibration-cube.gcode")
    assert _chain(events) == [n for n in CHAIN if n != "file_thumbnails_processed"]
    (failed,) = events.of("thumbnail_processing_failed")
    assert failed["error"] == "the file has no embedded image"
    sim_file = prusa.file_by_name("calibration-cube.gcode")
    assert sim_file is not None
    (complete,) = events.of("file_download_complete")
    assert complete["file_size"] == len(sim_file.content)
    meta = events.of("file_metadata_extracted")[0]["metadata"]
    # simulator/prusalink/assets.py: _gcode("calibration-cube.gcode", 16)
    assert meta["print_time"] == 16 * 60
    assert meta["filament_used"] == pytest.approx(4.0)
    assert meta["layer_height"] == pytest.approx(0.2)
    assert [f["type"] for f in meta["filaments"]] == ["PLA"]
    content_type, body = await _preview(hass, hass_client, f"{PRUSA_SERIAL}_job_preview")
    assert content_type == "image/png"
    assert body == sim_file.thumbnail_png
