"""Trending models: the normalized item and the errors of the trending clients.

No Home Assistant import. Both site clients turn their responses into
:class:`TrendingItem`; the only exceptions that leave a client are the
:class:`TrendingError` subclasses below.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, Final, Self


class Platform(StrEnum):
    """A trending site."""

    MAKERWORLD = "makerworld"
    PRINTABLES = "printables"


PLATFORMS: Final = tuple(Platform)


@dataclass(frozen=True, slots=True, kw_only=True)
class TrendingItem:
    """One trending model, as every platform reports it."""

    platform: str
    model_id: str
    title: str
    url: str
    thumbnail_url: str | None
    creator: str
    downloads: int | None = None
    likes: int | None = None
    category: str | None = None
    licence: str | None = None

    @property
    def trending_id(self) -> str:
        """Unique across platforms: ``<platform>:<model_id>``."""
        return f"{self.platform}:{self.model_id}"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict (the stored and action-response shape)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Rebuild from :meth:`as_dict` (unknown keys are ignored)."""
        return cls(
            platform=str(data["platform"]),
            model_id=str(data["model_id"]),
            title=str(data["title"]),
            url=str(data["url"]),
            thumbnail_url=_opt_str(data.get("thumbnail_url")),
            creator=str(data.get("creator") or ""),
            downloads=_opt_int(data.get("downloads")),
            likes=_opt_int(data.get("likes")),
            category=_opt_str(data.get("category")),
            licence=_opt_str(data.get("licence")),
        )


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _opt_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


class TrendingError(Exception):
    """Base of every error a trending client raises."""


class TrendingConnectionError(TrendingError):
    """The site could not be reached, timed out, or answered with an unexpected HTTP status."""


class TrendingBlockedError(TrendingError):
    """The site refused us (HTTP 403, e.g. a Cloudflare challenge, or 429 Too Many Requests).

    ``retry_after`` is the delay in seconds the site asked for (``Retry-After``),
    ``None`` when it gave none.
    """

    def __init__(self, message: str, *, status: int, retry_after: float | None = None) -> None:
        """Initialize with the HTTP status and the requested delay."""
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class TrendingResponseTooLargeError(TrendingError):
    """A response body exceeded the size limit (the read was aborted)."""


class TrendingParseError(TrendingError):
    """The response is not what the site used to send (not JSON, or a changed shape)."""


class TrendingApiError(TrendingError):
    """The site answered with an error document (GraphQL ``errors``)."""


class ThumbnailError(TrendingError):
    """A thumbnail was refused (wrong content type, corrupt, too large, decompression bomb)."""
