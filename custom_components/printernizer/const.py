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

#: Contract events this version does not fire yet (files, library, materials,
#: trending): defined and validated, but no feature produces them. Device
#: triggers leave them out; README's event table says "not yet".
EVENTS_NOT_FIRED_YET: Final = frozenset(
    {
        "files_discovered",
        "file_sync_complete",
        "new_files_found",
        "file_download_started",
        "file_download_complete",
        "file_download_failed",
        "file_needs_thumbnail_processing",
        "file_thumbnails_processed",
        "thumbnail_processing_failed",
        "file_metadata_extracted",
        "metadata_extraction_failed",
        "file_deleted",
        "thumbnail_cached",
        "file_watcher",
        "library_file_added",
        "library_file_deleted",
        "material_created",
        "material_updated",
        "material_deleted",
        "material_low_stock",
        "trending_updated",
        "idea_created_from_trending",
        "auto_download_triggered",
        "auto_download_failed",
    }
)
