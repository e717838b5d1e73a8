"""Auto-download of the running job's file (fake file client), restarts, the job link."""

from __future__ import annotations

import hashlib
from collections.abc import Generator
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest.mock import ANY, patch

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.printernizer.api.models import FileAccessDeniedError, PrinterStatus
from custom_components.printernizer.core.autodownload import (
    MAX_LOOKUPS,
    RETRY_INTERVAL,
    match_job_file,
    normalize_job_name,
)
from custom_components.printernizer.core.files import IndexedFile
from custom_components.printernizer.runtime import DATA_KEY

from .conftest import EventRecorder
from .fake_client import FakeFileClient
from .files_helpers import library, library_entry, setup_entries

CONTENT = b"; benchy\n" * 4000
CHECKSUM = hashlib.sha256(CONTENT).hexdigest()


@pytest.fixture
def client() -> FakeFileClient:
    client = FakeFileClient()
    client.add("/cache/benchy.gcode.3mf", CONTENT)
    client.job_path = "/cache/benchy.gcode.3mf"
    return client


@pytest.fixture
def use_files(client: FakeFileClient) -> Generator[FakeFileClient]:
    with patch("custom_components.printernizer.clients.create_client", return_value=client):
        yield client


async def _start(hass: HomeAssistant, entries: list[MockConfigEntry]) -> None:
    await setup_entries(hass, *entries)


def _start_job(hass: HomeAssistant, client: FakeFileClient, name: str = "benchy") -> None:
    client.update(status=PrinterStatus.PRINTING, job_name=name, progress=1)


async def _tick(hass: HomeAssistant, freezer: Any, seconds: float) -> None:
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass, dt_util.utcnow())
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_job_start_downloads_file(
    hass: HomeAssistant,
    fake_entry: MockConfigEntry,
    use_files: FakeFileClient,
    tmp_path: Path,
    events: EventRecorder,
) -> None:
    lib = library_entry(hass, tmp_path / "lib")
    await _start(hass, [fake_entry, lib])
    _start_job(hass, use_files)
    await hass.async_block_till_done(wait_background_tasks=True)
    names = [n for n in events.names() if "download" in n or n.startswith("library")]
    assert names == [
        "auto_download_triggered",
        "file_download_started",
        "library_file_added",
        "file_download_complete",
    ]
    assert events.of("auto_download_triggered")[0] == {
        "device_id": ANY,  # the emitter adds the printer's device
        "printer_id": "FAKE0001",
        "filename": "benchy.gcode.3mf",
        "timestamp": events.of("auto_download_triggered")[0]["timestamp"],
    }
    (job,) = hass.data[DATA_KEY].jobs.jobs()
    assert job.library_file_id == CHECKSUM
    assert library(hass).get(CHECKSUM).auto is True
    # The user downloads it too: it is no longer evicted first (no second copy).
    from .files_helpers import device_id

    result = await hass.services.async_call(
        "printernizer",
        "download_file",
        {"device_id": device_id(hass, "FAKE0001"), "path": "/cache/benchy.gcode.3mf"},
        blocking=True,
        return_response=True,
    )
    assert result["new"] is False and result["file_id"] == CHECKSUM
    assert library(hass).get(CHECKSUM).auto is False and len(library(hass)) == 1
    # The same job does not download again (pause/resume is still the job).
    events.clear()
    use_files.update(status=PrinterStatus.PAUSED)
    await hass.async_block_till_done()
    use_files.update(status=PrinterStatus.PRINTING)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert "auto_download_triggered" not in events.names()

    # A reprint of a file already in the library: linked, no download.
    use_files.update(status=PrinterStatus.FINISHED)
    await hass.async_block_till_done()
    events.clear()
    _start_job(hass, use_files)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert "auto_download_triggered" not in events.names()
    newest = hass.data[DATA_KEY].jobs.jobs()[0]
    assert newest.job_id != job.job_id and newest.library_file_id == CHECKSUM


async def test_file_appears_later(
    hass: HomeAssistant,
    fake_entry: MockConfigEntry,
    use_files: FakeFileClient,
    tmp_path: Path,
    events: EventRecorder,
    freezer: Any,
) -> None:
    use_files.job_path = None  # not there yet (X1/H2/P2 write it after the start)
    lib = library_entry(hass, tmp_path / "lib")
    await _start(hass, [fake_entry, lib])
    _start_job(hass, use_files)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert "auto_download_triggered" not in events.names()
    await _tick(hass, freezer, RETRY_INTERVAL)
    assert "auto_download_triggered" not in events.names()
    use_files.job_path = "/cache/benchy.gcode.3mf"
    await _tick(hass, freezer, RETRY_INTERVAL)
    assert "file_download_complete" in events.names()


async def test_unload_cancels_waiting_lookup(
    hass: HomeAssistant,
    fake_entry: MockConfigEntry,
    use_files: FakeFileClient,
    tmp_path: Path,
    events: EventRecorder,
    freezer: Any,
) -> None:
    """The library unloads while a job's file is awaited: the next look never runs."""
    use_files.job_path = None
    lib = library_entry(hass, tmp_path / "lib")
    await _start(hass, [fake_entry, lib])
    _start_job(hass, use_files)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert await hass.config_entries.async_unload(lib.entry_id)
    use_files.job_path = "/cache/benchy.gcode.3mf"
    await _tick(hass, freezer, RETRY_INTERVAL * 2)
    assert [n for n in events.names() if "download" in n] == []
    (record,) = hass.data[DATA_KEY].auto_downloads.records.values()
    assert record.status == "pending"  # retried once at the next start


async def test_name_forms_matched_from_index(
    hass: HomeAssistant,
    fake_entry: MockConfigEntry,
    use_files: FakeFileClient,
    tmp_path: Path,
    events: EventRecorder,
) -> None:
    """The client cannot name the file; the job name matches the listing."""
    use_files.job_path = None
    use_files.add("/Long_model_name_that_was_cut.gcode.3mf", b"long")
    lib = library_entry(hass, tmp_path / "lib")
    await _start(hass, [fake_entry, lib])
    await hass.services.async_call("printernizer", "discover_files", {}, blocking=True)
    _start_job(hass, use_files, "Long_model_name_th")
    await hass.async_block_till_done(wait_background_tasks=True)
    (triggered,) = events.of("auto_download_triggered")
    assert triggered["filename"] == "Long_model_name_that_was_cut.gcode.3mf"


def _indexed(name: str, kind: str = "print") -> IndexedFile:
    return IndexedFile(
        path=f"/{name}", name=name, size=1, modified=None, storage="sd", kind=kind, first_seen=""
    )


def test_match_job_file_name_forms() -> None:
    files = [
        _indexed("benchy.gcode.3mf"),
        _indexed("vase_plate_1.gcode"),
        _indexed("benchy.mp4", "timelapse"),
        _indexed("A_really_long_file_name.3mf"),
    ]
    assert normalize_job_name("cache/Benchy.3mf") == "benchy"
    assert match_job_file("cache/benchy.3mf", files).name == "benchy.gcode.3mf"
    assert match_job_file("/data/benchy.gcode.3mf", files).name == "benchy.gcode.3mf"
    assert match_job_file("vase_plate_1", files).name == "vase_plate_1.gcode"
    assert match_job_file("A_really_long_fi", files).name == "A_really_long_file_name.3mf"
    assert match_job_file("cube", files) is None
    assert match_job_file("bench", files) is None  # too short to be a truncation
    assert match_job_file("", files) is None


async def test_never_appears_fails(
    hass: HomeAssistant,
    fake_entry: MockConfigEntry,
    use_files: FakeFileClient,
    tmp_path: Path,
    events: EventRecorder,
    freezer: Any,
) -> None:
    use_files.job_path = None
    del use_files.files["/cache/benchy.gcode.3mf"]  # and not in the listing either
    lib = library_entry(hass, tmp_path / "lib")
    await _start(hass, [fake_entry, lib])
    _start_job(hass, use_files)
    await hass.async_block_till_done(wait_background_tasks=True)
    for _ in range(MAX_LOOKUPS):
        await _tick(hass, freezer, RETRY_INTERVAL)
    (failed,) = events.of("auto_download_failed")
    assert failed["error"] == "the job's file did not appear on the printer"
    assert failed["filename"] == "benchy"
    assert "auto_download_triggered" not in events.names()


async def test_download_failure_reported(
    hass: HomeAssistant,
    fake_entry: MockConfigEntry,
    use_files: FakeFileClient,
    tmp_path: Path,
    events: EventRecorder,
) -> None:
    use_files.open_error = FileAccessDeniedError("550 internal storage")
    lib = library_entry(hass, tmp_path / "lib")
    await _start(hass, [fake_entry, lib])
    _start_job(hass, use_files)
    await hass.async_block_till_done(wait_background_tasks=True)
    (failed,) = events.of("auto_download_failed")
    assert "refuses to send" in failed["error"]
    assert events.names().index("auto_download_triggered") < events.names().index(
        "file_download_failed"
    )
    record = next(iter(hass.data[DATA_KEY].auto_downloads.records.values()))
    assert record.status == "failed"


async def test_limits_timelapse_and_option_off(
    hass: HomeAssistant,
    fake_entry: MockConfigEntry,
    use_files: FakeFileClient,
    tmp_path: Path,
    events: EventRecorder,
) -> None:
    lib = library_entry(hass, tmp_path / "lib", auto_download_max_mb=0)
    await _start(hass, [fake_entry, lib])
    _start_job(hass, use_files)
    await hass.async_block_till_done(wait_background_tasks=True)
    (failed,) = events.of("auto_download_failed")
    assert "larger than the auto-download limit" in failed["error"]
    assert "file_download_started" not in events.names()

    # A timelapse is never auto-downloaded.
    use_files.update(status=PrinterStatus.FINISHED)
    await hass.async_block_till_done()
    use_files.add("/timelapse/video.mp4", b"v", kind="timelapse")
    use_files.job_path = "/timelapse/video.mp4"
    hass.config_entries.async_update_entry(
        lib, options={**lib.options, "auto_download_max_mb": 500}
    )
    await hass.async_block_till_done()
    events.clear()
    _start_job(hass, use_files, "video")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert [n for n in events.names() if "download" in n] == []

    # Off: nothing at all.
    use_files.update(status=PrinterStatus.FINISHED)
    use_files.job_path = "/cache/benchy.gcode.3mf"
    hass.config_entries.async_update_entry(lib, options={**lib.options, "auto_download": False})
    await hass.async_block_till_done()
    events.clear()
    _start_job(hass, use_files, "benchy2")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert [n for n in events.names() if "download" in n] == []


async def test_interrupted_by_restart_retried_once(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    fake_entry: MockConfigEntry,
    use_files: FakeFileClient,
    tmp_path: Path,
    events: EventRecorder,
) -> None:
    """A record left running by a restart is retried once; one retried already fails."""
    hass_storage["printernizer.auto_download"] = {
        "version": 1,
        "minor_version": 1,
        "key": "printernizer.auto_download",
        "data": {
            "jobs": [
                {"job_id": "j1", "printer_id": "FAKE0001", "status": "running", "attempts": 1},
                {
                    "job_id": "j2",
                    "printer_id": "FAKE0001",
                    "status": "running",
                    "attempts": 2,
                    "filename": "old.3mf",
                },
                {"job_id": "j3", "printer_id": "FAKE0001", "status": "completed", "attempts": 1},
            ]
        },
    }
    lib = library_entry(hass, tmp_path / "lib")
    await _start(hass, [fake_entry, lib])
    await hass.async_block_till_done(wait_background_tasks=True)
    records = hass.data[DATA_KEY].auto_downloads.records
    assert records["j1"].status == "completed" and records["j1"].attempts == 2
    assert records["j2"].status == "failed"
    assert records["j3"].status == "completed"
    assert len(events.of("auto_download_triggered")) == 1
    assert library(hass).get(CHECKSUM) is not None


async def test_restart_mid_download(
    hass: HomeAssistant,
    fake_entry: MockConfigEntry,
    use_files: FakeFileClient,
    tmp_path: Path,
    events: EventRecorder,
) -> None:
    """The library unloads mid-download (as at a restart); loading again retries once."""
    import asyncio

    lib = library_entry(hass, tmp_path / "lib")
    await _start(hass, [fake_entry, lib])
    use_files.hold = asyncio.Event()
    _start_job(hass, use_files)
    await use_files.streaming.wait()
    assert await hass.config_entries.async_unload(lib.entry_id)
    (record,) = hass.data[DATA_KEY].auto_downloads.records.values()
    assert record.status == "running"
    assert list((tmp_path / "lib").rglob(".printernizer-*")) == []
    use_files.hold = None
    events.clear()
    assert await hass.config_entries.async_setup(lib.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert record.status == "completed"
    assert "file_download_complete" in events.names()
    (job,) = hass.data[DATA_KEY].jobs.jobs()
    assert job.library_file_id == CHECKSUM


async def test_job_store_migrated(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    fake_entry: MockConfigEntry,
    use_files: FakeFileClient,
) -> None:
    hass_storage["printernizer.jobs"] = {
        "version": 1,
        "minor_version": 1,
        "key": "printernizer.jobs",
        "data": {
            "jobs": [
                {
                    "job_id": "old",
                    "printer_id": "FAKE0001",
                    "job_name": "a.gcode",
                    "status": "completed",
                    "progress": 100,
                    "created_at": "2026-01-01T00:00:00+00:00",
                    "source": "printer",
                }
            ]
        },
    }
    await setup_entries(hass, fake_entry)
    job = hass.data[DATA_KEY].jobs.get("old")
    assert job is not None and job.library_file_id is None
    hass.data[DATA_KEY].jobs.set_library_file(job, "f" * 64)
    await hass.async_block_till_done()
    from homeassistant.helpers.storage import Store

    await hass.data[DATA_KEY].jobs._store.async_save(hass.data[DATA_KEY].jobs._data_to_save())
    assert hass_storage["printernizer.jobs"]["version"] == 2
    assert hass_storage["printernizer.jobs"]["data"]["jobs"][0]["library_file_id"] == "f" * 64
    assert Store  # imported for the type of the saved store


async def test_state_store_load_prune_and_counts(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """Malformed records are skipped; at most MAX_RECORDS kept (oldest dropped); counts."""
    from custom_components.printernizer.core import autodownload as ad

    hass_storage[ad.STORAGE_KEY] = {
        "version": ad.STORAGE_VERSION,
        "minor_version": 1,
        "key": ad.STORAGE_KEY,
        "data": {
            "jobs": [
                {"job_id": "bad", "printer_id": "P", "status": "failed", "unknown": 1},
                {"job_id": "j0", "printer_id": "P", "status": "completed"},
                {"job_id": "j1", "printer_id": "Q", "status": "failed"},
            ]
        },
    }
    state = ad.AutoDownloadState(hass)
    await state.async_load()
    assert list(state.records) == ["j0", "j1"]
    assert state.diagnostics() == {"completed": 1, "failed": 1}
    with patch.object(ad, "MAX_RECORDS", 2):
        state.update(ad.AutoDownloadRecord(job_id="j2", printer_id="P", status="pending"))
    assert list(state.records) == ["j1", "j2"]  # the oldest went
    state.drop_printer("P")
    assert list(state.records) == ["j1"]
    await state.async_flush()
    assert [r["job_id"] for r in hass_storage[ad.STORAGE_KEY]["data"]["jobs"]] == ["j1"]


async def test_lookup_errors_retried(
    hass: HomeAssistant,
    fake_entry: MockConfigEntry,
    use_files: FakeFileClient,
    tmp_path: Path,
    events: EventRecorder,
    freezer: Any,
) -> None:
    """The job's file lookup fails, then the stat of the matched file; the next look works."""
    from custom_components.printernizer.api.models import FileTransferError

    lib = library_entry(hass, tmp_path / "lib")
    await _start(hass, [fake_entry, lib])
    await hass.services.async_call("printernizer", "discover_files", {}, blocking=True)
    real_stat = use_files.async_stat
    stat_errors = [FileTransferError("reset")]

    async def stat(path: str) -> Any:
        if stat_errors:
            raise stat_errors.pop()
        return await real_stat(path)

    with (
        patch.object(use_files, "async_job_file", side_effect=FileTransferError("HTTP 503")),
        patch.object(use_files, "async_stat", side_effect=stat),
    ):
        _start_job(hass, use_files)
        await hass.async_block_till_done(wait_background_tasks=True)
        assert "auto_download_triggered" not in events.names()  # the stat failed
        await _tick(hass, freezer, RETRY_INTERVAL)
    (triggered,) = events.of("auto_download_triggered")
    assert triggered["filename"] == "benchy.gcode.3mf"
    assert library(hass).get(CHECKSUM) is not None
    assert "auto_download_failed" not in events.names()
