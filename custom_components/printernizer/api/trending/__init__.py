"""Trending sites (MakerWorld, Printables): HTTP clients, parsers, thumbnail checks.

No Home Assistant import; the clients run on an injected :class:`aiohttp.ClientSession`.
"""

from __future__ import annotations

from .http import USER_AGENT, BoundedHttp, HttpResult
from .makerworld import MakerWorldClient
from .models import (
    PLATFORMS,
    Platform,
    ThumbnailError,
    TrendingApiError,
    TrendingBlockedError,
    TrendingConnectionError,
    TrendingError,
    TrendingItem,
    TrendingParseError,
    TrendingResponseTooLargeError,
)
from .printables import PrintablesClient

type TrendingClient = MakerWorldClient | PrintablesClient

__all__ = [
    "PLATFORMS",
    "USER_AGENT",
    "BoundedHttp",
    "HttpResult",
    "MakerWorldClient",
    "Platform",
    "PrintablesClient",
    "ThumbnailError",
    "TrendingApiError",
    "TrendingBlockedError",
    "TrendingClient",
    "TrendingConnectionError",
    "TrendingError",
    "TrendingItem",
    "TrendingParseError",
    "TrendingResponseTooLargeError",
]
