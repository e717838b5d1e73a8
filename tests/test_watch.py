"""Watch folders with real files on disk and the real watchdog observer (inotify here)."""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator
from datetime import timedelta
from pathlib import Path

import pytest
from homeassistant.core import HomeAssistant
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
from custom_components.printernizer.core.watch import DEBOUNCE, WatchFolders, issue_id
from custom_components.printernizer.diagnostics import async_get_config_entry_diagnostics
from custom_components.printernizer.runtime import LibraryRuntime

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
