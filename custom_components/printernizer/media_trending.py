"""The "Trending" section of Printernizer's media browser (wired into media_source.py).

Identifiers (after ``media-source://printernizer/``):

- ``trending``: the section, one folder per platform that has items;
- ``trending/<platform>``: that platform's models, hottest first, each titled
  "title · creator · licence" with its cached thumbnail;
- ``trending/<platform>/<model_id>``: one model; resolves to its cached thumbnail.

Functions only: ``media_source.py`` calls :func:`browse_trending` for any
identifier for which :func:`is_trending_identifier` is true, and
:func:`resolve_trending` to play one.
"""

from __future__ import annotations

from typing import Final

from homeassistant.components.media_player.const import MediaClass
from homeassistant.components.media_player.errors import BrowseError
from homeassistant.components.media_source.error import Unresolvable
from homeassistant.components.media_source.models import BrowseMediaSource, PlayMedia
from homeassistant.core import HomeAssistant

from .api.trending import PLATFORMS
from .api.trending.thumbnails import cache_key
from .const import DOMAIN
from .core.thumbnail_cache import MIME_TYPES
from .core.trending import PLATFORM_NAMES, StoredItem, TrendingManager
from .runtime import DATA_KEY
from .trending_view import thumbnail_url

TRENDING_ROOT: Final = "trending"
SECTION_TITLE: Final = "Trending"


def is_trending_identifier(identifier: str | None) -> bool:
    """True for ``trending`` and everything under it."""
    return bool(identifier) and (
        identifier == TRENDING_ROOT or str(identifier).startswith(f"{TRENDING_ROOT}/")
    )


def _manager(hass: HomeAssistant) -> TrendingManager | None:
    library = hass.data[DATA_KEY].library if DATA_KEY in hass.data else None
    return library.trending if library else None


def trending_section(hass: HomeAssistant) -> BrowseMediaSource:
    """The "Trending" folder as a child of the media source's root (not expanded)."""
    return BrowseMediaSource(
        domain=DOMAIN,
        identifier=TRENDING_ROOT,
        media_class=MediaClass.DIRECTORY,
        media_content_type="",
        title=SECTION_TITLE,
        can_play=False,
        can_expand=True,
        children_media_class=MediaClass.DIRECTORY,
    )


def trending_children(hass: HomeAssistant) -> list[BrowseMediaSource]:
    """One folder per platform with stored items (the section's children)."""
    manager = _manager(hass)
    if manager is None:
        return []
    return [_platform_node(manager, p) for p in PLATFORMS if manager.items(p)]


def browse_trending(hass: HomeAssistant, identifier: str) -> BrowseMediaSource:
    """Browse ``trending``, ``trending/<platform>`` or ``trending/<platform>/<model_id>``."""
    parts = identifier.split("/")
    manager = _manager(hass)
    if parts == [TRENDING_ROOT]:
        section = trending_section(hass)
        section.children = trending_children(hass)
        return section
    if manager is None or len(parts) not in (2, 3) or parts[1] not in PLATFORMS:
        raise BrowseError(f"Unknown trending media {identifier}")
    platform = parts[1]
    if len(parts) == 2:
        node = _platform_node(manager, platform)
        node.children = [_item_node(manager, s) for s in manager.items(platform)]
        return node
    stored = manager.get(f"{platform}:{parts[2]}")
    if stored is None:
        raise BrowseError(f"Unknown trending media {identifier}")
    return _item_node(manager, stored)


def resolve_trending(hass: HomeAssistant, identifier: str) -> PlayMedia:
    """The cached thumbnail of ``trending/<platform>/<model_id>``."""
    parts = identifier.split("/")
    manager = _manager(hass)
    if manager is None or len(parts) != 3 or parts[0] != TRENDING_ROOT:
        raise Unresolvable(f"Unknown trending media {identifier}")
    stored = manager.get(f"{parts[1]}:{parts[2]}")
    path = manager.thumbnails.path_for(stored.item.thumbnail_url) if stored else None
    if stored is None or path is None or not stored.item.thumbnail_url:
        raise Unresolvable(f"No cached thumbnail for {identifier}")
    return PlayMedia(
        url=thumbnail_url(cache_key(stored.item.thumbnail_url)),
        mime_type=MIME_TYPES.get(path.suffix.lstrip("."), "image/jpeg"),
    )


def _platform_node(manager: TrendingManager, platform: str) -> BrowseMediaSource:
    return BrowseMediaSource(
        domain=DOMAIN,
        identifier=f"{TRENDING_ROOT}/{platform}",
        media_class=MediaClass.DIRECTORY,
        media_content_type="",
        title=PLATFORM_NAMES[platform],
        can_play=False,
        can_expand=True,
        children_media_class=MediaClass.IMAGE,
    )


def item_title(stored: StoredItem) -> str:
    """``title · creator · licence`` (creator and licence always shown when known)."""
    item = stored.item
    return " · ".join(part for part in (item.title, item.creator, item.licence) if part)


def _item_node(manager: TrendingManager, stored: StoredItem) -> BrowseMediaSource:
    item = stored.item
    path = manager.thumbnails.path_for(item.thumbnail_url)
    url = thumbnail_url(cache_key(item.thumbnail_url)) if path and item.thumbnail_url else None
    return BrowseMediaSource(
        domain=DOMAIN,
        identifier=f"{TRENDING_ROOT}/{item.platform}/{item.model_id}",
        media_class=MediaClass.IMAGE,
        media_content_type=MIME_TYPES.get(path.suffix.lstrip("."), "image/jpeg")
        if path
        else "image/jpeg",
        title=item_title(stored),
        can_play=url is not None,
        can_expand=False,
        thumbnail=url,
    )
