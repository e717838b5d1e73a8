"""Lookups and errors shared by every action module."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr

from ..const import DOMAIN
from ..core.coordinator import PrinterCoordinator
from ..core.materials import MaterialManager
from ..runtime import DATA_KEY


def validation_error(key: str, **placeholders: str) -> ServiceValidationError:
    """Return a translated validation error (key under ``exceptions`` in strings.json)."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders or None,
    )


def printer_id_for_device(hass: HomeAssistant, device_id: str) -> str:
    """Return the printer id of a Printernizer device, or raise ``unknown_device``."""
    device = dr.async_get(hass).async_get(device_id)
    if device is not None:
        for domain, identifier in device.identifiers:
            if domain == DOMAIN:
                return identifier
    raise validation_error("unknown_device", device_id=device_id)


def coordinator_for_device(hass: HomeAssistant, device_id: str) -> PrinterCoordinator:
    """Return the loaded coordinator of a device, or raise ``printer_not_loaded``."""
    printer_id = printer_id_for_device(hass, device_id)
    coordinator = hass.data[DATA_KEY].coordinators.get(printer_id)
    if coordinator is None or coordinator.config_entry.state is not ConfigEntryState.LOADED:
        raise validation_error("printer_not_loaded", device_id=device_id)
    return coordinator


def materials_manager(hass: HomeAssistant) -> MaterialManager:
    """Return the materials of the loaded library entry, or raise ``library_not_loaded``."""
    library = hass.data[DATA_KEY].library
    if library is None or library.materials is None:
        raise validation_error("library_not_loaded")
    return library.materials
