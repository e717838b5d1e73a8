"""The Printernizer library entry: a singleton, offered after the first printer, its options."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from homeassistant.config_entries import SOURCE_IGNORE, SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printernizer.const import DOMAIN, LIBRARY_UNIQUE_ID
from custom_components.printernizer.diagnostics import async_get_config_entry_diagnostics
from custom_components.printernizer.runtime import DATA_KEY

from .fake_client import FakeClient


def _library_flows(hass: HomeAssistant) -> list[dict]:
    return [
        flow
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"].get("unique_id") == LIBRARY_UNIQUE_ID
    ]


async def _add_library(hass: HomeAssistant) -> MockConfigEntry:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert "library" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "library"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "library"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Printernizer library"
    await hass.async_block_till_done()
    return result["result"]


async def test_add_library_from_menu_once(hass: HomeAssistant) -> None:
    """The library is added from the add-integration menu, and only once."""
    entry = await _add_library(hass)
    assert entry.unique_id == LIBRARY_UNIQUE_ID
    assert entry.state is ConfigEntryState.LOADED
    runtime = hass.data[DATA_KEY].library
    assert runtime is entry.runtime_data
    assert runtime.settings.library_folder == Path(hass.config.path("printernizer/library"))
    device = dr.async_get(hass).async_get(runtime.device_id)
    assert device is not None
    assert device.entry_type is dr.DeviceEntryType.SERVICE

    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "library"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "library_already_configured"

    assert await hass.config_entries.async_unload(entry.entry_id)
    assert hass.data[DATA_KEY].library is None


async def test_library_offered_after_first_printer(
    hass: HomeAssistant, fake_entry: MockConfigEntry, use_fake: FakeClient
) -> None:
    """Once a printer is set up, the library is offered under Discovered."""
    assert _library_flows(hass) == []
    assert await hass.config_entries.async_setup(fake_entry.entry_id)
    await hass.async_block_till_done()
    (flow,) = _library_flows(hass)
    assert flow["step_id"] == "library"
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    # Set up again (a reload): not offered while it exists.
    assert await hass.config_entries.async_reload(fake_entry.entry_id)
    await hass.async_block_till_done()
    assert _library_flows(hass) == []


async def test_ignored_library_not_offered_again(
    hass: HomeAssistant, fake_entry: MockConfigEntry, use_fake: FakeClient
) -> None:
    """A user who ignored the offer is not asked again."""
    MockConfigEntry(domain=DOMAIN, source=SOURCE_IGNORE, unique_id=LIBRARY_UNIQUE_ID).add_to_hass(
        hass
    )
    assert await hass.config_entries.async_setup(fake_entry.entry_id)
    await hass.async_block_till_done()
    assert _library_flows(hass) == []


async def _options_step(hass: HomeAssistant, entry: MockConfigEntry, step: str) -> dict:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["files", "watch_folders", "materials", "trending"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": step}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == step
    return result


FILES = {
    "library_quota_gb": 2,
    "discovery_interval": 15,
    "auto_download": False,
    "auto_download_max_mb": 100,
}


@pytest.mark.parametrize(
    ("folder", "error"),
    [
        ("relative/folder", "folder_not_absolute"),
        ("/definitely/not/allowed", "folder_not_allowed"),
        ("{config}/www/prints", "folder_public"),
        ("/media/prints\x00/evil", "folder_invalid"),
        # a name over the file system's limit: the checks' OSError is a translated error
        ("{config}/" + "x" * 300, "folder_invalid"),
    ],
)
async def test_library_folder_refused(hass: HomeAssistant, folder: str, error: str) -> None:
    """A folder Home Assistant does not allow, a relative one or one under www is refused."""
    entry = await _add_library(hass)
    result = await _options_step(hass, entry, "files")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {**FILES, "library_folder": folder.format(config=hass.config.config_dir)},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"library_folder": error}
    assert entry.options == {}


@pytest.mark.parametrize(
    "folder",
    [
        "{config}",
        "{config}/..",
        "/",
        "{config}/.storage",
        "{config}/.storage/printernizer",
        "{config}/custom_components/printernizer",
    ],
)
async def test_library_folder_not_in_config(hass: HomeAssistant, folder: str) -> None:
    """Never the config folder, a folder containing it, or its .storage/custom_components."""
    config = Path(hass.config.config_dir)
    hass.config.allowlist_external_dirs.update({"/", str(config.parent)})
    entry = await _add_library(hass)
    result = await _options_step(hass, entry, "files")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**FILES, "library_folder": folder.format(config=config)}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"library_folder": "folder_config"}
    assert entry.options == {}


async def test_library_folder_overlapping_a_watch_folder(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    """A new library folder inside or around an existing watch folder is refused."""
    hass.config.allowlist_external_dirs.add(str(tmp_path))
    watch = tmp_path / "watch"
    await hass.async_add_executor_job(watch.mkdir)
    entry = await _add_library(hass)
    hass.config_entries.async_update_entry(entry, options={"watch_folders": [str(watch)]})
    await hass.async_block_till_done()
    for folder in (watch, watch / "library", tmp_path):
        result = await _options_step(hass, entry, "files")
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {**FILES, "library_folder": str(folder)}
        )
        assert result["type"] is FlowResultType.FORM, folder
        assert result["errors"] == {"library_folder": "folder_overlaps_library"}
    assert entry.options == {"watch_folders": [str(watch)]}
    result = await _options_step(hass, entry, "files")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**FILES, "library_folder": str(tmp_path / "library")}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()  # the options reload, before the test ends
    assert entry.state is ConfigEntryState.LOADED


@pytest.mark.parametrize("folder", ["/media/\x00", "/media/" + "x" * 300])
async def test_watch_folder_invalid_refused(hass: HomeAssistant, folder: str) -> None:
    """A watch folder with a NUL byte or a too long name: a translated error, not a crash."""
    entry = await _add_library(hass)
    result = await _options_step(hass, entry, "watch_folders")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"watch_folders": [folder]}
    )
    assert result["errors"] == {"watch_folders": "folder_invalid"}
    assert entry.options == {}


async def test_library_folder_that_is_a_file_refused(hass: HomeAssistant, tmp_path: Path) -> None:
    """An existing file is not a library folder."""
    hass.config.allowlist_external_dirs.add(str(tmp_path))
    file = tmp_path / "prints.txt"
    await hass.async_add_executor_job(file.write_text, "not a folder")
    entry = await _add_library(hass)
    result = await _options_step(hass, entry, "files")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**FILES, "library_folder": str(file)}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"library_folder": "folder_not_a_folder"}
    assert entry.options == {}


async def test_default_folder_resolved_off_the_loop(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Choosing the default library folder resolves it in the executor, never on the loop."""
    default = Path(hass.config.path("printernizer/library"))
    on_loop: list[Path] = []
    original = Path.resolve
    loop_thread = threading.get_ident()

    def resolve(self: Path, strict: bool = False) -> Path:
        if threading.get_ident() == loop_thread and self == default:
            on_loop.append(self)
        return original(self, strict)

    entry = await _add_library(hass)
    result = await _options_step(hass, entry, "files")
    monkeypatch.setattr(Path, "resolve", resolve)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**FILES, "library_folder": str(default)}
    )
    monkeypatch.undo()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["library_folder"] == ""
    assert on_loop == []


async def test_files_options_saved_and_applied(hass: HomeAssistant, tmp_path: Path) -> None:
    """An allowed folder and the file settings are saved; the entry reloads with them."""
    hass.config.allowlist_external_dirs.add(str(tmp_path))
    entry = await _add_library(hass)
    result = await _options_step(hass, entry, "files")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**FILES, "library_folder": str(tmp_path / "lib")}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options["library_folder"] == str((tmp_path / "lib").resolve())
    settings = hass.data[DATA_KEY].library.settings
    assert settings.library_folder == (tmp_path / "lib").resolve()
    assert settings.discovery_interval == 15 * 60
    assert settings.library_quota_bytes == 2 * 1024**3
    assert settings.auto_download is False
    assert settings.auto_download_max_bytes == 100 * 1024**2

    # The default folder is stored as "not set", so it follows the config folder.
    result = await _options_step(hass, entry, "files")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {**FILES, "library_folder": hass.config.path("printernizer/library")},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["library_folder"] == ""


async def test_watch_folders(hass: HomeAssistant, tmp_path: Path) -> None:
    """Watch folders must exist, be allowed, and not overlap the library."""
    allowed = tmp_path / "allowed"
    (allowed / "prints").mkdir(parents=True, exist_ok=True)
    hass.config.allowlist_external_dirs.add(str(allowed))
    outside = tmp_path / "outside"
    outside.mkdir()
    entry = await _add_library(hass)

    async def submit(folders: list[str]) -> dict:
        result = await _options_step(hass, entry, "watch_folders")
        return await hass.config_entries.options.async_configure(
            result["flow_id"], {"watch_folders": folders}
        )

    result = await submit([str(allowed / "missing")])
    assert result["errors"] == {"watch_folders": "folder_missing"}
    result = await submit([str(outside)])
    assert result["errors"] == {"watch_folders": "folder_not_allowed"}
    assert result["description_placeholders"] == {"folder": str(outside)}
    # The library inside a watch folder, or a watch folder inside the library.
    library = allowed / "library"
    await hass.async_add_executor_job(lambda: (library / "sub").mkdir(parents=True))
    hass.config_entries.async_update_entry(entry, options={"library_folder": str(library)})
    await hass.async_block_till_done()
    result = await submit([str(allowed)])
    assert result["errors"] == {"watch_folders": "folder_overlaps_library"}
    result = await submit([str(library / "sub")])
    assert result["errors"] == {"watch_folders": "folder_overlaps_library"}
    assert "watch_folders" not in entry.options

    result = await submit([str(allowed / "prints"), "  ", str(allowed / "prints")])
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options["watch_folders"] == [str((allowed / "prints").resolve())]
    assert hass.data[DATA_KEY].library.settings.watch_folders == ((allowed / "prints").resolve(),)


async def test_materials_and_trending_options(hass: HomeAssistant) -> None:
    """The low-stock threshold and the trending settings (off by default)."""
    entry = await _add_library(hass)
    settings = hass.data[DATA_KEY].library.settings
    assert settings.low_stock_threshold == 20
    assert not settings.trending_makerworld
    assert not settings.trending_printables
    result = await _options_step(hass, entry, "materials")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"low_stock_threshold": 15}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    result = await _options_step(hass, entry, "trending")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "trending_makerworld": True,
            "trending_printables": False,
            "trending_items": 10,
            "trending_interval": 12,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    settings = hass.data[DATA_KEY].library.settings
    assert settings.low_stock_threshold == 15
    assert settings.trending_makerworld
    assert settings.trending_items == 10
    assert settings.trending_interval == 12 * 3600


async def test_library_diagnostics(hass: HomeAssistant) -> None:
    """Diagnostics of the library show its settings."""
    entry = await _add_library(hass)
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["settings"]["library_folder"] == hass.config.path("printernizer/library")
    assert diagnostics["settings"]["auto_download"] is True
    assert "event_counts" in diagnostics["events"]
