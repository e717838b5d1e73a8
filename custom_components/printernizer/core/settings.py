"""The integration-wide settings, read from the library entry's options.

One frozen object per load of the library entry: an options change reloads the
entry, so every part sees one consistent set. Defaults live in const.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..const import (
    CACHE_SUBDIR,
    CONF_MAKERWORLD_URL,
    CONF_PRINTABLES_MEDIA_URL,
    CONF_PRINTABLES_URL,
    DEFAULT_AUTO_DOWNLOAD,
    DEFAULT_AUTO_DOWNLOAD_MAX_MB,
    DEFAULT_DISCOVERY_INTERVAL,
    DEFAULT_LIBRARY_QUOTA_GB,
    DEFAULT_LIBRARY_SUBDIR,
    DEFAULT_LOW_STOCK_THRESHOLD,
    DEFAULT_TRENDING_INTERVAL,
    DEFAULT_TRENDING_ITEMS,
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


def default_library_folder(config_dir: str) -> Path:
    """``<config>/printernizer/library``."""
    return Path(config_dir) / DEFAULT_LIBRARY_SUBDIR


@dataclass(frozen=True, slots=True, kw_only=True)
class LibrarySettings:
    """What the user chose in the library entry's options."""

    library_folder: Path
    cache_folder: Path
    library_quota_bytes: int
    #: Seconds between file discoveries on every printer.
    discovery_interval: float
    auto_download: bool
    auto_download_max_bytes: int
    watch_folders: tuple[Path, ...] = ()
    #: Percent of a spool's weight under which it is low on stock.
    low_stock_threshold: float = DEFAULT_LOW_STOCK_THRESHOLD
    trending_makerworld: bool = False
    trending_printables: bool = False
    trending_items: int = DEFAULT_TRENDING_ITEMS
    #: Seconds between trending refreshes.
    trending_interval: float = DEFAULT_TRENDING_INTERVAL * 3600.0
    #: Base URLs of the trending sites (None: the real sites).
    trending_urls: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_entry(
        cls, config_dir: str, data: Mapping[str, Any], options: Mapping[str, Any]
    ) -> LibrarySettings:
        """Build the settings from a library entry's data and options (defaults filled in)."""
        folder = options.get(OPT_LIBRARY_FOLDER)
        return cls(
            library_folder=Path(folder) if folder else default_library_folder(config_dir),
            cache_folder=Path(config_dir) / CACHE_SUBDIR,
            library_quota_bytes=int(
                float(options.get(OPT_LIBRARY_QUOTA_GB, DEFAULT_LIBRARY_QUOTA_GB)) * 1024**3
            ),
            discovery_interval=60.0
            * max(
                MIN_DISCOVERY_INTERVAL,
                int(options.get(OPT_DISCOVERY_INTERVAL, DEFAULT_DISCOVERY_INTERVAL)),
            ),
            auto_download=bool(options.get(OPT_AUTO_DOWNLOAD, DEFAULT_AUTO_DOWNLOAD)),
            auto_download_max_bytes=int(
                options.get(OPT_AUTO_DOWNLOAD_MAX_MB, DEFAULT_AUTO_DOWNLOAD_MAX_MB)
            )
            * 1024**2,
            watch_folders=tuple(Path(p) for p in options.get(OPT_WATCH_FOLDERS, ())),
            low_stock_threshold=float(
                options.get(OPT_LOW_STOCK_THRESHOLD, DEFAULT_LOW_STOCK_THRESHOLD)
            ),
            trending_makerworld=bool(options.get(OPT_TRENDING_MAKERWORLD, False)),
            trending_printables=bool(options.get(OPT_TRENDING_PRINTABLES, False)),
            trending_items=int(options.get(OPT_TRENDING_ITEMS, DEFAULT_TRENDING_ITEMS)),
            trending_interval=3600.0
            * max(
                MIN_TRENDING_INTERVAL,
                float(options.get(OPT_TRENDING_INTERVAL, DEFAULT_TRENDING_INTERVAL)),
            ),
            trending_urls={
                key: str(data[key])
                for key in (CONF_MAKERWORLD_URL, CONF_PRINTABLES_URL, CONF_PRINTABLES_MEDIA_URL)
                if data.get(key)
            },
        )

    def as_diagnostics(self) -> dict[str, Any]:
        """The settings for diagnostics (folders as given; no secrets here)."""
        return {
            "library_folder": str(self.library_folder),
            "cache_folder": str(self.cache_folder),
            "library_quota_bytes": self.library_quota_bytes,
            "discovery_interval": self.discovery_interval,
            "auto_download": self.auto_download,
            "auto_download_max_bytes": self.auto_download_max_bytes,
            "watch_folders": [str(p) for p in self.watch_folders],
            "low_stock_threshold": self.low_stock_threshold,
            "trending_makerworld": self.trending_makerworld,
            "trending_printables": self.trending_printables,
            "trending_items": self.trending_items,
            "trending_interval": self.trending_interval,
            "trending_simulated": bool(self.trending_urls),
        }
