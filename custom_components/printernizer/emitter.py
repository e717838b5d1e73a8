"""The one emitter: every Printernizer event reaches the bus through here."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from typing import Any, Literal, cast, overload

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util

from . import contract as c
from .const import ATTR_DEVICE_ID, DOMAIN
from .contract import EVENTS, EventName, Iso8601, validate

_LOGGER = logging.getLogger(__name__)

#: Extra keys beyond the documented payload (the contract allows a superset).
Extra = Mapping[str, Any] | None
#: What :meth:`EventEmitter.fire` returns: the data as fired.
Fired = dict[str, Any]


def with_extra[T: Mapping[str, Any]](payload: T, **extra: Any) -> T:
    """``payload`` (typed, so mypy checks its documented keys) plus extra keys.

    For entries of a payload's lists; at the top level pass ``extra=`` to
    :meth:`EventEmitter.fire`.
    """
    return cast(T, {**payload, **extra})


def timestamp() -> Iso8601:
    """Now, as a contract timestamp (UTC, ISO 8601 with offset)."""
    return Iso8601(dt_util.utcnow().isoformat())


class ContractViolation(Exception):
    """A payload does not match the contract (a bug in Printernizer)."""


class EventEmitter:
    """Fire contract events on the Home Assistant bus and count them.

    ``strict`` makes a contract violation raise (the test suite turns it on);
    in production a violation is logged as an error and the event still fires,
    so automations keep working while the bug is reported.
    """

    #: Class-wide default; the tests set it to True.
    strict_default = False

    def __init__(self, hass: HomeAssistant, *, strict: bool | None = None) -> None:
        """Initialize the emitter."""
        self._hass = hass
        self._strict = self.strict_default if strict is None else strict
        self._counts: Counter[str] = Counter()
        self.started = dt_util.utcnow()

    # One overload per event: mypy checks each payload against its TypedDict
    # and the name against the contract's names.
    @overload
    def fire(
        self,
        name: Literal["printer_connected"],
        payload: c.PrinterConnected,
        *,
        extra: Extra = None,
    ) -> Fired: ...
    @overload
    def fire(
        self,
        name: Literal["printer_disconnected"],
        payload: c.PrinterDisconnected,
        *,
        extra: Extra = None,
    ) -> Fired: ...
    @overload
    def fire(
        self,
        name: Literal["printer_connection_progress"],
        payload: c.PrinterConnectionProgress,
        *,
        extra: Extra = None,
    ) -> Fired: ...
    @overload
    def fire(
        self,
        name: Literal["printer_status_update"],
        payload: c.PrinterStatusUpdate,
        *,
        extra: Extra = None,
    ) -> Fired: ...
    @overload
    def fire(
        self,
        name: Literal["printer_monitoring_started"],
        payload: c.PrinterMonitoringStarted,
        *,
        extra: Extra = None,
    ) -> Fired: ...
    @overload
    def fire(
        self,
        name: Literal["printer_monitoring_stopped"],
        payload: c.PrinterMonitoringStopped,
        *,
        extra: Extra = None,
    ) -> Fired: ...
    @overload
    def fire(
        self, name: Literal["print_paused"], payload: c.PrintPaused, *, extra: Extra = None
    ) -> Fired: ...
    @overload
    def fire(
        self, name: Literal["print_resumed"], payload: c.PrintResumed, *, extra: Extra = None
    ) -> Fired: ...
    @overload
    def fire(
        self, name: Literal["print_stopped"], payload: c.PrintStopped, *, extra: Extra = None
    ) -> Fired: ...
    @overload
    def fire(
        self, name: Literal["files_discovered"], payload: c.FilesDiscovered, *, extra: Extra = None
    ) -> Fired: ...
    @overload
    def fire(
        self,
        name: Literal["file_sync_complete"],
        payload: c.FileSyncComplete,
        *,
        extra: Extra = None,
    ) -> Fired: ...
    @overload
    def fire(
        self, name: Literal["new_files_found"], payload: c.NewFilesFound, *, extra: Extra = None
    ) -> Fired: ...
    @overload
    def fire(
        self,
        name: Literal["file_download_started"],
        payload: c.FileDownloadStarted,
        *,
        extra: Extra = None,
    ) -> Fired: ...
    @overload
    def fire(
        self,
        name: Literal["file_download_complete"],
        payload: c.FileDownloadComplete,
        *,
        extra: Extra = None,
    ) -> Fired: ...
    @overload
    def fire(
        self,
        name: Literal["file_download_failed"],
        payload: c.FileDownloadFailed,
        *,
        extra: Extra = None,
    ) -> Fired: ...
    @overload
    def fire(
        self,
        name: Literal["file_needs_thumbnail_processing"],
        payload: c.FileNeedsThumbnailProcessing,
        *,
        extra: Extra = None,
    ) -> Fired: ...
    @overload
    def fire(
        self,
        name: Literal["file_thumbnails_processed"],
        payload: c.FileThumbnailsProcessed,
        *,
        extra: Extra = None,
    ) -> Fired: ...
    @overload
    def fire(
        self,
        name: Literal["thumbnail_processing_failed"],
        payload: c.ThumbnailProcessingFailed,
        *,
        extra: Extra = None,
    ) -> Fired: ...
    @overload
    def fire(
        self,
        name: Literal["file_metadata_extracted"],
        payload: c.FileMetadataExtracted,
        *,
        extra: Extra = None,
    ) -> Fired: ...
    @overload
    def fire(
        self,
        name: Literal["metadata_extraction_failed"],
        payload: c.MetadataExtractionFailed,
        *,
        extra: Extra = None,
    ) -> Fired: ...
    @overload
    def fire(
        self, name: Literal["file_deleted"], payload: c.FileDeleted, *, extra: Extra = None
    ) -> Fired: ...
    @overload
    def fire(
        self, name: Literal["thumbnail_cached"], payload: c.ThumbnailCached, *, extra: Extra = None
    ) -> Fired: ...
    @overload
    def fire(
        self, name: Literal["file_watcher"], payload: c.FileWatcher, *, extra: Extra = None
    ) -> Fired: ...
    @overload
    def fire(
        self, name: Literal["job_created"], payload: c.JobCreated, *, extra: Extra = None
    ) -> Fired: ...
    @overload
    def fire(
        self, name: Literal["job_started"], payload: c.JobStarted, *, extra: Extra = None
    ) -> Fired: ...
    @overload
    def fire(
        self,
        name: Literal["job_status_changed"],
        payload: c.JobStatusChanged,
        *,
        extra: Extra = None,
    ) -> Fired: ...
    @overload
    def fire(
        self,
        name: Literal["job_progress_updated"],
        payload: c.JobProgressUpdated,
        *,
        extra: Extra = None,
    ) -> Fired: ...
    @overload
    def fire(
        self, name: Literal["job_completed"], payload: c.JobCompleted, *, extra: Extra = None
    ) -> Fired: ...
    @overload
    def fire(
        self, name: Literal["job_deleted"], payload: c.JobDeleted, *, extra: Extra = None
    ) -> Fired: ...
    @overload
    def fire(
        self,
        name: Literal["library_file_added"],
        payload: c.LibraryFileAdded,
        *,
        extra: Extra = None,
    ) -> Fired: ...
    @overload
    def fire(
        self,
        name: Literal["library_file_deleted"],
        payload: c.LibraryFileDeleted,
        *,
        extra: Extra = None,
    ) -> Fired: ...
    @overload
    def fire(
        self, name: Literal["material_created"], payload: c.MaterialCreated, *, extra: Extra = None
    ) -> Fired: ...
    @overload
    def fire(
        self, name: Literal["material_updated"], payload: c.MaterialUpdated, *, extra: Extra = None
    ) -> Fired: ...
    @overload
    def fire(
        self, name: Literal["material_deleted"], payload: c.MaterialDeleted, *, extra: Extra = None
    ) -> Fired: ...
    @overload
    def fire(
        self,
        name: Literal["material_low_stock"],
        payload: c.MaterialLowStock,
        *,
        extra: Extra = None,
    ) -> Fired: ...
    @overload
    def fire(
        self, name: Literal["trending_updated"], payload: c.TrendingUpdated, *, extra: Extra = None
    ) -> Fired: ...
    @overload
    def fire(
        self,
        name: Literal["idea_created_from_trending"],
        payload: c.IdeaCreatedFromTrending,
        *,
        extra: Extra = None,
    ) -> Fired: ...
    @overload
    def fire(
        self, name: Literal["printer_status"], payload: c.PrinterStatus, *, extra: Extra = None
    ) -> Fired: ...
    @overload
    def fire(
        self, name: Literal["job_update"], payload: c.JobUpdate, *, extra: Extra = None
    ) -> Fired: ...
    @overload
    def fire(
        self,
        name: Literal["auto_download_triggered"],
        payload: c.AutoDownloadTriggered,
        *,
        extra: Extra = None,
    ) -> Fired: ...
    @overload
    def fire(
        self,
        name: Literal["auto_download_failed"],
        payload: c.AutoDownloadFailed,
        *,
        extra: Extra = None,
    ) -> Fired: ...

    @callback
    def fire(self, name: EventName, payload: Mapping[str, Any], *, extra: Extra = None) -> Fired:
        """Fire ``printernizer_<name>`` with ``payload``; return the data fired.

        ``extra`` adds keys beyond the documented ones (the contract allows a
        superset). Fills ``timestamp`` (UTC, ISO 8601 with offset) where the
        contract has one and the caller gave none, and ``device_id`` (the
        printer's device) on every event that names a printer, so the device
        page's logbook shows it. Must be called from the event loop.
        """
        spec = EVENTS.get(name)
        if spec is None:
            raise ContractViolation(f"unknown event {name!r}")
        data = dict(payload)
        if extra:
            data.update(extra)
        if spec.has_timestamp and data.get("timestamp") is None:
            data["timestamp"] = timestamp()
        if ATTR_DEVICE_ID not in data and (device_id := self._device_id(data.get("printer_id"))):
            data[ATTR_DEVICE_ID] = device_id
        if problems := validate(name, data):
            if self._strict:
                raise ContractViolation(f"{name}: {'; '.join(problems)}")
            _LOGGER.error("Contract violation in %s (please report): %s", name, problems)
        self._counts[name] += 1
        self._hass.bus.async_fire(spec.event_type, data)
        return data

    def _device_id(self, printer_id: object) -> str | None:
        """The device registry id of a printer (None for no or an unknown printer)."""
        if not isinstance(printer_id, str) or not printer_id:
            return None
        device = dr.async_get(self._hass).async_get_device(identifiers={(DOMAIN, printer_id)})
        return device.id if device is not None else None

    @property
    def counts(self) -> dict[str, int]:
        """Events fired per type since start (every contract event, zeros included)."""
        return {name: self._counts.get(name, 0) for name in EVENTS}

    @property
    def total(self) -> int:
        """All events fired since start."""
        return sum(self._counts.values())

    def status(self) -> dict[str, Any]:
        """The counts as the document's ``get_status()`` reports them."""
        return {
            "started": self.started.isoformat(),
            "total_events": self.total,
            "event_counts": self.counts,
            "event_types": len(EVENTS),
        }
