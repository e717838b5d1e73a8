"""Print jobs: a persistent store, the actions' operations, and tracking from printer state."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Final, cast
from uuid import uuid4

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.util import dt as dt_util

from .. import contract as c
from ..api.models import PrinterState, PrinterStatus
from ..emitter import EventEmitter, timestamp
from .storage import CollectionStore, StoreData

_LOGGER = logging.getLogger(__name__)

STORAGE_KEY: Final = "printernizer.jobs"
#: 2: jobs gained ``library_file_id`` (issue 10, files) and the materials fields (issue 12).
#: The estimate fields of issue 11 (processing) are optional with defaults: version 2
#: records load as is.
STORAGE_VERSION: Final = 2
SAVE_DELAY: Final = 2
#: Dispatcher signal (argument: printer_id) when a job's estimates change.
SIGNAL_JOB_ESTIMATES: Final = "printernizer_job_estimates"
#: Oldest finished jobs are dropped beyond this many.
MAX_JOBS: Final = 1000

JOB_STATUSES: Final = ("pending", "running", "paused", "completed", "failed", "cancelled")
TERMINAL_STATUSES: Final = frozenset({"completed", "failed", "cancelled"})

SOURCE_PRINTER: Final = "printer"
SOURCE_MANUAL: Final = "manual"


@dataclass(slots=True)
class Job:
    """A print job."""

    job_id: str
    printer_id: str | None
    job_name: str
    status: str
    progress: int
    created_at: str
    source: str
    started_at: str | None = None
    ended_at: str | None = None
    printer_job_id: str | None = None
    # --- materials (issue 12; version 2 of the store) ---------------------
    #: Input seam (core/consumption.py): the print's filament from the file's
    #: metadata, in grams: the whole print, and per AMS tray ("0".."15", "254").
    filament_used_g: float | None = None
    filament_used_g_by_tray: dict[str, float] | None = None
    #: What the job used: the materials, grams deducted (scaled by progress
    #: for a failed/cancelled job) and their cost (from cost_per_kg).
    material_ids: list[str] = field(default_factory=list)
    consumed_g: float | None = None
    consumed_cost: float | None = None
    # --- files (issue 10): the job's file in the library, by SHA-256 ---
    library_file_id: str | None = None
    # --- processing (issue 11): the file's slicer estimates (None: unknown) ---
    #: Seconds the slicer estimated for the print.
    estimated_print_time: int | None = None
    #: Grams of filament the slicer estimated (all extruders).
    estimated_filament_g: float | None = None
    #: The same per filament of the file ({slicer filament number: grams}; a 3MF only).
    estimated_filament_g_by_slot: dict[str, float] | None = None
    # --- materials: the tray that fed each filament (index: filament number - 1;
    # -1 none), from the printer (Bambu's ``project_file`` ``ams_mapping``).
    tray_mapping: list[int] | None = None

    @property
    def is_active(self) -> bool:
        """Return True while the job has not ended."""
        return self.status not in TERMINAL_STATUSES

    def as_dict(self) -> dict[str, Any]:
        """Return the job as a plain dict (storage, responses)."""
        return asdict(self)


class JobManager:
    """Owns every job; fires the job lifecycle events.

    Jobs with ``source == "printer"`` are created and ended by :meth:`track`
    from what printers do; manual jobs only change through the actions.
    """

    def __init__(self, hass: HomeAssistant, emitter: EventEmitter) -> None:
        """Initialize the manager."""
        self._hass = hass
        self._emitter = emitter
        self._store = CollectionStore(
            hass,
            STORAGE_KEY,
            STORAGE_VERSION,
            migrations={1: _migrate_v1},
            save_delay=SAVE_DELAY,
        )
        self._jobs: dict[str, Job] = {}
        #: printer_id -> its active printer-tracked job, and its newest job: asked
        #: on every printer report (tracking, the estimate sensors, the preview),
        #: so kept instead of scanning up to MAX_JOBS jobs each time. Rebuilt
        #: whenever a job is added, removed or changes status (rare).
        self._active_by_printer: dict[str, Job] = {}
        self._newest_by_printer: dict[str, Job] = {}
        #: printer_id -> the print whose job the user ended or deleted while the
        #: printer was still on it: tracking does not make a new job for it.
        self._closed_by_user: dict[str, str] = {}

    async def async_load(self) -> None:
        """Load jobs saved by an earlier run."""
        data = await self._store.async_load()
        if not data:
            return
        for raw in data.get("jobs", []):
            try:
                job = Job(**raw)
            except TypeError:
                _LOGGER.warning("Ignoring a malformed stored job: %s", raw)
                continue
            self._jobs[job.job_id] = job
        self._reindex()

    def _reindex(self) -> None:
        """Rebuild the per-printer look-ups (active job, newest job) from every job."""
        active: dict[str, Job] = {}
        newest: dict[str, Job] = {}
        for job in self._jobs.values():
            printer_id = job.printer_id
            if printer_id is None:
                continue
            if job.source == SOURCE_PRINTER and job.is_active and printer_id not in active:
                active[printer_id] = job
            last = newest.get(printer_id)
            if last is None or job.created_at > last.created_at:
                newest[printer_id] = job
        self._active_by_printer, self._newest_by_printer = active, newest

    @callback
    def _save(self) -> None:
        self._store.schedule_save(self._data_to_save)

    @callback
    def _data_to_save(self) -> dict[str, Any]:
        return {"jobs": [job.as_dict() for job in self._jobs.values()]}

    # --- queries ------------------------------------------------------------

    def get(self, job_id: str) -> Job | None:
        """Return a job by id."""
        return self._jobs.get(job_id)

    def jobs(self, printer_id: str | None = None, status: str | None = None) -> list[Job]:
        """Return jobs, newest first, optionally for one printer and/or status."""
        found: Iterable[Job] = self._jobs.values()
        if printer_id is not None:
            found = (j for j in found if j.printer_id == printer_id)
        if status is not None:
            found = (j for j in found if j.status == status)
        return sorted(found, key=lambda j: j.created_at, reverse=True)

    def active_jobs(self) -> list[Job]:
        """Return every job that has not ended."""
        return [job for job in self._jobs.values() if job.is_active]

    def current_or_last(self, printer_id: str) -> Job | None:
        """The printer's active job, else its newest job (None when it has none)."""
        if (job := self.printer_job(printer_id)) is not None:
            return job
        return self._newest_by_printer.get(printer_id)

    def printer_job(self, printer_id: str) -> Job | None:
        """Return the active printer-tracked job of a printer."""
        return self._active_by_printer.get(printer_id)

    # --- operations (each fires its events) --------------------------------

    @callback
    def create(
        self,
        printer_id: str | None,
        job_name: str,
        *,
        source: str = SOURCE_MANUAL,
        printer_job_id: str | None = None,
    ) -> Job:
        """Create a pending job; fires job_created."""
        job = Job(
            job_id=uuid4().hex,
            printer_id=printer_id,
            job_name=job_name,
            status="pending",
            progress=0,
            created_at=dt_util.utcnow().isoformat(),
            source=source,
            printer_job_id=printer_job_id,
        )
        self._jobs[job.job_id] = job
        self._prune()
        self._reindex()
        self._save()
        self._emitter.fire(
            "job_created",
            {
                "job_id": job.job_id,
                "printer_id": printer_id or "",
                "job_name": job_name,
                "timestamp": timestamp(),
            },
        )
        return job

    @callback
    def set_status(self, job: Job, status: str, *, reason: str | None = None) -> None:
        """Change a job's status; fires job_status_changed, job_started, job_completed.

        ``reason`` goes into job_completed as an extra key (``interrupted``).
        """
        if status not in JOB_STATUSES:
            raise ValueError(f"invalid job status {status!r}")
        if status == job.status:
            return
        now = dt_util.utcnow().isoformat()
        was_active = job.is_active
        job.status = status
        if job.is_active != was_active:
            self._reindex()
        if status == "running" and job.started_at is None:
            job.started_at = now
            started = True
        else:
            started = False
        if status in TERMINAL_STATUSES:
            job.ended_at = now
            self._remember_closed(job)
            if status == "completed" and job.progress < 100:
                job.progress = 100
        else:
            job.ended_at = None
        self._save()
        checked = cast(c.JobStatus, status)  # checked against JOB_STATUSES above
        self._emitter.fire(
            "job_status_changed",
            {"job_id": job.job_id, "status": checked, "timestamp": timestamp()},
            extra={"printer_id": job.printer_id},
        )
        if started:
            self._emitter.fire(
                "job_started",
                {
                    "job_id": job.job_id,
                    "printer_id": job.printer_id or "",
                    "job_name": job.job_name,
                    "timestamp": timestamp(),
                },
            )
        if status in TERMINAL_STATUSES:
            self._emitter.fire(
                "job_completed",
                {
                    "job_id": job.job_id,
                    "printer_id": job.printer_id or "",
                    "job_name": job.job_name,
                    "status": cast(c.TerminalJobStatus, status),  # in TERMINAL_STATUSES
                    "timestamp": timestamp(),
                },
                extra={"reason": reason} if reason is not None else None,
            )

    @callback
    def set_progress(self, job: Job, progress: int) -> None:
        """Set a job's progress (whole percent); fires job_progress_updated on change."""
        progress = max(0, min(100, int(progress)))
        if progress == job.progress:
            return
        job.progress = progress
        self._save()
        self._emitter.fire(
            "job_progress_updated",
            {"job_id": job.job_id, "progress": progress, "timestamp": timestamp()},
            extra={"printer_id": job.printer_id},
        )

    @callback
    def delete(self, job_id: str) -> Job | None:
        """Delete a job; fires job_deleted. Returns the deleted job (None if unknown)."""
        job = self._jobs.pop(job_id, None)
        if job is None:
            return None
        self._reindex()
        if job.is_active:
            self._remember_closed(job)
        self._save()
        self._emitter.fire(
            "job_deleted",
            {"job_id": job_id, "timestamp": timestamp()},
            extra={"printer_id": job.printer_id},
        )
        return job

    def _end_unseen(self, job: Job) -> None:
        """End a job whose end the printer did not report (it came back without it).

        At 100 % it completed; otherwise nobody is known to have cancelled
        it: it failed, ``reason: interrupted``.
        """
        if job.progress >= 100:
            self.set_status(job, "completed")
        else:
            self.set_status(job, "failed", reason="interrupted")

    @callback
    def add_consumption(
        self, job: Job, used: Mapping[str, float], cost: float | None = None
    ) -> None:
        """Record filament a job used (material id -> grams) and its cost."""
        for material_id in used:
            if material_id not in job.material_ids:
                job.material_ids.append(material_id)
        job.consumed_g = round((job.consumed_g or 0.0) + sum(used.values()), 2)
        if cost is not None:
            job.consumed_cost = round((job.consumed_cost or 0.0) + cost, 2)
        self._save()

    @callback
    def set_library_file(self, job: Job, checksum: str | None) -> None:
        """Link a job to its file in the library (no event: the download fired its own)."""
        if job.library_file_id == checksum:
            return
        job.library_file_id = checksum
        self._save()

    @callback
    def set_estimates(
        self,
        job: Job,
        *,
        print_time: int | None,
        filament_g: float | None,
        filament_g_by_slot: dict[str, float] | None = None,
    ) -> bool:
        """Store the file's slicer estimates on a job (no event); True when they changed."""
        new = (print_time, filament_g, filament_g_by_slot)
        if (
            job.estimated_print_time,
            job.estimated_filament_g,
            job.estimated_filament_g_by_slot,
        ) == new:
            return False
        job.estimated_print_time = print_time
        job.estimated_filament_g = filament_g
        job.estimated_filament_g_by_slot = filament_g_by_slot
        self._save()
        async_dispatcher_send(self._hass, SIGNAL_JOB_ESTIMATES, job.printer_id)
        return True

    @callback
    def set_tray_mapping(self, job: Job, mapping: Iterable[int] | None) -> None:
        """Store which tray fed each of the job's filaments (no event)."""
        new = list(mapping) if mapping is not None else None
        if job.tray_mapping == new:
            return
        job.tray_mapping = new
        self._save()

    def _remember_closed(self, job: Job) -> None:
        if job.source == SOURCE_PRINTER and job.printer_id is not None:
            self._closed_by_user[job.printer_id] = job.printer_job_id or job.job_name

    def _prune(self) -> None:
        if len(self._jobs) <= MAX_JOBS:
            return
        ended = sorted(
            (j for j in self._jobs.values() if not j.is_active), key=lambda j: j.created_at
        )
        for job in ended[: len(self._jobs) - MAX_JOBS]:
            del self._jobs[job.job_id]

    # --- tracking from printer state ---------------------------------------

    @callback
    def track(self, printer_id: str, state: PrinterState) -> None:
        """Create, advance and end the printer's job from its normalized state."""
        if state.status is PrinterStatus.OFFLINE:
            # A printer that goes away mid-print keeps its job: it continues
            # when the printer is back.
            return
        job = self.printer_job(printer_id)
        if (
            state.is_active
            and job is None
            and (
                not has_job(state)  # busy without a job (calibration, preheat)
                or self._closed_by_user.get(printer_id)
                == (state.printer_job_id or state.job_name or "Unknown job")
            )
        ):
            return
        if state.is_active:
            if job is not None and not _same_job(job, state):
                self._end_unseen(job)
                job = None
            if job is None:
                job = self.create(
                    printer_id,
                    state.job_name or "Unknown job",
                    source=SOURCE_PRINTER,
                    printer_job_id=state.printer_job_id,
                )
            elif job.printer_job_id is None and state.printer_job_id:
                job.printer_job_id = state.printer_job_id
            status = {
                PrinterStatus.PREPARING: job.status if job.status != "paused" else "running",
                PrinterStatus.PRINTING: "running",
                PrinterStatus.PAUSED: "paused",
            }[state.status]
            self.set_status(job, status)
            if state.status is not PrinterStatus.PREPARING:
                self.set_progress(job, state.progress)
            return
        if job is not None:
            if state.status is PrinterStatus.FINISHED:
                self.set_status(job, "completed")
            elif state.cancelled or state.status is PrinterStatus.CANCELLED:
                self.set_status(job, "cancelled")
            elif state.status in (PrinterStatus.FAILED, PrinterStatus.ERROR):
                self.set_status(job, "failed")
            else:  # idle: the end was not seen
                self._end_unseen(job)
        # The printer left that print: a new print of the same file is a new job.
        self._closed_by_user.pop(printer_id, None)


def _migrate_v1(data: StoreData) -> StoreData:
    """Version 1 -> 2: jobs gain the file link (issue 10) and the materials fields (issue 12)."""
    for raw in data.get("jobs", []):
        if isinstance(raw, dict):
            raw.setdefault("library_file_id", None)
            raw.setdefault("filament_used_g", None)
            raw.setdefault("filament_used_g_by_tray", None)
            raw.setdefault("material_ids", [])
            raw.setdefault("consumed_g", None)
            raw.setdefault("consumed_cost", None)
    return data


def has_job(state: PrinterState) -> bool:
    """Whether the printer names a job (preparing without one is not a print)."""
    return state.job_name is not None or state.printer_job_id is not None


def _same_job(job: Job, state: PrinterState) -> bool:
    if job.printer_job_id and state.printer_job_id:
        return job.printer_job_id == state.printer_job_id
    if job.job_name and state.job_name:
        return job.job_name == state.job_name
    return True
