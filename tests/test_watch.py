"""Watch folders with real files on disk and the real watchdog observer (inotify here)."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncGenerator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.printernizer.const import (
    CONF_ENTRY_KIND,
    DOMAIN,
    ENTRY_KIND_LIBRARY,
    LIBRARY_UNIQUE_ID,
    OPT_AUTO_DOWNLOAD,
    OPT_LIBRARY_FOLDER,
    OPT_WATCH_FOLDERS,
)
from custom_components.printernizer.core import watch as watch_module
from custom_components.printernizer.core.library import Library
from custom_components.printernizer.core.watch import (
    DEBOUNCE,
    RESCAN_INTERVAL,
    WatchFolders,
    issue_id,
    scan_folder,
)
from custom_components.printernizer.diagnostics import async_get_config_entry_diagnostics
from custom_components.printernizer.runtime import DATA_KEY, LibraryRuntime

from .conftest import EventRecorder, wait_for
from .metadata import writers


@pytest.fixture
def allowed(hass: HomeAssistant, tmp_path: Path) -> Path:
    """The one folder Home Assistant allows (allowlist_external_dirs)."""
    folder = tmp_path / "allowed"
    folder.mkdir()
    hass.config.allowlist_external_dirs = {str(folder)}
    return folder


async def _setup(hass: HomeAssistant, library: Path, watch: list[Path]) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Printernizer library",
        unique_id=LIBRARY_UNIQUE_ID,
        data={CONF_ENTRY_KIND: ENTRY_KIND_LIBRARY},
        options={
            OPT_LIBRARY_FOLDER: str(library),
            OPT_AUTO_DOWNLOAD: False,
            OPT_WATCH_FOLDERS: [str(p) for p in watch],
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


@pytest.fixture
async def watched(
    hass: HomeAssistant, allowed: Path
) -> AsyncGenerator[tuple[LibraryRuntime, Path]]:
    """The library entry with one watch folder (allowed, empty)."""
    folder = allowed / "prints"
    folder.mkdir()
    entry = await _setup(hass, allowed / "library", [folder])
    runtime = entry.runtime_data
    assert runtime.watch is not None
    assert runtime.watch.watched == [folder]
    yield runtime, folder
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert runtime.watch.diagnostics()["observer_running"] is False


def _tick(hass: HomeAssistant) -> None:
    """Let the debounce time pass (timers due within it run)."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=DEBOUNCE + 1))


def _pending(watch: WatchFolders) -> dict:
    return watch._pending


async def test_created_while_growing_then_in_library_and_processed(
    hass: HomeAssistant, events: EventRecorder, watched: tuple[LibraryRuntime, Path]
) -> None:
    """A file being copied is reported once its size stopped changing, then processed."""
    runtime, folder = watched
    watch = runtime.watch
    assert watch is not None
    content = writers.threemf()
    path = folder / "benchy.gcode.3mf"
    with path.open("wb") as stream:
        stream.write(content[:1000])
        stream.flush()
        await wait_for(hass, lambda: str(path) in _pending(watch))
        _tick(hass)  # first size check: 1000 bytes, not settled yet
        await wait_for(hass, lambda: _pending(watch)[str(path)].last_size == 1000)
        stream.write(content[1000:])
        stream.flush()
        _tick(hass)  # it grew: still not settled
        await wait_for(hass, lambda: _pending(watch)[str(path)].last_size == len(content))
        assert events.of("file_watcher") == []
    _tick(hass)  # unchanged since the last check: settled
    await wait_for(hass, lambda: events.of("file_metadata_extracted"))

    (change,) = events.of("file_watcher")
    assert change["event_type"] == "created"
    assert change["path"] == str(path)
    assert change["is_directory"] is False
    (added,) = events.of("library_file_added")
    assert added["filename"] == "benchy.gcode.3mf"
    assert runtime.library is not None
    record = runtime.library.get(added["checksum"])
    assert record is not None
    assert record.in_place
    assert record.path == str(path)
    assert record.sources[0].kind == "watch_folder"
    (needs,) = events.of("file_needs_thumbnail_processing")
    assert needs == {"file_id": added["checksum"], "file_path": str(path)}
    assert events.of("file_thumbnails_processed")
    assert path.read_bytes() == content  # kept in place, not copied or moved


async def test_moved_and_deleted(
    hass: HomeAssistant, events: EventRecorder, watched: tuple[LibraryRuntime, Path]
) -> None:
    """A move reports dest_path and follows the file; a delete takes it out of the library."""
    runtime, folder = watched
    watch = runtime.watch
    library = runtime.library
    assert watch is not None and library is not None
    (folder / "done").mkdir()
    source = folder / "part.gcode"
    source.write_text(writers.prusaslicer())
    await wait_for(hass, lambda: str(source) in _pending(watch))
    _tick(hass)
    await wait_for(hass, lambda: _pending(watch).get(str(source)) is None or _tick(hass))
    await wait_for(hass, lambda: library.by_path(source) is not None)
    await wait_for(hass, lambda: events.of("file_metadata_extracted"))
    events.clear()

    target = folder / "done" / "part.gcode"
    os.rename(source, target)
    await wait_for(hass, lambda: str(source) in _pending(watch))

    def moves() -> list[dict]:
        return [e for e in events.of("file_watcher") if e["event_type"] == "moved"]

    await wait_for(hass, lambda: moves() or _tick(hass))
    await wait_for(hass, lambda: library.by_path(target) is not None or _tick(hass))
    moved = moves()
    assert moved == [
        {
            "event_type": "moved",
            "path": str(source),
            "dest_path": str(target),
            "is_directory": False,
            "timestamp": moved[0]["timestamp"],
        }
    ]
    assert library.by_path(source) is None
    assert [e["filename"] for e in events.of("library_file_deleted")] == ["part.gcode"]
    await wait_for(hass, lambda: events.of("file_metadata_extracted"))
    events.clear()

    target.unlink()
    await wait_for(hass, lambda: str(target) in _pending(watch))
    await wait_for(hass, lambda: events.of("library_file_deleted") or _tick(hass))
    deleted = [e for e in events.of("file_watcher") if e["event_type"] == "deleted"]
    assert [e["path"] for e in deleted] == [str(target)]
    assert library.by_path(target) is None
    assert len(library) == 0


async def test_rescan_finds_files_and_hidden_ones_are_ignored(
    hass: HomeAssistant, events: EventRecorder, allowed: Path
) -> None:
    """Files already there at start (or missed by inotify) come in through the rescan."""
    folder = allowed / "share"
    folder.mkdir()
    (folder / "early.bgcode").write_bytes(writers.bgcode())
    (folder / ".hidden.gcode").write_text(writers.cura())
    (folder / "notes.txt").write_text("not a print file")
    entry = await _setup(hass, allowed / "library", [folder])
    runtime = entry.runtime_data
    library = runtime.library
    assert library is not None
    await wait_for(
        hass, lambda: library.by_path(folder / "early.bgcode") is not None or _tick(hass)
    )
    assert [e["filename"] for e in events.of("library_file_added")] == ["early.bgcode"]
    assert len(library) == 1
    # gone while Home Assistant was not looking: the rescan forgets it
    (folder / "early.bgcode").unlink()
    assert runtime.watch is not None
    await runtime.watch.async_rescan()
    assert len(library) == 0
    assert [e["filename"] for e in events.of("library_file_deleted")] == ["early.bgcode"]
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_folder_outside_allowlist_or_gone_is_refused(
    hass: HomeAssistant, events: EventRecorder, allowed: Path, tmp_path: Path
) -> None:
    """A folder Home Assistant does not allow, or that is gone, is not watched: a repair issue."""
    outside = tmp_path / "outside"
    outside.mkdir()
    missing = allowed / "unplugged"
    entry = await _setup(hass, allowed / "library", [outside, missing])
    runtime = entry.runtime_data
    assert runtime.watch is not None
    assert runtime.watch.watched == []
    assert runtime.watch.unavailable == {outside: "not_allowed", missing: "missing"}
    registry = ir.async_get(hass)
    not_allowed = registry.async_get_issue(DOMAIN, issue_id(outside))
    assert not_allowed is not None
    assert not_allowed.translation_key == "watch_folder_not_allowed"
    assert not_allowed.translation_placeholders == {"folder": str(outside)}
    gone = registry.async_get_issue(DOMAIN, issue_id(missing))
    assert gone is not None
    assert gone.translation_key == "watch_folder_missing"

    (outside / "sneaky.gcode").write_text(writers.cura())
    await runtime.watch.async_rescan()
    assert events.of("library_file_added") == []
    assert events.of("file_watcher") == []

    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["watch_folders"]["unavailable"] == {
        str(outside): "not_allowed",
        str(missing): "missing",
    }
    assert diagnostics["processing"]["queued"] == 0

    # The folder is plugged in again: the next rescan watches it, the issue goes.
    missing.mkdir()
    await runtime.watch.async_rescan()
    assert registry.async_get_issue(DOMAIN, issue_id(missing)) is None
    assert runtime.watch.watched == [missing]
    assert runtime.watch.diagnostics()["observer_running"] is True
    (missing / "back.gcode").write_text(writers.cura())
    await wait_for(hass, lambda: events.of("library_file_added") or _tick(hass))
    assert await hass.config_entries.async_unload(entry.entry_id)


# --- the loop side without an observer: events handed in as the observer thread would ----


@pytest.fixture
async def loop_side(
    hass: HomeAssistant, allowed: Path
) -> AsyncGenerator[tuple[WatchFolders, Library, Path]]:
    """A WatchFolders that is not started (no observer thread): events come from the test."""
    folder = allowed / "prints"
    folder.mkdir()
    entry = await _setup(hass, allowed / "library", [])
    runtime = entry.runtime_data
    assert runtime.library is not None
    watch = WatchFolders(hass, hass.data[DATA_KEY].emitter, runtime.library, (folder,))
    watch.watched = [folder]
    yield watch, runtime.library, folder
    await watch.async_stop()
    assert await hass.config_entries.async_unload(entry.entry_id)


async def _settled(hass: HomeAssistant, watch: WatchFolders) -> None:
    """Pass debounces until nothing is pending (each size check needs one more)."""
    await wait_for(hass, lambda: not _pending(watch) or _tick(hass))
    await hass.async_block_till_done()


def _watcher(events: EventRecorder) -> list[tuple[str, str]]:
    return [(e["event_type"], e["path"]) for e in events.of("file_watcher")]


async def test_short_lived_files_and_ignored_names(
    hass: HomeAssistant, events: EventRecorder, loop_side: tuple[WatchFolders, Library, Path]
) -> None:
    """Created then deleted is one delete; gone before settling is nothing; names filtered."""
    watch, library, folder = loop_side
    flash = str(folder / "flash.gcode")
    watch._on_fs_event("created", flash, None, False)
    watch._on_fs_event("deleted", flash, None, False)  # a later delete wins
    gone = str(folder / "gone.gcode")
    watch._on_fs_event("created", gone, None, False)  # never on disk: no size
    watch._on_fs_event("created", str(folder / ".hidden.gcode"), None, False)
    watch._on_fs_event("created", str(folder / "copy.gcode.part"), None, False)
    watch._on_fs_event("modified", str(folder / "sub"), None, True)  # a folder's own change
    assert set(_pending(watch)) == {flash, gone}
    await _settled(hass, watch)
    assert _watcher(events) == [("deleted", flash)]
    assert len(library) == 0

    # not a print file: reported, but it does not enter the library
    notes = folder / "notes.txt"
    notes.write_text("hello")
    watch._on_fs_event("created", str(notes), None, False)
    await _settled(hass, watch)
    assert _watcher(events)[-1] == ("created", str(notes))
    assert len(library) == 0 and events.of("library_file_added") == []


async def test_renamed_temporary_file_symlink_and_changed_content(
    hass: HomeAssistant,
    events: EventRecorder,
    loop_side: tuple[WatchFolders, Library, Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An editor's temp file renamed is a creation; a symlink is refused; new content replaces."""
    watch, library, folder = loop_side
    part = folder / "part.gcode"
    part.write_text(writers.prusaslicer())
    watch._on_fs_event("moved", str(folder / ".part.gcode.swp"), str(part), False)
    await _settled(hass, watch)
    assert _watcher(events) == [("created", str(part))]
    first = library.by_path(part)
    assert first is not None and first.in_place

    # touched without a change: nothing new in the library
    watch._on_fs_event("modified", str(part), None, False)
    await _settled(hass, watch)
    assert library.by_path(part) == first
    assert events.of("library_file_deleted") == []

    # new content: the old record leaves, the new one enters
    part.write_text(writers.prusaslicer(moves=80))
    watch._on_fs_event("modified", str(part), None, False)
    await _settled(hass, watch)
    second = library.by_path(part)
    assert second is not None and second.checksum != first.checksum
    assert [e["checksum"] for e in events.of("library_file_deleted")] == [first.checksum]
    assert library.get(first.checksum) is None

    # a symlink to a print file is not read
    link = folder / "link.gcode"
    link.symlink_to(part)
    watch._on_fs_event("created", str(link), None, False)
    await _settled(hass, watch)
    assert library.by_path(link) is None
    assert f"Cannot read watch folder file {link}: not a regular file" in caplog.text


async def test_folder_deleted_forgets_its_files(
    hass: HomeAssistant, events: EventRecorder, loop_side: tuple[WatchFolders, Library, Path]
) -> None:
    watch, library, folder = loop_side
    sub = folder / "sub"
    sub.mkdir()
    inside, beside = sub / "a.gcode", folder / "b.gcode"
    for path in (inside, beside):
        path.write_text(writers.cura() + f"; {path.name}\n")
        watch._on_fs_event("created", str(path), None, False)
    await _settled(hass, watch)
    assert library.by_path(inside) is not None and library.by_path(beside) is not None
    watch._on_fs_event("deleted", str(sub), None, True)
    await _settled(hass, watch)
    assert ("deleted", str(sub)) in _watcher(events)
    assert library.by_path(inside) is None
    assert library.by_path(beside) is not None


async def test_change_during_the_size_check_is_reported_once(
    hass: HomeAssistant, events: EventRecorder, loop_side: tuple[WatchFolders, Library, Path]
) -> None:
    """A timer set while the size is being checked finds the change already reported."""
    watch, _library, folder = loop_side
    path = folder / "c.gcode"
    path.write_text(writers.cura())
    watch._on_fs_event("created", str(path), None, False)
    _tick(hass)  # first check: the size
    await wait_for(hass, lambda: _pending(watch)[str(path)].last_size is not None)
    _tick(hass)  # second check starts (in the executor) ...
    assert _pending(watch)[str(path)].checking
    watch._on_fs_event("modified", str(path), None, False)  # ... and a change comes in
    await wait_for(hass, lambda: bool(events.of("file_watcher")))
    _tick(hass)  # the timer of that change: already reported
    await hass.async_block_till_done(wait_background_tasks=True)
    assert _watcher(events) == [("created", str(path))]
    assert _pending(watch) == {}


def test_scan_folder_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(5):
        (tmp_path / f"{i}.gcode").write_text("G28\n")
    (tmp_path / "notes.txt").write_text("x")
    assert len(scan_folder(tmp_path)) == 5
    monkeypatch.setattr(watch_module, "RESCAN_LIMIT", 2)
    assert len(scan_folder(tmp_path)) == 2


async def test_observer_start_unload_and_home_assistant_stop(
    hass: HomeAssistant, allowed: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A folder gone before it is scheduled is logged; a stop while starting stops the thread."""
    folder = allowed / "prints"
    folder.mkdir()
    entry = await _setup(hass, allowed / "library", [])
    library = entry.runtime_data.library
    assert library is not None
    emitter = hass.data[DATA_KEY].emitter

    watch = WatchFolders(hass, emitter, library, (folder,))
    observer = await hass.async_add_executor_job(watch._observe, None, [allowed / "gone"])
    try:
        assert f"Cannot watch {allowed / 'gone'}" in caplog.text
        assert observer.is_alive()
    finally:
        await hass.async_add_executor_job(watch_module._stop_observer, observer)

    # unloaded while the observer thread starts: that thread is stopped, not kept
    starting = WatchFolders(hass, emitter, library, (folder,))
    observe = starting._observe

    def observe_then_unload(current: Any, folders: list[Path]) -> Any:
        started = observe(current, folders)
        asyncio.run_coroutine_threadsafe(starting.async_stop(), hass.loop).result(10)
        return started

    starting._observe = observe_then_unload  # type: ignore[method-assign]
    await starting.async_start()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert starting.diagnostics()["observer_running"] is False
    assert not [t for t in threading.enumerate() if "Observer" in type(t).__name__]

    # Home Assistant stops: the watcher stops with it (once)
    stopping = WatchFolders(hass, emitter, library, (folder,))
    await stopping.async_start()
    assert stopping.diagnostics()["observer_running"] is True
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    assert stopping.diagnostics()["observer_running"] is False
    await stopping.async_stop()
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_no_observer_while_home_assistant_stops(hass: HomeAssistant, allowed: Path) -> None:
    """A watcher set up while Home Assistant stops (after its stop event) starts no thread."""
    folder = allowed / "prints"
    folder.mkdir()
    entry = await _setup(hass, allowed / "library", [])
    library = entry.runtime_data.library
    assert library is not None
    emitter = hass.data[DATA_KEY].emitter
    hass.set_state(CoreState.stopping)
    try:
        late = WatchFolders(hass, emitter, library, (folder,))
        await late.async_start()
        assert late.diagnostics()["observer_running"] is False
        assert not [t for t in threading.enumerate() if "Observer" in type(t).__name__]

        # stopping began while the observer thread started: that thread is stopped
        racing = WatchFolders(hass, emitter, library, (folder,))
        hass.set_state(CoreState.running)
        observe = racing._observe

        def observe_while_stopping(current: Any, folders: list[Path]) -> Any:
            started = observe(current, folders)
            hass.loop.call_soon_threadsafe(hass.set_state, CoreState.stopping)
            return started

        racing._observe = observe_while_stopping  # type: ignore[method-assign]
        await racing.async_start()
        assert racing.diagnostics()["observer_running"] is False
        assert not [t for t in threading.enumerate() if "Observer" in type(t).__name__]
        await racing.async_stop()
    finally:
        hass.set_state(CoreState.running)
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_stop_cancels_a_rescan_in_flight(
    hass: HomeAssistant, loop_side: tuple[WatchFolders, Library, Path]
) -> None:
    watch, _library, _folder = loop_side
    watch._scheduled_rescan(dt_util.utcnow())  # as the periodic timer does
    (task,) = watch._tasks
    await watch.async_stop()
    assert task.cancelled()


async def test_periodic_rescan_watches_a_folder_plugged_in_again(
    hass: HomeAssistant, allowed: Path
) -> None:
    missing = allowed / "usb"
    entry = await _setup(hass, allowed / "library", [missing])
    watch = entry.runtime_data.watch
    assert watch is not None and watch.watched == []
    missing.mkdir()
    async_fire_time_changed(hass, dt_util.utcnow() + RESCAN_INTERVAL + timedelta(seconds=1))
    await wait_for(hass, lambda: watch.watched == [missing])
    assert watch.unavailable == {}
    assert await hass.config_entries.async_unload(entry.entry_id)
