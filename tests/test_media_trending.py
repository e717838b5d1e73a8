"""The Trending section of the media browser and the thumbnail view."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from homeassistant.components.media_player.errors import BrowseError
from homeassistant.components.media_source.error import Unresolvable
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.printernizer.media_trending import (
    browse_trending,
    is_trending_identifier,
    resolve_trending,
    trending_children,
    trending_section,
)
from simulator.trending import TrendingSimulator

from .trending_helpers import list_trending, refresh, setup_library


@pytest.fixture(autouse=True)
def _config_dir(hass: HomeAssistant, tmp_path: Path) -> None:
    """Caches go under a temporary configuration folder."""
    hass.config.config_dir = str(tmp_path)


@pytest.fixture
async def sim(socket_enabled: None) -> AsyncIterator[TrendingSimulator]:
    """The trending simulator on 127.0.0.1."""
    async with TrendingSimulator() as simulator:
        yield simulator


async def test_browse_and_resolve(
    hass: HomeAssistant, sim: TrendingSimulator, hass_client: ClientSessionGenerator
) -> None:
    """A folder per site, items titled with creator and licence, thumbnails served with auth."""
    await setup_library(hass, sim, items=3)
    assert trending_children(hass) == []  # nothing fetched yet
    await refresh(hass)
    assert is_trending_identifier("trending")
    assert is_trending_identifier("trending/makerworld/1")
    assert not is_trending_identifier("library/x")
    assert not is_trending_identifier(None)
    section = trending_section(hass)
    assert (section.identifier, section.title, section.can_expand) == ("trending", "Trending", True)
    root = browse_trending(hass, "trending")
    assert [c.title for c in root.children or []] == ["MakerWorld", "Printables"]
    folder = browse_trending(hass, "trending/printables")
    items = await list_trending(hass, platform="printables")
    assert [c.title for c in folder.children or []] == [
        f"{i['title']} · {i['creator']} · {i['licence']}" for i in items
    ]
    child = (folder.children or [])[0]
    assert child.can_play
    assert (
        child.media_content_id
        == f"media-source://printernizer/trending/printables/{items[0]['model_id']}"
    )
    assert child.thumbnail and child.thumbnail.startswith("/api/printernizer/trending/thumbnail/")
    one = browse_trending(hass, f"trending/printables/{items[0]['model_id']}")
    assert (one.identifier, one.title, one.thumbnail, one.can_play, one.can_expand) == (
        child.identifier,
        child.title,
        child.thumbnail,
        True,
        False,
    )
    play = resolve_trending(hass, f"trending/printables/{items[0]['model_id']}")
    assert play.url == child.thumbnail
    assert play.mime_type == "image/jpeg"

    client = await hass_client()
    response = await client.get(play.url)
    assert response.status == 200
    assert response.content_type == "image/jpeg"
    assert await response.read() == await hass.async_add_executor_job(
        Path(items[0]["local_thumbnail"]).read_bytes
    )
    assert (await client.get("/api/printernizer/trending/thumbnail/" + "0" * 64)).status == 404
    assert (await client.get("/api/printernizer/trending/thumbnail/not-a-key")).status == 404


async def test_unknown_identifiers(hass: HomeAssistant, sim: TrendingSimulator) -> None:
    """Unknown platforms or models are browse errors / unresolvable; so is all once unloaded."""
    entry = await setup_library(hass, sim, items=1)
    await refresh(hass)
    for identifier in ("trending/thingiverse", "trending/makerworld/0", "trending/a/b/c"):
        with pytest.raises(BrowseError):
            browse_trending(hass, identifier)
    for identifier in ("trending", "trending/makerworld", "trending/makerworld/0"):
        with pytest.raises(Unresolvable):
            resolve_trending(hass, identifier)
    model_id = (await list_trending(hass, platform="makerworld"))[0]["model_id"]
    assert resolve_trending(hass, f"trending/makerworld/{model_id}").url
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert trending_children(hass) == []
    with pytest.raises(BrowseError):
        browse_trending(hass, "trending/makerworld")
    with pytest.raises(Unresolvable):
        resolve_trending(hass, f"trending/makerworld/{model_id}")


async def test_view_requires_auth(
    hass: HomeAssistant, sim: TrendingSimulator, hass_client_no_auth: ClientSessionGenerator
) -> None:
    """Without authentication the thumbnails are not served."""
    await setup_library(hass, sim, items=1, printables=False)
    await refresh(hass)
    client = await hass_client_no_auth()
    play = resolve_trending(
        hass, browse_trending(hass, "trending/makerworld").children[0].identifier
    )  # type: ignore[index,arg-type]
    assert (await client.get(play.url)).status == 401


async def test_media_source_lists_trending_section(
    hass: HomeAssistant, sim: TrendingSimulator
) -> None:
    """The Printernizer media source has a Trending section: sites, models, thumbnails."""
    from homeassistant.components import media_source

    await setup_library(hass, sim, items=2)
    await refresh(hass)
    root = await media_source.async_browse_media(hass, "media-source://printernizer")
    assert "Trending" in [child.title for child in root.children or []]
    trending = await media_source.async_browse_media(hass, "media-source://printernizer/trending")
    assert [c.title for c in trending.children or []] == ["MakerWorld", "Printables"]
    site = await media_source.async_browse_media(
        hass, "media-source://printernizer/trending/makerworld"
    )
    first = (site.children or [])[0]
    resolved = await media_source.async_resolve_media(hass, first.media_content_id, None)
    assert resolved.url.startswith("/api/printernizer/trending/thumbnail/")
