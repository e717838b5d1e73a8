"""Helpers for the trending and ideas tests: the library entry pointed at the simulator."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printernizer.const import (
    CONF_ENTRY_KIND,
    CONF_MAKERWORLD_URL,
    CONF_PRINTABLES_MEDIA_URL,
    CONF_PRINTABLES_URL,
    DOMAIN,
    ENTRY_KIND_LIBRARY,
    LIBRARY_TITLE,
    LIBRARY_UNIQUE_ID,
    OPT_TRENDING_INTERVAL,
    OPT_TRENDING_ITEMS,
    OPT_TRENDING_MAKERWORLD,
    OPT_TRENDING_PRINTABLES,
)
from custom_components.printernizer.core.ideas import IdeaManager
from custom_components.printernizer.core.trending import TrendingManager
from custom_components.printernizer.runtime import DATA_KEY
from simulator.trending import TrendingSimulator


async def setup_library(
    hass: HomeAssistant,
    sim: TrendingSimulator | None,
    *,
    makerworld: bool = True,
    printables: bool = True,
    items: int = 10,
    interval: float = 6,
) -> MockConfigEntry:
    """Add and set up the library entry with trending pointed at ``sim``."""
    data: dict[str, Any] = {CONF_ENTRY_KIND: ENTRY_KIND_LIBRARY}
    if sim is not None:
        data |= {
            CONF_MAKERWORLD_URL: sim.url,
            CONF_PRINTABLES_URL: sim.url,
            CONF_PRINTABLES_MEDIA_URL: sim.url,
        }
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=LIBRARY_UNIQUE_ID,
        title=LIBRARY_TITLE,
        data=data,
        options={
            OPT_TRENDING_MAKERWORLD: makerworld,
            OPT_TRENDING_PRINTABLES: printables,
            OPT_TRENDING_ITEMS: items,
            OPT_TRENDING_INTERVAL: interval,
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def trending(hass: HomeAssistant) -> TrendingManager:
    """The loaded library's trending manager."""
    library = hass.data[DATA_KEY].library
    assert library is not None
    assert library.trending is not None
    return library.trending


def ideas(hass: HomeAssistant) -> IdeaManager:
    """The loaded library's ideas."""
    library = hass.data[DATA_KEY].library
    assert library is not None
    assert library.ideas is not None
    return library.ideas


async def refresh(hass: HomeAssistant) -> list[str]:
    """Call printernizer.refresh_trending; return the refreshed platforms."""
    response = await hass.services.async_call(
        DOMAIN, "refresh_trending", {}, blocking=True, return_response=True
    )
    assert response is not None
    await hass.async_block_till_done()
    return list(response["refreshed"])  # type: ignore[arg-type]


async def list_trending(hass: HomeAssistant, **data: Any) -> list[dict[str, Any]]:
    """Call printernizer.list_trending."""
    response = await hass.services.async_call(
        DOMAIN, "list_trending", data, blocking=True, return_response=True
    )
    assert response is not None
    return list(response["items"])  # type: ignore[arg-type]
