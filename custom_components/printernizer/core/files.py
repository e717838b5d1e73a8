"""The file index of every printer, and discovery: list, diff, and the sync events.

Public API:

- :class:`FileIndex` (one per Home Assistant instance, on ``PrinternizerData.files``;
  printers without the library entry can list their files too):

  - ``files(printer_id)`` -> list of :class:`IndexedFile` (path order),
    ``get(printer_id, path)``, ``count(printer_id)``, ``known(printer_id)``
    (discovered at least once), ``last_discovery(printer_id)``;
  - ``apply_listing(printer_id, remote_files)`` -> :class:`ListingDiff`: the
    index becomes the listing; the diff says what was added, removed, changed;
  - ``drop_printer(printer_id)`` (a removed printer entry);
  - ``async_add_listener(callback)`` (sensors).

- :class:`FileDiscovery`: ``await async_discover_printer(coordinator)`` lists
  one printer and fires ``files_discovered`` (per-printer variant) and
  ``file_sync_complete``, then asks a printer that describes its files itself
  (a ``PrinterThumbnailClient``: PrusaLink) for the details of the print files
  whose metadata is still unknown (at most :data:`MAX_DETAILS` per discovery;
  ``meta`` mapped by ``metadata.metadata_from_keys`` in the executor, stored on
  the index record); ``await async_discover_all(coordinators)`` does it for
  every printer, then fires ``files_discovered`` (background variant) and,
  only when something new appeared, ``new_files_found``. An offline printer is
  skipped and reported with ``success: false``.

A file that is only on a printer has the id ``<printer_id>:<path>``; once it is
in the library its id is its SHA-256.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.util import dt as dt_util

from .. import contract as c
from ..api.models import PrinterError, PrinterFileClient, PrinterThumbnailClient, RemoteFile
from ..emitter import EventEmitter, timestamp
from ..metadata import metadata_from_keys
from .storage import CollectionStore, StoreData

if TYPE_CHECKING:  # pragma: no cover (type checking only)
    from .coordinator import PrinterCoordinator

_LOGGER = logging.getLogger(__name__)

STORAGE_KEY: Final = "printernizer.files"
STORAGE_VERSION: Final = 1
#: Longest ``files`` list in an event (the recorder drops event data over 32 KB).
MAX_EVENT_FILES: Final = 100
#: Folders never indexed (Bambu Lab's camera snapshots).
IGNORED_FOLDERS: Final = ("/image/",)
#: Print files whose details (the printer's metadata) one discovery asks for;
#: the rest follow in the next discoveries.
MAX_DETAILS: Final = 50


def file_id(printer_id: str, path: str) -> str:
    """The id of a file that is only on a printer."""
    return f"{printer_id}:{path}"


def map_details(raw: Mapping[str, Mapping[str, Any] | None]) -> dict[str, dict[str, Any]]:
    """Blocking (executor): each path's printer ``meta`` as FileMetadata data ({} for none)."""
    return {path: metadata_from_keys(meta).as_dict() if meta else {} for path, meta in raw.items()}


def file_type(name: str) -> str:
    """``benchy.gcode.3mf`` -> ``gcode.3mf``; ``a.bgcode`` -> ``bgcode``; ``x`` -> ``""``."""
    lower = name.lower()
    for double in (".gcode.3mf", ".gcode.gz"):
        if lower.endswith(double):
            return double[1:]
    _, dot, suffix = lower.rpartition(".")
    return suffix if dot else ""


@dataclass(slots=True, kw_only=True)
class IndexedFile:
    """One file on a printer, as last listed."""

    path: str
    name: str
    size: int | None
    #: ISO 8601 (UTC) or None.
    modified: str | None
    storage: str
    kind: str
    first_seen: str
    #: The slicer metadata the printer reports for the file (PrusaLink's ``meta``
    #: mapped by ``metadata.metadata_from_keys``: print_time, filament_used,
    #: layer_height, infill, ...); ``{}`` when the printer has none for it, None
    #: until asked (see :meth:`FileDiscovery.async_discover_printer`).
    metadata: dict[str, Any] | None = None
    #: Printer-side path of the printer's own thumbnail (PrusaLink ``refs.thumbnail``).
    thumbnail_path: str | None = None

    def event_entry(self) -> dict[str, Any]:
        """A small entry for event lists."""
        return {
            "filename": self.name,
            "file_size": self.size or 0,
            "path": self.path,
            "modified": self.modified,
        }

    def as_dict(self) -> dict[str, Any]:
        """Plain data (storage)."""
        return asdict(self)

    @classmethod
    def from_remote(cls, remote: RemoteFile, first_seen: str) -> IndexedFile:
        """From a listing entry."""
        return cls(
            path=remote.path,
            name=remote.name,
            size=remote.size,
            modified=remote.modified.isoformat() if remote.modified else None,
            storage=remote.storage,
            kind=remote.kind,
            first_seen=first_seen,
            thumbnail_path=remote.thumbnail_path,
        )


@dataclass(slots=True)
class ListingDiff:
    """What a listing changed in a printer's index."""

    added: list[IndexedFile] = field(default_factory=list)
    removed: list[IndexedFile] = field(default_factory=list)
    changed: list[IndexedFile] = field(default_factory=list)
    total: int = 0


@dataclass(slots=True)
class PrinterDiscovery:
    """The outcome of one printer's discovery."""

    printer_id: str
    printer_name: str
    success: bool
    diff: ListingDiff | None = None
    error: str | None = None


def capped(entries: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """At most :data:`MAX_EVENT_FILES` entries, and how many were left out."""
    return entries[:MAX_EVENT_FILES], max(0, len(entries) - MAX_EVENT_FILES)


class FileIndex:
    """Every printer's files, persisted."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Initialize the index (call :meth:`async_load`)."""
        self._store = CollectionStore(hass, STORAGE_KEY, STORAGE_VERSION)
        self._printers: dict[str, dict[str, IndexedFile]] = {}
        self._last: dict[str, str] = {}
        self._listeners: list[Callable[[], None]] = []

    async def async_load(self) -> None:
        """Load what earlier runs listed."""
        data = await self._store.async_load() or {}
        for printer_id, raw in data.get("printers", {}).items():
            files: dict[str, IndexedFile] = {}
            for item in raw.get("files", []):
                try:
                    indexed = IndexedFile(**item)
                except TypeError:
                    continue
                files[indexed.path] = indexed
            self._printers[printer_id] = files
            if last := raw.get("last_discovery"):
                self._last[printer_id] = last

    @callback
    def _snapshot(self) -> StoreData:
        return {
            "printers": {
                printer_id: {
                    "files": [f.as_dict() for f in files.values()],
                    "last_discovery": self._last.get(printer_id),
                }
                for printer_id, files in self._printers.items()
            }
        }

    @callback
    def _changed(self) -> None:
        self._store.schedule_save(self._snapshot)
        for listener in list(self._listeners):
            listener()

    @callback
    def async_add_listener(self, update: Callable[[], None]) -> CALLBACK_TYPE:
        """Call ``update`` after every change; returns the unsubscribe callback."""
        self._listeners.append(update)

        @callback
        def remove() -> None:
            self._listeners.remove(update)

        return remove

    # --- queries ----------------------------------------------------------------

    def known(self, printer_id: str) -> bool:
        """Whether the printer was listed at least once."""
        return printer_id in self._printers

    def files(self, printer_id: str) -> list[IndexedFile]:
        """The printer's files, by path."""
        files = self._printers.get(printer_id, {})
        return [files[path] for path in sorted(files)]

    def get(self, printer_id: str, path: str) -> IndexedFile | None:
        """One file."""
        return self._printers.get(printer_id, {}).get(path)

    def count(self, printer_id: str) -> int | None:
        """Number of files on the printer (None before its first listing)."""
        files = self._printers.get(printer_id)
        return None if files is None else len(files)

    def last_discovery(self, printer_id: str) -> str | None:
        """When the printer was last listed."""
        return self._last.get(printer_id)

    # --- changes ----------------------------------------------------------------

    @callback
    def apply_listing(self, printer_id: str, listing: Iterable[RemoteFile]) -> ListingDiff:
        """Make the printer's index the listing; return what changed."""
        now = dt_util.utcnow().isoformat()
        old = self._printers.get(printer_id, {})
        new: dict[str, IndexedFile] = {}
        diff = ListingDiff()
        for remote in listing:
            if remote.path.startswith(IGNORED_FOLDERS):
                continue
            before = old.get(remote.path)
            modified = remote.modified.isoformat() if remote.modified else None
            if (
                before is not None
                and (before.size, before.modified, before.name, before.kind)
                == (remote.size, modified, remote.name, remote.kind)
                and before.storage == remote.storage
            ):
                new[remote.path] = before  # unchanged: keep the record
                continue
            indexed = IndexedFile.from_remote(remote, before.first_seen if before else now)
            new[remote.path] = indexed
            if before is None:
                diff.added.append(indexed)
            else:
                diff.changed.append(indexed)
        diff.removed = [f for path, f in old.items() if path not in new]
        diff.total = len(new)
        self._printers[printer_id] = new
        self._last[printer_id] = now
        self._changed()
        return diff

    def without_metadata(self, printer_id: str, limit: int) -> list[IndexedFile]:
        """Up to ``limit`` print files whose metadata was not asked for yet."""
        out: list[IndexedFile] = []
        for indexed in self._printers.get(printer_id, {}).values():
            if indexed.kind == "print" and indexed.metadata is None:
                out.append(indexed)
                if len(out) >= limit:
                    break
        return out

    @callback
    def set_metadata(self, printer_id: str, metadata: Mapping[str, dict[str, Any]]) -> None:
        """Store files' metadata (paths no longer in the index are ignored)."""
        files = self._printers.get(printer_id, {})
        changed = False
        for path, values in metadata.items():
            if (indexed := files.get(path)) is not None:
                indexed.metadata = values
                changed = True
        if changed:
            self._changed()

    @callback
    def remove_file(self, printer_id: str, path: str) -> IndexedFile | None:
        """Forget one file (deleted on the printer)."""
        removed = self._printers.get(printer_id, {}).pop(path, None)
        if removed is not None:
            self._changed()
        return removed

    @callback
    def drop_printer(self, printer_id: str) -> None:
        """Forget a removed printer's index."""
        if self._printers.pop(printer_id, None) is not None:
            self._last.pop(printer_id, None)
            self._changed()

    def diagnostics(self) -> dict[str, Any]:
        """File counts per printer (no names)."""
        return {
            "printers": len(self._printers),
            "files": sum(len(files) for files in self._printers.values()),
        }


class FileDiscovery:
    """Lists printers, diffs against the index, fires the discovery events."""

    def __init__(self, hass: HomeAssistant, emitter: EventEmitter, index: FileIndex) -> None:
        """Initialize discovery."""
        self._hass = hass
        self._emitter = emitter
        self._index = index
        self._locks: dict[str, asyncio.Lock] = {}
        #: printer ids whose last listing failed (logged once per outage)
        self._failing: set[str] = set()

    async def async_discover_printer(self, coordinator: PrinterCoordinator) -> PrinterDiscovery:
        """List one printer; fire files_discovered (per printer) and file_sync_complete."""
        printer_id = coordinator.printer_id
        name = coordinator.monitor.name
        client = coordinator.client
        assert isinstance(client, PrinterFileClient)  # callers pass printers with file access
        if not coordinator.online:
            return PrinterDiscovery(printer_id, name, False, error="offline")
        lock = self._locks.setdefault(printer_id, asyncio.Lock())
        async with lock:
            try:
                listing = await client.async_list_files()
            except PrinterError as err:
                if printer_id not in self._failing:
                    self._failing.add(printer_id)
                    _LOGGER.info("Cannot list the files on %s: %s", name, err)
                else:
                    _LOGGER.debug("Cannot list the files on %s: %s", name, err)
                return PrinterDiscovery(printer_id, name, False, error=str(err) or "failed")
            if printer_id in self._failing:
                self._failing.discard(printer_id)
                _LOGGER.info("Listing the files on %s works again", name)
            diff = self._index.apply_listing(printer_id, listing)
        files, truncated = capped([f.event_entry() for f in self._index.files(printer_id)])
        payload: c.FilesDiscoveredPerPrinter = {
            "printer_id": printer_id,
            "files": files,
            "total_found": diff.total,
            "new_files": len(diff.added),
            "existing_files": diff.total - len(diff.added),
            "timestamp": timestamp(),
        }
        self._emitter.fire(
            "files_discovered",
            payload,
            extra={"files_truncated": truncated} if truncated else None,
        )
        self._emitter.fire(
            "file_sync_complete",
            {
                "printer_id": printer_id,
                "files_added": len(diff.added),
                "files_removed": len(diff.removed),
                "total_files": diff.total,
                "timestamp": timestamp(),
            },
        )
        await self._async_details(printer_id, client)
        return PrinterDiscovery(printer_id, name, True, diff=diff)

    async def _async_details(self, printer_id: str, client: PrinterFileClient) -> None:
        """Ask a printer that describes its files for the metadata still unknown."""
        if not isinstance(client, PrinterThumbnailClient):
            return  # Bambu Lab: the metadata is inside the file (processing reads it)
        lock = self._locks.setdefault(printer_id, asyncio.Lock())
        async with lock:
            raw: dict[str, Mapping[str, Any] | None] = {}
            for indexed in self._index.without_metadata(printer_id, MAX_DETAILS):
                try:
                    raw[indexed.path] = (await client.async_stat(indexed.path)).meta
                except PrinterError as err:
                    _LOGGER.debug("No details of %s: %s", indexed.path, err)
            if raw:
                mapped = await self._hass.async_add_executor_job(map_details, raw)
                self._index.set_metadata(printer_id, mapped)

    async def async_discover_all(
        self, coordinators: Mapping[str, PrinterCoordinator]
    ) -> list[PrinterDiscovery]:
        """Discover every printer; fire the background files_discovered and new_files_found."""
        targets = [c for c in coordinators.values() if isinstance(c.client, PrinterFileClient)]
        results = list(await asyncio.gather(*(self.async_discover_printer(c) for c in targets)))
        now = dt_util.utcnow().isoformat()
        new_entries: list[dict[str, Any]] = []
        for result in results:
            if result.diff is None:
                continue
            for indexed in result.diff.added:
                new_entries.append(
                    {
                        "printer_id": result.printer_id,
                        "printer_name": result.printer_name,
                        "filename": indexed.name,
                        "file_size": indexed.size or 0,
                        "file_type": file_type(indexed.name),
                        "path": indexed.path,
                        "discovered_at": now,
                    }
                )
        listed, truncated = capped(new_entries)
        background: c.FilesDiscoveredBackground = {
            "timestamp": timestamp(),
            "new_files": listed,
            "discovery_results": {
                r.printer_id: {
                    "printer_name": r.printer_name,
                    "files_found": r.diff.total if r.diff else 0,
                    "success": r.success,
                    **({"error": r.error} if r.error else {}),
                }
                for r in results
            },
            "total_new_files": len(new_entries),
        }
        extra = {"files_truncated": truncated} if truncated else None
        self._emitter.fire("files_discovered", background, extra=extra)
        if new_entries:
            self._emitter.fire(
                "new_files_found",
                {"files": listed, "count": len(new_entries), "timestamp": timestamp()},
                extra=extra,
            )
        return results
