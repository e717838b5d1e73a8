"""Printernizer: Bambu Lab and Prusa printers, print jobs and the Printernizer event contract."""

from __future__ import annotations

import logging

from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.typing import ConfigType

from . import clients
from .const import (
    CONF_FAMILY,
    CONF_INSECURE_TLS,
    DOMAIN,
    LIBRARY_UNIQUE_ID,
    MATERIALS_DEVICE_ID,
    SIGNAL_PRINTER_LOADED,
)
from .core.autodownload import AutoDownloadState
from .core.background import BackgroundMonitor
from .core.coordinator import PrinterCoordinator
from .core.files import FileDiscovery, FileIndex
from .core.jobs import JobManager
from .core.monitor import PrinterMonitor, StopReason
from .discovery import async_start_discovery
from .emitter import EventEmitter
from .entity import async_update_device
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
    Platform.LIGHT,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.UPDATE,
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
    # A reload: the old monitor reports its end before the new one starts.
    _report_stop(hass, entry.entry_id, "reload")
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
    async_update_device(hass, coordinator)  # before the first events, which name it
    await coordinator.async_config_entry_first_refresh()
    async_update_device(hass, coordinator)
    entry.async_on_unload(
        coordinator.async_add_listener(lambda: async_update_device(hass, coordinator))
    )
    entry.runtime_data = coordinator
    data.coordinators[coordinator.printer_id] = coordinator
    async_dispatcher_send(hass, SIGNAL_PRINTER_LOADED, coordinator)
    monitor.started()
    data.background.start()
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    options = dict(entry.options)

    async def _reload_on_options(hass: HomeAssistant, entry: PrinternizerConfigEntry) -> None:
        # Reauth and reconfigure reload the entry themselves; options do not.
        if dict(entry.options) != options:
            await hass.config_entries.async_reload(entry.entry_id)

    entry.async_on_unload(entry.add_update_listener(_reload_on_options))

    async def _on_stop(_event: Event) -> None:
        # Home Assistant does not unload entries when it stops.
        monitor.stopped("shutdown")
        await client.async_disconnect()

    entry.async_on_unload(hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, _on_stop))
    async_offer_library_entry(hass)
    return True


@callback
def _report_stop(hass: HomeAssistant, entry_id: str, reason: StopReason) -> None:
    """Fire the stop events of an unloaded entry, if they are still waiting."""
    if (monitor := hass.data[DATA_KEY].stopping.pop(entry_id, None)) is not None:
        monitor.stopped(reason)


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
    """Report the end of monitoring as a removal; forget the printer's repair issue.

    Its materials stay, not loaded; its file index and auto-download state go,
    its files in the library stay (their source keeps the printer's name).
    """
    if DATA_KEY in hass.data:
        _report_stop(hass, entry.entry_id, "removed")
    ir.async_delete_issue(hass, DOMAIN, f"insecure_tls_{entry.entry_id}")
    if not is_library_entry(entry):
        library = hass.data[DATA_KEY].library
        if library is not None and library.materials is not None:
            library.materials.printer_removed(entry.unique_id or entry.entry_id)

    if not is_library_entry(entry) and DATA_KEY in hass.data:
        # its file index and auto-download state go; its library files stay
        printer_id = entry.unique_id or entry.entry_id
        hass.data[DATA_KEY].file_index.drop_printer(printer_id)
        hass.data[DATA_KEY].auto_downloads.drop_printer(printer_id)


async def async_remove_config_entry_device(
    hass: HomeAssistant,
    entry: PrinternizerConfigEntry | LibraryConfigEntry,
    device: dr.DeviceEntry,
) -> bool:
    """Let the user remove a stale device (not the library's, materials' or a live printer's)."""
    live = {
        LIBRARY_UNIQUE_ID,
        MATERIALS_DEVICE_ID,
        entry.unique_id,
        *hass.data[DATA_KEY].coordinators,
    }
    return not any(domain == DOMAIN and ident in live for domain, ident in device.identifiers)


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
        monitor = entry.runtime_data.monitor
        data.coordinators.pop(entry.runtime_data.printer_id, None)
        if not data.coordinators:
            data.background.stop()
        if hass.is_stopping:
            monitor.stopped("shutdown")
        elif entry.disabled_by is not None:
            monitor.stopped("removed")
        else:
            # Home Assistant does not say why it unloads: a set-up of this
            # entry follows (reload), or its removal, both while the entry's
            # set-up lock is held. Whatever is left when it is released was
            # a plain unload.
            data.stopping[entry.entry_id] = monitor
            hass.async_create_task(
                _report_stop_when_settled(hass, entry), f"printernizer stop {entry.entry_id}"
            )
    return unloaded


async def _report_stop_when_settled(hass: HomeAssistant, entry: PrinternizerConfigEntry) -> None:
    async with entry.setup_lock:
        _report_stop(hass, entry.entry_id, "removed")
