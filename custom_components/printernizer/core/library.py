"""The library: every print file stored once, identified by the SHA-256 of its content.

Public API (the processing, materials and trending work builds on it):

- :class:`Library` (one per loaded library entry; ``LibraryRuntime.library``):

  - ``await library.async_load()``: load the store and reconcile it with the
    folder (a file the user deleted is dropped with ``library_file_deleted``; a
    partial temporary file is removed).
  - lookups (dict indexes, O(1)): ``get(checksum)``, ``by_path(path)`` (an
    absolute path or one relative to the library folder),
    ``by_source(printer_id, path)`` (a printer file that is already in the
    library), ``__contains__(checksum)``, ``__len__``, ``total_bytes``.
  - iterate: ``files()`` (oldest first, a view), ``page(limit, offset)``
    (newest first).
  - add: ``await async_add_file(temp_path, checksum=..., size=..., filename=...,
    source=LibrarySource(...), auto=...)`` moves a complete, fsynced temporary
    file in place under ``<library>/<printer name>/<name>`` (a clash gets
    `` (2)``); ``await async_add_in_place(path, checksum=..., size=...,
    source=LibrarySource(kind=SOURCE_WATCH_FOLDER, ...))`` records a file that
    stays where it is (watch folders; the path is kept). Both return
    ``(LibraryFile, is_new)``; a new checksum fires ``library_file_added``, a
    known one only gains a source.
  - remove: ``await async_remove(checksum)`` deletes the file from disk (files
    kept in place are only forgotten) and fires ``library_file_deleted``.
  - space: ``await async_make_room(size)`` checks the quota and the free space
    before a download, evicting the oldest auto-downloaded files first (never
    files the user added); raises :class:`LibraryFullError`.
  - ``async_add_listener(callback)``: called after every change (sensors).
  - ``path_of(file)``: a file's absolute path.
  - processing (issue 11): ``set_processing(checksum, metadata=..., thumbnails=...)``
    stores the file's metadata and preview paths on its record;
    ``thumbnails_folder`` is ``<library>/.thumbnails``.

- :func:`hash_file` (blocking): SHA-256 and size of a file, bounded reads.

Identity is the checksum; the file name on disk is only where it lies. All file
system work runs in the executor; the indexes live on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from ..emitter import EventEmitter, timestamp
from .paths import TEMP_PREFIX, UnsafePathError, confine, numbered_name, safe_name
from .storage import CollectionStore, StoreData

_LOGGER = logging.getLogger(__name__)

STORAGE_KEY: Final = "printernizer.library"
STORAGE_VERSION: Final = 1

SOURCE_PRINTER: Final = "printer"
SOURCE_WATCH_FOLDER: Final = "watch_folder"
SOURCE_USER: Final = "user"

#: Free space kept on the disk beyond a download's size.
FREE_SPACE_MARGIN: Final = 64 * 1024**2
HASH_CHUNK: Final = 1024 * 1024
ISSUE_NOT_WRITABLE: Final = "library_not_writable"
ISSUE_OVER_QUOTA: Final = "library_over_quota"


class LibraryError(Exception):
    """A library operation failed (the message says why, in English)."""


class LibraryFullError(LibraryError):
    """A file would not fit: the quota or the free disk space."""


@dataclass(slots=True, kw_only=True)
class LibrarySource:
    """Where a library file came from."""

    #: "printer", "watch_folder" or "user".
    kind: str = SOURCE_PRINTER
    printer_id: str | None = None
    #: The printer's name at the time (kept after the printer is removed).
    printer_name: str | None = None
    #: The original path (on the printer, or in the watch folder).
    path: str
    added_at: str = field(default_factory=lambda: dt_util.utcnow().isoformat())


@dataclass(slots=True, kw_only=True)
class LibraryFile:
    """One content in the library."""

    checksum: str
    filename: str
    #: Relative to the library folder ("/"-separated), or absolute when kept in place.
    path: str
    file_size: int
    added_at: str
    #: Added by auto-download (evicted first when over quota).
    auto: bool = False
    #: Kept where it lies (a watch folder): removing only forgets it.
    in_place: bool = False
    sources: list[LibrarySource] = field(default_factory=list)
    # --- processing (issue 11): None until the file was processed ---
    #: What the file states (``FileMetadata.as_dict()``: print_time, filament_used, ...).
    metadata: dict[str, Any] | None = None
    #: Preview PNGs: {"small"|"medium"|"large": absolute path} under ``.thumbnails/<checksum>/``.
    thumbnails: dict[str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain data (storage, action responses)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> LibraryFile:
        """Build from stored data (raises on malformed data)."""
        sources = [LibrarySource(**s) for s in raw.get("sources", [])]
        return cls(**{**raw, "sources": sources})


def hash_file(path: Path, *, limit: int | None = None) -> tuple[str, int]:
    """Return (SHA-256 hex, size) of a file; blocking. ``limit`` bounds the bytes read."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            size += len(chunk)
            if limit is not None and size > limit:
                raise LibraryError("file too large")
            digest.update(chunk)
    return digest.hexdigest(), size


class Library:
    """The checksum-keyed library in one folder (see the module docstring)."""

    def __init__(
        self,
        hass: HomeAssistant,
        emitter: EventEmitter,
        folder: Path,
        *,
        quota_bytes: int,
        store: CollectionStore | None = None,
    ) -> None:
        """Initialize the library (call :meth:`async_load` before use)."""
        self._hass = hass
        self._emitter = emitter
        self.folder = folder
        self.quota_bytes = quota_bytes
        self._store = store or CollectionStore(hass, STORAGE_KEY, STORAGE_VERSION)
        self._files: dict[str, LibraryFile] = {}
        self._by_path: dict[str, str] = {}
        self._by_source: dict[tuple[str, str], str] = {}
        self._total = 0
        self._lock = asyncio.Lock()
        self._listeners: list[Callable[[], None]] = []
        self.writable = True

    # --- loading --------------------------------------------------------------

    async def async_load(self) -> None:
        """Load the index, make sure the folder exists, reconcile it with the disk."""
        data = await self._store.async_load() or {}
        for raw in data.get("files", []):
            try:
                self._index(LibraryFile.from_dict(raw))
            except (TypeError, KeyError, ValueError):
                _LOGGER.warning("Ignoring a malformed library record")
        self.writable = await self._hass.async_add_executor_job(self._prepare_folder)
        self._update_issue(ISSUE_NOT_WRITABLE, not self.writable, folder=str(self.folder))
        candidates = [(f.checksum, self.path_of(f)) for f in self._files.values()]
        missing = await self._hass.async_add_executor_job(self._reconcile, candidates)
        for checksum in missing:
            if (gone := self._unindex(checksum)) is not None:
                _LOGGER.info("Library file %s was deleted outside Home Assistant", gone.filename)
                self._fire_deleted(gone)
        if missing:
            self._changed()
        self._check_quota()

    def _prepare_folder(self) -> bool:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            probe = self.folder / f"{TEMP_PREFIX}probe"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as err:
            _LOGGER.warning("The library folder %s is not writable: %s", self.folder, err)
            return False
        return True

    def _reconcile(self, candidates: list[tuple[str, Path]]) -> list[str]:
        """Blocking: remove temporary files; return checksums whose file is gone."""
        if self.folder.is_dir():
            for root, dirs, names in os.walk(self.folder):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                for name in names:
                    if name.startswith(TEMP_PREFIX):
                        with contextlib.suppress(OSError):
                            (Path(root) / name).unlink()
                            _LOGGER.debug("Removed a partial download %s", name)
        return [checksum for checksum, path in candidates if not path.is_file()]

    # --- indexes --------------------------------------------------------------

    def _index(self, file: LibraryFile) -> None:
        self._files[file.checksum] = file
        self._by_path[file.path] = file.checksum
        self._total += file.file_size
        for source in file.sources:
            if source.printer_id is not None:
                self._by_source[(source.printer_id, source.path)] = file.checksum

    def _unindex(self, checksum: str) -> LibraryFile | None:
        file = self._files.pop(checksum, None)
        if file is None:
            return None
        self._by_path.pop(file.path, None)
        self._total -= file.file_size
        for source in file.sources:
            if source.printer_id is not None:
                key = (source.printer_id, source.path)
                if self._by_source.get(key) == checksum:
                    del self._by_source[key]
        return file

    # --- queries ----------------------------------------------------------------

    def __len__(self) -> int:
        """Number of files."""
        return len(self._files)

    def __contains__(self, checksum: object) -> bool:
        """Whether a checksum is in the library."""
        return checksum in self._files

    @property
    def total_bytes(self) -> int:
        """Size of every file together."""
        return self._total

    def get(self, checksum: str) -> LibraryFile | None:
        """A file by its SHA-256."""
        return self._files.get(checksum)

    def by_path(self, path: str | Path) -> LibraryFile | None:
        """A file by its path (absolute, or relative to the library folder)."""
        key = self._key_for(Path(path))
        checksum = self._by_path.get(key)
        return self._files.get(checksum) if checksum else None

    def by_source(self, printer_id: str, path: str) -> LibraryFile | None:
        """The library file that came from ``path`` on printer ``printer_id``."""
        checksum = self._by_source.get((printer_id, path))
        return self._files.get(checksum) if checksum else None

    def files(self) -> Iterable[LibraryFile]:
        """Every file, oldest first (a live view: do not change the library while iterating)."""
        return self._files.values()

    def page(self, limit: int, offset: int = 0) -> list[LibraryFile]:
        """Files newest first, ``limit`` from ``offset``."""
        values = list(self._files.values())
        end = len(values) - offset
        start = max(0, end - limit)
        return values[start:end][::-1] if end > 0 else []

    def path_of(self, file: LibraryFile) -> Path:
        """A file's absolute path."""
        if file.in_place:
            return Path(file.path)
        return self.folder.joinpath(*file.path.split("/"))

    def _key_for(self, path: Path) -> str:
        if path.is_absolute():
            if path.is_relative_to(self.folder):
                return path.relative_to(self.folder).as_posix()
            return str(path)
        return path.as_posix()

    # --- listeners --------------------------------------------------------------

    @callback
    def async_add_listener(self, update: Callable[[], None]) -> CALLBACK_TYPE:
        """Call ``update`` after each change; returns the unsubscribe callback."""
        self._listeners.append(update)

        @callback
        def remove() -> None:
            self._listeners.remove(update)

        return remove

    @callback
    def _changed(self) -> None:
        self._store.schedule_save(self._snapshot)
        for listener in list(self._listeners):
            listener()

    @callback
    def _snapshot(self) -> StoreData:
        return {"files": [file.as_dict() for file in self._files.values()]}

    # --- adding -----------------------------------------------------------------

    def folder_for(self, printer_name: str | None) -> Path:
        """``<library>/<printer name>`` (a safe name; not created here)."""
        return self.folder / safe_name(printer_name or "", fallback="Library")

    async def async_add_file(
        self,
        temp_path: Path,
        *,
        checksum: str,
        size: int,
        filename: str,
        source: LibrarySource,
        auto: bool = False,
    ) -> tuple[LibraryFile, bool]:
        """Move a complete temporary file into the library; return (file, is_new).

        ``temp_path`` must lie in :meth:`folder_for` the source's printer. A
        checksum already in the library only gains ``source`` (the temporary
        file is removed); a new one is renamed to a clash-free name and fires
        ``library_file_added``.
        """
        async with self._lock:
            existing = self._files.get(checksum)
            if existing is not None:
                await self._hass.async_add_executor_job(_unlink, temp_path)
                self._add_source(existing, source)
                if not auto and existing.auto:
                    existing.auto = False  # the user asked for it: no longer evictable
                self._changed()
                return existing, False
            name = safe_name(filename)
            # The index itself (only changed under this lock): a membership test per name.
            final = await self._hass.async_add_executor_job(
                self._place, temp_path, temp_path.parent, name, self._by_path
            )
            file = LibraryFile(
                checksum=checksum,
                filename=name,
                path=final.relative_to(self.folder.resolve()).as_posix(),
                file_size=size,
                added_at=dt_util.utcnow().isoformat(),
                auto=auto,
                sources=[source],
            )
            self._index(file)
            self._changed()
        self._emitter.fire(
            "library_file_added",
            {
                "checksum": checksum,
                "filename": file.filename,
                "file_size": size,
                "timestamp": timestamp(),
            },
        )
        self._check_quota()
        return file, True

    def _place(self, temp_path: Path, folder: Path, name: str, taken: Mapping[str, str]) -> Path:
        """Blocking: rename ``temp_path`` to a free ``name`` (or ``name (n)``) in ``folder``."""
        base = self.folder.resolve()
        relative_folder = folder.resolve().relative_to(base).as_posix()
        for number in range(1, 10_000):
            candidate_name = numbered_name(name, number)
            target = confine(base, relative_folder, candidate_name)
            key = target.relative_to(base).as_posix()
            if key in taken or target.exists() or target.is_symlink():
                continue
            os.replace(temp_path, target)
            _fsync_dir(target.parent)
            return target
        raise LibraryError("no free file name")

    async def async_add_in_place(
        self, path: Path, *, checksum: str, size: int, source: LibrarySource
    ) -> tuple[LibraryFile, bool]:
        """Record a file that stays where it lies (a watch folder); return (file, is_new)."""
        async with self._lock:
            existing = self._files.get(checksum)
            if existing is not None:
                self._add_source(existing, source)
                self._changed()
                return existing, False
            file = LibraryFile(
                checksum=checksum,
                filename=safe_name(path.name),
                path=str(path),
                file_size=size,
                added_at=dt_util.utcnow().isoformat(),
                in_place=True,
                sources=[source],
            )
            self._index(file)
            self._changed()
        self._emitter.fire(
            "library_file_added",
            {
                "checksum": checksum,
                "filename": file.filename,
                "file_size": size,
                "timestamp": timestamp(),
            },
        )
        return file, True

    def _add_source(self, file: LibraryFile, source: LibrarySource) -> None:
        for known in file.sources:
            if (known.kind, known.printer_id, known.path) == (
                source.kind,
                source.printer_id,
                source.path,
            ):
                return
        file.sources.append(source)
        if source.printer_id is not None:
            self._by_source[(source.printer_id, source.path)] = file.checksum

    # --- processing results (issue 11) --------------------------------------------

    @property
    def thumbnails_folder(self) -> Path:
        """``<library>/.thumbnails`` (one folder per checksum below it)."""
        return self.folder / ".thumbnails"

    @callback
    def set_processing(
        self,
        checksum: str,
        *,
        metadata: dict[str, Any] | None = None,
        thumbnails: dict[str, str] | None = None,
    ) -> LibraryFile | None:
        """Store what processing found on a file's record (None keeps the current value)."""
        file = self._files.get(checksum)
        if file is None:
            return None
        if metadata is not None:
            file.metadata = metadata
        if thumbnails is not None:
            file.thumbnails = thumbnails
        self._changed()
        return file

    # --- removing ---------------------------------------------------------------

    async def async_remove(self, checksum: str) -> LibraryFile | None:
        """Delete a file (from disk unless kept in place); fires library_file_deleted."""
        async with self._lock:
            file = self._unindex(checksum)
            if file is None:
                return None
            if not file.in_place:
                await self._hass.async_add_executor_job(_unlink, self.path_of(file))
            self._changed()
        self._fire_deleted(file)
        self._check_quota()
        return file

    def _fire_deleted(self, file: LibraryFile) -> None:
        self._emitter.fire(
            "library_file_deleted",
            {"checksum": file.checksum, "filename": file.filename, "timestamp": timestamp()},
        )

    # --- space ------------------------------------------------------------------

    async def async_make_room(self, size: int | None) -> None:
        """Make sure ``size`` more bytes fit (quota and disk); evict old auto-downloads.

        Raises :class:`LibraryFullError` when they cannot fit.
        """
        needed = size or 0
        if not self.writable:
            raise LibraryError(f"the library folder {self.folder} is not writable")
        if needed > self.quota_bytes:
            raise LibraryFullError(
                f"the file ({_mb(needed)}) is larger than the library quota "
                f"({_mb(self.quota_bytes)})"
            )
        if self._total + needed > self.quota_bytes:
            for victim in self._eviction_order():
                if self._total + needed <= self.quota_bytes:
                    break
                _LOGGER.info("Library over quota: removing %s (auto-downloaded)", victim.filename)
                await self.async_remove(victim.checksum)
        if self._total + needed > self.quota_bytes:
            self._check_quota(force=True)
            raise LibraryFullError(
                f"the library quota ({_mb(self.quota_bytes)}) is full of files you added"
            )
        free = await self._hass.async_add_executor_job(_free_space, self.folder)
        if free is not None and needed + FREE_SPACE_MARGIN > free:
            raise LibraryFullError(
                f"not enough free disk space ({_mb(free)} free, {_mb(needed)} needed)"
            )

    def _eviction_order(self) -> list[LibraryFile]:
        return sorted(
            (f for f in self._files.values() if f.auto and not f.in_place),
            key=lambda f: f.added_at,
        )

    @callback
    def _check_quota(self, *, force: bool = False) -> None:
        over = force or self._total > self.quota_bytes
        self._update_issue(ISSUE_OVER_QUOTA, over, quota=_mb(self.quota_bytes))

    def _update_issue(self, issue_id: str, active: bool, **placeholders: str) -> None:
        if active:
            ir.async_create_issue(
                self._hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                is_persistent=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key=issue_id,
                translation_placeholders=placeholders,
            )
        else:
            ir.async_delete_issue(self._hass, DOMAIN, issue_id)

    # --- lifecycle --------------------------------------------------------------

    async def async_stop(self) -> None:
        """Write pending changes now."""
        await self._store.async_save(self._snapshot())

    def diagnostics(self) -> dict[str, Any]:
        """Counts and sizes (no file names)."""
        return {
            "files": len(self._files),
            "total_bytes": self._total,
            "quota_bytes": self.quota_bytes,
            "auto_downloaded": sum(1 for f in self._files.values() if f.auto),
            "kept_in_place": sum(1 for f in self._files.values() if f.in_place),
            "writable": self.writable,
        }


def _mb(size: int) -> str:
    return f"{size / 1024**2:.1f} MB"


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _free_space(folder: Path) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable (where the platform allows opening a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


__all__ = [
    "SOURCE_PRINTER",
    "SOURCE_USER",
    "SOURCE_WATCH_FOLDER",
    "Library",
    "LibraryError",
    "LibraryFile",
    "LibraryFullError",
    "LibrarySource",
    "UnsafePathError",
    "hash_file",
]
