"""Logbook: Printernizer's events in words ("Print paused", "Job completed (failed)").

Printer events carry ``device_id`` (added by the emitter), so the device page's
logbook shows them too. The four periodic or per-update events (status
updates, job progress, the 30 s and 10 s background checks) are not described:
they would bury everything else, as an entity's every state does not either.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.components.logbook.const import LOGBOOK_ENTRY_MESSAGE, LOGBOOK_ENTRY_NAME
from homeassistant.core import Event, HomeAssistant, callback

from .contract import BUS_PREFIX, EVENTS
from .runtime import DATA_KEY

#: Not in the logbook: they fire every few seconds while anything happens.
NOT_LOGGED: frozenset[str] = frozenset(
    {"printer_status_update", "job_progress_updated", "printer_status", "job_update"}
)

type Describe = Callable[[Mapping[str, Any]], str]


def _get(data: Mapping[str, Any], key: str, default: str = "?") -> str:
    value = data.get(key)
    return default if value is None or value == "" else str(value)


def _material_name(data: Mapping[str, Any]) -> str:
    material = data.get("material")
    if isinstance(material, Mapping):
        for key in ("name", "material_name", "brand", "material_type", "id"):
            if material.get(key):
                return str(material[key])
    return "?"


def _files_discovered(data: Mapping[str, Any]) -> str:
    new = data.get("new_files")
    if isinstance(new, list):
        new = data.get("total_new_files", len(new))
    return f"Files discovered: {new if new is not None else '?'} new"


def _connection_progress(data: Mapping[str, Any]) -> str:
    message = data.get("message")
    return f"Connection: {_get(data, 'status')}" + (f" ({message})" if message else "")


MESSAGES: dict[str, Describe] = {
    "printer_connected": lambda d: "Printer connected",
    "printer_disconnected": lambda d: "Printer disconnected",
    "printer_connection_progress": _connection_progress,
    "printer_status_update": lambda d: f"Status: {_get(d, 'status')}",
    "printer_monitoring_started": lambda d: "Monitoring started",
    "printer_monitoring_stopped": lambda d: "Monitoring stopped",
    "print_paused": lambda d: "Print paused",
    "print_resumed": lambda d: "Print resumed",
    "print_stopped": lambda d: "Print stopped",
    "files_discovered": _files_discovered,
    "file_sync_complete": lambda d: (
        f"File sync complete: {_get(d, 'files_added')} added, "
        f"{_get(d, 'files_removed')} removed, {_get(d, 'total_files')} in total"
    ),
    "new_files_found": lambda d: f"New files found: {_get(d, 'count')}",
    "file_download_started": lambda d: f"Download started: {_get(d, 'filename')}",
    "file_download_complete": lambda d: f"Downloaded: {_get(d, 'filename')}",
    "file_download_failed": lambda d: (
        f"Download failed: {_get(d, 'filename')} ({_get(d, 'error')})"
    ),
    "file_needs_thumbnail_processing": lambda d: f"Thumbnails to extract: {_get(d, 'file_path')}",
    "file_thumbnails_processed": lambda d: f"Thumbnails extracted: {_get(d, 'file_path')}",
    "thumbnail_processing_failed": lambda d: f"Thumbnail extraction failed: {_get(d, 'error')}",
    "file_metadata_extracted": lambda d: f"Metadata read: {_get(d, 'file_path')}",
    "metadata_extraction_failed": lambda d: f"Metadata extraction failed: {_get(d, 'error')}",
    "file_deleted": lambda d: f"File deleted: {_get(d, 'filename')}",
    "thumbnail_cached": lambda d: f"Thumbnail cached from {_get(d, 'source_type')}",
    "file_watcher": lambda d: f"Watched folder: {_get(d, 'path')} {_get(d, 'event_type')}",
    "job_created": lambda d: f"Job created: {_get(d, 'job_name')}",
    "job_started": lambda d: f"Job started: {_get(d, 'job_name')}",
    "job_status_changed": lambda d: f"Job status changed to {_get(d, 'status')}",
    "job_progress_updated": lambda d: f"Job progress: {_get(d, 'progress')} %",
    "job_completed": lambda d: f"Job completed ({_get(d, 'status')}): {_get(d, 'job_name')}",
    "job_deleted": lambda d: "Job deleted",
    "library_file_added": lambda d: f"Added to the library: {_get(d, 'filename')}",
    "library_file_deleted": lambda d: f"Removed from the library: {_get(d, 'filename')}",
    "material_created": lambda d: f"Spool added: {_material_name(d)}",
    "material_updated": lambda d: f"Spool updated: {_material_name(d)}",
    "material_deleted": lambda d: "Spool deleted",
    "material_low_stock": lambda d: (
        f"Filament low: {_get(d, 'material_name')} ({_get(d, 'remaining_percentage')} % left)"
    ),
    "trending_updated": lambda d: (
        "Trending models updated: " + ", ".join(str(p) for p in d.get("platforms") or [])
    ),
    "idea_created_from_trending": lambda d: (
        f"Idea created from a trending model on {_get(d, 'platform')}"
    ),
    "printer_status": lambda d: "Printer status checked",
    "job_update": lambda d: f"Jobs checked: {_get(d, 'active_jobs')} active",
    "auto_download_triggered": lambda d: f"Auto-download started: {_get(d, 'filename')}",
    "auto_download_failed": lambda d: (
        f"Auto-download failed: {_get(d, 'filename')} ({_get(d, 'error')})"
    ),
}


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, str]]], None],
) -> None:
    """Describe every Printernizer event but the periodic ones."""

    def printer_name(data: Mapping[str, Any]) -> str:
        printer_id = data.get("printer_id")
        runtime = hass.data.get(DATA_KEY)
        coordinator = runtime.coordinators.get(printer_id) if runtime and printer_id else None
        if coordinator is not None:
            return coordinator.monitor.name
        name = data.get("name")
        return name if isinstance(name, str) and name else "Printernizer"

    def describer(name: str) -> Callable[[Event], dict[str, str]]:
        message = MESSAGES[name]

        @callback
        def describe(event: Event) -> dict[str, str]:
            data = event.data
            return {LOGBOOK_ENTRY_NAME: printer_name(data), LOGBOOK_ENTRY_MESSAGE: message(data)}

        return describe

    for name in EVENTS:
        if name not in NOT_LOGGED:
            async_describe_event("printernizer", f"{BUS_PREFIX}{name}", describer(name))
