"""Watch folders: print files dropped into a folder enter the library in place.

A watchdog ``Observer`` (inotify, FSEvents, ...) watches each folder the user
chose in the library entry's options. Its thread never touches Home
Assistant: every file system event is handed to the loop with
``loop.call_soon_threadsafe``. On the loop, changes are debounced per path
(:data:`DEBOUNCE` seconds after the last event) and a file is only reported
once its size stopped changing between two checks (a copy in progress is not
a file yet). Then:

- ``file_watcher`` (created / modified / deleted / moved, path, is_directory;
  ``moved`` adds ``dest_path``);
- a print file that appeared or changed is hashed (executor) and enters the
  library in place (source ``watch_folder``, the path kept), then is processed
  (``file_needs_thumbnail_processing``);
- a print file that was deleted or moved out leaves the library
  (``library_file_deleted``).

A periodic rescan (:data:`RESCAN_INTERVAL`, and once at start) compares each
folder with the library, for network shares where inotify sees nothing. A
folder that is gone or no longer allowed (``hass.config.is_allowed_path``,
checked in the executor) raises a repair issue and is not watched.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal, cast

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CALLBACK_TYPE, Event, HassJob, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from .. import contract as c
from ..const import DOMAIN
from ..emitter import EventEmitter, timestamp
from ..metadata import is_print_file_name
from .library import SOURCE_WATCH_FOLDER, Library, LibraryError, LibrarySource, hash_file
from .paths import TEMP_PREFIX

_LOGGER = logging.getLogger(__name__)

#: Seconds without an event (and without a size change) before a change counts.
DEBOUNCE: Final = 2.0
#: Fallback rescan of every folder (network shares where inotify sees nothing).
RESCAN_INTERVAL: Final = timedelta(minutes=5)
#: Print files looked at per folder in a rescan (a huge share cannot stall it).
RESCAN_LIMIT: Final = 10_000
#: Largest print file hashed from a watch folder.
MAX_FILE_BYTES: Final = 4 * 1024**3
ISSUE_PREFIX: Final = "watch_folder_unavailable"
_WATCHED_KINDS: Final = frozenset({"created", "modified", "deleted", "moved"})


def _ignored(path: str) -> bool:
    """Hidden and temporary files (editors, partial copies, our own)."""
    name = os.path.basename(path)
    return (
        not name
        or name.startswith((".", TEMP_PREFIX, "~"))
        or name.endswith((".part", ".tmp", ".crdownload", "~"))
    )


def issue_id(folder: Path) -> str:
    """The repair issue id of a watch folder (stable across restarts)."""
    digest = hashlib.sha256(str(folder).encode(errors="surrogateescape")).hexdigest()
    return f"{ISSUE_PREFIX}_{digest[:12]}"


def check_folder(hass: HomeAssistant, folder: Path) -> str | None:
    """Blocking: None when the folder can be watched, else the reason (a translation key)."""
    if not folder.is_dir():  # False for a broken link or a folder we cannot stat
        return "missing"
    if not hass.config.is_allowed_path(str(folder.resolve())):  # non-strict: no OSError
        return "not_allowed"
    return None


def scan_folder(folder: Path) -> dict[str, int]:
    """Blocking: print files below ``folder`` (path -> size), hidden folders skipped."""
    found: dict[str, int] = {}
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            path = os.path.join(root, name)
            if _ignored(path) or not is_print_file_name(name):
                continue
            with contextlib.suppress(OSError):
                if os.path.isfile(path) and not os.path.islink(path):
                    found[path] = os.path.getsize(path)
            if len(found) >= RESCAN_LIMIT:
                return found
    return found


def _size(path: str) -> int | None:
    try:
        return os.stat(path).st_size
    except OSError:
        return None


class _Handler(FileSystemEventHandler):
    """Runs in the observer thread: hands each event to the loop, nothing else."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        target: Callable[[str, str, str | None, bool], None],
    ) -> None:
        self._loop = loop
        self._target = target

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in _WATCHED_KINDS:
            return
        src = os.fsdecode(event.src_path)
        dest = os.fsdecode(event.dest_path) if event.dest_path else None
        with contextlib.suppress(RuntimeError):  # the loop is closing
            self._loop.call_soon_threadsafe(
                self._target, event.event_type, src, dest, event.is_directory
            )


@dataclass(slots=True)
class _Pending:
    """A change waiting for its debounce and for its size to settle."""

    kind: str
    is_directory: bool
    dest: str | None = None
    last_size: int | None = None
    cancel: CALLBACK_TYPE | None = None
    #: Checks in the executor are running (a timer may not start another).
    checking: bool = False


class WatchFolders:
    """Watches the library entry's watch folders (see the module docstring)."""

    def __init__(
        self,
        hass: HomeAssistant,
        emitter: EventEmitter,
        library: Library,
        folders: tuple[Path, ...],
        *,
        on_added: Callable[[Any], None] | None = None,
        debounce: float = DEBOUNCE,
    ) -> None:
        """Initialize (``on_added(library_file)``: a new file to process)."""
        self._hass = hass
        self._emitter = emitter
        self._library = library
        self.folders = folders
        self._on_added = on_added
        self._debounce = debounce
        self.watched: list[Path] = []
        self.unavailable: dict[Path, str] = {}
        self._observer: BaseObserver | None = None
        self._pending: dict[str, _Pending] = {}
        self._unsubs: list[CALLBACK_TYPE] = []
        self._unsub_stop: CALLBACK_TYPE | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._lock = asyncio.Lock()
        self._stopped = False
        self.events = 0

    # --- lifecycle --------------------------------------------------------------------

    async def async_start(self) -> None:
        """Check the folders, start the observer, schedule the rescans, scan once."""
        if not self.folders:
            return
        if self._hass.is_stopping:
            # set up while Home Assistant stops (an options reload in its last seconds):
            # the stop event has fired already, nothing would ever stop an observer
            self._stopped = True
            return
        await self._async_check_folders()
        self._unsubs.append(
            async_track_time_interval(
                self._hass,
                self._scheduled_rescan,
                RESCAN_INTERVAL,
                name="printernizer watch folder rescan",
                cancel_on_shutdown=True,
            )
        )
        self._unsub_stop = self._hass.bus.async_listen_once(
            EVENT_HOMEASSISTANT_STOP, self._on_hass_stop
        )
        self._spawn(self.async_rescan())

    def _observe(self, observer: BaseObserver | None, folders: list[Path]) -> BaseObserver:
        """Blocking: schedule folders (starting the observer thread the first time)."""
        if observer is None:
            observer = Observer()
            observer.daemon = True
            observer.start()
        handler = _Handler(self._hass.loop, self._on_fs_event)
        for folder in folders:
            try:
                observer.schedule(handler, str(folder), recursive=True)
            except OSError as err:
                _LOGGER.warning("Cannot watch %s: %s", folder, err)
        return observer

    @callback
    def _on_hass_stop(self, _event: Event) -> None:
        self._unsub_stop = None
        self._hass.async_create_task(self.async_stop(), "printernizer watch folders stop")

    async def async_stop(self) -> None:
        """Stop the observer thread, the timers and the work in flight."""
        if self._stopped:
            return
        self._stopped = True
        if self._unsub_stop is not None:
            self._unsub_stop()
            self._unsub_stop = None
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        for pending in self._pending.values():
            if pending.cancel is not None:
                pending.cancel()
        self._pending.clear()
        observer, self._observer = self._observer, None
        if observer is not None:
            await self._hass.async_add_executor_job(_stop_observer, observer)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, coro: Any) -> None:
        task = self._hass.async_create_background_task(coro, "printernizer watch folders")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- folders and repairs ----------------------------------------------------------

    async def _async_check_folders(self) -> None:
        """Check every folder (executor); observe those that became available."""
        before = set(self.watched)
        watched: list[Path] = []
        unavailable: dict[Path, str] = {}
        for folder in self.folders:
            reason = await self._hass.async_add_executor_job(check_folder, self._hass, folder)
            if reason is None:
                watched.append(folder)
                ir.async_delete_issue(self._hass, DOMAIN, issue_id(folder))
                continue
            if self.unavailable.get(folder) != reason:
                _LOGGER.warning("Watch folder %s is not watched: %s", folder, reason)
            unavailable[folder] = reason
            ir.async_create_issue(
                self._hass,
                DOMAIN,
                issue_id(folder),
                is_fixable=False,
                is_persistent=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key=f"watch_folder_{reason}",
                translation_placeholders={"folder": str(folder)},
            )
        self.watched, self.unavailable = watched, unavailable
        new = [folder for folder in watched if folder not in before]
        if new and not self._stopped:
            observer = await self._hass.async_add_executor_job(self._observe, self._observer, new)
            if self._stopped or self._hass.is_stopping:
                # stopped while the observer started (an unload during set-up or a
                # rescan, or Home Assistant stopping): its thread must not outlive the watcher
                await self._hass.async_add_executor_job(_stop_observer, observer)
            else:
                self._observer = observer

    # --- events from the observer -----------------------------------------------------

    @callback
    def _on_fs_event(self, kind: str, src: str, dest: str | None, is_directory: bool) -> None:
        if self._stopped or _ignored(dest or src) or (is_directory and kind == "modified"):
            return  # a folder's own changes are its files' events
        if kind == "moved" and dest is not None and _ignored(src):
            kind, src, dest = "created", dest, None  # an editor's temporary file renamed
        pending = self._pending.get(src)
        if pending is None:
            pending = self._pending[src] = _Pending(kind, is_directory, dest)
        elif kind in ("deleted", "moved") or pending.kind not in ("created",):
            # created then modified stays "created"; a later delete or move wins
            pending.kind, pending.dest = kind, dest
        self._schedule(src, pending)

    @callback
    def _schedule(self, path: str, pending: _Pending) -> None:
        if pending.cancel is not None:
            pending.cancel()

        @callback
        def due(_now: datetime) -> None:
            pending.cancel = None
            if not pending.checking:
                self._spawn(self._settle(path, pending))

        pending.cancel = async_call_later(
            self._hass, self._debounce, HassJob(due, cancel_on_shutdown=True)
        )

    async def _settle(self, path: str, pending: _Pending) -> None:
        """After the debounce: report the change once the file's size stopped changing."""
        if self._pending.get(path) is not pending:
            return  # reported meanwhile (a timer set while its size was being checked)
        if pending.kind in ("created", "modified") and not pending.is_directory:
            pending.checking = True
            try:
                size = await self._hass.async_add_executor_job(_size, path)
            finally:
                pending.checking = False
            if size is None:  # gone again before it settled
                self._pending.pop(path, None)
                return
            if size != pending.last_size:
                pending.last_size = size
                self._schedule(path, pending)
                return
        self._pending.pop(path, None)
        payload: c.FileWatcher = {
            "event_type": cast(Literal["created", "modified", "deleted", "moved"], pending.kind),
            "path": path,
            "is_directory": pending.is_directory,
            "timestamp": timestamp(),
        }
        moved = pending.kind == "moved" and pending.dest is not None
        self.events += 1
        self._emitter.fire(
            "file_watcher", payload, extra={"dest_path": pending.dest} if moved else None
        )
        if pending.is_directory:
            if pending.kind != "deleted":
                await self.async_rescan()
            else:
                await self._async_forget_below(path)
            return
        if pending.kind == "deleted":
            await self._async_forget(path)
        elif pending.kind == "moved":
            await self._async_forget(path)
            if pending.dest is not None and self._inside(pending.dest):
                await self._async_add(pending.dest)
        else:
            await self._async_add(path)

    def _inside(self, path: str) -> bool:
        candidate = Path(path)
        return any(candidate.is_relative_to(folder) for folder in self.watched)

    # --- the library ------------------------------------------------------------------

    async def _async_add(self, path: str) -> None:
        """A print file appeared or changed: into the library in place, then processed."""
        if not is_print_file_name(path) or not self._inside(path):
            return
        async with self._lock:
            try:
                checksum, size = await self._hass.async_add_executor_job(_hash_regular, Path(path))
            except (OSError, LibraryError) as err:
                _LOGGER.warning("Cannot read watch folder file %s: %s", path, err)
                return
            known = self._library.by_path(path)
            if known is not None and known.checksum == checksum:
                return
            if known is not None and known.in_place:  # the content changed
                await self._library.async_remove(known.checksum)
            file, new = await self._library.async_add_in_place(
                Path(path),
                checksum=checksum,
                size=size,
                source=LibrarySource(kind=SOURCE_WATCH_FOLDER, path=path),
            )
        if new and self._on_added is not None:
            self._on_added(file)

    async def _async_forget(self, path: str) -> None:
        """A print file left the folder: it leaves the library (library_file_deleted)."""
        async with self._lock:
            known = self._library.by_path(path)
            if known is not None and known.in_place and Path(known.path) == Path(path):
                await self._library.async_remove(known.checksum)

    async def _async_forget_below(self, folder: str) -> None:
        base = Path(folder)
        for file in [
            f for f in self._library.files() if f.in_place and Path(f.path).is_relative_to(base)
        ]:
            await self._async_forget(file.path)

    # --- rescans ----------------------------------------------------------------------

    @callback
    def _scheduled_rescan(self, _now: datetime) -> None:
        self._spawn(self.async_rescan())

    async def async_rescan(self) -> None:
        """Compare every folder with the library: add what is new, forget what is gone."""
        await self._async_check_folders()
        for folder in self.watched:
            found = await self._hass.async_add_executor_job(scan_folder, folder)
            known = {
                f.path: f
                for f in list(self._library.files())
                if f.in_place and Path(f.path).is_relative_to(folder)
            }
            for path, size in found.items():
                if path in self._pending:
                    continue
                if path not in known or known[path].file_size != size:
                    kind = "created" if path not in known else "modified"
                    self._pending[path] = pending = _Pending(kind, False)
                    self._schedule(path, pending)
            for path in known:
                if path not in found:
                    await self._async_forget(path)

    # --- diagnostics ------------------------------------------------------------------

    def diagnostics(self) -> dict[str, Any]:
        """Folders and counts (the folders are the user's own settings)."""
        return {
            "watched": [str(f) for f in self.watched],
            "unavailable": {str(f): reason for f, reason in self.unavailable.items()},
            "observer_running": self._observer is not None and self._observer.is_alive(),
            "pending_changes": len(self._pending),
            "events": self.events,
        }


def _hash_regular(path: Path) -> tuple[str, int]:
    """Blocking: hash a regular file (no symlink), at most :data:`MAX_FILE_BYTES`."""
    if path.is_symlink() or not path.is_file():
        raise LibraryError("not a regular file")
    return hash_file(path, limit=MAX_FILE_BYTES)


def _stop_observer(observer: BaseObserver) -> None:
    observer.stop()
    observer.join(timeout=10)


__all__ = ["DEBOUNCE", "RESCAN_INTERVAL", "WatchFolders", "check_folder", "scan_folder"]
