"""Thumbnail cache of trending models: fetched once, checked, resized, kept 30 days.

Files live under ``<config>/printernizer/cache/trending/<sha256(url)>.<ext>``.
Downloads go through the bounded HTTP helper (size limit, timeout, honest
User-Agent); checking, resizing and every file operation run in the executor.
Writes are atomic (temporary file, fsync, rename). A refused image (wrong
content type, corrupt bytes, decompression bomb, too large) is logged once
and not fetched again until it would have expired.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal, cast

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from ..api.trending import BoundedHttp, ThumbnailError, TrendingError
from ..api.trending.http import MAX_IMAGE_BYTES
from ..api.trending.thumbnails import Thumbnail, cache_key, process_image
from ..emitter import EventEmitter

_LOGGER = logging.getLogger(__name__)

EXPIRY: Final = timedelta(days=30)
#: Thumbnails fetched at the same time.
PARALLEL: Final = 4
MIME_TYPES: Final = {"jpg": "image/jpeg", "png": "image/png"}


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file, fsync and rename (executor)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def copy_atomic(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` atomically (executor)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
    try:
        with os.fdopen(fd, "wb") as handle, source.open("rb") as src:
            shutil.copyfileobj(src, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ThumbnailCache:
    """The cached thumbnails and the refused URLs (their index is saved by the owner)."""

    def __init__(
        self,
        hass: HomeAssistant,
        emitter: EventEmitter,
        http: BoundedHttp,
        directory: Path,
        *,
        on_change: Callable[[], None],
    ) -> None:
        """Cache under ``directory``; ``on_change`` asks the owner to save the index."""
        self._hass = hass
        self._emitter = emitter
        self._http = http
        self.directory = directory
        self._on_change = on_change
        #: key -> {"file", "url", "platform", "cached_at"}
        self._entries: dict[str, dict[str, str]] = {}
        #: key -> ISO time of the refusal
        self._refused: dict[str, str] = {}

    # --- index --------------------------------------------------------------

    def load(self, data: dict[str, Any]) -> None:
        """Restore the index saved by :meth:`as_dict`."""
        entries = data.get("entries")
        if isinstance(entries, dict):
            self._entries = {
                k: v
                for k, v in entries.items()
                if isinstance(v, dict) and {"file", "url", "cached_at"} <= v.keys()
            }
        refused = data.get("refused")
        if isinstance(refused, dict):
            self._refused = {k: v for k, v in refused.items() if isinstance(v, str)}

    def as_dict(self) -> dict[str, Any]:
        """The index (stored by the owner)."""
        return {"entries": dict(self._entries), "refused": dict(self._refused)}

    def path_for(self, url: str | None) -> Path | None:
        """The cached file of ``url`` (None when not cached or expired)."""
        if not url:
            return None
        entry = self._entries.get(cache_key(url))
        if entry is None or self._expired(entry["cached_at"]):
            return None
        return self.directory / entry["file"]

    def path_for_key(self, key: str) -> Path | None:
        """The cached file with cache key ``key`` (for the media browser)."""
        entry = self._entries.get(key)
        if entry is None or self._expired(entry["cached_at"]):
            return None
        return self.directory / entry["file"]

    @property
    def count(self) -> int:
        """Cached thumbnails."""
        return len(self._entries)

    @property
    def refused_count(self) -> int:
        """URLs refused (not retried until expiry)."""
        return len(self._refused)

    def _expired(self, iso: str, now: datetime | None = None) -> bool:
        when = dt_util.parse_datetime(iso)
        return when is None or (now or dt_util.utcnow()) - when >= EXPIRY

    # --- work ---------------------------------------------------------------

    async def async_fetch_all(self, wanted: Iterable[tuple[str, str]]) -> None:
        """Cache every ``(url, platform)`` not cached or refused yet, a few at a time."""
        semaphore = asyncio.Semaphore(PARALLEL)

        async def _one(url: str, platform: str) -> None:
            async with semaphore:
                await self.async_get(url, platform)

        todo = {url: platform for url, platform in wanted if self._needs_fetch(url)}
        if todo:
            await asyncio.gather(*(_one(url, platform) for url, platform in todo.items()))

    def _needs_fetch(self, url: str) -> bool:
        key = cache_key(url)
        refused = self._refused.get(key)
        if refused is not None and not self._expired(refused):
            return False
        return self.path_for(url) is None

    async def async_get(self, url: str, platform: str) -> Path | None:
        """The cached file of ``url``, fetching it once if needed; None when refused."""
        if not self._needs_fetch(url):
            return self.path_for(url)
        return await self._fetch(url, cache_key(url), platform)

    async def _fetch(self, url: str, key: str, platform: str) -> Path | None:
        try:
            result = await self._http.request(
                "GET", url, max_bytes=MAX_IMAGE_BYTES, accept="image/*"
            )
            thumb: Thumbnail = await self._hass.async_add_executor_job(
                process_image, result.body, result.content_type
            )
        except ThumbnailError as err:
            _LOGGER.warning("Thumbnail %s refused: %s", url, err)
            self._refused[key] = dt_util.utcnow().isoformat()
            self._on_change()
            return None
        except TrendingError as err:
            # Not the image's fault (network, 404, too large, blocked): log, retry next refresh.
            _LOGGER.info("Thumbnail %s not fetched: %s", url, err)
            return None
        path = self.directory / f"{key}.{thumb.extension}"
        await self._hass.async_add_executor_job(write_atomic, path, thumb.data)
        self._entries[key] = {
            "file": path.name,
            "url": url,
            "platform": platform,
            "cached_at": dt_util.utcnow().isoformat(),
        }
        self._refused.pop(key, None)
        self._on_change()
        self._emitter.fire(
            "thumbnail_cached",
            {
                "url": url,
                "cache_path": str(path),
                "source_type": cast(Literal["makerworld", "printables"], platform),
            },
        )
        return path

    async def async_expire(self) -> int:
        """Delete thumbnails older than 30 days and forget old refusals; return files removed."""
        now = dt_util.utcnow()
        old = [k for k, e in self._entries.items() if self._expired(e["cached_at"], now)]
        files = [self.directory / self._entries.pop(k)["file"] for k in old]
        stale = [k for k, iso in self._refused.items() if self._expired(iso, now)]
        for key in stale:
            del self._refused[key]
        if files:
            await self._hass.async_add_executor_job(_unlink_all, files)
        if old or stale:
            self._on_change()
        return len(files)


def _unlink_all(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
