"""Set-up shared by the files tests: a fake printer with files and the library in tmp_path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printernizer.const import (
    CONF_ACCESS_CODE,
    CONF_ENTRY_KIND,
    CONF_FAMILY,
    CONF_SERIAL,
    DOMAIN,
    ENTRY_KIND_LIBRARY,
    LIBRARY_TITLE,
    LIBRARY_UNIQUE_ID,
)
from custom_components.printernizer.core.library import Library
from custom_components.printernizer.runtime import DATA_KEY


def library_entry(hass: HomeAssistant, folder: Path, **options: Any) -> MockConfigEntry:
    """A library entry whose folder is ``folder`` (under tmp_path, allowed)."""
    hass.config.allowlist_external_dirs.add(str(folder.parent))
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=LIBRARY_TITLE,
        unique_id=LIBRARY_UNIQUE_ID,
        data={CONF_ENTRY_KIND: ENTRY_KIND_LIBRARY},
        options={"library_folder": str(folder), **options},
    )
    entry.add_to_hass(hass)
    return entry


def printer_entry(hass: HomeAssistant, serial: str, title: str) -> MockConfigEntry:
    """Another fake Bambu printer entry."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=title,
        unique_id=serial,
        data={
            CONF_FAMILY: "bambu_lab",
            "host": "192.0.2.11",
            CONF_SERIAL: serial,
            CONF_ACCESS_CODE: "12345678",
        },
    )
    entry.add_to_hass(hass)
    return entry


async def setup_entries(hass: HomeAssistant, *entries: MockConfigEntry) -> None:
    """Set up each entry (the first loads the integration, which may set up the rest)."""
    for entry in entries:
        if entry.state is ConfigEntryState.NOT_LOADED:
            assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    for entry in entries:
        assert entry.state is ConfigEntryState.LOADED, entry.title


def device_id(hass: HomeAssistant, identifier: str) -> str:
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, identifier)})
    assert device is not None
    return device.id


def library(hass: HomeAssistant) -> Library:
    runtime = hass.data[DATA_KEY].library
    assert runtime is not None and runtime.library is not None
    return runtime.library


def leftovers(folder: Path) -> list[Path]:
    """Temporary files left in the library folder (there must be none)."""
    return [p for p in folder.rglob("*") if p.name.startswith(".printernizer-")]


def exists(path: str | Path) -> bool:
    """Whether a file exists (a tiny blocking check on tmp_path)."""
    return Path(path).exists()


def resolved(path: Path) -> Path:
    """The resolved path (tmp_path may lie behind a symlink)."""
    return path.resolve()
