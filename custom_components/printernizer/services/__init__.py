"""Actions: print control, event status and job management.

Every action is registered once, from ``async_setup``. Each area adds a module here
(``files.py``, ``materials.py``, ...) with an ``async_register_*`` function called at the
end of :func:`async_setup_services`; shared lookups live in ``helpers.py``.
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.helpers import config_validation as cv

from ..const import (
    ATTR_DEVICE_ID,
    ATTR_JOB_ID,
    ATTR_JOB_NAME,
    ATTR_PROGRESS,
    ATTR_STATUS,
    DOMAIN,
)
from ..core.jobs import JOB_STATUSES, Job
from ..runtime import DATA_KEY
from .files import async_register_file_services
from .helpers import coordinator_for_device as _coordinator
from .helpers import printer_id_for_device as _printer_id
from .helpers import validation_error as _validation_error
from .materials import async_register_material_services
from .trending import async_register_trending_services

SERVICE_PAUSE = "pause_print"
SERVICE_RESUME = "resume_print"
SERVICE_STOP = "stop_print"
SERVICE_EVENT_STATUS = "get_event_status"
SERVICE_CREATE_JOB = "create_job"
SERVICE_UPDATE_JOB = "update_job"
SERVICE_DELETE_JOB = "delete_job"
SERVICE_LIST_JOBS = "list_jobs"

DEVICE_SCHEMA = vol.Schema({vol.Required(ATTR_DEVICE_ID): cv.string})
CREATE_JOB_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required(ATTR_JOB_NAME): vol.All(cv.string, vol.Length(min=1, max=255)),
    }
)


def _progress(value: Any) -> float:
    """A number (or numeric text), not a boolean; the range is checked after."""
    if isinstance(value, bool):
        raise vol.Invalid("progress must be a number, not a boolean")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise vol.Invalid(f"progress must be a number, not {value!r}") from None


#: Static checks live in the schemas: Home Assistant rejects a call that breaks
#: them before the handler runs (the REST API answers 400, the UI shows why).
JOB_STATUS = vol.In(JOB_STATUSES)
PROGRESS = vol.All(_progress, vol.Range(min=0, max=100), vol.Coerce(int))
UPDATE_JOB_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_JOB_ID): cv.string,
        vol.Optional(ATTR_STATUS): JOB_STATUS,
        vol.Optional(ATTR_PROGRESS): PROGRESS,
    }
)
DELETE_JOB_SCHEMA = vol.Schema({vol.Required(ATTR_JOB_ID): cv.string})
LIST_JOBS_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_DEVICE_ID): cv.string,
        vol.Optional(ATTR_STATUS): JOB_STATUS,
    }
)


def _job(hass: HomeAssistant, job_id: str) -> Job:
    job = hass.data[DATA_KEY].jobs.get(job_id)
    if job is None:
        raise _validation_error("unknown_job", job_id=job_id)
    return job


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""

    async def command(call: ServiceCall, name: str) -> None:
        await _coordinator(hass, call.data[ATTR_DEVICE_ID]).async_command(name)  # type: ignore[arg-type]

    async def pause(call: ServiceCall) -> None:
        await command(call, "pause")

    async def resume(call: ServiceCall) -> None:
        await command(call, "resume")

    async def stop(call: ServiceCall) -> None:
        await command(call, "stop")

    @callback
    def event_status(call: ServiceCall) -> ServiceResponse:
        return hass.data[DATA_KEY].emitter.status()

    @callback
    def create_job(call: ServiceCall) -> ServiceResponse:
        printer_id = _printer_id(hass, call.data[ATTR_DEVICE_ID])
        job = hass.data[DATA_KEY].jobs.create(printer_id, call.data[ATTR_JOB_NAME])
        return {"job": job.as_dict()}

    @callback
    def update_job(call: ServiceCall) -> ServiceResponse:
        job = _job(hass, call.data[ATTR_JOB_ID])
        # The schema checked the values; nothing changes before all are known good.
        status: str | None = call.data.get(ATTR_STATUS)
        progress: int | None = call.data.get(ATTR_PROGRESS)
        if status is None and progress is None:
            raise _validation_error("nothing_to_update")
        jobs = hass.data[DATA_KEY].jobs
        if progress is not None:
            jobs.set_progress(job, progress)
        if status is not None:
            jobs.set_status(job, status)
        return {"job": job.as_dict()}

    @callback
    def delete_job(call: ServiceCall) -> None:
        job = _job(hass, call.data[ATTR_JOB_ID])
        hass.data[DATA_KEY].jobs.delete(job.job_id)

    @callback
    def list_jobs(call: ServiceCall) -> ServiceResponse:
        printer_id = (
            _printer_id(hass, call.data[ATTR_DEVICE_ID]) if ATTR_DEVICE_ID in call.data else None
        )
        jobs = hass.data[DATA_KEY].jobs.jobs(printer_id, call.data.get(ATTR_STATUS))
        return {"jobs": [job.as_dict() for job in jobs]}

    register: list[tuple[str, Any, vol.Schema, SupportsResponse]] = [
        (SERVICE_PAUSE, pause, DEVICE_SCHEMA, SupportsResponse.NONE),
        (SERVICE_RESUME, resume, DEVICE_SCHEMA, SupportsResponse.NONE),
        (SERVICE_STOP, stop, DEVICE_SCHEMA, SupportsResponse.NONE),
        (SERVICE_EVENT_STATUS, event_status, vol.Schema({}), SupportsResponse.ONLY),
        (SERVICE_CREATE_JOB, create_job, CREATE_JOB_SCHEMA, SupportsResponse.OPTIONAL),
        (SERVICE_UPDATE_JOB, update_job, UPDATE_JOB_SCHEMA, SupportsResponse.OPTIONAL),
        (SERVICE_DELETE_JOB, delete_job, DELETE_JOB_SCHEMA, SupportsResponse.NONE),
        (SERVICE_LIST_JOBS, list_jobs, LIST_JOBS_SCHEMA, SupportsResponse.ONLY),
    ]
    for name, handler, schema, supports_response in register:
        hass.services.async_register(
            DOMAIN, name, handler, schema=schema, supports_response=supports_response
        )
    async_register_trending_services(hass)
    async_register_material_services(hass)
    async_register_file_services(hass)
