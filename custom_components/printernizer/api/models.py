"""Normalized printer state and the client protocol every printer family implements.

No Home Assistant import here: this is the protocol layer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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
