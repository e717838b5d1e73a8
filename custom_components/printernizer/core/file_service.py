"""The library entry's file work: scheduled discovery, downloads, auto-download, deletes.

Created and stopped by the library entry (``LibraryRuntime.files``). Discovery
runs every ``settings.discovery_interval`` seconds, after each job ends, and on
demand; the index itself lives on ``PrinternizerData`` so printers without the
library can list their files.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from homeassistant.core import CALLBACK_TYPE, Event, HassJob, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later, async_track_time_interval

from ..api.models import PrinterError, PrinterFileClient, RemoteFile
from ..emitter import EventEmitter, timestamp
from .autodownload import AutoDownloader, AutoDownloadState
from .downloads import DownloadManager, DownloadResult
from .files import FileDiscovery, FileIndex, file_id
from .jobs import JobManager
from .library import Library, LibraryFile
from .settings import LibrarySettings

if TYPE_CHECKING:  # pragma: no cover (type checking only)
    from .coordinator import PrinterCoordinator

_LOGGER = logging.getLogger(__name__)

#: Seconds after a job ends before its printer is listed again (the printer
#: writes its timelapse then).
AFTER_JOB_DELAY: Final = 30.0
#: Seconds after the library loads before the first discovery of every printer.
FIRST_DISCOVERY_DELAY: Final = 60.0


class FileService:
    """Everything the library does with printer files."""

    def __init__(
        self,
        hass: HomeAssistant,
        emitter: EventEmitter,
        settings: LibrarySettings,
        *,
        library: Library,
        index: FileIndex,
        discovery: FileDiscovery,
        jobs: JobManager,
        auto_state: AutoDownloadState,
        coordinators: dict[str, PrinterCoordinator],
    ) -> None:
        """Initialize the service."""
        self._hass = hass
        self._emitter = emitter
        self.settings = settings
        self.library = library
        self.index = index
        self.discovery = discovery
        self._coordinators = coordinators
        self.downloads = DownloadManager(hass, emitter, library)
        self.auto = AutoDownloader(
            hass,
            emitter,
            state=auto_state,
            jobs=jobs,
            index=index,
            library=library,
            downloads=self.downloads,
            coordinators=coordinators,
            enabled=settings.auto_download,
            max_bytes=settings.auto_download_max_bytes,
        )
        self._unsubs: list[CALLBACK_TYPE] = []
        self._after_job: dict[str, CALLBACK_TYPE] = {}

    @callback
    def start(self) -> None:
        """Schedule discovery; listen for job ends; start auto-download."""
        self._unsubs.append(
            async_track_time_interval(
                self._hass,
                self._scheduled,
                timedelta(seconds=self.settings.discovery_interval),
                name="printernizer file discovery",
                cancel_on_shutdown=True,
            )
        )
        self._unsubs.append(
            async_call_later(
                self._hass,
                FIRST_DISCOVERY_DELAY,
                HassJob(self._scheduled, cancel_on_shutdown=True),
            )
        )
        self._unsubs.append(
            self._hass.bus.async_listen("printernizer_job_completed", self._on_job_completed)
        )
        self.auto.start()

    async def async_stop(self) -> None:
        """Stop everything (running downloads are cancelled, their partial files removed)."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        for cancel in self._after_job.values():
            cancel()
        self._after_job.clear()
        self.auto.stop()
        await self.downloads.async_stop()
        await self.library.async_stop()

    # --- discovery ----------------------------------------------------------------

    @callback
    def _scheduled(self, _now: datetime) -> None:
        self._hass.async_create_background_task(
            self.discovery.async_discover_all(self._coordinators),
            "printernizer file discovery",
        )

    @callback
    def _on_job_completed(self, event: Event) -> None:
        printer_id = event.data.get("printer_id")
        if not isinstance(printer_id, str) or printer_id not in self._coordinators:
            return
        if (cancel := self._after_job.pop(printer_id, None)) is not None:
            cancel()

        @callback
        def run(_now: datetime) -> None:
            self._after_job.pop(printer_id, None)
            if (coordinator := self._coordinators.get(printer_id)) is not None:
                self._hass.async_create_background_task(
                    self.discovery.async_discover_printer(coordinator),
                    f"printernizer file discovery {printer_id}",
                )

        self._after_job[printer_id] = async_call_later(
            self._hass, AFTER_JOB_DELAY, HassJob(run, cancel_on_shutdown=True)
        )

    # --- operations for the actions -----------------------------------------------

    async def async_download(self, coordinator: PrinterCoordinator, path: str) -> DownloadResult:
        """Download one file of a printer (stat first: its size is checked at the end).

        Raises ``PrinterError`` when the file cannot be looked up, ``DownloadError``
        when the transfer fails (``file_download_failed`` was fired).
        """
        client = coordinator.client
        assert isinstance(client, PrinterFileClient)
        remote: RemoteFile = await client.async_stat(path)
        return await self.downloads.async_download(
            printer_id=coordinator.printer_id,
            printer_name=coordinator.monitor.name,
            client=client,
            remote=remote,
        )

    async def async_delete_library_file(self, checksum: str) -> LibraryFile | None:
        """Delete a library file; fires file_deleted and library_file_deleted."""
        file = await self.library.async_remove(checksum)
        if file is not None:
            self._emitter.fire(
                "file_deleted",
                {"file_id": checksum, "filename": file.filename, "timestamp": timestamp()},
            )
        return file


async def async_delete_printer_file(
    emitter: EventEmitter,
    index: FileIndex,
    library: Library | None,
    coordinator: PrinterCoordinator,
    path: str,
) -> str:
    """Delete a file on a printer; fires file_deleted; returns the file's id.

    The library's copy stays (its source keeps the original path). Raises
    ``PrinterError`` when the printer refuses.
    """
    client = coordinator.client
    assert isinstance(client, PrinterFileClient)
    printer_id = coordinator.printer_id
    indexed = index.get(printer_id, path)
    await client.async_delete(path)
    index.remove_file(printer_id, path)
    in_library = library.by_source(printer_id, path) if library is not None else None
    identifier = in_library.checksum if in_library is not None else file_id(printer_id, path)
    emitter.fire(
        "file_deleted",
        {
            "file_id": identifier,
            "filename": indexed.name if indexed is not None else path.rsplit("/", 1)[-1],
            "printer_id": printer_id,
            "timestamp": timestamp(),
        },
    )
    return identifier


__all__ = ["FileService", "PrinterError", "async_delete_printer_file"]
