"""File processing: metadata and preview thumbnails of the library's print files.

The flow of the contract:

1. ``file_download_complete`` (a printer file entered the library) or a print
   file added from a watch folder -> ``file_needs_thumbnail_processing``
   (:meth:`FileProcessor.async_request`).
2. The processor listens for ``file_needs_thumbnail_processing`` on the bus and
   acts only on files the library knows, whose resolved path is the library's
   record and lies inside the library folder or a watch folder (anyone can fire
   a bus event: the payload is untrusted).
3. One file at a time, in the executor (the readers are blocking): the
   metadata and the embedded thumbnails (``metadata.read_metadata``), the
   small / medium / large PNG previews under ``<library>/.thumbnails/<checksum>/``.
4. ``file_thumbnails_processed`` (paths) or ``thumbnail_processing_failed``;
   ``file_metadata_extracted`` (``FileMetadata.as_dict()``) or
   ``metadata_extraction_failed``. The results are stored on the library record
   (``Library.set_processing``) and the jobs linked to the file gain its
   estimates (``JobManager.set_estimates``).

A bounded queue (:data:`QUEUE_LIMIT`) holds the waiting files; a file already
waiting is not queued twice. A malformed or hostile file ends in the failure
events with the reader's message, never in an exception out of the processor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback

from ..api.models import PrinterJobPlateClient
from ..emitter import EventEmitter, timestamp
from ..metadata import MetadataError, make_previews, read_metadata, save_previews
from .coordinator import PrinterCoordinator
from .jobs import Job, JobManager
from .library import Library, LibraryFile

_LOGGER = logging.getLogger(__name__)

#: Files waiting at most (beyond it a request fails with the failure events).
QUEUE_LIMIT: Final = 256
_CHECKSUM: Final = re.compile(r"^[0-9a-f]{64}$")
#: Queue item marker: remove a deleted file's previews (never a checksum).
_DROP_PREVIEWS: Final = "drop-previews"

EVENT_DOWNLOAD_COMPLETE: Final = "printernizer_file_download_complete"
EVENT_NEEDS_PROCESSING: Final = "printernizer_file_needs_thumbnail_processing"
EVENT_LIBRARY_FILE_DELETED: Final = "printernizer_library_file_deleted"


@dataclass(slots=True)
class ProcessingResult:
    """What the executor found for one file (exactly one of each pair is set)."""

    metadata: dict[str, Any] | None = None
    metadata_error: str | None = None
    thumbnails: dict[str, str] | None = None
    thumbnail_error: str | None = None


def process_file(path: Path, preview_folder: Path, plate: int | None) -> ProcessingResult:
    """Blocking: read a print file's metadata and write its previews (executor only)."""
    try:
        meta, thumbnails = read_metadata(path, plate=plate)
    except MetadataError as err:
        return ProcessingResult(metadata_error=str(err), thumbnail_error=str(err))
    except Exception as err:  # a reader bug must not stop the processor
        _LOGGER.exception("Unexpected error reading %s", path.name)
        message = f"unexpected error reading the file ({type(err).__name__})"
        return ProcessingResult(metadata_error=message, thumbnail_error=message)
    result = ProcessingResult(metadata=meta.as_dict())
    try:
        previews = make_previews(thumbnails)
        result.thumbnails = save_previews(previews, preview_folder)
    except MetadataError as err:
        result.thumbnail_error = str(err)
    except OSError as err:
        result.thumbnail_error = f"cannot write the previews: {err.strerror or err}"
    except Exception as err:
        _LOGGER.exception("Unexpected error making the previews of %s", path.name)
        result.thumbnail_error = f"unexpected error making the previews ({type(err).__name__})"
    return result


def confined_path(claimed: str, expected: Path, roots: Iterable[Path]) -> Path | None:
    """Blocking: the resolved file when ``claimed`` is ``expected`` inside one of ``roots``."""
    try:
        resolved = Path(claimed).resolve()
        if resolved != expected.resolve() or not resolved.is_file():
            return None
        for root in roots:
            if resolved.is_relative_to(root.resolve()):
                return resolved
    except (OSError, ValueError):
        return None
    return None


def _plate_source(metadata: dict[str, Any], plate: int | None) -> dict[str, Any]:
    """The part of ``metadata`` for ``plate``: the top level, or that plate's entry."""
    if plate is not None and metadata.get("plate") != plate:
        plates = metadata.get("plates")
        for entry in plates if isinstance(plates, list) else ():
            if isinstance(entry, dict) and entry.get("index") == plate:
                return entry
    return metadata


def estimates(
    metadata: dict[str, Any] | None, plate: int | None = None
) -> tuple[int | None, float | None]:
    """(print_time seconds, filament grams) from a file's metadata.

    ``plate``: the plate a job prints; when the metadata's top level is another
    plate's (the file was processed for another print), that plate's entry
    under ``plates`` is used.
    """
    if not metadata:
        return None, None
    source = _plate_source(metadata, plate)
    print_time = source.get("print_time")
    grams = source.get("filament_used")
    return (
        int(print_time) if isinstance(print_time, int | float) else None,
        float(grams) if isinstance(grams, int | float) else None,
    )


def slot_estimates(
    metadata: dict[str, Any] | None, plate: int | None = None
) -> dict[str, float] | None:
    """Grams per slicer filament number ({"1": 5.2, "3": 0.8}) of ``plate``, None if unknown.

    Only filaments the file numbers (a 3MF's ``<filament id>``) with grams > 0.
    """
    if not metadata:
        return None
    filaments = _plate_source(metadata, plate).get("filaments")
    out: dict[str, float] = {}
    for entry in filaments if isinstance(filaments, list) else ():
        if not isinstance(entry, dict):
            continue
        slot, grams = entry.get("slot"), entry.get("grams")
        if type(slot) is int and isinstance(grams, int | float) and grams > 0:
            out[str(slot)] = out.get(str(slot), 0.0) + float(grams)
    return out or None


class FileProcessor:
    """Processes the library's print files one at a time (see the module docstring)."""

    def __init__(
        self,
        hass: HomeAssistant,
        emitter: EventEmitter,
        library: Library,
        jobs: JobManager,
        *,
        watch_folders: Iterable[Path] = (),
        coordinators: Mapping[str, PrinterCoordinator] | None = None,
    ) -> None:
        """Initialize the processor (``coordinators``: the printers, for the plate a job prints)."""
        self._hass = hass
        self._emitter = emitter
        self._library = library
        self._jobs = jobs
        self._watch_folders = tuple(watch_folders)
        #: The printers by id (the runtime's live dict: printers load after the library).
        self._coordinators: Mapping[str, PrinterCoordinator] = (
            coordinators if coordinators is not None else {}
        )
        self._queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue(QUEUE_LIMIT)
        #: (checksum, claimed path) waiting in the queue (not queued twice).
        self._waiting: set[tuple[str, str]] = set()
        self._current: str | None = None
        self._worker: asyncio.Task[None] | None = None
        self._unsubs: list[CALLBACK_TYPE] = []
        self.processed = 0
        self.metadata_failed = 0
        self.thumbnails_failed = 0

    # --- lifecycle --------------------------------------------------------------------

    @callback
    def start(self) -> None:
        """Listen on the bus and start the worker."""
        bus = self._hass.bus
        self._unsubs += [
            bus.async_listen(EVENT_DOWNLOAD_COMPLETE, self._on_download_complete),
            bus.async_listen(EVENT_NEEDS_PROCESSING, self._on_needs_processing),
            bus.async_listen(EVENT_LIBRARY_FILE_DELETED, self._on_library_file_deleted),
        ]

    async def async_stop(self) -> None:
        """Stop listening and stop the worker (a file being read finishes in the executor)."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None

    # --- requests ---------------------------------------------------------------------

    @callback
    def async_request(self, file: LibraryFile) -> None:
        """Fire ``file_needs_thumbnail_processing`` for a library file (the processor reacts)."""
        self._emitter.fire(
            "file_needs_thumbnail_processing",
            {"file_id": file.checksum, "file_path": str(self._library.path_of(file))},
        )

    @callback
    def _on_download_complete(self, event: Event) -> None:
        checksum = event.data.get("file_id")
        if isinstance(checksum, str) and self._library.get(checksum) is not None:
            # after every listener has seen the download complete
            self._hass.loop.call_soon(self._request_known, checksum)

    @callback
    def _request_known(self, checksum: str) -> None:
        if (file := self._library.get(checksum)) is not None:
            self.async_request(file)

    @callback
    def _on_needs_processing(self, event: Event) -> None:
        checksum = event.data.get("file_id")
        claimed = event.data.get("file_path")
        if not isinstance(checksum, str) or not isinstance(claimed, str):
            return
        if not _CHECKSUM.match(checksum) or self._library.get(checksum) is None:
            _LOGGER.debug("Not processing %s: not a library file", checksum)
            return
        if (checksum, claimed) in self._waiting:
            return
        try:
            self._queue.put_nowait((checksum, claimed))
        except asyncio.QueueFull:
            _LOGGER.warning("File processing queue full: %s not processed", checksum)
            error = "the processing queue is full"
            self._fail(checksum, error, error)
            return
        self._waiting.add((checksum, claimed))
        self._wake()

    @callback
    def _on_library_file_deleted(self, event: Event) -> None:
        checksum = event.data.get("checksum")
        if isinstance(checksum, str) and _CHECKSUM.match(checksum):
            # through the worker, in order: a file re-added meanwhile keeps its previews
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.put_nowait((_DROP_PREVIEWS, checksum))
            self._wake()

    # --- the worker -------------------------------------------------------------------

    @callback
    def _wake(self) -> None:
        """Start the worker when work is queued (it ends when the queue is empty)."""
        if self._unsubs and (self._worker is None or self._worker.done()):
            self._worker = self._hass.async_create_background_task(
                self._run(), "printernizer file processing"
            )

    async def _run(self) -> None:
        while not self._queue.empty():
            first, second = self._queue.get_nowait()
            if first == _DROP_PREVIEWS:
                if self._library.get(second) is None:
                    folder = self._library.thumbnails_folder / second
                    await self._hass.async_add_executor_job(_remove_folder, folder)
                continue
            checksum, claimed = first, second
            self._waiting.discard((checksum, claimed))
            self._current = checksum
            try:
                await self._process(checksum, claimed)
            except Exception:  # never let one file stop the worker
                _LOGGER.exception("Unexpected error processing %s", checksum)
            finally:
                self._current = None

    async def _process(self, checksum: str, claimed: str) -> None:
        file = self._library.get(checksum)
        if file is None:  # deleted while waiting
            return
        roots = (self._library.folder, *self._watch_folders)
        expected = self._library.path_of(file)
        path = await self._hass.async_add_executor_job(confined_path, claimed, expected, roots)
        if path is None:
            _LOGGER.debug("Not processing %s: the path is not the library's file", checksum)
            return
        preview_folder = self._library.thumbnails_folder / checksum
        result = await self._hass.async_add_executor_job(
            process_file, path, preview_folder, self.job_plate(checksum)
        )
        if self._library.get(checksum) is None:  # deleted meanwhile: drop its previews
            await self._hass.async_add_executor_job(_remove_folder, preview_folder)
            return
        self._library.set_processing(
            checksum, metadata=result.metadata, thumbnails=result.thumbnails
        )
        self.processed += 1
        if result.thumbnails is not None:
            self._emitter.fire(
                "file_thumbnails_processed",
                {
                    "file_id": checksum,
                    "file_path": str(path),
                    "thumbnails": dict(result.thumbnails),
                    "timestamp": timestamp(),
                },
            )
        else:
            self.thumbnails_failed += 1
            self._emitter.fire(
                "thumbnail_processing_failed",
                {
                    "file_id": checksum,
                    "error": result.thumbnail_error or "unknown error",
                    "timestamp": timestamp(),
                },
            )
        if result.metadata is not None:
            self._emitter.fire(
                "file_metadata_extracted",
                {
                    "file_id": checksum,
                    "file_path": str(path),
                    "metadata": dict(result.metadata),
                    "timestamp": timestamp(),
                },
            )
            self._apply_estimates(checksum, result.metadata)
        else:
            self.metadata_failed += 1
            self._emitter.fire(
                "metadata_extraction_failed",
                {
                    "file_id": checksum,
                    "error": result.metadata_error or "unknown error",
                    "timestamp": timestamp(),
                },
            )

    @callback
    def _fail(self, checksum: str, thumbnail_error: str, metadata_error: str) -> None:
        self.thumbnails_failed += 1
        self.metadata_failed += 1
        self._emitter.fire(
            "thumbnail_processing_failed",
            {"file_id": checksum, "error": thumbnail_error, "timestamp": timestamp()},
        )
        self._emitter.fire(
            "metadata_extraction_failed",
            {"file_id": checksum, "error": metadata_error, "timestamp": timestamp()},
        )

    # --- jobs -------------------------------------------------------------------------

    def job_plate(self, checksum: str) -> int | None:
        """The plate a printer prints of the file: its active job's, where the client knows it.

        The job linked to the file; else, for a file auto-download just fetched
        (linked only once the download returned), the unlinked active job of the
        printer it came from. None (the reader takes plate 1) for a file no
        running job prints, or a printer that does not report plates
        (``PrinterJobPlateClient``).
        """
        active = [j for j in self._jobs.jobs() if j.is_active and j.printer_id is not None]
        job = next((j for j in active if j.library_file_id == checksum), None)
        file = self._library.get(checksum)
        if job is None and file is not None and file.auto:
            printers = {s.printer_id for s in file.sources}
            job = next(
                (j for j in active if j.library_file_id is None and j.printer_id in printers), None
            )
        if job is None:
            return None
        coordinator = self._coordinators.get(job.printer_id or "")
        client = coordinator.client if coordinator is not None else None
        return client.job_plate() if isinstance(client, PrinterJobPlateClient) else None

    @callback
    def _apply_estimates(self, checksum: str, metadata: dict[str, Any]) -> None:
        """Give every job linked to the file the file's estimates."""
        print_time, grams = estimates(metadata)
        by_slot = slot_estimates(metadata)
        for job in self._jobs.jobs():
            if job.library_file_id == checksum:
                self._jobs.set_estimates(
                    job, print_time=print_time, filament_g=grams, filament_g_by_slot=by_slot
                )

    # --- diagnostics ------------------------------------------------------------------

    def diagnostics(self) -> dict[str, Any]:
        """Queue and outcome counts (no file names)."""
        return {
            "queued": len(self._waiting),
            "processing": self._current is not None,
            "queue_limit": self._queue.maxsize,
            "processed": self.processed,
            "metadata_failed": self.metadata_failed,
            "thumbnails_failed": self.thumbnails_failed,
        }


def job_estimates_from_library(
    jobs: JobManager, library: Library | None, job: Job, *, plate: int | None = None
) -> None:
    """Copy a linked library file's estimates (of ``plate``) onto ``job`` when it has none yet."""
    if library is None or job.library_file_id is None or job.estimated_print_time is not None:
        return
    file = library.get(job.library_file_id)
    if file is not None and file.metadata is not None:
        print_time, grams = estimates(file.metadata, plate)
        jobs.set_estimates(
            job,
            print_time=print_time,
            filament_g=grams,
            filament_g_by_slot=slot_estimates(file.metadata, plate),
        )


def _remove_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


__all__ = [
    "QUEUE_LIMIT",
    "FileProcessor",
    "ProcessingResult",
    "confined_path",
    "estimates",
    "job_estimates_from_library",
    "process_file",
    "slot_estimates",
]
