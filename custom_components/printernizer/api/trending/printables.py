"""Printables trending list (the GraphQL endpoint the site's own pages use).

``POST {api}/graphql/`` with operation ``PrintList`` → ``{"data": {"morePrints":
{"cursor", "items": [...]}}}``; errors arrive as HTTP 200 with ``{"errors":
[{"message"}]}``. Images at ``{media}/<filePath>``, pages at
``{web}/model/{id}-{slug}``. At most 2 requests per refresh (the second only
follows the cursor to fill a larger count).

The licence: ``license { abbreviation name }`` ("CC BY-SA" and its long name).
Neither field is documented by Printables; open projects querying its GraphQL
use them on prints. The short form is kept, the name when it is missing, and
no licence (unknown) when the print has none or the site leaves it out.
"""

from __future__ import annotations

import logging
from typing import Any, Final

import aiohttp

from .http import DEFAULT_TIMEOUT, USER_AGENT, BoundedHttp
from .models import Platform, TrendingApiError, TrendingItem, TrendingParseError
from .parsing import opt_count, opt_text, req_id, req_text

_LOGGER = logging.getLogger(__name__)

DEFAULT_API_URL: Final = "https://api.printables.com"
DEFAULT_WEB_URL: Final = "https://www.printables.com"
DEFAULT_MEDIA_URL: Final = "https://media.printables.com"
GRAPHQL_PATH: Final = "/graphql/"
OPERATION: Final = "PrintList"
ORDERINGS: Final = (
    "-likes_count_7_days",
    "-download_count_7_days",
    "-display_count",
    "-rating_avg_7_days",
)
PAGE_SIZE: Final = 30
MAX_REQUESTS: Final = 2
MAX_ITEMS: Final = PAGE_SIZE * MAX_REQUESTS

QUERY: Final = """query PrintList($limit: Int!, $cursor: String, $ordering: String) {
  morePrints(limit: $limit, cursor: $cursor, ordering: $ordering) {
    cursor
    items {
      id
      name
      slug
      likesCount
      downloadCount
      datePublished
      ratingAvg
      images { filePath }
      user { publicUsername }
      category { path { name } }
      license { abbreviation name }
    }
  }
}"""


class PrintablesClient:
    """Fetch Printables' trending prints."""

    platform: Final = Platform.PRINTABLES

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        api_url: str = DEFAULT_API_URL,
        web_url: str = DEFAULT_WEB_URL,
        media_url: str = DEFAULT_MEDIA_URL,
        timeout: float = DEFAULT_TIMEOUT,
        user_agent: str = USER_AGENT,
    ) -> None:
        """Use ``session`` (not owned); the URLs point tests at the simulator."""
        self._http = BoundedHttp(session, timeout=timeout, user_agent=user_agent)
        self._api_url = api_url.rstrip("/")
        self._web_url = web_url.rstrip("/")
        self._media_url = media_url.rstrip("/")

    async def async_fetch_trending(
        self, limit: int = 20, *, ordering: str = "-likes_count_7_days"
    ) -> list[TrendingItem]:
        """Up to ``limit`` trending prints (at most 2 requests).

        Raises only :class:`~.models.TrendingError` subclasses: GraphQL errors
        as :class:`TrendingApiError`, a changed shape as :class:`TrendingParseError`;
        single malformed items are skipped.
        """
        if ordering not in ORDERINGS:
            raise ValueError(f"unknown ordering {ordering!r}")
        limit = max(1, min(limit, MAX_ITEMS))
        items: list[TrendingItem] = []
        seen: set[str] = set()
        cursor: str | None = None
        for _ in range(MAX_REQUESTS):
            size = min(PAGE_SIZE, limit - len(items))
            body = await self._http.request_json(
                "POST",
                f"{self._api_url}{GRAPHQL_PATH}",
                json_body={
                    "operationName": OPERATION,
                    "variables": {"limit": size, "cursor": cursor, "ordering": ordering},
                    "query": QUERY,
                },
            )
            raw, cursor = _page(body)
            for entry in raw:
                item = self._item(entry)
                if item is not None and item.model_id not in seen:
                    seen.add(item.model_id)
                    items.append(item)
            if raw and not items:
                raise TrendingParseError(
                    f"Printables: none of {len(raw)} prints has an id, a name and a slug"
                )
            if len(items) >= limit or len(raw) < size or not cursor:
                break
        return items[:limit]

    def _item(self, entry: Any) -> TrendingItem | None:
        if not isinstance(entry, dict):
            return None
        model_id = req_id(entry.get("id"))
        title = req_text(entry.get("name"))
        slug = entry.get("slug")
        if model_id is None or title is None:
            _LOGGER.debug("Printables: skipping a print without id or name")
            return None
        path = f"{model_id}-{slug}" if isinstance(slug, str) and _safe_slug(slug) else model_id
        user = entry.get("user")
        return TrendingItem(
            platform=self.platform.value,
            model_id=model_id,
            title=title,
            url=f"{self._web_url}/model/{path}",
            thumbnail_url=self._image(entry.get("images")),
            creator=(opt_text(user.get("publicUsername")) if isinstance(user, dict) else None)
            or "",
            downloads=opt_count(entry.get("downloadCount")),
            likes=opt_count(entry.get("likesCount")),
            category=_category(entry.get("category")),
            licence=_licence(entry.get("license")),
        )

    def _image(self, images: Any) -> str | None:
        if not isinstance(images, list):
            return None
        for image in images:
            if isinstance(image, dict):
                path = image.get("filePath")
                if isinstance(path, str) and path and ".." not in path and "://" not in path:
                    return f"{self._media_url}/{path.lstrip('/')}"
        return None


def _safe_slug(slug: str) -> bool:
    return 0 < len(slug) <= 200 and slug.replace("-", "").replace("_", "").isalnum()


def _page(body: Any) -> tuple[list[Any], str | None]:
    if not isinstance(body, dict):
        raise TrendingParseError(f"Printables: response is a {type(body).__name__}, not an object")
    errors = body.get("errors")
    if errors:
        messages = [
            str(error.get("message"))[:200]
            for error in (errors if isinstance(errors, list) else [errors])
            if isinstance(error, dict) and error.get("message")
        ]
        raise TrendingApiError(f"Printables GraphQL: {'; '.join(messages) or 'error'}")
    data = body.get("data")
    more = data.get("morePrints") if isinstance(data, dict) else None
    if not isinstance(more, dict) or not isinstance(more.get("items"), list):
        keys = sorted(data)[:8] if isinstance(data, dict) else type(data).__name__
        raise TrendingParseError(
            f"Printables: no data.morePrints.items in the response (got {keys})"
        )
    cursor = more.get("cursor")
    return more["items"], cursor if isinstance(cursor, str) and cursor else None


def _licence(licence: Any) -> str | None:
    if not isinstance(licence, dict):
        return None
    return opt_text(licence.get("abbreviation")) or opt_text(licence.get("name"))


def _category(category: Any) -> str | None:
    if not isinstance(category, dict):
        return None
    path = category.get("path")
    if isinstance(path, list):
        names = [opt_text(p.get("name")) for p in path if isinstance(p, dict)]
        named = [n for n in names if n]
        if named:
            return named[-1]
    return None
