"""Options flow of the library entry: the integration-wide settings, one step per area.

Folders are checked in the executor (``hass.config.is_allowed_path`` and
``Path.resolve`` do blocking I/O): the library folder must be the default one
or a folder Home Assistant allows (``allowlist_external_dirs``, the media
folders), never under ``www/`` (served without authentication), never the
configuration folder, a folder containing it, or its ``.storage`` or
``custom_components``, and it overlaps no watch folder; a watch folder must be
an existing, allowed folder that neither contains the library nor lies inside
it. A path Python cannot even represent (a NUL byte) is refused as invalid.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import voluptuous as vol
from homeassistant.config_entries import ConfigFlowResult, OptionsFlow
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
)

from .const import (
    DEFAULT_AUTO_DOWNLOAD,
    DEFAULT_AUTO_DOWNLOAD_MAX_MB,
    DEFAULT_DISCOVERY_INTERVAL,
    DEFAULT_LIBRARY_QUOTA_GB,
    DEFAULT_LOW_STOCK_THRESHOLD,
    DEFAULT_TRENDING_INTERVAL,
    DEFAULT_TRENDING_ITEMS,
    MAX_TRENDING_ITEMS,
    MIN_DISCOVERY_INTERVAL,
    MIN_TRENDING_INTERVAL,
    OPT_AUTO_DOWNLOAD,
    OPT_AUTO_DOWNLOAD_MAX_MB,
    OPT_DISCOVERY_INTERVAL,
    OPT_LIBRARY_FOLDER,
    OPT_LIBRARY_QUOTA_GB,
    OPT_LOW_STOCK_THRESHOLD,
    OPT_TRENDING_INTERVAL,
    OPT_TRENDING_ITEMS,
    OPT_TRENDING_MAKERWORLD,
    OPT_TRENDING_PRINTABLES,
    OPT_WATCH_FOLDERS,
)
from .core.settings import default_library_folder

STEPS = ["files", "watch_folders", "materials", "trending"]


def _number(minimum: float, maximum: float, step: float, unit: str) -> NumberSelector:
    return NumberSelector(
        NumberSelectorConfig(
            min=minimum,
            max=maximum,
            step=step,
            unit_of_measurement=unit,
            mode=NumberSelectorMode.BOX,
        )
    )


class LibraryFolderCheck(NamedTuple):
    """The result of :func:`check_library_folder`."""

    #: The resolved folder (None when refused).
    folder: Path | None
    #: The error key under ``options.error`` (None when accepted).
    error: str | None
    #: The resolved default library folder (resolved here, off the event loop).
    default: Path


def _resolved(value: str) -> tuple[Path | None, str | None]:
    """``value`` as an absolute, resolved path, or an error key (blocking)."""
    try:
        path = Path(value.strip()).expanduser()
        if not path.is_absolute():
            return None, "folder_not_absolute"
        return path.resolve(), None
    except (ValueError, OSError, RuntimeError):  # NUL byte, ~unknown user, a symlink loop
        return None, "folder_invalid"


def _overlaps(one: Path, other: Path) -> bool:
    return one.is_relative_to(other) or other.is_relative_to(one)


def _in_config(resolved: Path, config: Path) -> bool:
    """The config folder, a folder containing it, or Home Assistant's own data under it."""
    return config.is_relative_to(resolved) or any(
        resolved.is_relative_to(config / name) for name in (".storage", "custom_components")
    )


def check_library_folder(
    hass: HomeAssistant, value: str, watch_folders: Sequence[str] = ()
) -> LibraryFolderCheck:
    """Check a library folder (and that it overlaps no watch folder). Blocking: executor."""
    config = Path(hass.config.config_dir).resolve()
    default = default_library_folder(hass.config.config_dir).resolve()
    resolved, error = _resolved(value)
    if resolved is None:
        return LibraryFolderCheck(None, error, default)
    try:
        if resolved.is_relative_to(config / "www"):
            return LibraryFolderCheck(None, "folder_public", default)
        if _in_config(resolved, config):
            return LibraryFolderCheck(None, "folder_config", default)
        if resolved != default and not hass.config.is_allowed_path(str(resolved)):
            return LibraryFolderCheck(None, "folder_not_allowed", default)
        if resolved.exists() and not resolved.is_dir():
            return LibraryFolderCheck(None, "folder_not_a_folder", default)
        for watch in watch_folders:
            other, _error = _resolved(watch)
            if other is not None and _overlaps(resolved, other):
                return LibraryFolderCheck(None, "folder_overlaps_library", default)
    except (ValueError, OSError):
        return LibraryFolderCheck(None, "folder_invalid", default)
    return LibraryFolderCheck(resolved, None, default)


def check_watch_folder(
    hass: HomeAssistant, value: str, library: Path
) -> tuple[Path | None, str | None]:
    """Return (resolved folder, error key) for a watch folder. Blocking: executor."""
    resolved, error = _resolved(value)
    if resolved is None:
        return None, error
    try:
        if not resolved.is_dir():
            return None, "folder_missing"
        if not hass.config.is_allowed_path(str(resolved)):
            return None, "folder_not_allowed"
        if _overlaps(resolved, library.resolve()):
            return None, "folder_overlaps_library"
    except (ValueError, OSError):
        return None, "folder_invalid"
    return resolved, None


class LibraryOptionsFlow(OptionsFlow):
    """The library's settings: files, watch folders, materials, trending."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Start at the library's menu (its own step, so its strings differ from a printer's)."""
        return await self.async_step_library()

    async def async_step_library(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose which settings to change."""
        return self.async_show_menu(step_id="library", menu_options=STEPS)

    def _save(self, changes: dict[str, Any]) -> ConfigFlowResult:
        return self.async_create_entry(data={**self.config_entry.options, **changes})

    def _library_folder(self) -> Path:
        folder = self.config_entry.options.get(OPT_LIBRARY_FOLDER)
        return Path(folder) if folder else default_library_folder(self.hass.config.config_dir)

    async def async_step_files(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Library folder and quota, file discovery, auto-download."""
        errors: dict[str, str] = {}
        options = self.config_entry.options
        if user_input is not None:
            check = await self.hass.async_add_executor_job(
                check_library_folder,
                self.hass,
                user_input[OPT_LIBRARY_FOLDER],
                list(options.get(OPT_WATCH_FOLDERS, [])),
            )
            if check.error is not None or check.folder is None:
                errors[OPT_LIBRARY_FOLDER] = check.error or "folder_invalid"
            else:
                changes = {
                    **user_input,
                    # The default is stored as "not set", so a moved config folder follows.
                    OPT_LIBRARY_FOLDER: "" if check.folder == check.default else str(check.folder),
                    OPT_DISCOVERY_INTERVAL: int(user_input[OPT_DISCOVERY_INTERVAL]),
                    OPT_AUTO_DOWNLOAD_MAX_MB: int(user_input[OPT_AUTO_DOWNLOAD_MAX_MB]),
                }
                return self._save(changes)
        current = {
            OPT_LIBRARY_FOLDER: options.get(OPT_LIBRARY_FOLDER) or str(self._library_folder()),
            OPT_LIBRARY_QUOTA_GB: options.get(OPT_LIBRARY_QUOTA_GB, DEFAULT_LIBRARY_QUOTA_GB),
            OPT_DISCOVERY_INTERVAL: options.get(OPT_DISCOVERY_INTERVAL, DEFAULT_DISCOVERY_INTERVAL),
            OPT_AUTO_DOWNLOAD: options.get(OPT_AUTO_DOWNLOAD, DEFAULT_AUTO_DOWNLOAD),
            OPT_AUTO_DOWNLOAD_MAX_MB: options.get(
                OPT_AUTO_DOWNLOAD_MAX_MB, DEFAULT_AUTO_DOWNLOAD_MAX_MB
            ),
        }
        schema = vol.Schema(
            {
                vol.Required(OPT_LIBRARY_FOLDER): TextSelector(),
                vol.Required(OPT_LIBRARY_QUOTA_GB): _number(0.1, 10000, 0.1, "GB"),
                vol.Required(OPT_DISCOVERY_INTERVAL): _number(
                    MIN_DISCOVERY_INTERVAL, 1440, 1, "min"
                ),
                vol.Required(OPT_AUTO_DOWNLOAD): BooleanSelector(),
                vol.Required(OPT_AUTO_DOWNLOAD_MAX_MB): _number(1, 100000, 1, "MB"),
            }
        )
        return self.async_show_form(
            step_id="files",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or current),
            errors=errors,
        )

    async def async_step_watch_folders(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Folders whose print files join the library in place."""
        errors: dict[str, str] = {}
        placeholders = {"folder": ""}
        if user_input is not None:
            folders: list[str] = []
            for value in user_input.get(OPT_WATCH_FOLDERS, []):
                if not str(value).strip():
                    continue
                folder, error = await self.hass.async_add_executor_job(
                    check_watch_folder, self.hass, str(value), self._library_folder()
                )
                if error is not None:
                    errors[OPT_WATCH_FOLDERS] = error
                    placeholders["folder"] = str(value)
                    break
                assert folder is not None
                if str(folder) not in folders:
                    folders.append(str(folder))
            if not errors:
                return self._save({OPT_WATCH_FOLDERS: folders})
        current = {OPT_WATCH_FOLDERS: self.config_entry.options.get(OPT_WATCH_FOLDERS, [])}
        schema = vol.Schema(
            {vol.Optional(OPT_WATCH_FOLDERS): TextSelector(TextSelectorConfig(multiple=True))}
        )
        return self.async_show_form(
            step_id="watch_folders",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or current),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_materials(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The low-stock threshold of filament spools."""
        if user_input is not None:
            return self._save(user_input)
        current = {
            OPT_LOW_STOCK_THRESHOLD: self.config_entry.options.get(
                OPT_LOW_STOCK_THRESHOLD, DEFAULT_LOW_STOCK_THRESHOLD
            )
        }
        schema = vol.Schema({vol.Required(OPT_LOW_STOCK_THRESHOLD): _number(1, 99, 1, "%")})
        return self.async_show_form(
            step_id="materials",
            data_schema=self.add_suggested_values_to_schema(schema, current),
        )

    async def async_step_trending(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Trending models: which sites (off by default), how many, how often."""
        options = self.config_entry.options
        if user_input is not None:
            return self._save(
                {**user_input, OPT_TRENDING_ITEMS: int(user_input[OPT_TRENDING_ITEMS])}
            )
        current = {
            OPT_TRENDING_MAKERWORLD: options.get(OPT_TRENDING_MAKERWORLD, False),
            OPT_TRENDING_PRINTABLES: options.get(OPT_TRENDING_PRINTABLES, False),
            OPT_TRENDING_ITEMS: options.get(OPT_TRENDING_ITEMS, DEFAULT_TRENDING_ITEMS),
            OPT_TRENDING_INTERVAL: options.get(OPT_TRENDING_INTERVAL, DEFAULT_TRENDING_INTERVAL),
        }
        schema = vol.Schema(
            {
                vol.Required(OPT_TRENDING_MAKERWORLD): BooleanSelector(),
                vol.Required(OPT_TRENDING_PRINTABLES): BooleanSelector(),
                vol.Required(OPT_TRENDING_ITEMS): _number(1, MAX_TRENDING_ITEMS, 1, "items"),
                vol.Required(OPT_TRENDING_INTERVAL): _number(MIN_TRENDING_INTERVAL, 168, 1, "h"),
            }
        )
        return self.async_show_form(
            step_id="trending",
            data_schema=self.add_suggested_values_to_schema(schema, current),
        )
