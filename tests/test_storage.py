"""CollectionStore (core/storage.py): migrations up, and no silent downgrade."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from homeassistant.core import HomeAssistant

from custom_components.printernizer.core.storage import CollectionStore, StoreVersionError

KEY = "printernizer.test_collection"


def _store(hass: HomeAssistant) -> CollectionStore:
    return CollectionStore(
        hass, KEY, 2, migrations={1: lambda data: {**data, "items": data.get("old", [])}}
    )


async def test_older_version_migrated_and_saved(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """Version 1 data runs the step to version 2 and is saved as version 2."""
    hass_storage[KEY] = {"version": 1, "minor_version": 1, "key": KEY, "data": {"old": [1]}}
    assert await _store(hass).async_load() == {"old": [1], "items": [1]}
    assert hass_storage[KEY]["version"] == 2


async def test_newer_major_version_refused(
    hass: HomeAssistant, hass_storage: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """Data of a newer major version is refused and left untouched (never re-stamped)."""
    stored = {"version": 3, "minor_version": 1, "key": KEY, "data": {"shape": "of v3"}}
    hass_storage[KEY] = copy.deepcopy(stored)
    with pytest.raises(StoreVersionError, match="newer Printernizer"):
        await _store(hass).async_load()
    await hass.async_block_till_done()
    assert hass_storage[KEY] == stored
    assert "storage version 3" in caplog.text


async def test_newer_minor_version_kept(hass: HomeAssistant, hass_storage: dict[str, Any]) -> None:
    """A newer minor version of the same major is compatible by definition: loaded as is."""
    hass_storage[KEY] = {"version": 2, "minor_version": 5, "key": KEY, "data": {"items": [7]}}
    assert await _store(hass).async_load() == {"items": [7]}


def test_a_version_without_its_migration_step_is_refused(hass: HomeAssistant) -> None:
    """Bumping the version without adding the step fails at once, naming the missing step."""
    with pytest.raises(ValueError, match=r"no migration from version\(s\) \[2, 3\]"):
        CollectionStore(hass, KEY, 4, migrations={1: lambda data: data})
    assert CollectionStore(hass, KEY, 1).version == 1  # version 1 needs none
