"""Print ideas: records in a :class:`CollectionStore`, the operations of the to-do list and actions.

An idea has a title, a description (notes), where it came from (``manual``,
``makerworld``, ``printables`` with the source link), an optional thumbnail
(its own copy, which never expires), a category, a priority from 1 to 5, a
status (``idea``, ``planned``, ``printing``, ``completed``, ``archived``), an
optional planned date, an estimated print time, tags, and creation and update
times. The order of the list is kept (the to-do list can reorder it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Final
from uuid import uuid4

from homeassistant.core import HomeAssistant, callback
from homeassistant.util import dt as dt_util

from ..emitter import EventEmitter, timestamp
from .storage import CollectionStore
from .thumbnail_cache import copy_atomic
from .trending import TrendingManager

_LOGGER = logging.getLogger(__name__)

STORAGE_KEY: Final = "printernizer.ideas"
STORAGE_VERSION: Final = 1

IDEA_STATUSES: Final = ("idea", "planned", "printing", "completed", "archived")
OPEN_STATUSES: Final = frozenset({"idea", "planned", "printing"})
SOURCE_TYPES: Final = ("manual", "makerworld", "printables")
MIN_PRIORITY: Final = 1
MAX_PRIORITY: Final = 5
DEFAULT_PRIORITY: Final = 3
MAX_TITLE: Final = 255
MAX_DESCRIPTION: Final = 5000


class IdeaValueError(ValueError):
    """A bad value for an idea (``key`` names the translated error, ``value`` the culprit)."""

    def __init__(self, key: str, value: str) -> None:
        """Initialize with the translation key and the offending value."""
        super().__init__(f"{key}: {value}")
        self.key = key
        self.value = value


@dataclass(slots=True, kw_only=True)
class Idea:
    """One print idea."""

    idea_id: str
    title: str
    description: str = ""
    source_type: str = "manual"
    source_url: str | None = None
    trending_id: str | None = None
    thumbnail: str | None = None
    category: str | None = None
    creator: str | None = None
    licence: str | None = None
    priority: int = DEFAULT_PRIORITY
    status: str = "idea"
    planned_date: str | None = None
    estimated_print_time: int | None = None
    tags: list[str] = field(default_factory=list)
    created_at: str = ""
    updated_at: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Stored and response shape."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Idea:
        """Restore a stored idea (unknown keys ignored)."""
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def check_title(title: str) -> str:
    """A stripped, non-empty title of at most 255 characters."""
    text = " ".join(str(title).split())
    if not text or len(text) > MAX_TITLE:
        raise IdeaValueError("invalid_idea_title", str(title)[:50])
    return text


def check_priority(value: Any) -> int:
    """An int priority from 1 to 5."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise IdeaValueError("invalid_priority", str(value))
    try:
        number = float(value)
    except ValueError:
        raise IdeaValueError("invalid_priority", str(value)) from None
    if not number.is_integer() or not MIN_PRIORITY <= number <= MAX_PRIORITY:
        raise IdeaValueError("invalid_priority", str(value))
    return int(number)


def check_status(status: str) -> str:
    """One of :data:`IDEA_STATUSES`."""
    if status not in IDEA_STATUSES:
        raise IdeaValueError("invalid_idea_status", status)
    return status


class IdeaManager:
    """Every idea, in list order; saved after each change."""

    def __init__(
        self,
        hass: HomeAssistant,
        emitter: EventEmitter,
        thumbnail_dir: Path,
        store: CollectionStore | None = None,
    ) -> None:
        """Initialize (call :meth:`async_load` before use); copies go to ``thumbnail_dir``."""
        self._hass = hass
        self._emitter = emitter
        self.thumbnail_dir = thumbnail_dir
        self._store = store or CollectionStore(hass, STORAGE_KEY, STORAGE_VERSION)
        self._ideas: dict[str, Idea] = {}
        self._listeners: list[Callable[[], None]] = []

    async def async_load(self) -> None:
        """Load the saved ideas."""
        data = await self._store.async_load() or {}
        stored = data.get("ideas")
        for raw in stored if isinstance(stored, list) else []:
            try:
                if not isinstance(raw, dict):
                    raise TypeError(type(raw).__name__)
                idea = Idea.from_dict(raw)
            except TypeError:
                _LOGGER.warning("Dropping a malformed stored idea")
                continue
            self._ideas[idea.idea_id] = idea

    def _snapshot(self) -> dict[str, Any]:
        return {"ideas": [idea.as_dict() for idea in self._ideas.values()]}

    async def async_flush(self) -> None:
        """Write pending changes now."""
        await self._store.async_save(self._snapshot())

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` after every change; returns the remover."""
        self._listeners.append(listener)

        @callback
        def _remove() -> None:
            self._listeners.remove(listener)

        return _remove

    @callback
    def _changed(self) -> None:
        self._store.schedule_save(self._snapshot)
        for listener in list(self._listeners):
            listener()

    # --- queries ---------------------------------------------------------------

    def ideas(self, *, include_archived: bool = True) -> list[Idea]:
        """Ideas in list order."""
        return [i for i in self._ideas.values() if include_archived or i.status != "archived"]

    def diagnostics(self) -> dict[str, Any]:
        """Counts for diagnostics (no titles or notes: they are the user's)."""
        counts = {status: 0 for status in IDEA_STATUSES}
        sources = {source: 0 for source in SOURCE_TYPES}
        for idea in self._ideas.values():
            counts[idea.status] = counts.get(idea.status, 0) + 1
            sources[idea.source_type] = sources.get(idea.source_type, 0) + 1
        return {"total": len(self._ideas), "by_status": counts, "by_source": sources}

    def get(self, idea_id: str) -> Idea | None:
        """The idea ``idea_id``, or None."""
        return self._ideas.get(idea_id)

    # --- changes -----------------------------------------------------------------

    @callback
    def create(
        self,
        title: str,
        *,
        description: str = "",
        source_type: str = "manual",
        source_url: str | None = None,
        trending_id: str | None = None,
        thumbnail: str | None = None,
        category: str | None = None,
        creator: str | None = None,
        licence: str | None = None,
        priority: int = DEFAULT_PRIORITY,
        status: str = "idea",
        planned_date: date | None = None,
        estimated_print_time: int | None = None,
        tags: list[str] | None = None,
        idea_id: str | None = None,
    ) -> Idea:
        """Add an idea at the top of the list (values checked first: nothing changes on error)."""
        if source_type not in SOURCE_TYPES:
            raise IdeaValueError("invalid_source_type", source_type)
        now = dt_util.utcnow().isoformat()
        idea = Idea(
            idea_id=idea_id or uuid4().hex,
            title=check_title(title),
            description=str(description)[:MAX_DESCRIPTION],
            source_type=source_type,
            source_url=source_url,
            trending_id=trending_id,
            thumbnail=thumbnail,
            category=category,
            creator=creator,
            licence=licence,
            priority=check_priority(priority),
            status=check_status(status),
            planned_date=planned_date.isoformat() if planned_date else None,
            estimated_print_time=estimated_print_time,
            tags=list(tags or []),
            created_at=now,
            updated_at=now,
        )
        self._ideas = {idea.idea_id: idea, **self._ideas}
        self._changed()
        return idea

    @callback
    def update(self, idea_id: str, **changes: Any) -> Idea:
        """Change fields of an idea (checked first: nothing changes on error)."""
        idea = self._require(idea_id)
        if "title" in changes:
            changes["title"] = check_title(changes["title"])
        if "priority" in changes:
            changes["priority"] = check_priority(changes["priority"])
        if "status" in changes:
            changes["status"] = check_status(changes["status"])
        if "description" in changes:
            changes["description"] = str(changes["description"] or "")[:MAX_DESCRIPTION]
        if "planned_date" in changes:
            planned = changes["planned_date"]
            changes["planned_date"] = planned.isoformat() if isinstance(planned, date) else None
        unknown = set(changes) - set(Idea.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown idea fields {sorted(unknown)}")
        updated = replace(idea, **changes, updated_at=dt_util.utcnow().isoformat())
        self._ideas[idea_id] = updated
        self._changed()
        return updated

    @callback
    def delete(self, idea_id: str) -> Idea:
        """Remove an idea for good; returns it (the caller removes its thumbnail)."""
        idea = self._require(idea_id)
        del self._ideas[idea_id]
        self._changed()
        return idea

    @callback
    def move(self, idea_id: str, previous_id: str | None) -> None:
        """Put ``idea_id`` right after ``previous_id`` (at the top when None)."""
        idea = self._require(idea_id)
        if previous_id is not None:
            self._require(previous_id)
            if previous_id == idea_id:
                return
        order = [i for i in self._ideas if i != idea_id]
        position = 0 if previous_id is None else order.index(previous_id) + 1
        order.insert(position, idea_id)
        self._ideas = {i: (idea if i == idea_id else self._ideas[i]) for i in order}
        self._changed()

    async def async_remove(self, idea_id: str) -> None:
        """Delete an idea and its own thumbnail copy (the file in the executor)."""
        idea = self.delete(idea_id)
        if idea.thumbnail:
            path = Path(idea.thumbnail)
            if path.is_relative_to(self.thumbnail_dir):
                await self._hass.async_add_executor_job(_unlink, path)

    async def async_create_from_trending(
        self,
        trending: TrendingManager,
        trending_id: str,
        *,
        notes: str = "",
        priority: int = DEFAULT_PRIORITY,
    ) -> Idea:
        """An idea from a trending item (with its own copy of the thumbnail).

        Fires ``idea_created_from_trending``. Raises :class:`IdeaValueError`
        for an unknown item or a bad priority, before anything changes.
        """
        stored = trending.get(trending_id)
        if stored is None:
            raise IdeaValueError("unknown_trending_id", trending_id)
        priority = check_priority(priority)
        item = stored.item
        idea_id = uuid4().hex
        thumbnail: str | None = None
        cached = trending.thumbnails.path_for(item.thumbnail_url)
        if cached is None and item.thumbnail_url:
            cached = await trending.thumbnails.async_get(item.thumbnail_url, item.platform)
        if cached is not None:
            target = self.thumbnail_dir / f"{idea_id}{cached.suffix}"
            try:
                await self._hass.async_add_executor_job(copy_atomic, cached, target)
                thumbnail = str(target)
            except OSError as err:
                _LOGGER.warning("Could not copy the thumbnail of %s: %s", trending_id, err)
        idea = self.create(
            item.title,
            description=notes,
            source_type=item.platform,
            source_url=item.url,
            trending_id=item.trending_id,
            thumbnail=thumbnail,
            category=item.category,
            creator=item.creator or None,
            licence=item.licence,
            priority=priority,
            idea_id=idea_id,
        )
        self._emitter.fire(
            "idea_created_from_trending",
            {
                "idea_id": idea.idea_id,
                "trending_id": item.trending_id,
                "platform": item.platform,
                "timestamp": timestamp(),
            },
        )
        return idea

    def _require(self, idea_id: str) -> Idea:
        idea = self._ideas.get(idea_id)
        if idea is None:
            raise IdeaValueError("unknown_idea", idea_id)
        return idea


def _unlink(path: Path) -> None:
    path.unlink(missing_ok=True)
