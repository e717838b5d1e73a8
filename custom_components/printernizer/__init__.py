"""Printernizer: Bambu Lab and Prusa printers, print jobs and the Printernizer event contract."""

from __future__ import annotations

import logging

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType

from . import clients
from .const import CONF_FAMILY, DOMAIN
from .core.background import BackgroundMonitor
from .core.coordinator import PrinterCoordinator
from .core.jobs import JobManager
from .core.monitor import PrinterMonitor
from .emitter import EventEmitter
from .runtime import DATA_KEY, PrinternizerConfigEntry, PrinternizerData
from .services import async_setup_services

_LOGGER = logging.getLogger(__name__)

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)
PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.BUTTON, Platform.SENSOR]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Set up what every printer shares: the emitter, jobs, background monitoring, actions."""
    emitter = EventEmitter(hass)
    jobs = JobManager(hass, emitter)
    await jobs.async_load()
    coordinators: dict[str, PrinterCoordinator] = {}
    hass.data[DATA_KEY] = PrinternizerData(
        emitter=emitter,
        jobs=jobs,
        background=BackgroundMonitor(hass, emitter, jobs, coordinators),
        coordinators=coordinators,
    )
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: PrinternizerConfigEntry) -> bool:
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
    coordinator = PrinterCoordinator(hass, entry, client, monitor)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = coordinator
    data.coordinators[coordinator.printer_id] = coordinator
    monitor.started()
    data.background.start()
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.async_on_unload(entry.add_update_listener(_async_reload_on_options))
    return True


async def _async_reload_on_options(hass: HomeAssistant, entry: PrinternizerConfigEntry) -> None:
    await hass.config_entries.async_reload(entry.entry_id)


async def async_unload_entry(hass: HomeAssistant, entry: PrinternizerConfigEntry) -> bool:
    """Stop monitoring a printer (the coordinator's shutdown disconnects it)."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        data = hass.data[DATA_KEY]
        data.coordinators.pop(entry.runtime_data.printer_id, None)
        if not data.coordinators:
            data.background.stop()
    return unloaded
