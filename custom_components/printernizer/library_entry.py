"""The Printernizer library entry: integration-wide settings and what belongs to no printer.

A singleton config entry (unique id ``printernizer_library``) next to the
printer entries. Its options hold the settings (library folder and quota, file
discovery, auto-download, watch folders, low stock, trending); it owns a
service device for the library, materials and ideas entities. Printers work
without it; downloads and everything after need it. Removing it keeps the
files on disk.
"""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.config_entries import SOURCE_INTEGRATION_DISCOVERY, ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import discovery_flow
from homeassistant.helpers.dispatcher import async_dispatcher_connect

from .api.models import PrinterTrayMappingClient
from .const import (
    CONF_ENTRY_KIND,
    DOMAIN,
    ENTRY_KIND_LIBRARY,
    LIBRARY_TITLE,
    LIBRARY_UNIQUE_ID,
    SIGNAL_PRINTER_LOADED,
)
from .core.coordinator import PrinterCoordinator
from .core.file_service import FileService
from .core.library import Library
from .core.materials import MaterialManager
from .core.processing import FileProcessor
from .core.settings import LibrarySettings
from .core.watch import WatchFolders
from .runtime import DATA_KEY, LibraryConfigEntry, LibraryRuntime
from .trending_entry import async_setup_trending, async_unload_trending

_LOGGER = logging.getLogger(__name__)

#: Entity platforms of the library entry (each area adds its own).
LIBRARY_PLATFORMS: list[Platform] = [Platform.SENSOR, Platform.TODO]


def is_library_entry(entry: ConfigEntry[Any]) -> bool:
    """Return True for the library entry (False for a printer)."""
    return entry.data.get(CONF_ENTRY_KIND) == ENTRY_KIND_LIBRARY


def library_device_info_identifier() -> tuple[str, str]:
    """The device registry identifier of the library's service device."""
    return (DOMAIN, LIBRARY_UNIQUE_ID)


async def async_setup_library_entry(hass: HomeAssistant, entry: LibraryConfigEntry) -> bool:
    """Start the library: settings, its device and each area's objects."""
    settings = LibrarySettings.from_entry(hass.config.config_dir, entry.data, entry.options)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={library_device_info_identifier()},
        name=LIBRARY_TITLE,
        manufacturer="Printernizer",
        model="Library",
        entry_type=dr.DeviceEntryType.SERVICE,
    )
    runtime = LibraryRuntime(settings=settings, device_id=device.id)
    data = hass.data[DATA_KEY]
    # --- files (issue 10) ---
    library = Library(
        hass, data.emitter, settings.library_folder, quota_bytes=settings.library_quota_bytes
    )
    await library.async_load()
    runtime.library = library
    runtime.files = FileService(
        hass,
        data.emitter,
        settings,
        library=library,
        index=data.file_index,
        discovery=data.file_discovery,
        jobs=data.jobs,
        auto_state=data.auto_downloads,
        coordinators=data.coordinators,
    )
    runtime.files.start()
    entry.async_on_unload(runtime.files.async_stop)
    # --- processing (issue 11) ---
    processor = FileProcessor(
        hass,
        data.emitter,
        library,
        data.jobs,
        watch_folders=settings.watch_folders,
        coordinators=data.coordinators,
    )
    processor.start()
    runtime.processor = processor
    watch = WatchFolders(
        hass, data.emitter, library, settings.watch_folders, on_added=processor.async_request
    )
    runtime.watch = watch
    entry.async_on_unload(processor.async_stop)
    entry.async_on_unload(watch.async_stop)
    await watch.async_start()
    # ---
    await async_setup_trending(hass, runtime)
    runtime.materials = await _async_start_materials(hass, entry, settings)
    entry.runtime_data = runtime
    data.library = runtime
    await hass.config_entries.async_forward_entry_setups(entry, LIBRARY_PLATFORMS)
    entry.async_on_unload(entry.add_update_listener(_async_reload_on_options))
    return True


async def _async_start_materials(
    hass: HomeAssistant, entry: LibraryConfigEntry, settings: LibrarySettings
) -> MaterialManager:
    """Start the materials and let them follow every loaded printer (AMS, active tray)."""
    data = hass.data[DATA_KEY]
    materials = MaterialManager(
        hass, data.emitter, data.jobs, low_stock_threshold=settings.low_stock_threshold
    )
    printers = [
        e.unique_id or e.entry_id
        for e in hass.config_entries.async_entries(DOMAIN)
        if not is_library_entry(e)
    ]
    await materials.async_start(printers)
    following: dict[str, CALLBACK_TYPE] = {}

    @callback
    def follow(coordinator: PrinterCoordinator) -> None:
        printer_id = coordinator.printer_id
        if (old := following.pop(printer_id, None)) is not None:
            old()

        client = coordinator.client
        mapping_of = (
            client.job_tray_mapping if isinstance(client, PrinterTrayMappingClient) else None
        )

        @callback
        def updated() -> None:
            materials.printer_state(
                printer_id, coordinator.data, mapping_of() if mapping_of is not None else None
            )

        following[printer_id] = coordinator.async_add_listener(updated)
        updated()

    for coordinator in data.coordinators.values():
        follow(coordinator)
    entry.async_on_unload(async_dispatcher_connect(hass, SIGNAL_PRINTER_LOADED, follow))

    @callback
    def stop_following() -> None:
        for unsub in following.values():
            unsub()
        following.clear()

    entry.async_on_unload(stop_following)
    return materials


async def _async_reload_on_options(hass: HomeAssistant, entry: LibraryConfigEntry) -> None:
    """Settings are read once per load: an options change reloads the entry."""
    await hass.config_entries.async_reload(entry.entry_id)


async def async_unload_library_entry(hass: HomeAssistant, entry: LibraryConfigEntry) -> bool:
    """Stop everything the library runs (the files on disk stay)."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, LIBRARY_PLATFORMS)
    if unloaded:
        await async_unload_trending(entry.runtime_data)
        if (materials := entry.runtime_data.materials) is not None:
            materials.stop()
            await materials.async_flush()
        data = hass.data[DATA_KEY]
        if data.library is entry.runtime_data:
            data.library = None
    return unloaded


@callback
def async_offer_library_entry(hass: HomeAssistant) -> None:
    """Offer the library entry under *Discovered* (once a printer is set up).

    Not offered when it exists or the user ignored it; Home Assistant keeps
    one discovery flow per unique id, so calling this per printer is harmless.
    """
    for entry in hass.config_entries.async_entries(DOMAIN, include_ignore=True):
        if entry.unique_id == LIBRARY_UNIQUE_ID:
            return
    discovery_flow.async_create_flow(
        hass,
        DOMAIN,
        context={"source": SOURCE_INTEGRATION_DISCOVERY},
        data={CONF_ENTRY_KIND: ENTRY_KIND_LIBRARY},
    )
