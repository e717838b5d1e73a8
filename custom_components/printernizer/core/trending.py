"""Trending models: the integration-wide refresher of the library entry.

One :class:`TrendingManager` refreshes the enabled platforms on a schedule
(6 hours by default, never under 1 hour, with jitter) and on the
``printernizer.refresh_trending`` action. Good citizenship: at most 2 requests
per platform per refresh (the clients enforce it), a platform that refused
(HTTP 403/429) is left alone until its backoff ends (``Retry-After`` when
given, else doubling from 1 hour up to a day), and a repair issue is raised when
a platform keeps refusing for a day. A failed platform keeps its previous
items; ``trending_updated`` names only the platforms that actually refreshed.
Items and backoff state persist in a :class:`CollectionStore`; thumbnails go
through :class:`ThumbnailCache`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final, Protocol

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from ..api.trending import (
    PLATFORMS,
    BoundedHttp,
    TrendingBlockedError,
    TrendingError,
    TrendingItem,
)
from ..const import DOMAIN, MAX_TRENDING_ITEMS
from ..emitter import EventEmitter, timestamp
from .storage import CollectionStore
from .thumbnail_cache import ThumbnailCache

_LOGGER = logging.getLogger(__name__)

STORAGE_KEY: Final = "printernizer.trending"
STORAGE_VERSION: Final = 1

DEFAULT_INTERVAL: Final = timedelta(hours=6)
MIN_INTERVAL: Final = timedelta(hours=1)
DEFAULT_ITEMS: Final = 20
MAX_ITEMS: Final = MAX_TRENDING_ITEMS
#: Up to this share of the interval (at most 30 minutes) is added at random.
JITTER_SHARE: Final = 0.1
MAX_JITTER: Final = timedelta(minutes=30)
#: The first refresh after start waits a little (not at Home Assistant's start rush).
FIRST_REFRESH_DELAY: Final = timedelta(seconds=30)
#: Backoff after a refusal without Retry-After: 1 h, 2 h, 4 h, ... up to a day.
BACKOFF_BASE: Final = timedelta(hours=1)
BACKOFF_MAX: Final = timedelta(days=1)
#: A platform refusing for this long raises a repair issue.
REPAIR_AFTER: Final = timedelta(days=1)

PLATFORM_NAMES: Final = {"makerworld": "MakerWorld", "printables": "Printables"}


class TrendingSource(Protocol):
    """What the manager needs from a site client (MakerWorldClient, PrintablesClient)."""

    async def async_fetch_trending(self, limit: int = ...) -> list[TrendingItem]:
        """Fetch up to ``limit`` items."""


@dataclass(slots=True)
class PlatformState:
    """Refresh and backoff state of one platform (persisted)."""

    last_refresh: str | None = None
    last_attempt: str | None = None
    last_error: str | None = None
    failures: int = 0
    blocked_until: str | None = None
    blocked_since: str | None = None
    refusals: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Stored shape."""
        return {
            "last_refresh": self.last_refresh,
            "last_attempt": self.last_attempt,
            "last_error": self.last_error,
            "failures": self.failures,
            "blocked_until": self.blocked_until,
            "blocked_since": self.blocked_since,
            "refusals": self.refusals,
        }

    @classmethod
    def from_dict(cls, data: Any) -> PlatformState:
        """Restore (tolerant of missing keys)."""
        if not isinstance(data, dict):
            return cls()

        def _s(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) else None

        def _i(key: str) -> int:
            value = data.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) else 0

        return cls(
            last_refresh=_s("last_refresh"),
            last_attempt=_s("last_attempt"),
            last_error=_s("last_error"),
            failures=_i("failures"),
            blocked_until=_s("blocked_until"),
            blocked_since=_s("blocked_since"),
            refusals=_i("refusals"),
        )


@dataclass(frozen=True, slots=True)
class StoredItem:
    """A trending item with the time it was fetched."""

    item: TrendingItem
    cached_at: str


def issue_id(platform: str) -> str:
    """Repair issue id of a platform that keeps refusing."""
    return f"trending_blocked_{platform}"


class TrendingManager:
    """Trending items of every platform, their refresh schedule, backoff and thumbnails."""

    def __init__(
        self,
        hass: HomeAssistant,
        emitter: EventEmitter,
        *,
        sources: Mapping[str, TrendingSource],
        http: BoundedHttp,
        cache_dir: Path,
        enabled: Iterable[str] = (),
        items_per_platform: int = DEFAULT_ITEMS,
        interval: timedelta = DEFAULT_INTERVAL,
        store: CollectionStore | None = None,
    ) -> None:
        """Configure; nothing runs until :meth:`async_load` and :meth:`async_start`."""
        self._hass = hass
        self._emitter = emitter
        self._sources = dict(sources)
        self.enabled = tuple(p for p in PLATFORMS if p in set(enabled) and p in self._sources)
        self.items_per_platform = max(1, min(int(items_per_platform), MAX_ITEMS))
        self.interval = max(MIN_INTERVAL, interval)
        self._store = store or CollectionStore(hass, STORAGE_KEY, STORAGE_VERSION)
        self._items: dict[str, list[StoredItem]] = {}
        self._states: dict[str, PlatformState] = {p: PlatformState() for p in PLATFORMS}
        self.thumbnails = ThumbnailCache(
            hass, emitter, http, cache_dir, on_change=self._schedule_save
        )
        self._lock = asyncio.Lock()
        self._unsub_timer: CALLBACK_TYPE | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.next_refresh: datetime | None = None
        #: Set by :meth:`async_stop`: a refresh ending (or cancelled) after it schedules nothing.
        self._stopped = False

    # --- persistence ----------------------------------------------------------

    async def async_load(self) -> None:
        """Restore items, backoff state and the thumbnail index from the store."""
        data = await self._store.async_load() or {}
        raw_items = data.get("items")
        if isinstance(raw_items, dict):
            for platform, entries in raw_items.items():
                if platform not in PLATFORMS or not isinstance(entries, list):
                    continue
                restored = []
                for entry in entries:
                    try:
                        restored.append(
                            StoredItem(
                                item=TrendingItem.from_dict(entry["item"]),
                                cached_at=str(entry["cached_at"]),
                            )
                        )
                    except (KeyError, TypeError, ValueError):
                        _LOGGER.debug("Dropping a malformed stored trending item")
                self._items[platform] = restored
        raw_states = data.get("platforms")
        if isinstance(raw_states, dict):
            for platform in PLATFORMS:
                self._states[platform] = PlatformState.from_dict(raw_states.get(platform))
        thumbs = data.get("thumbnails")
        if isinstance(thumbs, dict):
            self.thumbnails.load(thumbs)

    def _snapshot(self) -> dict[str, Any]:
        return {
            "items": {
                platform: [{"item": s.item.as_dict(), "cached_at": s.cached_at} for s in stored]
                for platform, stored in self._items.items()
            },
            "platforms": {p: s.as_dict() for p, s in self._states.items()},
            "thumbnails": self.thumbnails.as_dict(),
        }

    @callback
    def _schedule_save(self) -> None:
        self._store.schedule_save(self._snapshot)

    async def async_flush(self) -> None:
        """Write pending changes now (on unload)."""
        await self._store.async_save(self._snapshot())

    # --- schedule -------------------------------------------------------------

    @callback
    def async_start(self) -> None:
        """Schedule the first refresh when a platform is enabled.

        Soon after start (30 s) for a platform never asked, else one interval
        after the last attempt: a restart or an options change does not cause
        an extra request.
        """
        if not self.enabled:
            return
        soon = dt_util.utcnow() + FIRST_REFRESH_DELAY
        due: list[datetime] = []
        for platform in self.enabled:
            last = dt_util.parse_datetime(self._states[platform].last_attempt or "")
            due.append(soon if last is None else last + self.interval)
        self._schedule(max(soon, min(due)))

    async def async_stop(self) -> None:
        """Cancel the schedule and a running refresh, wait for it and save."""
        self._stopped = True
        if self._unsub_timer is not None:
            self._unsub_timer()
            self._unsub_timer = None
        self.next_refresh = None
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.async_flush()

    @callback
    def _schedule(self, when: datetime) -> None:
        if self._stopped:
            return
        if self._unsub_timer is not None:
            self._unsub_timer()
        self.next_refresh = when
        self._unsub_timer = async_track_point_in_utc_time(self._hass, self._on_timer, when)

    def _next_time(self) -> datetime:
        jitter = min(self.interval * JITTER_SHARE, MAX_JITTER).total_seconds()
        return dt_util.utcnow() + self.interval + timedelta(seconds=random.uniform(0, jitter))

    @callback
    def _on_timer(self, _now: datetime) -> None:
        self._unsub_timer = None
        task = self._hass.async_create_background_task(
            self.async_refresh(), "printernizer trending refresh"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- refresh ------------------------------------------------------------------

    async def async_refresh(self) -> list[str]:
        """Refresh every enabled platform not in backoff; return those that refreshed.

        Never raises for a site's failure: each platform's error is logged once
        per failure streak and the platform keeps its previous items.
        """
        async with self._lock:
            try:
                refreshed = await self._refresh_platforms()
            finally:
                if self.enabled:
                    self._schedule(self._next_time())
            if refreshed:
                self._emitter.fire(
                    "trending_updated", {"platforms": refreshed, "timestamp": timestamp()}
                )
            self._schedule_save()
            await self.thumbnails.async_expire()
            await self.thumbnails.async_fetch_all(self._thumbnails_wanted(refreshed))
            return refreshed

    def _thumbnails_wanted(self, platforms: list[str]) -> list[tuple[str, str]]:
        """``(url, platform)`` of the platforms' thumbnails, taking turns by rank.

        Every refreshed platform's hottest models get their thumbnails first:
        one platform's list never waits behind the whole of another's.
        """
        ranked = [
            [(s.item.thumbnail_url, p) for s in self._items.get(p, []) if s.item.thumbnail_url]
            for p in platforms
        ]
        return [pair for turn in itertools.zip_longest(*ranked) for pair in turn if pair]

    async def _refresh_platforms(self) -> list[str]:
        refreshed: list[str] = []
        for platform in self.enabled:
            if await self._refresh_one(platform):
                refreshed.append(platform)
        return refreshed

    async def _refresh_one(self, platform: str) -> bool:
        state = self._states[platform]
        now = dt_util.utcnow()
        blocked_until = dt_util.parse_datetime(state.blocked_until or "")
        if blocked_until is not None and now < blocked_until:
            _LOGGER.debug("%s: backing off until %s", PLATFORM_NAMES[platform], blocked_until)
            return False
        state.last_attempt = now.isoformat()
        try:
            items = await self._sources[platform].async_fetch_trending(self.items_per_platform)
        except TrendingBlockedError as err:
            self._blocked(platform, state, err, now)
            return False
        except TrendingError as err:
            self._failed(platform, state, str(err))
            return False
        if not items:
            self._failed(platform, state, "the site returned no items")
            return False
        if state.failures or state.refusals:
            _LOGGER.info("%s: trending list available again", PLATFORM_NAMES[platform])
        stamp = now.isoformat()
        self._items[platform] = [StoredItem(item=i, cached_at=stamp) for i in items]
        state.last_refresh = stamp
        state.last_error = None
        state.failures = 0
        state.refusals = 0
        state.blocked_until = None
        state.blocked_since = None
        ir.async_delete_issue(self._hass, DOMAIN, issue_id(platform))
        return True

    def _failed(self, platform: str, state: PlatformState, message: str) -> None:
        state.failures += 1
        state.last_error = message
        log = _LOGGER.warning if state.failures == 1 else _LOGGER.debug
        log(
            "%s trending list not refreshed, keeping the previous items: %s",
            PLATFORM_NAMES[platform],
            message,
        )

    def _blocked(
        self, platform: str, state: PlatformState, err: TrendingBlockedError, now: datetime
    ) -> None:
        state.refusals += 1
        if err.retry_after is not None:
            delay = timedelta(seconds=err.retry_after)
        else:
            delay = min(BACKOFF_BASE * 2 ** (state.refusals - 1), BACKOFF_MAX)
        until = now + delay
        state.blocked_until = until.isoformat()
        state.blocked_since = state.blocked_since or now.isoformat()
        state.last_error = f"HTTP {err.status}"
        log = _LOGGER.warning if state.refusals == 1 else _LOGGER.debug
        log(
            "%s refused the trending request (HTTP %s); not asking again before %s",
            PLATFORM_NAMES[platform],
            err.status,
            until.isoformat(timespec="seconds"),
        )
        since = dt_util.parse_datetime(state.blocked_since)
        if since is not None and now - since >= REPAIR_AFTER:
            ir.async_create_issue(
                self._hass,
                DOMAIN,
                issue_id(platform),
                is_fixable=False,
                is_persistent=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="trending_blocked",
                translation_placeholders={
                    "platform": PLATFORM_NAMES[platform],
                    "status": str(err.status),
                },
            )

    # --- queries --------------------------------------------------------------------

    def items(self, platform: str | None = None) -> list[StoredItem]:
        """Stored items of the enabled platforms, of one or all (platform order, then rank).

        A platform the user turned off keeps its stored items (for when it is
        turned on again) but shows none.
        """
        platforms = self.enabled if platform is None else (platform,)
        return [s for p in platforms if p in self.enabled for s in self._items.get(p, [])]

    def get(self, trending_id: str) -> StoredItem | None:
        """The item with id ``<platform>:<model_id>`` of an enabled platform, or None."""
        platform, _, model_id = trending_id.partition(":")
        if platform not in self.enabled:
            return None
        for stored in self._items.get(platform, []):
            if stored.item.model_id == model_id:
                return stored
        return None

    def item_dict(self, stored: StoredItem) -> dict[str, Any]:
        """The response shape of an item (with its local thumbnail, if cached)."""
        path = self.thumbnails.path_for(stored.item.thumbnail_url)
        return {
            "trending_id": stored.item.trending_id,
            **stored.item.as_dict(),
            "local_thumbnail": str(path) if path else None,
            "cached_at": stored.cached_at,
        }

    def state(self, platform: str) -> PlatformState:
        """Refresh and backoff state of ``platform``."""
        return self._states[platform]

    def diagnostics(self) -> dict[str, Any]:
        """The trending state for diagnostics (there are no secrets to redact)."""
        return {
            "enabled": list(self.enabled),
            "items_per_platform": self.items_per_platform,
            "interval_hours": self.interval.total_seconds() / 3600,
            "next_refresh": self.next_refresh.isoformat() if self.next_refresh else None,
            "platforms": {
                platform: {
                    "items": len(self._items.get(platform, [])),
                    **self._states[platform].as_dict(),
                }
                for platform in PLATFORMS
            },
            "thumbnails": {
                "cached": self.thumbnails.count,
                "refused": self.thumbnails.refused_count,
                "directory": str(self.thumbnails.directory),
            },
        }
