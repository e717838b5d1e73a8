"""Normalized printer state and the client protocol every printer family implements.

No Home Assistant import here: this is the protocol layer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, Protocol, runtime_checkable


class PrinterStatus(StrEnum):
    """The fixed set of normalized printer statuses."""

    OFFLINE = "offline"
    IDLE = "idle"
    PREPARING = "preparing"
    PRINTING = "printing"
    PAUSED = "paused"
    FINISHED = "finished"
    #: The last print was cancelled by the user (while the printer still
    #: reports that print, like ``finished`` after a completed one).
    CANCELLED = "cancelled"
    FAILED = "failed"
    ERROR = "error"


#: Statuses in which a print job is under way.
ACTIVE_STATUSES = frozenset({PrinterStatus.PREPARING, PrinterStatus.PRINTING, PrinterStatus.PAUSED})

PrinterFamily = Literal["bambu_lab", "prusa"]


@dataclass(slots=True, kw_only=True)
class PrinterState:
    """A printer's state, normalized across families.

    Equality is value equality, so an unchanged state compares equal and the
    coordinator (``always_update=False``) writes nothing.

    A state is never changed after it was handed out: make a new one (or use
    ``dataclasses.replace``). It is not ``frozen`` only because frozen
    dataclasses are about four times slower to build, and one is built for
    every printer report (see BENCHMARKS.md).
    """

    status: PrinterStatus
    nozzle_temp: float | None = None
    nozzle_target: float | None = None
    bed_temp: float | None = None
    bed_target: float | None = None
    #: ``None`` where the printer does not report a chamber temperature.
    chamber_temp: float | None = None
    #: 0-100, whole percent.
    progress: int = 0
    #: Name of the current (or last) job's file, as the printer shows it.
    job_name: str | None = None
    #: The printer's own identifier of the current job, where it has one
    #: (PrusaLink job id, Bambu task id). Used to tell jobs apart.
    printer_job_id: str | None = None
    remaining_seconds: int | None = None
    layer: int | None = None
    total_layers: int | None = None
    #: Last error reported by the printer (text or code), ``None`` when none.
    error: str | None = None
    #: True when a failed/ended job was cancelled by the user (Bambu
    #: print_error 50348044, PrusaLink STOPPED).
    cancelled: bool = False
    #: Family-specific extras (print stage, HMS codes, AMS tray, speed, flow,
    #: fans, nozzle diameter, ...). Keys are documented by each family.
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_active(self) -> bool:
        """Return True while a job is preparing, printing or paused."""
        return self.status in ACTIVE_STATUSES


OFFLINE_STATE = PrinterState(status=PrinterStatus.OFFLINE)


@dataclass(frozen=True, slots=True)
class PrinterInfo:
    """Static facts about a printer, known after connecting."""

    #: ``None`` when the printer does not tell (some PrusaLink firmware).
    serial: str | None
    model: str | None = None
    name: str | None = None
    firmware: str | None = None
    manufacturer: str | None = None
    #: The printer's network host name, where it tells.
    hostname: str | None = None


class ConnectionPhase(StrEnum):
    """Connection progress as reported by clients (the contract's values)."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    MONITORING = "monitoring"
    #: transient failure, a retry follows
    FAILED = "failed"
    #: unrecoverable (wrong credentials): no retry, a reauth is needed
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class ConnectionUpdate:
    """A change in a client's connection, pushed to the core."""

    phase: ConnectionPhase
    message: str | None = None


# --- errors -----------------------------------------------------------------


class PrinterError(Exception):
    """Base class of all client errors."""


class PrinterConnectionError(PrinterError):
    """The printer could not be reached (transient)."""


class PrinterAuthError(PrinterError):
    """The printer refused the credentials (needs the user)."""


class PrinterIdentityError(PrinterError):
    """The printer is not the one configured (wrong serial, wrong certificate)."""


class PrinterCertificateError(PrinterIdentityError):
    """The printer's TLS certificate is not issued by the trusted CA (cannot be verified)."""


class PrinterTlsError(PrinterConnectionError):
    """The TLS handshake failed for another reason than the certificate (transient)."""


class PrinterNotSupportedError(PrinterError):
    """The printer's firmware or API version is not supported."""


class CommandError(PrinterError):
    """A command failed."""


class CommandNotAllowedError(CommandError):
    """The printer's current state does not allow the command."""


class CommandTimeoutError(CommandError):
    """The printer did not confirm the command in time."""


# --- the client protocol ----------------------------------------------------

StateListener = Callable[[PrinterState], None]
ConnectionListener = Callable[[ConnectionUpdate], None]


@runtime_checkable
class PrinterClient(Protocol):
    """What the core needs from a printer family's client.

    Push clients (``push = True``, e.g. Bambu MQTT) call the state listener
    from the event loop whenever the normalized state changes and the
    connection listener on every connection change; ``async_poll`` returns the
    last known state. Poll clients (``push = False``, e.g. PrusaLink) fetch a
    fresh state in ``async_poll`` and raise :class:`PrinterConnectionError` /
    :class:`PrinterAuthError` when that fails; ``poll_interval`` tells the
    coordinator how soon to poll next.

    All listener calls happen on the event loop thread.
    """

    family: PrinterFamily
    push: bool

    @property
    def info(self) -> PrinterInfo | None:
        """Static printer facts, once connected."""

    @property
    def poll_interval(self) -> float | None:
        """Seconds until the next poll (poll clients); None for push clients."""

    def set_listeners(
        self,
        on_state: StateListener | None,
        on_connection: ConnectionListener | None,
    ) -> None:
        """Register the core's callbacks (called on the event loop)."""

    async def async_connect(self) -> None:
        """Connect once; raise PrinterConnectionError/PrinterAuthError/PrinterIdentityError.

        Push clients keep the connection and reconnect on their own after this
        returned successfully, until ``async_disconnect``.
        """

    async def async_disconnect(self) -> None:
        """Disconnect and stop every thread, task and timer the client started."""

    async def async_poll(self) -> PrinterState:
        """Return the current state (fetch it, for poll clients)."""

    async def async_pause(self) -> None:
        """Pause; return once the printer confirmed, raise CommandError otherwise."""

    async def async_resume(self) -> None:
        """Resume; return once the printer confirmed, raise CommandError otherwise."""

    async def async_stop(self) -> None:
        """Stop (cancel); return once the printer confirmed, raise CommandError otherwise."""

    def diagnostics(self) -> dict[str, Any]:
        """Client-specific diagnostics, secrets already removed."""


# --- the optional file capability ---------------------------------------------
#
# A client that can list and transfer the files on its printer also implements
# PrinterFileClient; the core checks ``isinstance(client, PrinterFileClient)``.
# A client without it simply has no files: nothing is faked.


class FileError(PrinterError):
    """A file operation failed (base class; the message is safe to show)."""


class RemoteFileNotFoundError(FileError):
    """The printer has no such file (FTP 550 on a missing path, HTTP 404)."""


class FileAccessDeniedError(FileError):
    """The printer lists the file but refuses to hand it over (FTP 550 on RETR, HTTP 403)."""


class FileTransferError(FileError):
    """The transfer broke off (522 session reuse refused, reset, short read, timeout)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteFile:
    """One file on a printer, as its listing reports it.

    ``path`` is absolute on the printer, ``/``-separated, and exactly what the
    client's other file methods accept (``/cache/benchy.3mf``,
    ``/usb/BENCHY~1.BGC``). ``name`` is the name to show and to save under (the
    long name where the printer has one). Everything here is untrusted input.
    """

    path: str
    name: str
    size: int | None
    #: Modification time, timezone-aware UTC, None when the printer gives none.
    modified: datetime | None
    #: Where it lies: "sdcard", "internal", "usb", "local", ... (family-defined).
    storage: str
    #: "print" (a print file), "timelapse", "model", "other".
    kind: str = "print"
    #: Slicer estimates the printer reports for the file (PrusaLink ``meta``), raw.
    meta: Mapping[str, Any] | None = None
    #: Printer-side path of a thumbnail image (PrusaLink ``refs.thumbnail``).
    thumbnail_path: str | None = None


@runtime_checkable
class PrinterFileClient(Protocol):
    """Files on a printer: list, stat, stream a download, delete.

    Every method runs on the event loop and never blocks it. Errors are
    :class:`FileError` subclasses, or :class:`PrinterConnectionError` /
    :class:`PrinterAuthError` when the printer cannot be reached or refuses the
    credentials. Implementations allow one file session per printer at a time.
    """

    async def async_list_files(self) -> list[RemoteFile]:
        """Return every file in the printer's known folders (recursive; no folders)."""

    async def async_stat(self, path: str) -> RemoteFile:
        """Return one file's listing entry; RemoteFileNotFoundError when absent."""

    def async_open(self, path: str) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
        """Stream a file's bytes: ``async with c.async_open(p) as chunks``, then ``async for``.

        Leaving the block early (an exception, cancellation) aborts the transfer
        and closes its connection.
        """

    async def async_delete(self, path: str) -> None:
        """Delete a file on the printer."""

    async def async_job_file(self, state: PrinterState) -> RemoteFile | None:
        """Return the file of the job in ``state``, or None when it cannot be found (yet)."""


@runtime_checkable
class PrinterThumbnailClient(Protocol):
    """Optional, next to :class:`PrinterFileClient`: thumbnails the printer renders itself.

    PrusaLink serves one per print file (``RemoteFile.thumbnail_path``, from
    ``refs.thumbnail``); Bambu Lab printers do not (their thumbnails are
    inside the 3MF).
    """

    async def async_read_thumbnail(self, file: RemoteFile) -> bytes | None:
        """Return the image bytes (PNG/JPEG, size-limited) or None when there is none."""


@runtime_checkable
class PrinterJobPlateClient(Protocol):
    """Optional: the plate of a multi-plate project (3MF) the running job prints.

    Bambu Lab reports it in the job's ``gcode_file`` (``/data/Metadata/plate_2.gcode``
    on an X1 LAN print, ``..._plate_2.gcode`` for a cloud print); the file
    processor reads that plate's metadata.
    """

    def job_plate(self) -> int | None:
        """Return the running job's plate index (1-based), None when not known."""


@runtime_checkable
class PrinterTrayMappingClient(Protocol):
    """Optional: which tray feeds each of the running job's filaments.

    Bambu Lab: the printer's own ``mapping`` (X1, P2S reports), else the
    ``project_file`` request that started the print from a slicer (the printer
    echoes it on the report topic with its ``ams_mapping``). The materials
    deduct a 3MF's per-filament grams from the trays it names.
    """

    def job_tray_mapping(self) -> tuple[int, ...] | None:
        """Return the running job's mapping, None when not known.

        Index: the slicer's filament number minus one; value: the tray in the
        ``ams_active_tray`` numbering, -1 where no tray feeds that filament.
        """


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types (named tuples as objects, tuples as lists)."""
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return {key: jsonable(item) for key, item in value._asdict().items()}
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value


def state_as_dict(state: PrinterState) -> dict[str, Any]:
    """A state as plain JSON (diagnostics): extras such as the AMS report included."""
    result: dict[str, Any] = jsonable(asdict(state))
    return result
