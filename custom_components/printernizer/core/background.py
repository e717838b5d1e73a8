"""Background monitoring: periodic printer_status (30 s) and job_update (10 s) events."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval

from .. import contract as c
from ..const import JOB_UPDATE_INTERVAL, PRINTER_STATUS_INTERVAL
from ..contract import Iso8601
from ..emitter import EventEmitter, timestamp, with_extra
from .jobs import JobManager
from .monitor import temperature_payload

if TYPE_CHECKING:  # pragma: no cover
    from .coordinator import PrinterCoordinator


class BackgroundMonitor:
    """Fires the background monitoring events while at least one printer is set up."""

    def __init__(
        self,
        hass: HomeAssistant,
        emitter: EventEmitter,
        jobs: JobManager,
        coordinators: Mapping[str, PrinterCoordinator],
    ) -> None:
        """Initialize the background monitor."""
        self._hass = hass
        self._emitter = emitter
        self._jobs = jobs
        self._coordinators = coordinators
        self._unsubs: list[Callable[[], None]] = []
        self._printer_snapshot: dict[str, str] = {}
        self._job_snapshot: dict[str, tuple[str, int]] = {}

    @callback
    def start(self) -> None:
        """Schedule the periodic checks (idempotent)."""
        if self._unsubs:
            return
        # Every printer starts as "unknown": the first printer_status lists
        # each one's change (not only of those set up after the first).
        self._printer_snapshot = {}
        self._job_snapshot = {j.job_id: (j.status, j.progress) for j in self._jobs.active_jobs()}
        self._unsubs = [
            async_track_time_interval(
                self._hass,
                self._printer_tick,
                timedelta(seconds=PRINTER_STATUS_INTERVAL),
                name="printernizer printer_status",
                cancel_on_shutdown=True,
            ),
            async_track_time_interval(
                self._hass,
                self._job_tick,
                timedelta(seconds=JOB_UPDATE_INTERVAL),
                name="printernizer job_update",
                cancel_on_shutdown=True,
            ),
        ]

    @callback
    def stop(self) -> None:
        """Cancel the periodic checks."""
        while self._unsubs:
            self._unsubs.pop()()

    @callback
    def _printer_tick(self, _now: datetime | None = None) -> None:
        now = timestamp()
        printers: list[c.PrinterStatusPrintersItem] = []
        changes: list[c.PrinterStatusStatusChangesItem] = []
        snapshot: dict[str, str] = {}
        for printer_id, coordinator in self._coordinators.items():
            monitor = coordinator.monitor
            state = coordinator.data
            status: c.OnlineStatus = "online" if coordinator.online else "offline"
            snapshot[printer_id] = status
            entry: c.PrinterStatusPrintersItem = {
                "printer_id": printer_id,
                "name": monitor.name,
                "type": monitor.family,
                "status": status,
                "temperature": temperature_payload(state) if state else {},
                "progress": int(state.progress) if state else 0,
                "current_job": state.job_name if state and state.is_active else None,
                # set when the printer first connected, before it was added here
                "last_seen": Iso8601((monitor.last_seen or self._emitter.started).isoformat()),
            }
            printers.append(
                with_extra(entry, printer_status=state.status.value if state else "offline")
            )
            old = self._printer_snapshot.get(printer_id, "unknown")
            if old != status:
                changes.append(
                    {
                        "printer_id": printer_id,
                        "old_status": old,
                        "new_status": status,
                        "timestamp": now,
                    }
                )
        self._printer_snapshot = snapshot
        self._emitter.fire(
            "printer_status",
            {"timestamp": now, "printers": printers, "status_changes": changes},
        )

    @callback
    def _job_tick(self, _now: datetime | None = None) -> None:
        now = timestamp()
        updates: list[c.JobUpdateJobUpdatesItem] = []
        snapshot: dict[str, tuple[str, int]] = {}
        active = self._jobs.active_jobs()
        candidates = {job.job_id: job for job in active}
        # Jobs that ended since the last tick are reported once more.
        for job_id in self._job_snapshot:
            if job_id not in candidates and (job := self._jobs.get(job_id)) is not None:
                candidates[job_id] = job
        for job in candidates.values():
            if job.is_active:
                snapshot[job.job_id] = (job.status, job.progress)
            old = self._job_snapshot.get(job.job_id)
            if old == (job.status, job.progress):
                continue
            update: c.JobUpdateJobUpdatesItem = {
                "job_id": job.job_id,
                "printer_id": job.printer_id or "",
                "job_name": job.job_name,
                "status": job.status,
                "progress": job.progress,
                "timestamp": now,
            }
            if old is None or old[0] != job.status:
                update["old_status"] = old[0] if old else None
                update["new_status"] = job.status
            if old is None or old[1] != job.progress:
                update["old_progress"] = old[1] if old else None
                update["new_progress"] = job.progress
            updates.append(update)
        self._job_snapshot = snapshot
        self._emitter.fire(
            "job_update",
            {"timestamp": now, "active_jobs": len(active), "job_updates": updates},
        )
