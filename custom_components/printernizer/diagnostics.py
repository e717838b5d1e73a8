"""Diagnostics: configuration (secrets redacted), state, client facts, event counts."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_HOST, CONF_PASSWORD
from homeassistant.core import HomeAssistant

from .api.models import state_as_dict
from .const import CONF_ACCESS_CODE, CONF_SERIAL
from .library_entry import is_library_entry
from .runtime import DATA_KEY, LibraryConfigEntry, PrinternizerConfigEntry

TO_REDACT = {
    CONF_ACCESS_CODE,
    CONF_PASSWORD,
    CONF_SERIAL,
    "api_key",
    "password",
    "access_code",
    "serial",
    "sn",
    "printer_id",
    "unique_id",
    "serial_number",
    CONF_HOST,
    "base_url",
    "url",
    "ip",
    "mac",
    "hostname",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: PrinternizerConfigEntry | LibraryConfigEntry
) -> dict[str, Any]:
    """Return diagnostics for a printer or the library."""
    if is_library_entry(entry):
        return _library_diagnostics(hass, entry)  # type: ignore[arg-type]
    return _printer_diagnostics(hass, entry)  # type: ignore[arg-type]


def _library_diagnostics(hass: HomeAssistant, entry: LibraryConfigEntry) -> dict[str, Any]:
    """The library's settings and each area's store summary (counts, no secrets)."""
    runtime = entry.runtime_data
    data = hass.data[DATA_KEY]
    return async_redact_data(
        {
            "entry": {"title": entry.title, "options": dict(entry.options)},
            "settings": runtime.settings.as_diagnostics(),
            # files (issue 10): counts only, no file names
            "library": runtime.library.diagnostics() if runtime.library else None,
            "file_index": data.file_index.diagnostics(),
            "auto_download": data.auto_downloads.diagnostics(),
            "materials": runtime.materials.diagnostics() if runtime.materials else None,
            "trending": runtime.trending.diagnostics() if runtime.trending else None,
            "ideas": runtime.ideas.diagnostics() if runtime.ideas else None,
            "events": hass.data[DATA_KEY].emitter.status(),
            # processing (issue 11): queue counts, the watch folders
            "processing": runtime.processor.diagnostics() if runtime.processor else None,
            "watch_folders": runtime.watch.diagnostics() if runtime.watch else None,
        },
        TO_REDACT,
    )


def _printer_diagnostics(hass: HomeAssistant, entry: PrinternizerConfigEntry) -> dict[str, Any]:
    """Return diagnostics for a printer."""
    coordinator = entry.runtime_data
    data = hass.data[DATA_KEY]
    state = coordinator.data
    return async_redact_data(
        {
            "entry": {
                "title": entry.title,
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            "online": coordinator.online,
            "state": state_as_dict(state) if state is not None else None,
            "client": coordinator.client.diagnostics(),
            # files (issue 10): how many are indexed, when last listed (no names)
            "files": {
                "count": data.file_index.count(coordinator.printer_id),
                "last_discovery": data.file_index.last_discovery(coordinator.printer_id),
            },
            "jobs": [
                job.as_dict() for job in data.jobs.jobs(printer_id=coordinator.printer_id)[:20]
            ],
            "events": data.emitter.status(),
        },
        TO_REDACT,
    )
