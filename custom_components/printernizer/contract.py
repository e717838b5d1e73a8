"""The event contract: every Printernizer event, defined once.

Each event's payload is a ``TypedDict`` below; that is the single definition of
its keys, their types, which are optional and which values are allowed
(``Literal``). :data:`EVENTS` derives a runtime :class:`EventSpec` from those
types, which the emitter uses to validate payloads and the tests compare with
``tests/fixtures/events.json`` key for key and type for type.

On the Home Assistant bus an event is fired as ``printernizer_<name>``.
Payloads may carry extra keys (a superset); documented keys are never renamed,
dropped or retyped. No Home Assistant import here.
"""

import types
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import (
    Any,
    Literal,
    NewType,
    NotRequired,
    TypedDict,
    Union,
    get_args,
    get_origin,
    get_type_hints,
    is_typeddict,
)

BUS_PREFIX = "printernizer_"

#: A string holding an ISO 8601 timestamp with a UTC offset.
Iso8601 = NewType("Iso8601", str)


#: Values the contract fixes (named so code can type what it fires).
PrinterType = Literal["bambu_lab", "prusa"]
ConnectionStatus = Literal["connecting", "connected", "failed", "monitoring", "error"]
JobStatus = Literal["pending", "running", "paused", "completed", "failed", "cancelled"]
TerminalJobStatus = Literal["completed", "failed", "cancelled"]
OnlineStatus = Literal["online", "offline", "unknown"]


# --- payload types (one per event) -------------------------------------------


class PrinterConnected(TypedDict):
    """A printer successfully connects and becomes available (once per transition, never repeated
    while it stays connected)
    """

    printer_id: str
    name: str
    type: PrinterType
    timestamp: Iso8601


class PrinterDisconnected(TypedDict):
    """A printer disconnects or becomes unavailable (once per transition)"""

    printer_id: str
    name: str
    timestamp: Iso8601


class PrinterConnectionProgress(TypedDict):
    """Connection state changes during a connection attempt"""

    printer_id: str
    status: ConnectionStatus
    timestamp: Iso8601
    message: NotRequired[str | None]


class PrinterStatusUpdate(TypedDict):
    """Printer status changes, after processing a status update from the printer (typically every
    few seconds while printing)
    """

    printer_id: str
    status: str
    temperature: dict[str, Any]
    progress: int
    current_job: NotRequired[str | None]
    timestamp: Iso8601


class PrinterMonitoringStarted(TypedDict):
    """Monitoring begins for a specific printer"""

    printer_id: str
    timestamp: Iso8601


class PrinterMonitoringStopped(TypedDict):
    """Monitoring stops for a specific printer (entry unloaded, integration stopped)"""

    printer_id: str
    timestamp: Iso8601


class PrintPaused(TypedDict):
    """Print job successfully paused (only after the printer confirmed the command)"""

    printer_id: str
    timestamp: Iso8601


class PrintResumed(TypedDict):
    """Print job successfully resumed (only after the printer confirmed the command)"""

    printer_id: str
    timestamp: Iso8601


class PrintStopped(TypedDict):
    """Print job successfully stopped/cancelled (only after the printer confirmed the command)"""

    printer_id: str
    timestamp: Iso8601


class FilesDiscoveredPerPrinter(TypedDict):
    """files_discovered (per_printer variant): File discovery completes on printer(s) or local
    folders
    """

    printer_id: str
    files: list[dict[str, Any]]
    total_found: int
    new_files: int
    existing_files: int
    timestamp: Iso8601


class FilesDiscoveredBackground(TypedDict):
    """files_discovered (background variant): File discovery completes on printer(s) or local
    folders
    """

    timestamp: Iso8601
    new_files: list[dict[str, Any]]
    discovery_results: dict[str, Any]
    total_new_files: int


FilesDiscovered = FilesDiscoveredPerPrinter | FilesDiscoveredBackground


class FileSyncComplete(TypedDict):
    """File synchronization completes for a printer, including cleanup of removed files"""

    printer_id: str
    files_added: int
    files_removed: int
    total_files: int
    timestamp: Iso8601


class NewFilesFound(TypedDict):
    """New files are discovered during a background scan (subset of files_discovered); not fired
    when count would be 0
    """

    timestamp: Iso8601
    files: list[dict[str, Any]]
    count: int


class FileDownloadStarted(TypedDict):
    """File download from a printer begins"""

    printer_id: str
    filename: str
    file_size: NotRequired[int | None]
    timestamp: Iso8601


class FileDownloadComplete(TypedDict):
    """File download successfully completes (file is complete on disk, checksum known)"""

    printer_id: str
    filename: str
    file_id: str
    file_path: str
    file_size: int
    download_time: int | float
    timestamp: Iso8601


class FileDownloadFailed(TypedDict):
    """File download fails (no partial file is left behind)"""

    printer_id: str
    filename: str
    error: str
    timestamp: Iso8601


class FileNeedsThumbnailProcessing(TypedDict):
    """A download completed and the file needs thumbnail extraction. A command event: the thumbnail
    processor subscribes to it on the bus.
    """

    file_id: str
    file_path: str


class FileThumbnailsProcessed(TypedDict):
    """Thumbnail extraction completes successfully"""

    file_id: str
    file_path: str
    thumbnails: dict[str, Any]
    timestamp: Iso8601


class ThumbnailProcessingFailed(TypedDict):
    """Thumbnail extraction fails (corrupt file, no embedded image, unsupported format)"""

    file_id: str
    error: str
    timestamp: Iso8601


class FileMetadataExtracted(TypedDict):
    """Metadata extraction completes successfully"""

    file_id: str
    file_path: str
    metadata: dict[str, Any]
    timestamp: Iso8601


class MetadataExtractionFailed(TypedDict):
    """Metadata extraction fails"""

    file_id: str
    error: str
    timestamp: Iso8601


class FileDeleted(TypedDict):
    """File is successfully deleted from the system"""

    file_id: str
    filename: str
    printer_id: NotRequired[str | None]
    timestamp: Iso8601


class ThumbnailCached(TypedDict):
    """An external thumbnail (e.g. of a trending model) is downloaded and cached"""

    url: str
    cache_path: str
    source_type: Literal["makerworld", "printables"]


class FileWatcher(TypedDict):
    """A file system change is detected in a watched folder (triggers a re-scan)"""

    event_type: Literal["created", "modified", "deleted", "moved"]
    path: str
    is_directory: bool
    timestamp: Iso8601


class JobCreated(TypedDict):
    """A new print job is created in the job store"""

    job_id: str
    printer_id: str
    job_name: str
    timestamp: Iso8601


class JobStarted(TypedDict):
    """A job transitions to 'running'"""

    job_id: str
    printer_id: str
    job_name: str
    timestamp: Iso8601


class JobStatusChanged(TypedDict):
    """Job status is explicitly updated (action call or detected transition)"""

    job_id: str
    status: JobStatus
    timestamp: Iso8601


class JobProgressUpdated(TypedDict):
    """Job progress is updated"""

    job_id: str
    progress: int
    timestamp: Iso8601


class JobCompleted(TypedDict):
    """A job transitions to a terminal status"""

    job_id: str
    printer_id: str
    job_name: str
    status: TerminalJobStatus
    timestamp: Iso8601


class JobDeleted(TypedDict):
    """A job is deleted from the job store"""

    job_id: str
    timestamp: Iso8601


class LibraryFileAdded(TypedDict):
    """A file is added to the user's library"""

    checksum: str
    filename: str
    file_size: int
    timestamp: Iso8601


class LibraryFileDeleted(TypedDict):
    """A file is removed from the user's library"""

    checksum: str
    filename: str
    timestamp: Iso8601


class MaterialCreated(TypedDict):
    """A new material/filament spool is added"""

    material: dict[str, Any]


class MaterialUpdated(TypedDict):
    """Material/spool information is updated"""

    material: dict[str, Any]


class MaterialDeleted(TypedDict):
    """A material/spool is deleted"""

    material_id: str


class MaterialLowStock(TypedDict):
    """Material remaining drops below 20% (fired on the crossing, not repeatedly while it stays
    low)
    """

    material_id: str
    remaining_percentage: int | float
    material_name: str
    timestamp: Iso8601


class TrendingUpdated(TypedDict):
    """Trending models are refreshed from external platforms"""

    platforms: list[str]
    timestamp: Iso8601


class IdeaCreatedFromTrending(TypedDict):
    """The user creates an idea from a trending model"""

    idea_id: str
    trending_id: str
    platform: str
    timestamp: Iso8601


class PrinterStatusPrintersItem(TypedDict):
    """One entry of printer_status.printers."""

    printer_id: str
    name: str
    type: str
    status: OnlineStatus
    temperature: dict[str, Any]
    progress: int
    current_job: NotRequired[str | None]
    last_seen: Iso8601


class PrinterStatusStatusChangesItem(TypedDict):
    """One entry of printer_status.status_changes."""

    printer_id: str
    old_status: str
    new_status: str
    timestamp: Iso8601


class PrinterStatus(TypedDict):
    """Background printer status check completes (every 30 seconds)"""

    timestamp: Iso8601
    printers: list[PrinterStatusPrintersItem]
    status_changes: list[PrinterStatusStatusChangesItem]


class JobUpdateJobUpdatesItem(TypedDict):
    """One entry of job_update.job_updates."""

    job_id: str
    printer_id: str
    job_name: str
    status: str
    progress: int
    timestamp: Iso8601
    old_status: NotRequired[str | None]
    new_status: NotRequired[str | None]
    old_progress: NotRequired[int | None]
    new_progress: NotRequired[int | None]


class JobUpdate(TypedDict):
    """Background job status check completes (every 10 seconds)"""

    timestamp: Iso8601
    active_jobs: int
    job_updates: list[JobUpdateJobUpdatesItem]


class AutoDownloadTriggered(TypedDict):
    """Auto-download of the current job's file starts (a print started and the file is not yet in
    the library)
    """

    printer_id: str
    filename: str
    timestamp: Iso8601


class AutoDownloadFailed(TypedDict):
    """Auto-download of the current job's file fails"""

    printer_id: str
    filename: str
    error: str
    timestamp: Iso8601


# --- runtime specification derived from the payload types --------------------


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One documented payload key."""

    #: contract type: str, int, float, number, bool, dict, list[dict], list[str]
    #: or iso8601
    type: str
    optional: bool = False
    #: allowed values, where the contract fixes them
    values: tuple[str, ...] | None = None
    #: for list[dict] keys with documented entries: the entries' fields
    items: "Mapping[str, FieldSpec] | None" = None


@dataclass(frozen=True, slots=True)
class EventSpec:
    """A contract event: its name, category and payload variants."""

    name: str
    category: str
    payload_type: Any
    #: one mapping of fields per payload variant (most events have one)
    variants: tuple[Mapping[str, FieldSpec], ...]

    @property
    def event_type(self) -> str:
        """The event type fired on the Home Assistant bus."""
        return f"{BUS_PREFIX}{self.name}"

    @property
    def has_timestamp(self) -> bool:
        """Whether the contract gives this event a timestamp."""
        return any("timestamp" in v for v in self.variants)

    @property
    def fields(self) -> Mapping[str, FieldSpec]:
        """The fields of the first (or only) variant."""
        return self.variants[0]


def _contract_type(
    tp: Any,
) -> tuple[str, tuple[str, ...] | None, Mapping[str, FieldSpec] | None]:
    """Map a Python annotation onto (contract type, allowed values, item fields)."""
    if tp is Iso8601:
        return "iso8601", None, None
    origin = get_origin(tp)
    if origin is Literal:
        return "str", tuple(get_args(tp)), None
    if origin in (Union, types.UnionType):
        args = set(get_args(tp))
        if args == {int, float}:
            return "number", None, None
        raise TypeError(f"unsupported union {tp!r}")
    if origin is dict or tp is dict:
        return "dict", None, None
    if origin is list:
        (arg,) = get_args(tp)
        if is_typeddict(arg):
            return "list[dict]", None, _fields_of(arg)
        if get_origin(arg) is dict:
            return "list[dict]", None, None
        if arg is str:
            return "list[str]", None, None
    simple = {str: "str", int: "int", float: "float", bool: "bool"}
    if tp in simple:
        return simple[tp], None, None
    raise TypeError(f"unsupported annotation {tp!r}")


def _fields_of(td: Any) -> dict[str, FieldSpec]:
    hints = get_type_hints(td)
    fields: dict[str, FieldSpec] = {}
    for key, annotation in hints.items():
        optional = key in td.__optional_keys__
        tp = annotation
        if optional:
            # NotRequired[X | None]: strip the None
            args = [a for a in get_args(annotation) if a is not type(None)]
            tp = args[0] if len(args) == 1 else Union[tuple(args)]  # noqa: UP007
        ctype, values, items = _contract_type(tp)
        fields[key] = FieldSpec(ctype, optional, values, items)
    return fields


def _spec(name: str, category: str, payload_type: Any) -> EventSpec:
    if get_origin(payload_type) in (Union, types.UnionType):
        variants = tuple(_fields_of(v) for v in get_args(payload_type))
    else:
        variants = (_fields_of(payload_type),)
    return EventSpec(name, category, payload_type, variants)


EVENTS: dict[str, EventSpec] = {
    spec.name: spec
    for spec in (
        _spec(*row)
        for row in (
            ("printer_connected", "printer_connection", PrinterConnected),
            ("printer_disconnected", "printer_connection", PrinterDisconnected),
            ("printer_connection_progress", "printer_connection", PrinterConnectionProgress),
            ("printer_status_update", "printer_monitoring", PrinterStatusUpdate),
            ("printer_monitoring_started", "printer_monitoring", PrinterMonitoringStarted),
            ("printer_monitoring_stopped", "printer_monitoring", PrinterMonitoringStopped),
            ("print_paused", "printer_control", PrintPaused),
            ("print_resumed", "printer_control", PrintResumed),
            ("print_stopped", "printer_control", PrintStopped),
            ("files_discovered", "file_discovery", FilesDiscovered),
            ("file_sync_complete", "file_discovery", FileSyncComplete),
            ("new_files_found", "file_discovery", NewFilesFound),
            ("file_download_started", "file_download", FileDownloadStarted),
            ("file_download_complete", "file_download", FileDownloadComplete),
            ("file_download_failed", "file_download", FileDownloadFailed),
            ("file_needs_thumbnail_processing", "file_processing", FileNeedsThumbnailProcessing),
            ("file_thumbnails_processed", "file_processing", FileThumbnailsProcessed),
            ("thumbnail_processing_failed", "file_processing", ThumbnailProcessingFailed),
            ("file_metadata_extracted", "file_processing", FileMetadataExtracted),
            ("metadata_extraction_failed", "file_processing", MetadataExtractionFailed),
            ("file_deleted", "file_processing", FileDeleted),
            ("thumbnail_cached", "file_processing", ThumbnailCached),
            ("file_watcher", "file_processing", FileWatcher),
            ("job_created", "job_lifecycle", JobCreated),
            ("job_started", "job_lifecycle", JobStarted),
            ("job_status_changed", "job_lifecycle", JobStatusChanged),
            ("job_progress_updated", "job_lifecycle", JobProgressUpdated),
            ("job_completed", "job_lifecycle", JobCompleted),
            ("job_deleted", "job_lifecycle", JobDeleted),
            ("library_file_added", "library", LibraryFileAdded),
            ("library_file_deleted", "library", LibraryFileDeleted),
            ("material_created", "material", MaterialCreated),
            ("material_updated", "material", MaterialUpdated),
            ("material_deleted", "material", MaterialDeleted),
            ("material_low_stock", "material", MaterialLowStock),
            ("trending_updated", "trending", TrendingUpdated),
            ("idea_created_from_trending", "trending", IdeaCreatedFromTrending),
            ("printer_status", "background_monitoring", PrinterStatus),
            ("job_update", "background_monitoring", JobUpdate),
            ("auto_download_triggered", "file_download", AutoDownloadTriggered),
            ("auto_download_failed", "file_download", AutoDownloadFailed),
        )
    )
}

#: The name of every contract event (the bus type without ``printernizer_``).
EventName = Literal[
    "printer_connected",
    "printer_disconnected",
    "printer_connection_progress",
    "printer_status_update",
    "printer_monitoring_started",
    "printer_monitoring_stopped",
    "print_paused",
    "print_resumed",
    "print_stopped",
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
    "job_created",
    "job_started",
    "job_status_changed",
    "job_progress_updated",
    "job_completed",
    "job_deleted",
    "library_file_added",
    "library_file_deleted",
    "material_created",
    "material_updated",
    "material_deleted",
    "material_low_stock",
    "trending_updated",
    "idea_created_from_trending",
    "printer_status",
    "job_update",
    "auto_download_triggered",
    "auto_download_failed",
]


#: Job events whose documented payload has no ``printer_id``; Printernizer adds
#: it (an allowed extra key) whenever the job belongs to a printer.
JOB_EVENTS_WITH_PRINTER_ID: tuple[str, ...] = (
    "job_status_changed",
    "job_progress_updated",
    "job_deleted",
)

#: Events that concern one printer (they carry ``printer_id``): the device
#: triggers offer these.
PRINTER_EVENTS: tuple[str, ...] = tuple(
    name
    for name, spec in EVENTS.items()
    if "printer_id" in spec.variants[0] or name in JOB_EVENTS_WITH_PRINTER_ID
)


#: Documented extra keys Printernizer adds to some payloads (a superset is
#: allowed): ``reason`` tells a lost connection from a reload, Home Assistant
#: stopping or a removed entry, and a job that ended ``failed`` because the
#: printer came back without its print. Where present, each must hold one of
#: these values; any other extra key is left alone.
STOP_REASONS: tuple[str, ...] = ("lost", "reload", "shutdown", "removed")
EXTRA_KEYS: dict[str, dict[str, tuple[str, ...]]] = {
    "printer_disconnected": {"reason": STOP_REASONS},
    "printer_monitoring_stopped": {"reason": STOP_REASONS},
    "job_completed": {"reason": ("interrupted",)},
}


# --- validation ----------------------------------------------------------------


def _type_ok(ctype: str, value: Any) -> bool:
    match ctype:
        case "str":
            return isinstance(value, str)
        case "int":
            return isinstance(value, int) and not isinstance(value, bool)
        case "float" | "number":
            return isinstance(value, int | float) and not isinstance(value, bool)
        case "bool":
            return isinstance(value, bool)
        case "dict":
            return isinstance(value, dict)
        case "list[dict]":
            return isinstance(value, list) and all(isinstance(v, dict) for v in value)
        case "list[str]":
            return isinstance(value, list) and all(isinstance(v, str) for v in value)
    # iso8601, the one type left: an ISO 8601 string with a time zone
    if not isinstance(value, str):
        return False
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def _check_fields(
    fields: Mapping[str, FieldSpec], payload: Mapping[str, Any], path: str
) -> list[str]:
    problems: list[str] = []
    for key, spec in fields.items():
        if key not in payload or payload[key] is None:
            if not spec.optional:
                problems.append(f"{path}{key}: missing")
            continue
        value = payload[key]
        if not _type_ok(spec.type, value):
            problems.append(f"{path}{key}: expected {spec.type}, got {type(value).__name__}")
            continue
        if spec.values is not None and value not in spec.values:
            problems.append(f"{path}{key}: {value!r} not in {list(spec.values)}")
        if spec.items is not None:
            for i, item in enumerate(value):
                problems += _check_fields(spec.items, item, f"{path}{key}[{i}].")
    return problems


def validate(name: str, payload: Mapping[str, Any]) -> list[str]:
    """Return the contract violations of ``payload`` for event ``name`` (empty if valid).

    For events with several payload variants the payload must match one.
    """
    spec = EVENTS.get(name)
    if spec is None:
        return [f"unknown event {name!r}"]
    if not isinstance(payload, Mapping):
        return ["payload is not a mapping"]
    extras = [
        f"{key}: {payload[key]!r} not in {list(allowed)}"
        for key, allowed in EXTRA_KEYS.get(name, {}).items()
        if key in payload and payload[key] not in allowed
    ]
    if extras:
        return extras
    best: list[str] | None = None
    for fields in spec.variants:
        problems = _check_fields(fields, payload, "")
        if not problems:
            return []
        if best is None or len(problems) < len(best):
            best = problems
    return best or []
