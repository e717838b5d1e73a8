"""Runtime data: what the integration keeps while it runs."""

from __future__ import annotations

from dataclasses import dataclass, field

from homeassistant.config_entries import ConfigEntry
from homeassistant.util.hass_dict import HassKey

from .api.bambu.discovery import BambuDiscoveryListener
from .const import DOMAIN
from .core.autodownload import AutoDownloadState
from .core.background import BackgroundMonitor
from .core.coordinator import PrinterCoordinator
from .core.file_service import FileService
from .core.files import FileDiscovery, FileIndex
from .core.ideas import IdeaManager
from .core.jobs import JobManager
from .core.library import Library
from .core.materials import MaterialManager
from .core.monitor import PrinterMonitor
from .core.processing import FileProcessor
from .core.settings import LibrarySettings
from .core.trending import TrendingManager
from .core.watch import WatchFolders
from .emitter import EventEmitter

type PrinternizerConfigEntry = ConfigEntry[PrinterCoordinator]


@dataclass(slots=True)
class LibraryRuntime:
    """What the library entry runs (one per Home Assistant instance).

    Each area (files, processing, materials, trending, ideas) adds its object
    here; :mod:`.library_entry` creates and stops them.
    """

    settings: LibrarySettings
    #: Device registry id of the library's service device.
    device_id: str | None = None
    #: Trending models of the enabled sites (see core/trending.py).
    trending: TrendingManager | None = None
    #: Print ideas (the "Print ideas" to-do list).
    ideas: IdeaManager | None = None
    #: Filament spools (issue 12).
    materials: MaterialManager | None = None
    # --- files (issue 10) ---
    #: The checksum-keyed library (core/library.py).
    library: Library | None = None
    #: Discovery schedule, downloads, auto-download (core/file_service.py).
    files: FileService | None = None
    # --- processing (issue 11) ---
    #: Metadata and previews of the library's print files (core/processing.py).
    processor: FileProcessor | None = None
    #: The watch folders' observer and rescans (core/watch.py).
    watch: WatchFolders | None = None


type LibraryConfigEntry = ConfigEntry[LibraryRuntime]


@dataclass(slots=True)
class PrinternizerData:
    """Integration-wide objects (one set per Home Assistant instance)."""

    emitter: EventEmitter
    jobs: JobManager
    background: BackgroundMonitor
    #: Every printer's file index (listing works without the library entry).
    file_index: FileIndex
    file_discovery: FileDiscovery
    #: Auto-download attempts per job (dropped with a removed printer).
    auto_downloads: AutoDownloadState
    #: printer_id -> coordinator of every loaded printer
    coordinators: dict[str, PrinterCoordinator] = field(default_factory=dict)
    #: Bambu Lab announcement listener (None when disabled)
    discovery: BambuDiscoveryListener | None = None
    #: The loaded library entry's objects (None while there is none)
    library: LibraryRuntime | None = None
    #: entry_id -> monitor of an unloaded entry whose stop events wait for
    #: what follows the unload: a set-up (reload) or a removal.
    stopping: dict[str, PrinterMonitor] = field(default_factory=dict)


DATA_KEY: HassKey[PrinternizerData] = HassKey(DOMAIN)
