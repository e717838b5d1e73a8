"""HTTP view serving cached trending thumbnails (authenticated) to the media browser."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Final

from aiohttp import web
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
from homeassistant.util.hass_dict import HassKey

from .core.thumbnail_cache import MIME_TYPES
from .runtime import DATA_KEY

URL: Final = "/api/printernizer/trending/thumbnail/{key}"
_KEY_RE: Final = re.compile(r"^[0-9a-f]{64}$")
_REGISTERED: HassKey[bool] = HassKey("printernizer_trending_view")


def thumbnail_url(key: str) -> str:
    """The (unsigned) URL of the cached thumbnail with cache key ``key``."""
    return URL.format(key=key)


def async_register_view(hass: HomeAssistant) -> None:
    """Register the view once per Home Assistant run (when the HTTP server exists)."""
    if hass.data.get(_REGISTERED) or getattr(hass, "http", None) is None:
        return
    hass.http.register_view(TrendingThumbnailView())
    hass.data[_REGISTERED] = True


class TrendingThumbnailView(HomeAssistantView):
    """``GET /api/printernizer/trending/thumbnail/<sha256>``: one cached thumbnail."""

    url = URL
    name = "api:printernizer:trending_thumbnail"
    requires_auth = True

    async def get(self, request: web.Request, key: str) -> web.StreamResponse:
        """The file, or 404 (unknown, expired, or not a cache key at all)."""
        if not _KEY_RE.match(key):
            return web.Response(status=HTTPStatus.NOT_FOUND)
        hass: HomeAssistant = request.app[KEY_HASS]
        library = hass.data[DATA_KEY].library
        trending = library.trending if library else None
        path = trending.thumbnails.path_for_key(key) if trending else None
        if path is None:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        content_type = MIME_TYPES.get(path.suffix.lstrip("."), "application/octet-stream")
        return web.FileResponse(
            path, headers={"Content-Type": content_type, "Cache-Control": "private, max-age=3600"}
        )
