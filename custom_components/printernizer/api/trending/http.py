"""HTTP plumbing shared by the trending clients: timeouts, bounded reads, error mapping.

The :class:`aiohttp.ClientSession` is injected (Home Assistant's shared one in
production) and never closed here. Every body is read in chunks and the read is
aborted as soon as it exceeds the limit, so a hostile or broken site cannot
make us buffer an unbounded response.
"""

from __future__ import annotations

import email.utils
import json
import time
from dataclasses import dataclass
from typing import Any, Final

import aiohttp

from .models import (
    TrendingBlockedError,
    TrendingConnectionError,
    TrendingParseError,
    TrendingResponseTooLargeError,
)

#: The User-Agent every request carries: who we are and where to find us.
USER_AGENT: Final = (
    "Printernizer-HomeAssistant/0.1.0 (+https://github.com/printernizer/printernizer-ha)"
)
DEFAULT_TIMEOUT: Final = 20.0
#: Largest JSON body accepted from a list endpoint.
MAX_JSON_BYTES: Final = 2 * 1024 * 1024
#: Largest image accepted for the thumbnail cache.
MAX_IMAGE_BYTES: Final = 4 * 1024 * 1024
_CHUNK: Final = 64 * 1024
#: Longest Retry-After honoured (a week); longer values are clamped.
MAX_RETRY_AFTER: Final = 7 * 24 * 3600.0


@dataclass(frozen=True, slots=True)
class HttpResult:
    """A fully read, size-checked response."""

    status: int
    content_type: str
    body: bytes


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    delta = when.timestamp() - (time.time() if now is None else now)
    return min(max(delta, 0.0), MAX_RETRY_AFTER)


class BoundedHttp:
    """Requests with a timeout, an honest User-Agent and a hard size limit."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        user_agent: str = USER_AGENT,
    ) -> None:
        """Wrap ``session`` (not owned: never closed here)."""
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._user_agent = user_agent

    async def request(
        self,
        method: str,
        url: str,
        *,
        max_bytes: int,
        json_body: Any = None,
        accept: str = "application/json",
    ) -> HttpResult:
        """Send one request; read at most ``max_bytes`` of the body.

        Raises :class:`TrendingBlockedError` on 403/429, :class:`TrendingConnectionError`
        on transport errors, timeouts and other non-2xx statuses, and
        :class:`TrendingResponseTooLargeError` when the body is too large.
        """
        headers = {"User-Agent": self._user_agent, "Accept": accept}
        try:
            async with self._session.request(
                method,
                url,
                json=json_body,
                headers=headers,
                timeout=self._timeout,
                allow_redirects=True,
                max_redirects=3,
            ) as response:
                if response.status in (403, 429):
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                    raise TrendingBlockedError(
                        f"{url}: HTTP {response.status}"
                        + (" (Cloudflare challenge)" if _is_challenge(response) else ""),
                        status=response.status,
                        retry_after=retry_after,
                    )
                if not 200 <= response.status < 300:
                    raise TrendingConnectionError(f"{url}: HTTP {response.status}")
                declared = response.content_length
                if declared is not None and declared > max_bytes:
                    raise TrendingResponseTooLargeError(
                        f"{url}: {declared} bytes declared, limit {max_bytes}"
                    )
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.content.iter_chunked(_CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise TrendingResponseTooLargeError(
                            f"{url}: body over the limit of {max_bytes} bytes"
                        )
                    chunks.append(chunk)
                return HttpResult(
                    status=response.status,
                    content_type=response.content_type,
                    body=b"".join(chunks),
                )
        except TimeoutError as err:
            raise TrendingConnectionError(f"{url}: timed out") from err
        except aiohttp.ClientError as err:
            raise TrendingConnectionError(f"{url}: {type(err).__name__}: {err}") from err

    async def request_json(
        self, method: str, url: str, *, json_body: Any = None, max_bytes: int = MAX_JSON_BYTES
    ) -> Any:
        """:meth:`request` and decode JSON (:class:`TrendingParseError` when it is not JSON)."""
        result = await self.request(method, url, max_bytes=max_bytes, json_body=json_body)
        try:
            return json.loads(result.body)
        except (UnicodeDecodeError, ValueError) as err:
            raise TrendingParseError(
                f"{url}: not JSON (content type {result.content_type or 'none'})"
            ) from err


def _is_challenge(response: aiohttp.ClientResponse) -> bool:
    return response.content_type == "text/html" and (
        "cloudflare" in response.headers.get("Server", "").lower()
        or "cf-mitigated" in response.headers
    )
