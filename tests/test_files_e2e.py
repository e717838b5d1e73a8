"""Files end to end: the integration against the simulators (Bambu FTPS, PrusaLink HTTP).

Discovery and sync events, downloads into the library with the SHA-256 of the
simulator's bytes, a refused RETR (550) with no partial file, and the running
job's file auto-downloaded on job start for both families.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.printernizer.core import files as files_module
from custom_components.printernizer.runtime import DATA_KEY
from simulator.bambu import BambuSimulator
from simulator.prusalink import PrusaLinkSimulator

from .conftest import EventRecorder, wait_for
from .files_helpers import device_id, leftovers, library, library_entry, setup_entries
from .sim_helpers import (
    PRUSA_SERIAL,
    SERIAL,
    bambu_entry,
    call,
    fast_clients,
    prusa_entry,
    start_bambu,
    start_prusa,
)


@pytest.fixture(autouse=True)
def _sockets(socket_enabled: None, monkeypatch: pytest.MonkeyPatch) -> None:
    fast_clients(monkeypatch)


@pytest.fixture
async def bambu(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[BambuSimulator]:
    simulator = await start_bambu(monkeypatch)
    yield simulator
    await simulator.stop()


@pytest.fixture
async def prusa() -> AsyncIterator[PrusaLinkSimulator]:
    simulator = await start_prusa()
    yield simulator
    await simulator.stop()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _disk(sim: BambuSimulator, path: str) -> bytes:
    return (sim.ftps.root / path.lstrip("/")).read_bytes()


async def test_bambu_discovery_and_download(
    hass: HomeAssistant, bambu: BambuSimulator, tmp_path: Path, events: EventRecorder
) -> None:
    printer = bambu_entry(hass, bambu)
    lib = library_entry(hass, tmp_path / "lib", auto_download=False)
    await setup_entries(hass, printer, lib)
    await call(hass, "discover_files", {})
    per_printer, background = events.of("files_discovered")
    paths = {f["path"] for f in per_printer["files"]}
    assert "/cache/benchy.3mf" in paths
    assert not any(p.startswith("/image") for p in paths)
    assert background["discovery_results"][SERIAL]["success"] is True
    (sync,) = events.of("file_sync_complete")
    assert sync["files_added"] == sync["total_files"] == len(paths)
    assert hass.states.get("sensor.p1p_files").state == str(len(paths))

    # A file appears and one disappears on the printer.
    await bambu.ftps.put_file("/cache/new_part.3mf", b"new part")
    await bambu.ftps.remove_file("/cache/cube_plate_1.gcode")
    events.clear()
    await call(hass, "discover_files", {})
    (sync,) = events.of("file_sync_complete")
    assert (sync["files_added"], sync["files_removed"]) == (1, 1)
    (found,) = events.of("new_files_found")
    assert [f["filename"] for f in found["files"]] == ["new_part.3mf"]

    events.clear()
    result = await call(
        hass, "download_file", {"device_id": device_id(hass, SERIAL), "path": "/cache/benchy.3mf"}
    )
    content = await hass.async_add_executor_job(_disk, bambu, "/cache/benchy.3mf")
    assert result["file_id"] == _sha(content)
    assert await hass.async_add_executor_job(Path(result["file_path"]).read_bytes) == content
    # processing (issue 11) follows the download; its events are tested in test_processing.py
    assert events.names()[:3] == [
        "file_download_started",
        "library_file_added",
        "file_download_complete",
    ]
    assert all(bambu.ftps.data_connections)  # every data connection resumed the TLS session


async def test_bambu_retr_refused(
    hass: HomeAssistant, bambu: BambuSimulator, tmp_path: Path, events: EventRecorder
) -> None:
    """P2S/H2D list internal storage but answer 550 to RETR: a clear failure, nothing left."""
    bambu.ftps.deny_internal_retr = True
    printer = bambu_entry(hass, bambu)
    lib = library_entry(hass, tmp_path / "lib", auto_download=False)
    await setup_entries(hass, printer, lib)
    with pytest.raises(HomeAssistantError):
        await call(
            hass,
            "download_file",
            {"device_id": device_id(hass, SERIAL), "path": "/cache/benchy.3mf"},
        )
    (failed,) = events.of("file_download_failed")
    assert "refuses" in failed["error"]
    assert await hass.async_add_executor_job(leftovers, tmp_path / "lib") == []
    # The SD card is still allowed.
    result = await call(
        hass,
        "download_file",
        {"device_id": device_id(hass, SERIAL), "path": "/sdcard/from_sdcard.gcode.3mf"},
    )
    assert result["new"] is True


async def test_bambu_auto_download_on_job_start(
    hass: HomeAssistant, bambu: BambuSimulator, tmp_path: Path, events: EventRecorder
) -> None:
    printer = bambu_entry(hass, bambu)
    lib = library_entry(hass, tmp_path / "lib")
    await setup_entries(hass, printer, lib)
    await bambu.start_print("benchy.3mf")
    await bambu.set_progress(5)
    await wait_for(hass, lambda: "file_download_complete" in events.names())
    await hass.async_block_till_done(wait_background_tasks=True)
    (triggered,) = events.of("auto_download_triggered")
    (complete,) = events.of("file_download_complete")
    assert triggered["filename"] == complete["filename"]
    (job,) = hass.data[DATA_KEY].jobs.jobs()
    assert job.library_file_id == complete["file_id"]
    assert library(hass).get(complete["file_id"]).auto is True


async def test_prusa_discovery_download_and_auto(
    hass: HomeAssistant,
    prusa: PrusaLinkSimulator,
    tmp_path: Path,
    events: EventRecorder,
    freezer: FrozenDateTimeFactory,
) -> None:
    printer = prusa_entry(hass, prusa)
    lib = library_entry(hass, tmp_path / "lib")
    await setup_entries(hass, printer, lib)
    result = await call(hass, "discover_files", {"device_id": device_id(hass, PRUSA_SERIAL)})
    assert result["results"][PRUSA_SERIAL]["success"] is True
    listing = await call(hass, "list_files", {"device_id": device_id(hass, PRUSA_SERIAL)})
    names = {f["filename"] for f in listing["files"]}
    assert {"benchy.bgcode", "hook.bgcode", "clip.gcode"} <= names
    hook = next(f for f in listing["files"] if f["filename"] == "hook.bgcode")
    downloaded = await call(
        hass,
        "download_file",
        {"device_id": device_id(hass, PRUSA_SERIAL), "path": hook["path"]},
    )
    data = await hass.async_add_executor_job(Path(downloaded["file_path"]).read_bytes)
    assert downloaded["file_id"] == _sha(data)
    assert downloaded["file_size"] == len(data) == hook["file_size"]
    assert Path(downloaded["file_path"]).name == "hook.bgcode"

    # A print starts: its file lands in the library by itself.
    events.clear()
    prusa.start_print("benchy.bgcode")
    prusa.set_progress(3)
    freezer.tick(timedelta(seconds=30.5))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    await wait_for(hass, lambda: "file_download_complete" in events.names())
    (triggered,) = events.of("auto_download_triggered")
    assert triggered["filename"] == "benchy.bgcode"
    job = hass.data[DATA_KEY].jobs.jobs()[0]
    assert job.library_file_id == events.of("file_download_complete")[0]["file_id"]
    # Deleting on the printer: file_deleted; the library keeps its copy.
    events.clear()
    await call(
        hass, "delete_file", {"device_id": device_id(hass, PRUSA_SERIAL), "path": hook["path"]}
    )
    assert events.of("file_deleted")[0]["file_id"] == downloaded["file_id"]
    assert library(hass).get(downloaded["file_id"]) is not None


def _library_files(folder: Path) -> list[Path]:
    """Every file in the library folder (thumbnails aside)."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and ".thumbnails" not in p.parts)


def _partial_bytes(folder: Path) -> int:
    """Bytes in the library's temporary files (the download in progress)."""
    return sum(p.stat().st_size for p in leftovers(folder))


@pytest.mark.parametrize("restart", ["reload", "stop"])
async def test_prusa_auto_download_restart_mid_download(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    prusa: PrusaLinkSimulator,
    tmp_path: Path,
    events: EventRecorder,
    restart: str,
) -> None:
    """A restart while the job's file streams in: nothing partial, retried once, one copy.

    The simulator sends half of the body and holds the rest behind a gate, so the
    restart lands mid-download deterministically. ``reload`` reloads the library
    entry; ``stop`` is Home Assistant stopping (its stop event, then the entry
    unloads), and the next start loads what was saved.
    """
    content = bytes(range(256)) * (3 * 1024 * 1024 // 256)  # 3 MiB: a write batch lands first
    prusa.add_file("big_part.gcode", 2400, folder="PROJECTS", content=content)
    printer = prusa_entry(hass, prusa)
    folder = tmp_path / "lib"
    lib = library_entry(hass, folder)
    await setup_entries(hass, printer, lib)
    gate = asyncio.Event()
    prusa.download_gate = gate

    prusa.start_print("big_part.gcode")
    prusa.set_progress(2)
    # The next poll sees the print (no frozen clock here: the waits below need the loop's time).
    await hass.data[DATA_KEY].coordinators[PRUSA_SERIAL].async_refresh()
    # Not wait_for: async_block_till_done would wait for the held download itself.
    async with asyncio.timeout(10):
        await prusa.download_paused.wait()
        # The partial file exists (a first batch is written) while the printer holds the rest.
        # (a condition on disk: no Event to wait on)
        while await hass.async_add_executor_job(_partial_bytes, folder) < 1024 * 1024:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    (triggered,) = events.of("auto_download_triggered")
    assert triggered == {
        "device_id": device_id(hass, PRUSA_SERIAL),
        "printer_id": PRUSA_SERIAL,
        "filename": "big_part.gcode",
        "timestamp": triggered["timestamp"],
    }
    (record,) = hass.data[DATA_KEY].auto_downloads.records.values()
    assert record.status == "running" and record.attempts == 1
    # What the next start loads: the attempt was saved as running before the transfer.
    (saved,) = hass_storage["printernizer.auto_download"]["data"]["jobs"]
    assert (saved["status"], saved["attempts"]) == ("running", 1)

    prusa.download_gate = None  # the retry is not held (the first request still is)
    if restart == "stop":
        # Home Assistant stops: its stop event, then every entry unloads; the next
        # start sets them up again (new coordinators: the old ones stopped for good).
        hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
        await hass.async_block_till_done()
        assert await hass.config_entries.async_unload(lib.entry_id)
        assert await hass.config_entries.async_unload(printer.entry_id)
    else:
        assert await hass.config_entries.async_unload(lib.entry_id)
    (failed,) = events.of("file_download_failed")
    assert failed == {
        "device_id": device_id(hass, PRUSA_SERIAL),
        "printer_id": PRUSA_SERIAL,
        "filename": "big_part.gcode",
        "error": "Home Assistant is stopping" if restart == "stop" else "cancelled",
        "timestamp": failed["timestamp"],
    }
    assert "auto_download_failed" not in events.names()  # interrupted, not failed
    assert await hass.async_add_executor_job(leftovers, folder) == []
    assert await hass.async_add_executor_job(_library_files, folder) == []
    assert record.status == "running"

    events.clear()
    if restart == "stop":
        assert await hass.config_entries.async_setup(printer.entry_id)
        await hass.async_block_till_done()
    assert await hass.config_entries.async_setup(lib.entry_id)
    await wait_for(hass, lambda: "file_download_complete" in events.names())
    await hass.async_block_till_done(wait_background_tasks=True)
    gate.set()  # the first, abandoned response ends (its client is gone)
    names = [n for n in events.names() if "download" in n or n.startswith("library_")]
    assert names == [
        "auto_download_triggered",
        "file_download_started",
        "library_file_added",
        "file_download_complete",
    ]
    checksum = _sha(content)
    (started,) = events.of("file_download_started")
    assert started == {
        "device_id": ANY,
        "printer_id": PRUSA_SERIAL,
        "filename": "big_part.gcode",
        "file_size": len(content),
        "timestamp": started["timestamp"],
    }
    (added,) = events.of("library_file_added")
    assert added == {
        "checksum": checksum,
        "filename": "big_part.gcode",
        "file_size": len(content),
        "timestamp": added["timestamp"],
    }
    (complete,) = events.of("file_download_complete")
    placed = folder / "Prusa MK4" / "big_part.gcode"
    assert complete == {
        "device_id": ANY,
        "printer_id": PRUSA_SERIAL,
        "filename": "big_part.gcode",
        "file_id": checksum,
        "file_path": str(placed.resolve()),
        "file_size": len(content),
        "download_time": complete["download_time"],
        "timestamp": complete["timestamp"],
    }
    # Exactly once in the library, with the simulator's bytes.
    assert await hass.async_add_executor_job(_library_files, folder) == [placed]
    assert await hass.async_add_executor_job(placed.read_bytes) == content
    assert [f.checksum for f in library(hass).files()] == [checksum]
    assert record.status == "completed" and record.attempts == 2
    assert record.checksum == checksum
    job = hass.data[DATA_KEY].jobs.jobs()[0]
    assert job.library_file_id == checksum
    assert await hass.async_add_executor_job(leftovers, folder) == []


def _detail_requests(sim: PrusaLinkSimulator) -> int:
    """Requests for single files' details (not folders) so far."""
    folders = {f"/api/v1/files/usb/{f}".rstrip("/") for f in sim.folders()}
    return sum(
        count
        for path, count in sim.request_count.items()
        if path.startswith("/api/v1/files/usb/") and path.rstrip("/") not in folders
    )


async def test_prusa_file_index_carries_printer_metadata(
    hass: HomeAssistant,
    prusa: PrusaLinkSimulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Files that are not downloaded get the metadata PrusaLink reports (``meta``)."""
    monkeypatch.setattr(files_module, "MAX_DETAILS", 3)  # the rest follow next time
    printer = prusa_entry(hass, prusa)
    lib = library_entry(hass, tmp_path / "lib", auto_download=False)
    await setup_entries(hass, printer, lib)
    dev = device_id(hass, PRUSA_SERIAL)
    index = hass.data[DATA_KEY].file_index

    def with_metadata() -> dict[str, dict[str, Any]]:
        return {f.name: f.metadata for f in index.files(PRUSA_SERIAL) if f.metadata}

    await call(hass, "discover_files", {"device_id": dev})
    assert len(with_metadata()) == 3
    await call(hass, "discover_files", {"device_id": dev})
    assert len(with_metadata()) == len(prusa.files) == 5
    benchy = with_metadata()["benchy.bgcode"]
    assert benchy["print_time"] == 2820
    assert benchy["filament_used"] == pytest.approx(11.75)
    assert benchy["layer_height"] == pytest.approx(0.2)
    assert benchy["nozzle_diameter"] == pytest.approx(0.4)
    # Known details are not asked for again.
    before = _detail_requests(prusa)
    await call(hass, "discover_files", {"device_id": dev})
    assert _detail_requests(prusa) == before

    listing = await call(hass, "list_files", {"device_id": dev})
    clip = next(f for f in listing["files"] if f["filename"] == "clip.gcode")
    assert clip["metadata"]["print_time"] == 600
    assert clip["metadata"]["filament_used"] == pytest.approx(2.5)
    assert index.get(PRUSA_SERIAL, clip["path"]).thumbnail_path == (
        "/thumb/l/usb/PROJECTS/TOOLS/CLIP~1.GCO"
    )

    # A file that changes on the printer gets its new details.
    file = prusa.file_by_name("clip.gcode")
    assert file is not None
    file.print_time, file.m_timestamp = 1200, file.m_timestamp + 60
    await call(hass, "discover_files", {"device_id": dev})
    assert with_metadata()["clip.gcode"]["print_time"] == 1200

    # The details survive a restart (stored with the index).
    await hass.async_block_till_done()
    await index._store.async_save(index._snapshot())
    reloaded = files_module.FileIndex(hass)
    await reloaded.async_load()
    assert (
        reloaded.get(PRUSA_SERIAL, clip["path"]).metadata
        == index.get(PRUSA_SERIAL, clip["path"]).metadata
    )

    # A print of an indexed file: the job carries the file's estimates.
    hass.config_entries.async_update_entry(lib, options={**lib.options, "auto_download": True})
    await hass.async_block_till_done()
    prusa.start_print("hook.bgcode")
    prusa.set_progress(2)
    await hass.data[DATA_KEY].coordinators[PRUSA_SERIAL].async_refresh()
    await wait_for(hass, lambda: _job_estimates(hass))
    job = hass.data[DATA_KEY].jobs.jobs()[0]
    assert job.estimated_print_time == 1500
    assert job.estimated_filament_g == pytest.approx(6.25)


def _job_estimates(hass: HomeAssistant) -> bool:
    jobs = hass.data[DATA_KEY].jobs.jobs()
    return bool(jobs) and jobs[0].estimated_print_time is not None
