"""The files core over the fake file client: discovery events, library, downloads, actions."""

from __future__ import annotations

import errno
import hashlib
from collections.abc import Generator
from pathlib import Path
from unittest.mock import ANY, patch

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printernizer.api.models import (
    FileAccessDeniedError,
    FileTransferError,
    PrinterAuthError,
    PrinterConnectionError,
    PrinterStatus,
)
from custom_components.printernizer.const import DOMAIN
from custom_components.printernizer.core import downloads as downloads_module
from custom_components.printernizer.runtime import DATA_KEY

from .conftest import EventRecorder
from .fake_client import FakeFileClient
from .files_helpers import (
    device_id,
    exists,
    leftovers,
    library,
    library_entry,
    printer_entry,
    resolved,
    setup_entries,
)

BENCHY = b"G1 X10 Y10\n" * 5000
VASE = b"; vase\n" * 3000


@pytest.fixture
def files_client() -> FakeFileClient:
    client = FakeFileClient()
    client.add("/cache/benchy.gcode.3mf", BENCHY)
    client.add("/vase.3mf", VASE)
    client.add("/timelapse/video_1.mp4", b"\x00" * 100, kind="timelapse")
    client.add("/image/snap.jpg", b"jpg", kind="other")
    return client


@pytest.fixture
def use_files(files_client: FakeFileClient) -> Generator[FakeFileClient]:
    with patch("custom_components.printernizer.clients.create_client", return_value=files_client):
        yield files_client


@pytest.fixture
def lib_folder(tmp_path: Path) -> Path:
    return tmp_path / "library"


@pytest.fixture
async def loaded(
    hass: HomeAssistant, fake_entry: MockConfigEntry, use_files: FakeFileClient, lib_folder: Path
) -> MockConfigEntry:
    lib = library_entry(hass, lib_folder)
    await setup_entries(hass, fake_entry, lib)
    return lib


async def _call(hass: HomeAssistant, service: str, data: dict, response: bool = True):
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=response
    )


# --- discovery ---------------------------------------------------------------------


async def test_discovery_events_and_sync(
    hass: HomeAssistant, loaded: MockConfigEntry, use_files: FakeFileClient, events: EventRecorder
) -> None:
    dev = device_id(hass, "FAKE0001")
    result = await _call(hass, "discover_files", {})
    assert result["results"]["FAKE0001"]["success"] is True
    assert result["results"]["FAKE0001"]["total_files"] == 3  # /image is ignored

    (per_printer, background) = events.of("files_discovered")
    assert per_printer["printer_id"] == "FAKE0001"
    assert per_printer["total_found"] == 3
    assert per_printer["new_files"] == 3
    assert per_printer["existing_files"] == 0
    assert {f["filename"] for f in per_printer["files"]} == {
        "benchy.gcode.3mf",
        "vase.3mf",
        "video_1.mp4",
    }
    assert all(
        set(f) == {"filename", "file_size", "path", "modified"} for f in per_printer["files"]
    )
    (sync,) = events.of("file_sync_complete")
    assert sync == {
        "device_id": ANY,  # the emitter adds the printer's device
        "printer_id": "FAKE0001",
        "files_added": 3,
        "files_removed": 0,
        "total_files": 3,
        "timestamp": sync["timestamp"],
    }
    assert background["total_new_files"] == 3
    assert background["discovery_results"]["FAKE0001"] == {
        "printer_name": "Workshop X1",
        "files_found": 3,
        "success": True,
    }
    benchy = next(f for f in background["new_files"] if f["filename"] == "benchy.gcode.3mf")
    assert benchy["file_type"] == "gcode.3mf"
    assert benchy["file_size"] == len(BENCHY)
    assert {"printer_id", "printer_name", "discovered_at"} <= set(benchy)
    (found,) = events.of("new_files_found")
    assert found["count"] == 3 and len(found["files"]) == 3

    # Nothing new: no new_files_found; a file appears and one disappears.
    events.clear()
    await _call(hass, "discover_files", {})
    assert events.of("new_files_found") == []
    assert events.of("file_sync_complete")[0]["files_added"] == 0
    use_files.add("/cache/cube.3mf", b"cube")
    del use_files.files["/vase.3mf"]
    events.clear()
    await _call(hass, "discover_files", {"device_id": dev})
    (sync,) = events.of("file_sync_complete")
    assert (sync["files_added"], sync["files_removed"], sync["total_files"]) == (1, 1, 3)
    (per_printer,) = events.of("files_discovered")
    assert per_printer["new_files"] == 1 and per_printer["existing_files"] == 2
    assert events.of("new_files_found") == []  # a single printer's discovery is not a scan

    state = hass.states.get("sensor.workshop_x1_files")
    assert state is not None and state.state == "3"


async def test_files_list_capped_at_100(
    hass: HomeAssistant, loaded: MockConfigEntry, use_files: FakeFileClient, events: EventRecorder
) -> None:
    for i in range(150):
        use_files.add(f"/cache/part_{i:03}.3mf", b"x")
    await _call(hass, "discover_files", {})
    per_printer, background = events.of("files_discovered")
    assert len(per_printer["files"]) == 100
    assert per_printer["files_truncated"] == 53
    assert per_printer["total_found"] == 153
    assert len(background["new_files"]) == 100 and background["files_truncated"] == 53
    (found,) = events.of("new_files_found")
    assert found["count"] == 153 and len(found["files"]) == 100


async def test_offline_printer_skipped(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    use_files: FakeFileClient,
    events: EventRecorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    use_files.list_error = PrinterConnectionError("timed out")
    for _ in range(3):
        result = await _call(hass, "discover_files", {})
    assert result["results"]["FAKE0001"]["success"] is False
    (background, *_) = events.of("files_discovered")
    assert background["discovery_results"]["FAKE0001"]["success"] is False
    assert background["total_new_files"] == 0
    assert events.of("file_sync_complete") == []
    assert events.of("new_files_found") == []
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "WARNING")]
    # The printer answers again: said once, at INFO.
    use_files.list_error = None
    result = await _call(hass, "discover_files", {})
    assert result["results"]["FAKE0001"]["success"] is True
    assert [r.getMessage() for r in caplog.records if "works again" in r.getMessage()] == [
        "Listing the files on Workshop X1 works again"
    ]
    # Offline by state: skipped without asking the printer.
    use_files.connection  # noqa: B018 - the fake is push: go offline through the coordinator
    hass.data[DATA_KEY].coordinators["FAKE0001"].monitor.set_online(False)
    result = await _call(hass, "discover_files", {})
    assert result["results"]["FAKE0001"] == {
        "printer_name": "Workshop X1",
        "success": False,
        "total_files": None,
        "files_added": 0,
        "files_removed": 0,
        "error": "offline",
    }


async def test_scheduled_discovery_and_after_job(
    hass: HomeAssistant,
    fake_entry: MockConfigEntry,
    use_files: FakeFileClient,
    lib_folder: Path,
    events: EventRecorder,
    freezer,
) -> None:
    from datetime import timedelta

    from homeassistant.util import dt as dt_util
    from pytest_homeassistant_custom_component.common import async_fire_time_changed

    lib = library_entry(hass, lib_folder, discovery_interval=5, auto_download=False)
    await setup_entries(hass, fake_entry, lib)
    assert events.of("files_discovered") == []
    freezer.tick(timedelta(seconds=61))
    async_fire_time_changed(hass, dt_util.utcnow())
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(events.of("files_discovered")) == 2  # per printer + background
    events.clear()
    freezer.tick(timedelta(minutes=5))
    async_fire_time_changed(hass, dt_util.utcnow())
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(events.of("files_discovered")) == 2
    # A job ends: the printer is listed again 30 s later.
    use_files.update(status=PrinterStatus.PRINTING, job_name="vase")
    await hass.async_block_till_done()
    use_files.update(status=PrinterStatus.FINISHED)
    await hass.async_block_till_done()
    # A second end 20 s later restarts the wait (one listing, not two); a printer
    # this integration does not know is ignored.
    freezer.tick(timedelta(seconds=20))
    async_fire_time_changed(hass, dt_util.utcnow())
    use_files.update(status=PrinterStatus.PRINTING, job_name="vase 2")
    await hass.async_block_till_done()
    use_files.update(status=PrinterStatus.FINISHED)
    ended = events.of("job_completed")[-1]
    hass.bus.async_fire("printernizer_job_completed", {**ended, "printer_id": "OTHER"})
    await hass.async_block_till_done()
    events.clear()
    freezer.tick(timedelta(seconds=11))
    async_fire_time_changed(hass, dt_util.utcnow())
    await hass.async_block_till_done(wait_background_tasks=True)
    assert events.of("file_sync_complete") == []  # 31 s after the first end: restarted
    freezer.tick(timedelta(seconds=20))
    async_fire_time_changed(hass, dt_util.utcnow())
    await hass.async_block_till_done(wait_background_tasks=True)
    assert [e["printer_id"] for e in events.of("file_sync_complete")] == ["FAKE0001"]


async def test_listing_without_library(
    hass: HomeAssistant, fake_entry: MockConfigEntry, use_files: FakeFileClient
) -> None:
    """Printers without the library entry list their files; downloads need the library."""
    await setup_entries(hass, fake_entry)
    dev = device_id(hass, "FAKE0001")
    listing = await _call(hass, "list_files", {"device_id": dev, "limit": 2})
    assert listing["total"] == 3
    assert [f["path"] for f in listing["files"]] == [
        "/cache/benchy.gcode.3mf",
        "/timelapse/video_1.mp4",
    ]
    assert listing["files"][0]["file_id"] == "FAKE0001:/cache/benchy.gcode.3mf"
    page2 = await _call(hass, "list_files", {"device_id": dev, "limit": 2, "offset": 2})
    assert [f["path"] for f in page2["files"]] == ["/vase.3mf"]
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "download_file", {"device_id": dev, "path": "/vase.3mf"})
    assert err.value.translation_key == "library_not_loaded"
    with pytest.raises(ServiceValidationError):
        await _call(hass, "list_files", {})


# --- downloads -----------------------------------------------------------------------


async def test_download_complete(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    lib_folder: Path,
    events: EventRecorder,
) -> None:
    dev = device_id(hass, "FAKE0001")
    result = await _call(
        hass, "download_file", {"device_id": dev, "path": "/cache/benchy.gcode.3mf"}
    )
    checksum = hashlib.sha256(BENCHY).hexdigest()
    target = resolved(lib_folder) / "Workshop X1" / "benchy.gcode.3mf"
    assert result["file_id"] == checksum
    assert result["new"] is True
    assert target.read_bytes() == BENCHY
    # processing (issue 11) follows the download; its events are tested in test_processing.py
    assert events.names()[:3] == [
        "file_download_started",
        "library_file_added",
        "file_download_complete",
    ]
    (started,) = events.of("file_download_started")
    assert started["file_size"] == len(BENCHY)
    (complete,) = events.of("file_download_complete")
    assert complete["file_id"] == checksum
    assert complete["file_path"] == str(target)
    assert complete["file_size"] == len(BENCHY)
    assert complete["download_time"] >= 0
    (added,) = events.of("library_file_added")
    assert added["checksum"] == checksum and added["file_size"] == len(BENCHY)
    assert leftovers(lib_folder) == []

    # Again: same content, no new library entry; the printer's listing links to it.
    events.clear()
    again = await _call(
        hass, "download_file", {"device_id": dev, "path": "/cache/benchy.gcode.3mf"}
    )
    assert again["new"] is False
    assert "library_file_added" not in events.names()
    listing = await _call(hass, "list_files", {"device_id": dev})
    benchy = next(f for f in listing["files"] if f["path"] == "/cache/benchy.gcode.3mf")
    assert benchy["library_file_id"] == checksum
    lib_listing = await _call(hass, "list_files", {})
    assert lib_listing["total"] == 1
    assert lib_listing["files"][0]["sources"][0]["printer_name"] == "Workshop X1"
    assert hass.states.get("sensor.printernizer_library_library_files").state == "1"
    size = hass.states.get("sensor.printernizer_library_library_size")
    assert size is not None and float(size.state) == pytest.approx(len(BENCHY) / 1e6, abs=0.1)


async def test_same_content_two_printers_one_entry(
    hass: HomeAssistant,
    fake_entry: MockConfigEntry,
    lib_folder: Path,
    events: EventRecorder,
) -> None:
    first = FakeFileClient(serial="FAKE0001")
    first.add("/cache/benchy.gcode.3mf", BENCHY)
    second = FakeFileClient(serial="FAKE0002")
    second.add("/sdcard/Benchy copy.gcode.3mf", BENCHY)
    second.add("/sdcard/benchy.gcode.3mf", VASE)
    other = printer_entry(hass, "FAKE0002", "Garage P1S")
    lib = library_entry(hass, lib_folder)

    def create(hass: HomeAssistant, data: dict, options: dict) -> FakeFileClient:
        return first if data["serial"] == "FAKE0001" else second

    with patch("custom_components.printernizer.clients.create_client", side_effect=create):
        await setup_entries(hass, fake_entry, other, lib)
        a = await _call(
            hass,
            "download_file",
            {"device_id": device_id(hass, "FAKE0001"), "path": "/cache/benchy.gcode.3mf"},
        )
        b = await _call(
            hass,
            "download_file",
            {"device_id": device_id(hass, "FAKE0002"), "path": "/sdcard/Benchy copy.gcode.3mf"},
        )
        c = await _call(
            hass,
            "download_file",
            {"device_id": device_id(hass, "FAKE0002"), "path": "/sdcard/benchy.gcode.3mf"},
        )
    assert a["file_id"] == b["file_id"]
    assert b["new"] is False
    assert [s["printer_id"] for s in b["sources"]] == ["FAKE0001", "FAKE0002"]
    assert len(events.of("library_file_added")) == 2
    assert len(library(hass)) == 2
    # Different content under the same name: its own folder per printer, no clash there.
    assert Path(c["file_path"]) == resolved(lib_folder) / "Garage P1S" / "benchy.gcode.3mf"


async def test_name_clash_gets_number(
    hass: HomeAssistant, loaded: MockConfigEntry, use_files: FakeFileClient, lib_folder: Path
) -> None:
    dev = device_id(hass, "FAKE0001")
    use_files.add("/sdcard/benchy.gcode.3mf", b"other content")
    first = await _call(
        hass, "download_file", {"device_id": dev, "path": "/cache/benchy.gcode.3mf"}
    )
    second = await _call(
        hass, "download_file", {"device_id": dev, "path": "/sdcard/benchy.gcode.3mf"}
    )
    assert Path(first["file_path"]).name == "benchy.gcode.3mf"
    assert Path(second["file_path"]).name == "benchy (2).gcode.3mf"


@pytest.mark.parametrize(
    ("inject", "message"),
    [
        ("denied", "refuses to send"),
        ("broken", "broke off"),
        ("no_session_reuse", "session reuse required"),
        ("auth", "credentials"),
        ("mismatch", "size mismatch"),
        ("longer", "size mismatch"),
        ("disk_full", "no space left"),
        ("timeout", "stopped sending"),
    ],
)
async def test_download_failures_leave_nothing(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    use_files: FakeFileClient,
    lib_folder: Path,
    events: EventRecorder,
    inject: str,
    message: str,
) -> None:
    dev = device_id(hass, "FAKE0001")
    path = "/cache/benchy.gcode.3mf"
    patches = []
    if inject == "denied":
        use_files.open_error = FileAccessDeniedError("550 Permission denied")
    elif inject == "broken":
        use_files.break_after = 8192
    elif inject == "no_session_reuse":
        use_files.break_after = 0
        use_files.stream_error = FileTransferError(
            "522 SSL connection failed: session reuse required"
        )
    elif inject == "auth":
        use_files.break_after = 0
        use_files.stream_error = PrinterAuthError("530 Login incorrect")
    elif inject == "mismatch":
        use_files.size_override[path] = len(BENCHY) + 10
    elif inject == "longer":
        use_files.size_override[path] = len(BENCHY) - 10
    elif inject == "disk_full":

        def full(self, data: bytes) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        patches.append(patch.object(downloads_module._Writer, "write", full))
    elif inject == "timeout":
        import asyncio

        use_files.hold = asyncio.Event()  # never set: the printer stalls
        patches.append(patch.object(downloads_module, "STALL_TIMEOUT", 0.05))
    for p in patches:
        p.start()
    try:
        with pytest.raises(HomeAssistantError) as err:
            await _call(hass, "download_file", {"device_id": dev, "path": path})
    finally:
        for p in patches:
            p.stop()
    assert err.value.translation_key == "download_failed"
    (failed,) = events.of("file_download_failed")
    assert message in failed["error"]
    assert failed["filename"] == "benchy.gcode.3mf"
    assert "file_download_complete" not in events.names()
    assert leftovers(lib_folder) == []
    assert not (lib_folder / "Workshop X1" / "benchy.gcode.3mf").exists()
    assert len(library(hass)) == 0


async def test_download_cancelled_by_unload_and_stop(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    use_files: FakeFileClient,
    lib_folder: Path,
    events: EventRecorder,
) -> None:
    import asyncio

    from homeassistant.const import EVENT_HOMEASSISTANT_STOP

    dev = device_id(hass, "FAKE0001")
    use_files.hold = asyncio.Event()
    task = hass.async_create_task(
        _call(hass, "download_file", {"device_id": dev, "path": "/cache/benchy.gcode.3mf"})
    )
    await use_files.streaming.wait()
    assert len(leftovers(lib_folder)) == 1  # the partial file exists while streaming
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    with pytest.raises((asyncio.CancelledError, HomeAssistantError)):
        await task
    await hass.async_block_till_done()
    (failed,) = events.of("file_download_failed")
    assert failed["error"] == "Home Assistant is stopping"
    assert leftovers(lib_folder) == []
    assert use_files.closed_streams == 1


async def test_library_unload_cancels_download(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    use_files: FakeFileClient,
    lib_folder: Path,
    events: EventRecorder,
) -> None:
    import asyncio

    dev = device_id(hass, "FAKE0001")
    use_files.hold = asyncio.Event()
    task = hass.async_create_task(
        _call(hass, "download_file", {"device_id": dev, "path": "/cache/benchy.gcode.3mf"})
    )
    await use_files.streaming.wait()
    assert await hass.config_entries.async_unload(loaded.entry_id)
    with pytest.raises((asyncio.CancelledError, HomeAssistantError)):
        await task
    (failed,) = events.of("file_download_failed")
    assert failed["error"] == "cancelled"
    assert leftovers(lib_folder) == []


async def test_quota_evicts_auto_downloads_first(
    hass: HomeAssistant,
    fake_entry: MockConfigEntry,
    use_files: FakeFileClient,
    lib_folder: Path,
    events: EventRecorder,
) -> None:
    quota_gb = (len(BENCHY) + len(VASE) + 100) / 1024**3
    lib = library_entry(hass, lib_folder, library_quota_gb=quota_gb)
    await setup_entries(hass, fake_entry, lib)
    use_files.add("/cache/big.3mf", b"b" * (len(VASE) + 50))
    service = hass.data[DATA_KEY].library.files
    coordinator = hass.data[DATA_KEY].coordinators["FAKE0001"]
    # An auto-downloaded file, then one the user asked for.
    remote = await use_files.async_stat("/vase.3mf")
    await service.downloads.async_download(
        printer_id="FAKE0001",
        printer_name="Workshop X1",
        client=use_files,
        remote=remote,
        auto=True,
    )
    await service.async_download(coordinator, "/cache/benchy.gcode.3mf")
    events.clear()
    # The next one does not fit: the auto-downloaded vase goes, benchy stays.
    await service.async_download(coordinator, "/cache/big.3mf")
    (deleted,) = events.of("library_file_deleted")
    assert deleted["filename"] == "vase.3mf"
    assert {f.filename for f in library(hass).files()} == {"benchy.gcode.3mf", "big.3mf"}
    assert not (lib_folder / "Workshop X1" / "vase.3mf").exists()
    # Nothing auto-downloaded is left: refused, and the user's files stay.
    use_files.add("/cache/huge.3mf", b"h" * (len(VASE) + 60))
    events.clear()
    with pytest.raises(HomeAssistantError):
        await _call(
            hass,
            "download_file",
            {"device_id": device_id(hass, "FAKE0001"), "path": "/cache/huge.3mf"},
        )
    (failed,) = events.of("file_download_failed")
    assert "quota" in failed["error"]
    assert len(library(hass)) == 2
    from homeassistant.helpers import issue_registry as ir

    assert ir.async_get(hass).async_get_issue(DOMAIN, "library_over_quota") is not None


async def test_free_space_checked(
    hass: HomeAssistant, loaded: MockConfigEntry, events: EventRecorder
) -> None:
    with (
        patch("custom_components.printernizer.core.library._free_space", return_value=1000),
        pytest.raises(HomeAssistantError),
    ):
        await _call(
            hass, "download_file", {"device_id": device_id(hass, "FAKE0001"), "path": "/vase.3mf"}
        )
    (failed,) = events.of("file_download_failed")
    assert "free disk space" in failed["error"]


async def test_reconcile_at_start(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    lib_folder: Path,
    events: EventRecorder,
) -> None:
    dev = device_id(hass, "FAKE0001")
    await _call(hass, "download_file", {"device_id": dev, "path": "/cache/benchy.gcode.3mf"})
    kept = await _call(hass, "download_file", {"device_id": dev, "path": "/vase.3mf"})
    assert await hass.config_entries.async_unload(loaded.entry_id)
    (lib_folder / "Workshop X1" / "benchy.gcode.3mf").unlink()
    partial = lib_folder / "Workshop X1" / ".printernizer-dead.part"
    partial.write_bytes(b"half")
    events.clear()
    assert await hass.config_entries.async_setup(loaded.entry_id)
    await hass.async_block_till_done()
    (deleted,) = events.of("library_file_deleted")
    assert deleted["filename"] == "benchy.gcode.3mf"
    assert not partial.exists()
    assert [f.checksum for f in library(hass).files()] == [kept["file_id"]]


async def test_not_writable_repair(
    hass: HomeAssistant, fake_entry: MockConfigEntry, use_files: FakeFileClient, tmp_path: Path
) -> None:
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    lib = library_entry(hass, blocker / "library")
    await setup_entries(hass, fake_entry, lib)
    from homeassistant.helpers import issue_registry as ir

    assert ir.async_get(hass).async_get_issue(DOMAIN, "library_not_writable") is not None
    with pytest.raises(HomeAssistantError):
        await _call(
            hass, "download_file", {"device_id": device_id(hass, "FAKE0001"), "path": "/vase.3mf"}
        )


# --- deleting and bad input ---------------------------------------------------------


async def test_delete_files(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    use_files: FakeFileClient,
    lib_folder: Path,
    events: EventRecorder,
) -> None:
    dev = device_id(hass, "FAKE0001")
    downloaded = await _call(hass, "download_file", {"device_id": dev, "path": "/vase.3mf"})
    await _call(hass, "discover_files", {"device_id": dev})
    events.clear()
    # On the printer: file_deleted with the library id; the library copy stays.
    result = await _call(hass, "delete_file", {"device_id": dev, "path": "/vase.3mf"})
    assert result == {"file_id": downloaded["file_id"], "deleted": "printer"}
    assert use_files.deleted == ["/vase.3mf"]
    (deleted,) = events.of("file_deleted")
    assert deleted["printer_id"] == "FAKE0001" and deleted["filename"] == "vase.3mf"
    assert events.of("library_file_deleted") == []
    assert exists(downloaded["file_path"])
    # By printer file id.
    events.clear()
    result = await _call(hass, "delete_file", {"file_id": "FAKE0001:/cache/benchy.gcode.3mf"})
    assert result["file_id"] == "FAKE0001:/cache/benchy.gcode.3mf"
    assert events.of("file_deleted")[0]["file_id"] == "FAKE0001:/cache/benchy.gcode.3mf"
    # The library file: file_deleted and library_file_deleted; gone from disk.
    events.clear()
    await _call(hass, "delete_file", {"file_id": downloaded["file_id"]})
    assert events.names() == ["library_file_deleted", "file_deleted"]
    assert not exists(downloaded["file_path"])
    assert len(library(hass)) == 0


@pytest.mark.parametrize(
    ("service", "data", "key"),
    [
        ("download_file", {"path": "relative/path"}, "invalid_path"),
        ("download_file", {"path": "/cache/../../etc"}, "invalid_path"),
        ("download_file", {"path": "/bad\x00name"}, "invalid_path"),
        ("download_file", {"path": "/missing.3mf"}, "file_not_found"),
        ("delete_file", {}, "delete_file_target"),
        ("delete_file", {"file_id": "abc", "path": "/vase.3mf"}, "delete_file_target"),
        ("delete_file", {"file_id": "0" * 64}, "unknown_file"),
        ("delete_file", {"file_id": "NOPE:/vase.3mf"}, "unknown_file"),
        ("delete_file", {"path": "/nope.3mf"}, "file_not_found"),
        ("list_files", {"limit": 0}, "invalid_number"),
        ("list_files", {"limit": "many"}, "invalid_number"),
        ("list_files", {"offset": -1}, "invalid_number"),
        ("list_files", {"limit": True}, "invalid_number"),
    ],
)
async def test_bad_input_changes_nothing(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    use_files: FakeFileClient,
    lib_folder: Path,
    events: EventRecorder,
    service: str,
    data: dict,
    key: str,
) -> None:
    dev = device_id(hass, "FAKE0001")
    await _call(hass, "discover_files", {"device_id": dev})
    events.clear()
    if "path" in data and service == "delete_file" and "file_id" not in data:
        data = {**data, "device_id": dev}
    if service == "download_file":
        data = {**data, "device_id": dev}
    before = dict(use_files.files)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, service, data)
    assert err.value.translation_key == key
    assert use_files.files == before
    assert events.names() == []
    assert len(library(hass)) == 0


async def test_unknown_device(hass: HomeAssistant, loaded: MockConfigEntry) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "discover_files", {"device_id": "nope"})
    assert err.value.translation_key == "unknown_device"


async def test_printer_refuses_delete(
    hass: HomeAssistant, loaded: MockConfigEntry, use_files: FakeFileClient, events: EventRecorder
) -> None:
    dev = device_id(hass, "FAKE0001")

    async def refuse(path: str) -> None:
        raise FileAccessDeniedError("550 read-only")

    use_files.async_delete = refuse  # type: ignore[method-assign]
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, "delete_file", {"device_id": dev, "path": "/vase.3mf"})
    assert err.value.translation_key == "file_operation_failed"
    assert events.of("file_deleted") == []


async def test_remove_printer_drops_index_keeps_library(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    fake_entry: MockConfigEntry,
    lib_folder: Path,
) -> None:
    dev = device_id(hass, "FAKE0001")
    downloaded = await _call(hass, "download_file", {"device_id": dev, "path": "/vase.3mf"})
    await _call(hass, "discover_files", {"device_id": dev})
    data = hass.data[DATA_KEY]
    assert data.file_index.known("FAKE0001")
    data.auto_downloads.records["job"] = __import__(
        "custom_components.printernizer.core.autodownload", fromlist=["x"]
    ).AutoDownloadRecord(job_id="job", printer_id="FAKE0001", status="completed")
    assert await hass.config_entries.async_remove(fake_entry.entry_id)
    await hass.async_block_till_done()
    assert not data.file_index.known("FAKE0001")
    assert "job" not in data.auto_downloads.records
    file = library(hass).get(downloaded["file_id"])
    assert file is not None and file.sources[0].printer_name == "Workshop X1"
    assert exists(downloaded["file_path"])


async def test_library_diagnostics_counts(hass: HomeAssistant, loaded: MockConfigEntry) -> None:
    from custom_components.printernizer.diagnostics import async_get_config_entry_diagnostics

    await _call(
        hass, "download_file", {"device_id": device_id(hass, "FAKE0001"), "path": "/vase.3mf"}
    )
    await _call(hass, "discover_files", {})
    diagnostics = await async_get_config_entry_diagnostics(hass, loaded)
    assert diagnostics["library"]["files"] == 1
    assert diagnostics["library"]["total_bytes"] == len(VASE)
    assert diagnostics["file_index"]["printers"] == 1
    assert "vase" not in str(diagnostics["library"])


class DescribingClient(FakeFileClient):
    """A fake printer that describes its files itself (meta on stat, like PrusaLink)."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, dict] = {}
        self.stat_errors: dict[str, Exception] = {}
        self.stats: list[str] = []

    async def async_stat(self, path: str):  # type: ignore[no-untyped-def]
        self.stats.append(path)
        if path in self.stat_errors:
            raise self.stat_errors[path]
        from dataclasses import replace

        return replace(await super().async_stat(path), meta=self.meta.get(path))

    async def async_read_thumbnail(self, file) -> bytes | None:  # type: ignore[no-untyped-def]
        return None


async def test_details_from_a_describing_printer(
    hass: HomeAssistant,
    hass_storage: dict,
    fake_entry: MockConfigEntry,
) -> None:
    """Print files get the printer's metadata; a failed stat is retried next discovery."""
    hass_storage["printernizer.files"] = {
        "version": 1,
        "minor_version": 1,
        "key": "printernizer.files",
        "data": {"printers": {"FAKE0001": {"files": [{"path": "/x", "bogus": 1}]}}},
    }
    client = DescribingClient()
    client.add("/a.gcode", b"a")
    client.add("/b.gcode", b"b")
    client.add("/c.gcode", b"c")
    client.add("/timelapse/t.mp4", b"t", kind="timelapse")
    client.meta["/a.gcode"] = {"estimated_print_time": 90, "filament used [g]": 1.5}
    client.stat_errors["/b.gcode"] = FileTransferError("HTTP 503")
    with patch("custom_components.printernizer.clients.create_client", return_value=client):
        await setup_entries(hass, fake_entry)
        index = hass.data[DATA_KEY].file_index
        assert index.get("FAKE0001", "/x") is None  # the malformed record was skipped
        await _call(hass, "discover_files", {"device_id": device_id(hass, "FAKE0001")})
        assert sorted(client.stats) == ["/a.gcode", "/b.gcode", "/c.gcode"]  # no timelapse
        assert index.get("FAKE0001", "/a.gcode").metadata == {
            "file_format": "gcode",
            "is_print_file": True,
            "print_time": 90,
            "filament_used": 1.5,
            "filaments": [{"type": None, "color": None, "grams": 1.5}],
        }
        assert index.get("FAKE0001", "/b.gcode").metadata is None  # asked again next time
        assert index.get("FAKE0001", "/c.gcode").metadata == {}  # the printer has none
        client.stats.clear()
        del client.stat_errors["/b.gcode"]
        await _call(hass, "discover_files", {"device_id": device_id(hass, "FAKE0001")})
        assert client.stats == ["/b.gcode"]
        assert index.get("FAKE0001", "/b.gcode").metadata == {}


async def test_library_api_in_place_hash_and_lookups(
    hass: HomeAssistant, hass_storage: dict, tmp_path: Path, events: EventRecorder
) -> None:
    """The library's own API: malformed records, files kept in place, lookups, hashing."""
    from custom_components.printernizer.core import library as library_module
    from custom_components.printernizer.core.library import (
        SOURCE_WATCH_FOLDER,
        STORAGE_KEY,
        Library,
        LibraryError,
        LibraryFullError,
        LibrarySource,
        hash_file,
    )
    from custom_components.printernizer.emitter import EventEmitter

    hass_storage[STORAGE_KEY] = {
        "version": 1,
        "minor_version": 1,
        "key": STORAGE_KEY,
        "data": {"files": [{"checksum": "x"}]},  # malformed: skipped with a warning
    }
    watch = tmp_path / "watch"
    watch.mkdir()
    part = watch / "part.gcode"
    part.write_bytes(b"G1 X1\n" * 100)
    checksum, size = await hass.async_add_executor_job(hash_file, part)
    assert (checksum, size) == (hashlib.sha256(b"G1 X1\n" * 100).hexdigest(), 600)
    with pytest.raises(LibraryError, match="too large"):
        await hass.async_add_executor_job(lambda: hash_file(part, limit=599))

    lib = Library(hass, EventEmitter(hass), tmp_path / "library", quota_bytes=10**9)
    await lib.async_load()
    assert len(lib) == 0
    source = LibrarySource(kind=SOURCE_WATCH_FOLDER, path=str(part))
    file, new = await lib.async_add_in_place(part, checksum=checksum, size=size, source=source)
    assert new and file.in_place and checksum in lib
    assert lib.path_of(file) == part
    assert lib.by_path(part) is file and lib.by_path(str(part)) is file
    assert lib.by_path("elsewhere/part.gcode") is None
    assert lib.by_path(lib.folder / "Printer" / "part.gcode") is None  # inside, not known
    with pytest.raises(LibraryFullError, match="larger than the library quota"):
        await lib.async_make_room(10**9 + 1)
    # The disk helpers tolerate a folder that is gone (free space unknown, no fsync).
    gone = tmp_path / "gone"
    assert await hass.async_add_executor_job(library_module._free_space, gone) is None
    await hass.async_add_executor_job(library_module._fsync_dir, gone)
    again, new = await lib.async_add_in_place(part, checksum=checksum, size=size, source=source)
    assert again is file and not new and len(file.sources) == 1
    (added,) = events.of("library_file_added")
    assert (added["checksum"], added["filename"], added["file_size"]) == (
        checksum,
        "part.gcode",
        600,
    )
    # Removing a file kept in place only forgets it.
    assert await lib.async_remove(checksum) is file
    assert await hass.async_add_executor_job(part.exists)
    assert events.of("library_file_deleted")[0]["checksum"] == checksum
    assert await lib.async_remove(checksum) is None
    assert lib.set_processing(checksum, metadata={}) is None
    await lib.async_stop()


async def test_actions_refuse_offline_and_fileless_printers(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    use_files: FakeFileClient,
    lib_folder: Path,
    events: EventRecorder,
) -> None:
    """Offline: list (never listed) and download refused; printer errors translated."""
    dev = device_id(hass, "FAKE0001")
    # The printer refuses to describe the file (not a missing file): translated error.
    with (
        patch.object(use_files, "async_stat", side_effect=PrinterAuthError("530")),
        pytest.raises(HomeAssistantError) as err,
    ):
        await _call(hass, "download_file", {"device_id": dev, "path": "/vase.3mf"})
    assert err.value.translation_key == "file_operation_failed"
    # Deleting a file the printer no longer has (the index was never listed).
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "delete_file", {"device_id": dev, "path": "/gone.3mf"})
    assert err.value.translation_key == "file_not_found"
    hass.data[DATA_KEY].coordinators["FAKE0001"].monitor.set_online(False)
    for service, data in (
        ("list_files", {"device_id": dev}),
        ("download_file", {"device_id": dev, "path": "/vase.3mf"}),
    ):
        with pytest.raises(HomeAssistantError) as err:
            await _call(hass, service, data)
        assert err.value.translation_key == "printer_offline"
    assert [n for n in events.names() if n.startswith(("file_", "library_"))] == []
    assert leftovers(lib_folder) == [] and len(library(hass)) == 0


async def test_printer_without_file_access(
    hass: HomeAssistant, fake_entry: MockConfigEntry, use_fake: object
) -> None:
    await setup_entries(hass, fake_entry)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "list_files", {"device_id": device_id(hass, "FAKE0001")})
    assert err.value.translation_key == "no_file_access"


async def test_unexpected_download_error_logged(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    use_files: FakeFileClient,
    lib_folder: Path,
    events: EventRecorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug in a client (not a printer error): reported, logged with its traceback, no file."""
    use_files.break_after = 4096
    use_files.stream_error = ValueError("bug")
    with pytest.raises(HomeAssistantError) as err:
        await _call(
            hass,
            "download_file",
            {"device_id": device_id(hass, "FAKE0001"), "path": "/cache/benchy.gcode.3mf"},
        )
    assert err.value.translation_key == "download_failed"
    (failed,) = events.of("file_download_failed")
    assert failed["error"] == "download failed: ValueError('bug')"
    (logged,) = [r for r in caplog.records if r.getMessage().startswith("Unexpected error")]
    assert logged.exc_info is not None
    assert leftovers(lib_folder) == [] and len(library(hass)) == 0
