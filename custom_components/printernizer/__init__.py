"""Printernizer: Bambu Lab and Prusa printers, print jobs and the Printernizer event contract."""

from __future__ import annotations

import logging

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.typing import ConfigType

from . import clients
from .const import CONF_FAMILY, CONF_INSECURE_TLS, DOMAIN
from .core.autodownload import AutoDownloadState
from .core.background import BackgroundMonitor
from .core.coordinator import PrinterCoordinator
from .core.files import FileDiscovery, FileIndex
from .core.jobs import JobManager
from .core.monitor import PrinterMonitor
from .discovery import async_start_discovery
from .emitter import EventEmitter
from .library_entry import (
    async_offer_library_entry,
    async_setup_library_entry,
    async_unload_library_entry,
    is_library_entry,
)
from .runtime import DATA_KEY, LibraryConfigEntry, PrinternizerConfigEntry, PrinternizerData
from .services import async_setup_services

_LOGGER = logging.getLogger(__name__)

# Printers are added from the UI. An empty ``printernizer:`` in configuration.yaml
# loads the integration before the first printer, so discovery can find it.
CONFIG_SCHEMA = cv.empty_config_schema(DOMAIN)
PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.IMAGE,
    Platform.SENSOR,
]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Set up what every printer shares: the emitter, jobs, background monitoring, actions."""
    emitter = EventEmitter(hass)
    jobs = JobManager(hass, emitter)
    await jobs.async_load()
    file_index = FileIndex(hass)
    await file_index.async_load()
    auto_downloads = AutoDownloadState(hass)
    await auto_downloads.async_load()
    coordinators: dict[str, PrinterCoordinator] = {}
    hass.data[DATA_KEY] = PrinternizerData(
        emitter=emitter,
        jobs=jobs,
        background=BackgroundMonitor(hass, emitter, jobs, coordinators),
        file_index=file_index,
        file_discovery=FileDiscovery(hass, emitter, file_index),
        auto_downloads=auto_downloads,
        coordinators=coordinators,
    )
    async_setup_services(hass)
    hass.data[DATA_KEY].discovery = await async_start_discovery(hass)
    return True


async def async_setup_entry(
    hass: HomeAssistant, entry: PrinternizerConfigEntry | LibraryConfigEntry
) -> bool:
    """Set up the library entry, or connect to one printer and start monitoring it."""
    if is_library_entry(entry):
        return await async_setup_library_entry(hass, entry)  # type: ignore[arg-type]
    return await _async_setup_printer_entry(hass, entry)  # type: ignore[arg-type]


async def _async_setup_printer_entry(hass: HomeAssistant, entry: PrinternizerConfigEntry) -> bool:
    """Connect to one printer and start monitoring it."""
    data = hass.data[DATA_KEY]
    client = clients.create_client(hass, dict(entry.data), dict(entry.options))
    monitor = PrinterMonitor(
        hass,
        data.emitter,
        data.jobs,
        printer_id=entry.unique_id or entry.entry_id,
        name=entry.title,
        family=entry.data[CONF_FAMILY],
    )
    _update_insecure_tls_issue(hass, entry)
    coordinator = PrinterCoordinator(hass, entry, client, monitor)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = coordinator
    data.coordinators[coordinator.printer_id] = coordinator
    monitor.started()
    data.background.start()
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    options = dict(entry.options)

    async def _reload_on_options(hass: HomeAssistant, entry: PrinternizerConfigEntry) -> None:
        # Reauth and reconfigure reload the entry themselves; options do not.
        if dict(entry.options) != options:
            await hass.config_entries.async_reload(entry.entry_id)

    entry.async_on_unload(entry.add_update_listener(_reload_on_options))
    async_offer_library_entry(hass)
    return True


def _update_insecure_tls_issue(hass: HomeAssistant, entry: PrinternizerConfigEntry) -> None:
    """Raise a repair issue while a printer's TLS certificate is not verified."""
    issue_id = f"insecure_tls_{entry.entry_id}"
    if entry.options.get(CONF_INSECURE_TLS):
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="insecure_tls",
            translation_placeholders={"name": entry.title},
        )
    else:
        ir.async_delete_issue(hass, DOMAIN, issue_id)


async def async_remove_entry(
    hass: HomeAssistant, entry: PrinternizerConfigEntry | LibraryConfigEntry
) -> None:
    """Forget the printer's repair issue, file index and auto-download state.

    Its files in the library stay (their source keeps the printer's name).
    """
    ir.async_delete_issue(hass, DOMAIN, f"insecure_tls_{entry.entry_id}")
    if is_library_entry(entry) or DATA_KEY not in hass.data:
        return
    printer_id = entry.unique_id or entry.entry_id
    data = hass.data[DATA_KEY]
    data.file_index.drop_printer(printer_id)
    data.auto_downloads.drop_printer(printer_id)


async def async_unload_entry(
    hass: HomeAssistant, entry: PrinternizerConfigEntry | LibraryConfigEntry
) -> bool:
    """Stop the library, or stop monitoring a printer (its coordinator disconnects it)."""
    if is_library_entry(entry):
        return await async_unload_library_entry(hass, entry)  # type: ignore[arg-type]
    return await _async_unload_printer_entry(hass, entry)  # type: ignore[arg-type]


async def _async_unload_printer_entry(hass: HomeAssistant, entry: PrinternizerConfigEntry) -> bool:
    """Stop monitoring a printer (the coordinator's shutdown disconnects it)."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        data = hass.data[DATA_KEY]
        data.coordinators.pop(entry.runtime_data.printer_id, None)
        if not data.coordinators:
            data.background.stop()
    return unloaded
