"""Actions on materials: create, update, delete, list, record consumption.

Every action needs the loaded library entry (``library_not_loaded`` otherwise);
bad values are refused with a translated error before anything changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import voluptuous as vol
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv

from ..const import ATTR_DEVICE_ID, ATTR_JOB_ID, DOMAIN
from ..core.materials import MaterialManager, MaterialValidationError, validate_changes
from .helpers import materials_manager, printer_id_for_device, validation_error

SERVICE_CREATE_MATERIAL = "create_material"
SERVICE_UPDATE_MATERIAL = "update_material"
SERVICE_DELETE_MATERIAL = "delete_material"
SERVICE_LIST_MATERIALS = "list_materials"
SERVICE_RECORD_CONSUMPTION = "record_consumption"

ATTR_MATERIAL_ID = "material_id"
ATTR_MATERIAL_TYPE = "material_type"
ATTR_LOW_STOCK = "low_stock"
ATTR_GRAMS = "grams"

_NUMBER = vol.Any(int, float, str)
#: Values are checked in the core (translated errors naming the field).
_FIELDS: dict[vol.Marker, Any] = {
    vol.Optional("name"): cv.string,
    vol.Optional(ATTR_MATERIAL_TYPE): cv.string,
    vol.Optional("brand"): cv.string,
    vol.Optional("color"): cv.string,
    vol.Optional("color_hex"): cv.string,
    vol.Optional("diameter"): _NUMBER,
    vol.Optional("weight"): _NUMBER,
    vol.Optional("remaining_weight"): _NUMBER,
    vol.Optional("cost_per_kg"): _NUMBER,
    vol.Optional("vendor"): cv.string,
    vol.Optional("purchase_date"): cv.string,
    vol.Optional("batch_number"): cv.string,
    vol.Optional("location"): cv.string,
    vol.Optional("notes"): cv.string,
    vol.Optional("is_active"): cv.boolean,
    vol.Optional("loaded"): cv.boolean,
    vol.Optional(ATTR_DEVICE_ID): cv.string,
}
CREATE_SCHEMA = vol.Schema(_FIELDS)
UPDATE_SCHEMA = vol.Schema({vol.Required(ATTR_MATERIAL_ID): cv.string, **_FIELDS})
DELETE_SCHEMA = vol.Schema({vol.Required(ATTR_MATERIAL_ID): cv.string})
LIST_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_MATERIAL_TYPE): cv.string,
        vol.Optional(ATTR_DEVICE_ID): cv.string,
        vol.Optional(ATTR_LOW_STOCK): cv.boolean,
    }
)
CONSUMPTION_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_MATERIAL_ID): cv.string,
        vol.Required(ATTR_GRAMS): _NUMBER,
        vol.Optional(ATTR_JOB_ID): cv.string,
    }
)


def _translated(error: MaterialValidationError) -> ServiceValidationError:
    return validation_error(error.key, **error.placeholders)


def _values(hass: HomeAssistant, data: dict[str, Any]) -> dict[str, Any]:
    """The material fields of a call (``device_id`` -> the printer it is loaded in)."""
    values = {k: v for k, v in data.items() if k not in (ATTR_MATERIAL_ID, ATTR_DEVICE_ID)}
    if ATTR_DEVICE_ID in data:
        values["printer_id"] = printer_id_for_device(hass, data[ATTR_DEVICE_ID])
    return values


def _material_response(materials: MaterialManager, material: Any) -> dict[str, Any]:
    data: dict[str, Any] = material.as_dict()
    data["low_stock"] = materials.is_low(material)
    return data


@callback
def async_register_material_services(hass: HomeAssistant) -> None:
    """Register the materials actions."""

    def guarded(
        func: Callable[[MaterialManager, ServiceCall], ServiceResponse],
    ) -> Callable[[ServiceCall], ServiceResponse]:
        @callback
        def handler(call: ServiceCall) -> ServiceResponse:
            materials = materials_manager(hass)
            try:
                return func(materials, call)
            except MaterialValidationError as err:
                raise _translated(err) from err

        return handler

    def create(materials: MaterialManager, call: ServiceCall) -> ServiceResponse:
        material = materials.create(_values(hass, dict(call.data)))
        return {"material": _material_response(materials, material)}

    def update(materials: MaterialManager, call: ServiceCall) -> ServiceResponse:
        materials.require(call.data[ATTR_MATERIAL_ID])
        values = _values(hass, dict(call.data))
        material = materials.update(call.data[ATTR_MATERIAL_ID], values)
        return {"material": _material_response(materials, material)}

    def delete(materials: MaterialManager, call: ServiceCall) -> ServiceResponse:
        materials.delete(call.data[ATTR_MATERIAL_ID])
        return None

    def list_materials(materials: MaterialManager, call: ServiceCall) -> ServiceResponse:
        material_type = call.data.get(ATTR_MATERIAL_TYPE)
        if material_type is not None:
            material_type = str(material_type).upper()
            validate_changes({ATTR_MATERIAL_TYPE: material_type})
        printer_id = (
            printer_id_for_device(hass, call.data[ATTR_DEVICE_ID])
            if ATTR_DEVICE_ID in call.data
            else None
        )
        found = materials.find(
            material_type=material_type,
            printer_id=printer_id,
            low_stock=call.data.get(ATTR_LOW_STOCK),
        )
        return {
            "materials": [_material_response(materials, m) for m in found],
            "low_stock_threshold": materials.threshold,
            "currency": hass.config.currency,
        }

    def record(materials: MaterialManager, call: ServiceCall) -> ServiceResponse:
        material = materials.consume(
            call.data[ATTR_MATERIAL_ID], call.data[ATTR_GRAMS], call.data.get(ATTR_JOB_ID)
        )
        return {"material": _material_response(materials, material)}

    register: list[tuple[str, Any, vol.Schema, SupportsResponse]] = [
        (SERVICE_CREATE_MATERIAL, create, CREATE_SCHEMA, SupportsResponse.OPTIONAL),
        (SERVICE_UPDATE_MATERIAL, update, UPDATE_SCHEMA, SupportsResponse.OPTIONAL),
        (SERVICE_DELETE_MATERIAL, delete, DELETE_SCHEMA, SupportsResponse.NONE),
        (SERVICE_LIST_MATERIALS, list_materials, LIST_SCHEMA, SupportsResponse.ONLY),
        (SERVICE_RECORD_CONSUMPTION, record, CONSUMPTION_SCHEMA, SupportsResponse.OPTIONAL),
    ]
    for name, func, schema, supports_response in register:
        hass.services.async_register(
            DOMAIN, name, guarded(func), schema=schema, supports_response=supports_response
        )
