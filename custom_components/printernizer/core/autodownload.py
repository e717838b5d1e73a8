"""Auto-download: the file of a job that starts lands in the library.

When a printer starts a job (``printernizer_job_started`` on the bus: one
subscription, no coupling to the monitor), the job's file is looked up with the
client's ``async_job_file`` (retried while it has not appeared yet: X1/H2/P2
write it up to a minute after the start), then, when it is not in the library
yet, ``auto_download_triggered`` and the download events follow; a failure
fires ``auto_download_failed`` with the reason.

Each job's attempt is persisted (:class:`AutoDownloadState`, on
``PrinternizerData`` so a removed printer's records can be dropped without the
library): a completed or failed attempt is never repeated; one interrupted by a
restart is retried once after it. Timelapse files are never auto-downloaded.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import CALLBACK_TYPE, Event, HassJob, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.util import dt as dt_util

from ..api.models import PrinterError, PrinterFileClient, PrinterJobPlateClient, RemoteFile
from ..emitter import EventEmitter, timestamp
from .downloads import DownloadError, DownloadManager
from .files import FileIndex, IndexedFile
from .jobs import JobManager
from .library import Library
from .processing import estimates, job_estimates_from_library
from .storage import CollectionStore, StoreData

if TYPE_CHECKING:  # pragma: no cover (type checking only)
    from .coordinator import PrinterCoordinator

_LOGGER = logging.getLogger(__name__)

STORAGE_KEY: Final = "printernizer.auto_download"
STORAGE_VERSION: Final = 1
#: Seconds between looks for a job's file that has not appeared yet.
RETRY_INTERVAL: Final = 10.0
#: Looks before giving up (12 x 10 s: two minutes).
MAX_LOOKUPS: Final = 12
#: A job's attempt runs at most this often (the first, and once after a restart).
MAX_ATTEMPTS: Final = 2
#: Records kept (oldest dropped).
MAX_RECORDS: Final = 500

STATUS_PENDING: Final = "pending"
STATUS_RUNNING: Final = "running"
STATUS_COMPLETED: Final = "completed"
STATUS_FAILED: Final = "failed"
STATUS_SKIPPED: Final = "skipped"
UNFINISHED: Final = frozenset({STATUS_PENDING, STATUS_RUNNING})

_SUFFIXES: Final = (".gcode.3mf", ".3mf", ".gcode", ".bgcode", ".bgc", ".gco", ".g")


def normalize_job_name(name: str) -> str:
    """``cache/Benchy_plate_1.gcode.3mf`` -> ``benchy_plate_1`` (for matching)."""
    base = re.split(r"[/\\]", name.strip())[-1].lower()
    for suffix in _SUFFIXES:
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    return base.strip()


def match_job_file(job_name: str, files: Iterable[IndexedFile]) -> IndexedFile | None:
    """Find a job's file among a printer's files by the name the printer reports.

    Handles a ``cache/`` prefix, ``.gcode.3mf`` vs ``.3mf`` vs none, and names
    the printer truncated (a prefix of at least 8 characters). Timelapses and
    non-print files never match.
    """
    wanted = normalize_job_name(job_name)
    if not wanted:
        return None
    prefix_match: IndexedFile | None = None
    for indexed in files:
        if indexed.kind not in ("print", "model"):
            continue
        have = normalize_job_name(indexed.name)
        if have == wanted:
            return indexed
        if (
            prefix_match is None
            and min(len(wanted), len(have)) >= 8
            and (have.startswith(wanted) or wanted.startswith(have))
        ):
            prefix_match = indexed
    return prefix_match


@dataclass(slots=True, kw_only=True)
class AutoDownloadRecord:
    """One job's auto-download attempt."""

    job_id: str
    printer_id: str
    status: str
    attempts: int = 1
    filename: str | None = None
    path: str | None = None
    checksum: str | None = None
    error: str | None = None
    updated_at: str = ""


class AutoDownloadState:
    """Persisted attempts, per job."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Initialize (call :meth:`async_load`)."""
        self._store = CollectionStore(hass, STORAGE_KEY, STORAGE_VERSION)
        self.records: dict[str, AutoDownloadRecord] = {}

    async def async_load(self) -> None:
        """Load earlier attempts."""
        data = await self._store.async_load() or {}
        for raw in data.get("jobs", []):
            try:
                record = AutoDownloadRecord(**raw)
            except TypeError:
                continue
            self.records[record.job_id] = record

    @callback
    def save(self) -> None:
        """Save soon."""
        if len(self.records) > MAX_RECORDS:
            for job_id in list(self.records)[: len(self.records) - MAX_RECORDS]:
                del self.records[job_id]
        self._store.schedule_save(self._snapshot)

    async def async_flush(self) -> None:
        """Save now."""
        await self._store.async_save(self._snapshot())

    @callback
    def _snapshot(self) -> StoreData:
        return {"jobs": [asdict(r) for r in self.records.values()]}

    @callback
    def update(self, record: AutoDownloadRecord, **changes: Any) -> None:
        """Change a record and save."""
        for key, value in changes.items():
            setattr(record, key, value)
        record.updated_at = dt_util.utcnow().isoformat()
        self.records[record.job_id] = record
        self.save()

    @callback
    def drop_printer(self, printer_id: str) -> None:
        """Forget a removed printer's attempts."""
        gone = [j for j, r in self.records.items() if r.printer_id == printer_id]
        for job_id in gone:
            del self.records[job_id]
        if gone:
            self.save()

    def diagnostics(self) -> dict[str, int]:
        """Counts per status."""
        counts: dict[str, int] = {}
        for record in self.records.values():
            counts[record.status] = counts.get(record.status, 0) + 1
        return counts


class AutoDownloader:
    """Downloads the file of each job that starts (while the library entry is loaded)."""

    def __init__(
        self,
        hass: HomeAssistant,
        emitter: EventEmitter,
        *,
        state: AutoDownloadState,
        jobs: JobManager,
        index: FileIndex,
        library: Library,
        downloads: DownloadManager,
        coordinators: Mapping[str, PrinterCoordinator],
        enabled: bool,
        max_bytes: int,
    ) -> None:
        """Initialize the auto-downloader."""
        self._hass = hass
        self._emitter = emitter
        self._state = state
        self._jobs = jobs
        self._index = index
        self._library = library
        self._downloads = downloads
        self._coordinators = coordinators
        self.enabled = enabled
        self.max_bytes = max_bytes
        self._timers: dict[str, CALLBACK_TYPE] = {}
        self._lookups: dict[str, int] = {}
        self._unsub: Callable[[], None] | None = None

    @callback
    def start(self) -> None:
        """Listen for job starts; retry the attempts a restart interrupted (once)."""
        self._unsub = self._hass.bus.async_listen("printernizer_job_started", self._on_job_started)
        for record in list(self._state.records.values()):
            if record.status not in UNFINISHED:
                continue
            if record.attempts >= MAX_ATTEMPTS or not self.enabled:
                self._state.update(record, status=STATUS_FAILED, error="interrupted by a restart")
                continue
            _LOGGER.debug("Retrying the auto-download of job %s after a restart", record.job_id)
            self._state.update(record, status=STATUS_PENDING, attempts=record.attempts + 1)
            self._schedule(record.job_id, 0)

    @callback
    def stop(self) -> None:
        """Stop listening and cancel waiting lookups (running downloads stop with the manager)."""
        if self._unsub is not None:
            self._unsub()
            self._unsub = None
        for cancel in self._timers.values():
            cancel()
        self._timers.clear()

    @callback
    def _on_job_started(self, event: Event) -> None:
        job_id = event.data.get("job_id")
        printer_id = event.data.get("printer_id")
        if not self.enabled or not isinstance(job_id, str) or not printer_id:
            return
        if job_id in self._state.records:
            return  # an attempt for this job exists: never repeated
        coordinator = self._coordinators.get(printer_id)
        if coordinator is None or not isinstance(coordinator.client, PrinterFileClient):
            return
        record = AutoDownloadRecord(job_id=job_id, printer_id=printer_id, status=STATUS_PENDING)
        self._state.update(record)
        self._schedule(job_id, 0)

    @callback
    def _schedule(self, job_id: str, delay: float) -> None:
        if (cancel := self._timers.pop(job_id, None)) is not None:
            cancel()

        @callback
        def run(_now: datetime | None = None) -> None:
            self._timers.pop(job_id, None)
            self._hass.async_create_background_task(
                self._attempt(job_id), f"printernizer auto-download {job_id}"
            )

        if delay <= 0:
            run()
            return
        self._timers[job_id] = async_call_later(
            self._hass, delay, HassJob(run, cancel_on_shutdown=True)
        )

    async def _find(
        self, coordinator: PrinterCoordinator, job_name: str | None
    ) -> RemoteFile | None:
        client = coordinator.client
        assert isinstance(client, PrinterFileClient)
        state = coordinator.data
        if state is None:
            return None
        try:
            remote = await client.async_job_file(state)
        except PrinterError as err:
            _LOGGER.debug(
                "Looking up the job's file on %s failed: %s", coordinator.monitor.name, err
            )
            remote = None
        if remote is not None or not job_name:
            return remote
        # The client did not find it: match the name forms against the index.
        indexed = match_job_file(job_name, self._index.files(coordinator.printer_id))
        if indexed is None:
            return None
        try:
            return await client.async_stat(indexed.path)
        except PrinterError:
            return None

    async def _attempt(self, job_id: str) -> None:
        record = self._state.records.get(job_id)
        if record is None or record.status not in UNFINISHED:
            return
        job = self._jobs.get(job_id)
        job_name = job.job_name if job is not None else record.filename
        coordinator = self._coordinators.get(record.printer_id)
        remote: RemoteFile | None = None
        if coordinator is not None and coordinator.online:
            remote = await self._find(coordinator, job_name)
        if remote is None:
            looks = self._lookups.get(job_id, 0) + 1
            self._lookups[job_id] = looks
            if looks < MAX_LOOKUPS:
                self._schedule(job_id, RETRY_INTERVAL)
                return
            self._lookups.pop(job_id, None)
            reason = (
                "the printer is not reachable"
                if coordinator is None or not coordinator.online
                else "the job's file did not appear on the printer"
            )
            self._fail(record, job_name or "unknown", reason)
            return
        self._lookups.pop(job_id, None)
        assert coordinator is not None
        client = coordinator.client
        assert isinstance(client, PrinterFileClient)
        self._estimates_from_index(job_id, record.printer_id, remote.path)
        filename = remote.name
        if remote.kind == "timelapse" or remote.path.startswith("/image/"):
            self._state.update(record, status=STATUS_SKIPPED, filename=filename, path=remote.path)
            return
        existing = self._library.by_source(record.printer_id, remote.path)
        if existing is not None and (remote.size is None or existing.file_size == remote.size):
            self._link(job_id, existing.checksum)
            self._state.update(
                record,
                status=STATUS_COMPLETED,
                filename=filename,
                path=remote.path,
                checksum=existing.checksum,
            )
            return
        if remote.size is not None and remote.size > self.max_bytes:
            self._fail(
                record,
                filename,
                f"the file ({remote.size / 1024**2:.1f} MB) is larger than the auto-download "
                f"limit ({self.max_bytes / 1024**2:.0f} MB)",
            )
            return
        self._state.update(record, status=STATUS_RUNNING, filename=filename, path=remote.path)
        await self._state.async_flush()  # a restart from here on retries once
        self._emitter.fire(
            "auto_download_triggered",
            {"printer_id": record.printer_id, "filename": filename, "timestamp": timestamp()},
        )
        try:
            result = await self._downloads.async_download(
                printer_id=record.printer_id,
                printer_name=coordinator.monitor.name,
                client=client,
                remote=remote,
                auto=True,
            )
        except DownloadError as err:
            self._fail(record, filename, str(err))
            return
        self._link(job_id, result.file.checksum)
        self._state.update(record, status=STATUS_COMPLETED, checksum=result.file.checksum)

    def _estimates_from_index(self, job_id: str, printer_id: str, path: str) -> None:
        """The job's estimates from what the printer reported for its file (PrusaLink meta)."""
        job = self._jobs.get(job_id)
        indexed = self._index.get(printer_id, path)
        if job is None or indexed is None or not indexed.metadata:
            return
        if job.estimated_print_time is None and job.estimated_filament_g is None:
            print_time, grams = estimates(indexed.metadata)
            self._jobs.set_estimates(job, print_time=print_time, filament_g=grams)

    def _link(self, job_id: str, checksum: str) -> None:
        if (job := self._jobs.get(job_id)) is not None:
            self._jobs.set_library_file(job, checksum)
            # A file already in the library (a reprint) was processed before:
            # its estimates (of the plate the printer prints) are the job's now
            # (a new file gets them when processed).
            coordinator = self._coordinators.get(job.printer_id or "")
            client = coordinator.client if coordinator is not None else None
            plate = client.job_plate() if isinstance(client, PrinterJobPlateClient) else None
            job_estimates_from_library(self._jobs, self._library, job, plate=plate)

    def _fail(self, record: AutoDownloadRecord, filename: str, error: str) -> None:
        self._state.update(record, status=STATUS_FAILED, filename=filename, error=error)
        self._emitter.fire(
            "auto_download_failed",
            {
                "printer_id": record.printer_id,
                "filename": filename,
                "error": error,
                "timestamp": timestamp(),
            },
        )
