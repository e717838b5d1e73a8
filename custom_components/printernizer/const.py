"""Constants of the Printernizer integration."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "printernizer"

CONF_FAMILY: Final = "family"
CONF_SERIAL: Final = "serial"
CONF_ACCESS_CODE: Final = "access_code"
CONF_INSECURE_TLS: Final = "insecure_tls"
#: Hidden entry key: trust this CA file instead of Bambu Lab's (simulator only).
CONF_CA_FILE: Final = "ca_file"
#: Hidden entry key: the Bambu printer's FTPS port (simulator only; real printers use 990).
CONF_FTPS_PORT: Final = "ftps_port"

FAMILY_BAMBU: Final = "bambu_lab"
FAMILY_PRUSA: Final = "prusa"

#: Background monitoring intervals (seconds), as the contract documents them.
PRINTER_STATUS_INTERVAL: Final = 30
JOB_UPDATE_INTERVAL: Final = 10
#: At most one printer_status_update per this many seconds when only
#: temperatures changed (a change of status, progress or job is never held back).
TEMPERATURE_EVENT_INTERVAL: Final = 5.0

ATTR_DEVICE_ID: Final = "device_id"
ATTR_JOB_ID: Final = "job_id"
ATTR_JOB_NAME: Final = "job_name"
ATTR_STATUS: Final = "status"
ATTR_PROGRESS: Final = "progress"

#: Contract events this version does not fire yet: defined and validated, but no
#: feature produces them. Device triggers leave them out; README's event table
#: says "not yet". Empty: every one of the 41 events is fired.
EVENTS_NOT_FIRED_YET: Final[frozenset[str]] = frozenset()

#: Dispatcher signal: a printer's coordinator is set up (argument: the coordinator).
SIGNAL_PRINTER_LOADED: Final = "printernizer_printer_loaded"

# --- the Printernizer library entry --------------------------------------------
#: Entry data key telling a library entry from a printer entry.
CONF_ENTRY_KIND: Final = "kind"
ENTRY_KIND_LIBRARY: Final = "library"
#: The library entry is a singleton: this is its fixed unique id.
LIBRARY_UNIQUE_ID: Final = "printernizer_library"
LIBRARY_TITLE: Final = "Printernizer library"
#: Device identifier of the library entry's Materials device.
MATERIALS_DEVICE_ID: Final = "printernizer_materials"

# Options of the library entry (integration-wide settings), by options step.
# files
OPT_LIBRARY_FOLDER: Final = "library_folder"
OPT_LIBRARY_QUOTA_GB: Final = "library_quota_gb"
OPT_DISCOVERY_INTERVAL: Final = "discovery_interval"  # minutes
OPT_AUTO_DOWNLOAD: Final = "auto_download"
OPT_AUTO_DOWNLOAD_MAX_MB: Final = "auto_download_max_mb"
# watch folders
OPT_WATCH_FOLDERS: Final = "watch_folders"
# materials
OPT_LOW_STOCK_THRESHOLD: Final = "low_stock_threshold"  # percent
# trending
OPT_TRENDING_MAKERWORLD: Final = "trending_makerworld"
OPT_TRENDING_PRINTABLES: Final = "trending_printables"
OPT_TRENDING_ITEMS: Final = "trending_items"
OPT_TRENDING_INTERVAL: Final = "trending_interval"  # hours

#: Library folder relative to Home Assistant's config folder (in backups).
DEFAULT_LIBRARY_SUBDIR: Final = "printernizer/library"
#: Caches (trending thumbnails, ...) relative to the config folder.
CACHE_SUBDIR: Final = "printernizer/cache"
DEFAULT_LIBRARY_QUOTA_GB: Final = 5.0
DEFAULT_DISCOVERY_INTERVAL: Final = 30
MIN_DISCOVERY_INTERVAL: Final = 5
DEFAULT_AUTO_DOWNLOAD: Final = True
DEFAULT_AUTO_DOWNLOAD_MAX_MB: Final = 500
DEFAULT_LOW_STOCK_THRESHOLD: Final = 20
DEFAULT_TRENDING_ITEMS: Final = 20
MAX_TRENDING_ITEMS: Final = 50
DEFAULT_TRENDING_INTERVAL: Final = 6
MIN_TRENDING_INTERVAL: Final = 1

#: Hidden library entry data: base URLs of the trending sites (simulator only).
CONF_MAKERWORLD_URL: Final = "makerworld_url"
CONF_PRINTABLES_URL: Final = "printables_url"
CONF_PRINTABLES_MEDIA_URL: Final = "printables_media_url"

# --- trending and ideas --------------------------------------------------------
#: Trending thumbnails, under the cache folder.
TRENDING_CACHE_SUBDIR: Final = "trending"
#: Ideas' own thumbnail copies (never expire), relative to the config folder.
IDEAS_SUBDIR: Final = "printernizer/ideas"
