"""MakerWorld trending list (the unofficial JSON endpoint the site's own pages use).

``GET {base}/api/v1/search-service/select/design2?orderBy=hotScore&designType=0&limit=N&offset=0``
→ ``{"total": N, "hits": [{"id", "title", "cover", "designCreator": {"name", "handle"},
"likeCount", "downloadCount", "license", "tags", ...}]}``. Page of a model:
``{web}/en/models/{id}``. One request per refresh (a second one only to fill a
larger count), never a detail or download endpoint.
"""

from __future__ import annotations

import logging
from typing import Any, Final
from urllib.parse import urlencode

import aiohttp

from .http import DEFAULT_TIMEOUT, USER_AGENT, BoundedHttp
from .models import Platform, TrendingItem, TrendingParseError
from .parsing import opt_count, opt_text, req_id, req_text

_LOGGER = logging.getLogger(__name__)

DEFAULT_API_URL: Final = "https://makerworld.com"
DEFAULT_WEB_URL: Final = "https://makerworld.com"
LIST_PATH: Final = "/api/v1/search-service/select/design2"
ORDERINGS: Final = ("hotScore", "score", "likeCount", "mostDownload", "newUploads")
#: Items asked for per request; at most :data:`MAX_REQUESTS` requests per refresh.
PAGE_SIZE: Final = 30
MAX_REQUESTS: Final = 2
MAX_ITEMS: Final = PAGE_SIZE * MAX_REQUESTS


class MakerWorldClient:
    """Fetch MakerWorld's trending designs."""

    platform: Final = Platform.MAKERWORLD

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        api_url: str = DEFAULT_API_URL,
        web_url: str = DEFAULT_WEB_URL,
        timeout: float = DEFAULT_TIMEOUT,
        user_agent: str = USER_AGENT,
    ) -> None:
        """Use ``session`` (not owned); ``api_url``/``web_url`` point tests at the simulator."""
        self._http = BoundedHttp(session, timeout=timeout, user_agent=user_agent)
        self._api_url = api_url.rstrip("/")
        self._web_url = web_url.rstrip("/")

    async def async_fetch_trending(
        self, limit: int = 20, *, ordering: str = "hotScore"
    ) -> list[TrendingItem]:
        """Up to ``limit`` trending items (at most 2 requests).

        Raises only :class:`~.models.TrendingError` subclasses; a response in a
        changed shape raises :class:`TrendingParseError`, single malformed items
        are skipped.
        """
        if ordering not in ORDERINGS:
            raise ValueError(f"unknown ordering {ordering!r}")
        limit = max(1, min(limit, MAX_ITEMS))
        items: list[TrendingItem] = []
        seen: set[str] = set()
        offset = 0
        for _ in range(MAX_REQUESTS):
            size = min(PAGE_SIZE, limit - len(items))
            query = urlencode(
                {"orderBy": ordering, "designType": 0, "limit": size, "offset": offset}
            )
            body = await self._http.request_json("GET", f"{self._api_url}{LIST_PATH}?{query}")
            hits, total = _hits(body)
            for hit in hits:
                item = self._item(hit)
                if item is not None and item.model_id not in seen:
                    seen.add(item.model_id)
                    items.append(item)
            if hits and not items:
                raise TrendingParseError(
                    f"MakerWorld: none of {len(hits)} designs has an id, a title and a link"
                )
            offset += len(hits)
            if len(items) >= limit or len(hits) < size or (total is not None and offset >= total):
                break
        return items[:limit]

    def _item(self, hit: Any) -> TrendingItem | None:
        if not isinstance(hit, dict):
            return None
        model_id = req_id(hit.get("id"))
        title = req_text(hit.get("title"))
        if model_id is None or title is None:
            _LOGGER.debug("MakerWorld: skipping a design without id or title")
            return None
        creator = hit.get("designCreator")
        creator_name = None
        if isinstance(creator, dict):
            creator_name = opt_text(creator.get("name")) or opt_text(creator.get("handle"))
        cover = opt_text(hit.get("cover"))
        if cover is not None and not cover.startswith(("http://", "https://")):
            cover = None
        return TrendingItem(
            platform=self.platform.value,
            model_id=model_id,
            title=title,
            url=f"{self._web_url}/en/models/{model_id}",
            thumbnail_url=cover,
            creator=creator_name or "",
            downloads=opt_count(hit.get("downloadCount")),
            likes=opt_count(hit.get("likeCount")),
            category=_category(hit),
            licence=opt_text(hit.get("license")),
        )


def _hits(body: Any) -> tuple[list[Any], int | None]:
    if not isinstance(body, dict) or not isinstance(body.get("hits"), list):
        keys = sorted(body)[:8] if isinstance(body, dict) else type(body).__name__
        raise TrendingParseError(f"MakerWorld: no 'hits' list in the response (got {keys})")
    return body["hits"], opt_count(body.get("total"))


def _category(hit: dict[str, Any]) -> str | None:
    tags = hit.get("tags")
    if isinstance(tags, list):
        for tag in tags:
            if text := opt_text(tag):
                return text
    return None
