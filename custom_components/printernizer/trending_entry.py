"""Trending and ideas on the library entry: build, start and stop them (glue).

Builds the site clients on Home Assistant's shared aiohttp session (pointed at
the simulator when the entry's hidden data says so), the
:class:`~.core.trending.TrendingManager` and the
:class:`~.core.ideas.IdeaManager`, and stops them when the entry unloads.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .api.trending import PLATFORMS, BoundedHttp, MakerWorldClient, PrintablesClient
from .const import (
    CONF_MAKERWORLD_URL,
    CONF_PRINTABLES_MEDIA_URL,
    CONF_PRINTABLES_URL,
    DOMAIN,
    IDEAS_SUBDIR,
    TRENDING_CACHE_SUBDIR,
)
from .core.ideas import IdeaManager
from .core.trending import TrendingManager, TrendingSource, issue_id
from .runtime import DATA_KEY, LibraryRuntime
from .trending_view import async_register_view


def build_sources(hass: HomeAssistant, runtime: LibraryRuntime) -> dict[str, TrendingSource]:
    """The site clients (real sites unless the entry names the simulator's URLs)."""
    session = async_get_clientsession(hass)
    urls = runtime.settings.trending_urls
    makerworld = urls.get(CONF_MAKERWORLD_URL)
    printables = urls.get(CONF_PRINTABLES_URL)
    media = urls.get(CONF_PRINTABLES_MEDIA_URL) or printables
    return {
        "makerworld": (
            MakerWorldClient(session, api_url=makerworld, web_url=makerworld)
            if makerworld
            else MakerWorldClient(session)
        ),
        "printables": (
            PrintablesClient(session, api_url=printables, web_url=printables, media_url=media or "")
            if printables
            else PrintablesClient(session)
        ),
    }


def ideas_folder(hass: HomeAssistant) -> Path:
    """``<config>/printernizer/ideas``: the ideas' own thumbnail copies."""
    return Path(hass.config.path(IDEAS_SUBDIR))


async def async_setup_trending(hass: HomeAssistant, runtime: LibraryRuntime) -> None:
    """Create, load and start the trending refresher and the ideas."""
    settings = runtime.settings
    enabled = [
        platform
        for platform, on in (
            ("makerworld", settings.trending_makerworld),
            ("printables", settings.trending_printables),
        )
        if on
    ]
    for platform in PLATFORMS:
        if platform not in enabled:
            # A site the user turned off is no longer a problem to repair.
            ir.async_delete_issue(hass, DOMAIN, issue_id(platform))
    trending = TrendingManager(
        hass,
        hass.data[DATA_KEY].emitter,
        sources=build_sources(hass, runtime),
        http=BoundedHttp(async_get_clientsession(hass)),
        cache_dir=settings.cache_folder / TRENDING_CACHE_SUBDIR,
        enabled=enabled,
        items_per_platform=settings.trending_items,
        interval=timedelta(seconds=settings.trending_interval),
    )
    ideas = IdeaManager(hass, hass.data[DATA_KEY].emitter, ideas_folder(hass))
    await trending.async_load()
    await trending.thumbnails.async_expire()
    await ideas.async_load()
    runtime.trending = trending
    runtime.ideas = ideas
    async_register_view(hass)
    trending.async_start()


async def async_unload_trending(runtime: LibraryRuntime) -> None:
    """Stop the refresher and write both stores."""
    if runtime.trending is not None:
        await runtime.trending.async_stop()
        runtime.trending = None
    if runtime.ideas is not None:
        await runtime.ideas.async_flush()
        runtime.ideas = None
