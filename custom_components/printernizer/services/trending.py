"""Actions of trending models and ideas: refresh_trending, list_trending, create_idea_from_trending.

They act on the library entry; without a loaded library entry they refuse with
a translated error (``library_not_loaded``).
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.helpers import config_validation as cv

from ..api.trending import PLATFORMS
from ..const import DOMAIN, LIBRARY_UNIQUE_ID
from ..core.ideas import DEFAULT_PRIORITY, MAX_DESCRIPTION, IdeaManager, IdeaValueError
from ..core.trending import TrendingManager
from ..runtime import DATA_KEY
from .helpers import validation_error

SERVICE_REFRESH_TRENDING = "refresh_trending"
SERVICE_LIST_TRENDING = "list_trending"
SERVICE_CREATE_IDEA_FROM_TRENDING = "create_idea_from_trending"

ATTR_PLATFORM = "platform"
ATTR_TRENDING_ID = "trending_id"
ATTR_NOTES = "notes"
ATTR_PRIORITY = "priority"

REFRESH_SCHEMA = vol.Schema({})
# platform and priority are checked in the handlers, so a bad value gets a
# translated ServiceValidationError naming it.
LIST_SCHEMA = vol.Schema({vol.Optional(ATTR_PLATFORM): cv.string})
CREATE_IDEA_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_TRENDING_ID): cv.string,
        vol.Optional(ATTR_NOTES): vol.All(cv.string, vol.Length(max=MAX_DESCRIPTION)),
        vol.Optional(ATTR_PRIORITY): vol.Any(int, float, str),
    }
)


def _library(hass: HomeAssistant) -> tuple[TrendingManager, IdeaManager]:
    runtime = hass.data[DATA_KEY].library
    entry = hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, LIBRARY_UNIQUE_ID)
    if (
        runtime is None
        or entry is None
        or entry.state is not ConfigEntryState.LOADED
        or runtime.trending is None
        or runtime.ideas is None
    ):
        raise validation_error("library_not_loaded")
    return runtime.trending, runtime.ideas


def async_register_trending_services(hass: HomeAssistant) -> None:
    """Register the trending and ideas actions (once, from async_setup)."""

    async def refresh(call: ServiceCall) -> ServiceResponse:
        trending, _ = _library(hass)
        if not trending.enabled:
            raise validation_error("trending_disabled")
        refreshed: list[Any] = list(await trending.async_refresh())
        return {"refreshed": refreshed}

    async def list_trending(call: ServiceCall) -> ServiceResponse:
        trending, _ = _library(hass)
        platform = call.data.get(ATTR_PLATFORM)
        if platform is not None and platform not in PLATFORMS:
            raise validation_error(
                "invalid_platform", platform=str(platform), allowed=", ".join(PLATFORMS)
            )
        return {"items": [trending.item_dict(stored) for stored in trending.items(platform)]}

    async def create_idea(call: ServiceCall) -> ServiceResponse:
        trending, ideas = _library(hass)
        try:
            idea = await ideas.async_create_from_trending(
                trending,
                call.data[ATTR_TRENDING_ID],
                notes=call.data.get(ATTR_NOTES, ""),
                priority=call.data.get(ATTR_PRIORITY, DEFAULT_PRIORITY),
            )
        except IdeaValueError as err:
            raise validation_error(err.key, value=err.value) from err
        return {"idea": idea.as_dict()}

    hass.services.async_register(
        DOMAIN,
        SERVICE_REFRESH_TRENDING,
        refresh,
        schema=REFRESH_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_LIST_TRENDING,
        list_trending,
        schema=LIST_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_CREATE_IDEA_FROM_TRENDING,
        create_idea,
        schema=CREATE_IDEA_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
