"""File processing: from file_download_complete to metadata, previews, the job and its preview."""

from __future__ import annotations

import hashlib
import io
from collections.abc import AsyncGenerator
from dataclasses import replace
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from PIL import Image
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.printernizer import image as image_module
from custom_components.printernizer import media_source
from custom_components.printernizer.api.models import (
    FileTransferError,
    PrinterState,
    PrinterStatus,
    RemoteFile,
)
from custom_components.printernizer.const import (
    CONF_ENTRY_KIND,
    DOMAIN,
    ENTRY_KIND_LIBRARY,
    LIBRARY_UNIQUE_ID,
    OPT_AUTO_DOWNLOAD,
    OPT_LIBRARY_FOLDER,
)
from custom_components.printernizer.core import processing
from custom_components.printernizer.core.jobs import Job
from custom_components.printernizer.core.library import (
    SOURCE_WATCH_FOLDER,
    LibraryFile,
    LibrarySource,
)
from custom_components.printernizer.core.processing import (
    confined_path,
    estimates,
    process_file,
    slot_estimates,
)
from custom_components.printernizer.image import image_content_type
from custom_components.printernizer.runtime import DATA_KEY, LibraryRuntime

from .conftest import EventRecorder, wait_for
from .fake_client import FakeFileClient
from .files_helpers import library_entry, setup_entries
from .metadata import writers

PRINTING = PrinterState(status=PrinterStatus.PRINTING, job_name="benchy", progress=10)


@pytest.fixture
def library_folder(hass: HomeAssistant, tmp_path: Path) -> Path:
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    return tmp_path / "library"


@pytest.fixture
async def library(hass: HomeAssistant, library_folder: Path) -> AsyncGenerator[LibraryRuntime]:
    """The library entry on tmp_path (auto-download off: the tests download themselves)."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Printernizer library",
        unique_id=LIBRARY_UNIQUE_ID,
        data={CONF_ENTRY_KIND: ENTRY_KIND_LIBRARY},
        options={OPT_LIBRARY_FOLDER: str(library_folder), OPT_AUTO_DOWNLOAD: False},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    runtime = hass.data[DATA_KEY].library
    assert runtime is not None
    yield runtime
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


@pytest.fixture
async def printer(
    hass: HomeAssistant, fake_entry: MockConfigEntry, library: LibraryRuntime
) -> AsyncGenerator[FakeFileClient]:
    """A fake printer with files, set up after the library."""
    from unittest.mock import patch

    client = FakeFileClient()
    with patch("custom_components.printernizer.clients.create_client", return_value=client):
        assert await hass.config_entries.async_setup(fake_entry.entry_id)
        await hass.async_block_till_done()
        yield client
        assert await hass.config_entries.async_unload(fake_entry.entry_id)
        await hass.async_block_till_done()


async def _download(hass: HomeAssistant, runtime: LibraryRuntime, path: str) -> str:
    coordinator = next(iter(hass.data[DATA_KEY].coordinators.values()))
    assert runtime.files is not None
    result = await runtime.files.async_download(coordinator, path)
    return result.file.checksum


def _size(path: str) -> tuple[int, int]:
    with Image.open(path) as image:
        assert image.format == "PNG"
        return image.size


async def test_download_to_metadata_and_previews(
    hass: HomeAssistant, events: EventRecorder, library: LibraryRuntime, printer: FakeFileClient
) -> None:
    """A downloaded two-plate 3MF: plate 1's metadata, every plate, three PNG previews."""
    printer.add(
        "/cache/benchy.gcode.3mf",
        writers.threemf([writers.PlateSpec(1), writers.PlateSpec(2, prediction=999, weight=3.5)]),
    )
    checksum = await _download(hass, library, "/cache/benchy.gcode.3mf")
    await wait_for(hass, lambda: events.of("file_metadata_extracted"))

    names = [n for n in events.names() if n.startswith(("file_", "thumbnail", "metadata"))]
    assert names == [
        "file_download_started",
        "file_download_complete",
        "file_needs_thumbnail_processing",
        "file_thumbnails_processed",
        "file_metadata_extracted",
    ]
    (complete,) = events.of("file_download_complete")
    (needs,) = events.of("file_needs_thumbnail_processing")
    assert needs == {"file_id": checksum, "file_path": complete["file_path"]}

    (thumbs,) = events.of("file_thumbnails_processed")
    assert thumbs["file_id"] == checksum
    folder = library.settings.library_folder / ".thumbnails" / checksum
    assert thumbs["thumbnails"] == {
        name: str(folder / f"{name}.png") for name in ("small", "medium", "large")
    }
    assert _size(thumbs["thumbnails"]["small"]) == (128, 128)
    assert _size(thumbs["thumbnails"]["medium"]) == (256, 256)
    assert _size(thumbs["thumbnails"]["large"]) == (512, 512)

    (meta,) = events.of("file_metadata_extracted")
    metadata = meta["metadata"]
    assert meta["file_path"] == complete["file_path"]
    assert metadata["plate"] == 1
    assert metadata["print_time"] == 1234
    assert metadata["filament_used"] == pytest.approx(12.34)
    assert metadata["layer_height"] == pytest.approx(0.2)
    assert metadata["infill"] == pytest.approx(15)
    assert [p["index"] for p in metadata["plates"]] == [1, 2]

    assert library.library is not None
    record = library.library.get(checksum)
    assert record is not None
    assert record.metadata == metadata
    assert record.thumbnails == thumbs["thumbnails"]
    assert media_source.library_thumbnail(hass, checksum) == folder / "medium.png"
    assert library.processor is not None
    assert library.processor.diagnostics()["processed"] == 1

    # Deleting the library file removes its previews.
    assert library.files is not None
    await library.files.async_delete_library_file(checksum)
    await wait_for(hass, lambda: not folder.exists())


async def test_gcode_preview_never_upscaled(
    hass: HomeAssistant, events: EventRecorder, library: LibraryRuntime, printer: FakeFileClient
) -> None:
    """A PrusaSlicer file with a 300x300 cover: large stays 300 px; its estimates are read."""
    gcode = writers.prusaslicer(
        thumbnails=[(writers.png(16, 16), 16, 16, ""), (writers.png(300, 300), 300, 300, "")]
    )
    printer.add("/sdcard/part.gcode", gcode.encode())
    await _download(hass, library, "/sdcard/part.gcode")
    await wait_for(hass, lambda: events.of("file_metadata_extracted"))
    (thumbs,) = events.of("file_thumbnails_processed")
    assert _size(thumbs["thumbnails"]["large"]) == (300, 300)
    assert _size(thumbs["thumbnails"]["medium"]) == (256, 256)
    (meta,) = events.of("file_metadata_extracted")
    assert meta["metadata"]["print_time"] == 93784
    assert meta["metadata"]["filament_used"] == pytest.approx(12.77)
    assert meta["metadata"]["slicer"] == "PrusaSlicer"


async def test_hostile_and_imageless_files(
    hass: HomeAssistant, events: EventRecorder, library: LibraryRuntime, printer: FakeFileClient
) -> None:
    """A broken 3MF fails both; G-code without an image fails only the thumbnails."""
    printer.add("/cache/broken.3mf", b"PK\x03\x04" + b"\x00garbage" * 100)
    printer.add("/sdcard/plain.gcode", writers.cura().encode())
    broken = await _download(hass, library, "/cache/broken.3mf")
    await wait_for(hass, lambda: events.of("metadata_extraction_failed"))
    plain = await _download(hass, library, "/sdcard/plain.gcode")
    await wait_for(hass, lambda: events.of("file_metadata_extracted"))

    (thumb_failed_broken, thumb_failed_plain) = events.of("thumbnail_processing_failed")
    assert thumb_failed_broken["file_id"] == broken
    assert thumb_failed_broken["error"]
    (meta_failed,) = events.of("metadata_extraction_failed")
    assert meta_failed["file_id"] == broken
    assert meta_failed["error"] == thumb_failed_broken["error"]
    assert "Traceback" not in meta_failed["error"]
    assert thumb_failed_plain == {
        "file_id": plain,
        "error": "the file has no embedded image",
        "timestamp": thumb_failed_plain["timestamp"],
    }
    (meta,) = events.of("file_metadata_extracted")
    assert meta["file_id"] == plain
    assert meta["metadata"]["slicer"] == "Cura"
    assert events.of("file_thumbnails_processed") == []
    assert library.processor is not None
    diagnostics = library.processor.diagnostics()
    assert diagnostics["metadata_failed"] == 1
    assert diagnostics["thumbnails_failed"] == 2


async def test_processor_ignores_files_the_library_does_not_know(
    hass: HomeAssistant,
    events: EventRecorder,
    library: LibraryRuntime,
    printer: FakeFileClient,
    tmp_path: Path,
) -> None:
    """A bus event naming an unknown checksum, or another path for a known one, does nothing."""
    content = writers.threemf()
    printer.add("/cache/a.3mf", content)
    checksum = await _download(hass, library, "/cache/a.3mf")
    await wait_for(hass, lambda: events.of("file_metadata_extracted"))
    events.clear()

    outside = tmp_path / "outside.3mf"
    outside.write_bytes(content)
    fire = hass.bus.async_fire
    fire(
        "printernizer_file_needs_thumbnail_processing",
        {"file_id": checksum, "file_path": str(outside)},
    )
    fire(
        "printernizer_file_needs_thumbnail_processing",
        {"file_id": "0" * 64, "file_path": str(outside)},
    )
    fire(
        "printernizer_file_needs_thumbnail_processing",
        {"file_id": "../../etc", "file_path": "/etc/passwd"},
    )
    # A legitimate request after them: once it is done, the queue handled them all (FIFO).
    assert library.library is not None
    record = library.library.get(checksum)
    assert record is not None
    library.processor.async_request(record)  # type: ignore[union-attr]
    await wait_for(hass, lambda: events.of("file_metadata_extracted"))
    processed = events.of("file_metadata_extracted")
    assert len(processed) == 1
    assert processed[0]["file_path"] == str(library.library.path_of(record))
    assert events.of("thumbnail_processing_failed") == []
    assert events.of("metadata_extraction_failed") == []


async def test_job_preview_and_estimates(
    hass: HomeAssistant,
    events: EventRecorder,
    library: LibraryRuntime,
    printer: FakeFileClient,
    hass_client: ClientSessionGenerator,
) -> None:
    """The job's file gives the preview entity its image and the job sensors their values."""
    entity_registry = er.async_get(hass)
    image_id = entity_registry.async_get_entity_id("image", DOMAIN, "FAKE0001_job_preview")
    time_id = entity_registry.async_get_entity_id(
        "sensor", DOMAIN, "FAKE0001_job_estimated_print_time"
    )
    grams_id = entity_registry.async_get_entity_id(
        "sensor", DOMAIN, "FAKE0001_job_estimated_filament"
    )
    assert image_id and time_id and grams_id
    assert hass.states.get(image_id).state == "unavailable"  # no job yet

    printer.add(
        "/cache/benchy.gcode.3mf", writers.threemf([writers.PlateSpec(1, image=(400, 300))])
    )
    checksum = await _download(hass, library, "/cache/benchy.gcode.3mf")
    await wait_for(hass, lambda: events.of("file_metadata_extracted"))

    printer.set_state(PRINTING)
    await hass.async_block_till_done()
    jobs = hass.data[DATA_KEY].jobs
    job = jobs.printer_job(printer_id="FAKE0001")
    assert job is not None
    first = hass.states.get(image_id)
    assert first.state != "unavailable"
    assert hass.states.get(time_id).state == "unknown"

    jobs.set_library_file(job, checksum)
    printer.update(progress=20)
    await hass.async_block_till_done()
    assert job.estimated_print_time == 1234
    assert job.estimated_filament_g == pytest.approx(12.34)
    assert float(hass.states.get(time_id).state) == pytest.approx(1234 / 60)
    assert float(hass.states.get(grams_id).state) == pytest.approx(12.34)
    linked = hass.states.get(image_id)
    assert linked.state != first.state  # image_last_updated changed with the job's file

    client = await hass_client()
    response = await client.get(f"/api/image_proxy/{image_id}")
    assert response.status == 200
    assert response.content_type == "image/png"
    body = await response.read()
    with Image.open(io.BytesIO(body)) as image:
        assert image.size == (400, 300)  # the large preview: never upscaled

    # A new job (another file): the image changes again, and has no picture yet.
    printer.set_state(PrinterState(status=PrinterStatus.PRINTING, job_name="other", progress=1))
    await hass.async_block_till_done()
    other = hass.states.get(image_id)
    assert other.state not in (linked.state, "unavailable")
    response = await client.get(f"/api/image_proxy/{image_id}")
    assert response.status == 500
    assert hass.states.get(time_id).state == "unknown"


def test_process_file_reports_unwritable_previews(tmp_path: Path) -> None:
    """The previews' folder cannot be made: metadata still, a clear thumbnail error."""
    source = tmp_path / "a.3mf"
    source.write_bytes(writers.threemf())
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the folder should be")
    result: Any = process_file(source, blocker / "sub", None)
    assert result.metadata is not None
    assert result.thumbnails is None
    assert result.thumbnail_error.startswith("cannot write the previews")


# --- the processor's edges: untrusted requests, the queue, files deleted meanwhile ---------


def _in_place(folder: Path, name: str, content: bytes) -> tuple[Path, str]:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    return path, hashlib.sha256(content).hexdigest()


async def _add_in_place(hass: HomeAssistant, runtime: LibraryRuntime, name: str) -> LibraryFile:
    """A G-code kept in place inside the library folder (removing it leaves it on disk)."""
    assert runtime.library is not None
    lib = runtime.library
    content = writers.prusaslicer(thumbnails=[(writers.png(32, 32), 32, 32, "")]) + f"; {name}\n"
    path, checksum = await hass.async_add_executor_job(
        _in_place, lib.folder / "kept", name, content.encode()
    )
    source = LibrarySource(kind=SOURCE_WATCH_FOLDER, path=str(path))
    file, new = await lib.async_add_in_place(
        path, checksum=checksum, size=path.stat().st_size, source=source
    )
    assert new
    return file


def _request(hass: HomeAssistant, data: dict[str, Any]) -> None:
    hass.bus.async_fire("printernizer_file_needs_thumbnail_processing", data)


async def test_requests_malformed_duplicate_and_over_the_queue_limit(
    hass: HomeAssistant,
    events: EventRecorder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Wrong types are ignored, a waiting request is not queued twice, a full queue fails."""
    monkeypatch.setattr(processing, "QUEUE_LIMIT", 1)
    await setup_entries(hass, library_entry(hass, tmp_path / "lib", auto_download=False))
    runtime = hass.data[DATA_KEY].library
    assert runtime is not None and runtime.library is not None
    file = await _add_in_place(hass, runtime, "a.gcode")
    claimed = str(runtime.library.path_of(file))

    _request(hass, {"file_id": 7, "file_path": claimed})  # not strings: ignored
    _request(hass, {"file_id": file.checksum})
    _request(hass, {"file_id": file.checksum, "file_path": claimed})  # the worker takes it
    _request(hass, {"file_id": file.checksum, "file_path": claimed})  # waits (queue: 1)
    _request(hass, {"file_id": file.checksum, "file_path": claimed})  # already waiting
    _request(hass, {"file_id": file.checksum, "file_path": claimed + "/."})  # queue full
    assert events.of("thumbnail_processing_failed") == [
        {"file_id": file.checksum, "error": "the processing queue is full", "timestamp": ANY}
    ]
    assert events.of("metadata_extraction_failed") == [
        {"file_id": file.checksum, "error": "the processing queue is full", "timestamp": ANY}
    ]
    await wait_for(hass, lambda: len(events.of("file_metadata_extracted")) == 2)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(events.of("file_metadata_extracted")) == 2
    assert runtime.processor is not None
    assert runtime.processor.diagnostics() == {
        "queued": 0,
        "processing": False,
        "queue_limit": 1,
        "processed": 2,
        "metadata_failed": 1,
        "thumbnails_failed": 1,
    }


async def test_file_deleted_while_waiting_or_while_read(
    hass: HomeAssistant, events: EventRecorder, library: LibraryRuntime
) -> None:
    """A file removed before its turn is skipped; one removed while read leaves no previews."""
    assert library.library is not None and library.processor is not None
    lib, processor = library.library, library.processor
    first = await _add_in_place(hass, library, "first.gcode")
    waiting = await _add_in_place(hass, library, "waiting.gcode")
    processor.async_request(first)  # the worker takes it (and waits for the executor)
    processor.async_request(waiting)
    await lib.async_remove(waiting.checksum)  # before its turn
    await wait_for(hass, lambda: bool(events.of("file_metadata_extracted")))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert [e["file_id"] for e in events.of("file_metadata_extracted")] == [first.checksum]
    assert events.of("thumbnail_processing_failed") == []
    assert not (lib.thumbnails_folder / waiting.checksum).exists()

    events.clear()
    processor.async_request(first)  # the worker reads it in the executor ...
    await lib.async_remove(first.checksum)  # ... while it leaves the library
    await hass.async_block_till_done(wait_background_tasks=True)
    await wait_for(hass, lambda: not processor.diagnostics()["processing"])
    assert events.of("file_metadata_extracted") == []
    assert events.of("file_thumbnails_processed") == []
    assert not (lib.thumbnails_folder / first.checksum).exists()
    assert lib.get(first.checksum) is None


async def test_one_files_unexpected_error_does_not_stop_the_worker(
    hass: HomeAssistant,
    events: EventRecorder,
    library: LibraryRuntime,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert library.library is not None and library.processor is not None
    lib = library.library
    broken = await _add_in_place(hass, library, "broken.gcode")
    good = await _add_in_place(hass, library, "good.gcode")
    store = lib.set_processing

    def set_processing(checksum: str, **kwargs: Any) -> LibraryFile | None:
        if checksum == broken.checksum:
            raise RuntimeError("store broke")
        return store(checksum, **kwargs)

    monkeypatch.setattr(lib, "set_processing", set_processing)
    library.processor.async_request(broken)
    library.processor.async_request(good)
    await wait_for(hass, lambda: bool(events.of("file_metadata_extracted")))
    assert [e["file_id"] for e in events.of("file_metadata_extracted")] == [good.checksum]
    assert f"Unexpected error processing {broken.checksum}" in caplog.text


def test_process_file_survives_reader_and_preview_bugs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug in a reader or in the preview maker: the failure events' messages, no exception."""
    source = tmp_path / "a.3mf"
    source.write_bytes(writers.threemf())

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise KeyError("bug")

    with monkeypatch.context() as patch:
        patch.setattr(processing, "make_previews", broken)
        result = process_file(source, tmp_path / "previews", None)
    assert result.metadata is not None and result.metadata["print_time"] == 1234
    assert result.thumbnails is None
    assert result.thumbnail_error == "unexpected error making the previews (KeyError)"
    assert "Unexpected error making the previews of a.3mf" in caplog.text

    monkeypatch.setattr(processing, "read_metadata", broken)
    result = process_file(source, tmp_path / "previews", None)
    message = "unexpected error reading the file (KeyError)"
    assert (result.metadata, result.metadata_error) == (None, message)
    assert (result.thumbnails, result.thumbnail_error) == (None, message)


def test_confined_path(tmp_path: Path) -> None:
    """Only the library's own file, resolved, inside one of the roots."""
    root = tmp_path / "root"
    root.mkdir()
    inside = root / "a.gcode"
    inside.write_text("G28\n")
    outside = tmp_path / "b.gcode"
    outside.write_text("G28\n")
    assert confined_path(str(root / "." / "a.gcode"), inside, [root]) == inside.resolve()
    assert confined_path(str(outside), outside, [root]) is None  # the record, but not inside
    assert confined_path(str(outside), inside, [root]) is None  # not the record's file
    assert confined_path(str(root), root, [tmp_path]) is None  # a folder
    assert confined_path("a\x00b", inside, [root]) is None  # not a path


def test_estimates() -> None:
    assert estimates(None) == (None, None)
    assert estimates({}) == (None, None)
    assert estimates({"print_time": 61.7, "filament_used": 3}) == (61, 3.0)
    assert estimates({"print_time": "61", "filament_used": "3"}) == (None, None)
    # a job printing another plate than the one on top: that plate's entry
    meta = {
        "plate": 1,
        "print_time": 100,
        "filament_used": 1.0,
        "plates": [
            {"index": 1, "print_time": 100, "filament_used": 1.0},
            {"index": 2, "print_time": 200, "filament_used": 2.0},
        ],
    }
    assert estimates(meta, 2) == (200, 2.0)
    assert estimates(meta, 1) == (100, 1.0)
    assert estimates(meta, 7) == (100, 1.0)  # not in the file: the top level
    assert estimates({"plate": 1, "print_time": 100, "plates": "junk"}, 2) == (100, None)


def test_slot_estimates() -> None:
    """Grams per slicer filament number, of the plate a job prints; only numbered ones > 0 g."""
    meta = {
        "plate": 1,
        "filaments": [
            {"type": "PLA", "grams": 5.0, "slot": 1},
            {"type": "PLA", "grams": 0.0, "slot": 2},  # on the plate, unused
            {"type": "PETG", "grams": 2.5, "slot": 4},
            {"type": "PLA", "grams": 1.0, "slot": 4},  # the same filament twice
            {"type": "PLA", "grams": 3.0},  # G-code: no number
            {"type": "PLA", "grams": "3", "slot": 5},
            {"type": "PLA", "grams": 3.0, "slot": True},
            "junk",
        ],
        "plates": [{"index": 2, "filaments": [{"grams": 7.0, "slot": 3}]}],
    }
    assert slot_estimates(meta) == {"1": 5.0, "4": 3.5}
    assert slot_estimates(meta, 1) == {"1": 5.0, "4": 3.5}
    assert slot_estimates(meta, 2) == {"3": 7.0}
    assert slot_estimates({"filaments": [{"grams": 2.0}]}) is None
    assert slot_estimates({"filaments": "junk"}) is None
    assert slot_estimates({}) is None
    assert slot_estimates(None) is None


# --- the preview from a printer that renders thumbnails itself (like PrusaLink) ------------


class ThumbnailFakeClient(FakeFileClient):
    """A FakeFileClient that also serves thumbnails (``PrinterThumbnailClient``)."""

    def __init__(self) -> None:
        super().__init__()
        self.thumbnail: bytes | None = None
        self.thumbnail_error: FileTransferError | None = None
        self.meta: dict[str, Any] | None = None

    def _remote(self, path: str) -> RemoteFile:
        return replace(super()._remote(path), meta=self.meta)

    async def async_read_thumbnail(self, file: RemoteFile) -> bytes | None:
        if self.thumbnail_error is not None:
            raise self.thumbnail_error
        return self.thumbnail


@pytest.fixture
async def thumbnail_printer(
    hass: HomeAssistant, fake_entry: MockConfigEntry, library: LibraryRuntime
) -> AsyncGenerator[ThumbnailFakeClient]:
    from unittest.mock import patch

    client = ThumbnailFakeClient()
    client.add("/usb/a.gcode", b"G28\n")
    with patch("custom_components.printernizer.clients.create_client", return_value=client):
        assert await hass.config_entries.async_setup(fake_entry.entry_id)
        await hass.async_block_till_done()
        yield client
        assert await hass.config_entries.async_unload(fake_entry.entry_id)
        await hass.async_block_till_done()


async def test_preview_from_the_printer(
    hass: HomeAssistant, library: LibraryRuntime, thumbnail_printer: ThumbnailFakeClient
) -> None:
    """Per job: no file, a failing printer, a JPEG with estimates, something not an image."""
    entity_id = er.async_get(hass).async_get_entity_id("image", DOMAIN, "FAKE0001_job_preview")
    assert entity_id is not None
    entity = hass.data["image"].get_entity(entity_id)
    assert entity is not None
    assert await entity.async_image() is None  # no job at all
    client, jobs = thumbnail_printer, hass.data[DATA_KEY].jobs

    async def job(name: str) -> Job:
        client.set_state(PrinterState(status=PrinterStatus.PRINTING, job_name=name, progress=1))
        await hass.async_block_till_done(wait_background_tasks=True)
        current = jobs.printer_job(printer_id="FAKE0001")
        assert current is not None and current.job_name == name
        return current

    # the printer names no file for the job
    client.thumbnail = writers.jpg(40, 30)
    await job("first")
    assert await entity.async_image() is None

    # the printer fails while reading the thumbnail
    client.job_path = "/usb/a.gcode"
    client.thumbnail_error = FileTransferError("connection reset")
    await job("second")
    assert await entity.async_image() is None

    # a JPEG: served as such; the file's slicer estimates go onto the job
    client.thumbnail_error = None
    client.meta = {"estimated_print_time": 600, "filament used [g]": 2.5}
    third = await job("third")
    assert await entity.async_image() == client.thumbnail
    assert entity.content_type == "image/jpeg"
    assert (third.estimated_print_time, third.estimated_filament_g) == (600, 2.5)

    # bytes that are no PNG/JPEG are never served
    client.thumbnail = b"QOIF" + b"\x00" * 20
    await job("fourth")
    assert await entity.async_image() is None


def test_image_content_type() -> None:
    assert image_content_type(writers.png(2, 2)) == "image/png"
    assert image_content_type(writers.jpg(2, 2)) == "image/jpeg"
    assert image_content_type(b"GIF89a") is None


def test_read_preview_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A missing preview or one larger than the bound is not served."""
    path = tmp_path / "large.png"
    path.write_bytes(writers.png(64, 64))
    assert image_module._read_preview(path) == path.read_bytes()
    assert image_module._read_preview(tmp_path / "gone.png") is None
    monkeypatch.setattr(image_module, "MAX_PREVIEW_BYTES", 16)
    assert image_module._read_preview(path) is None
