"""An in-process fake PrinterClient for the printer-agnostic core's tests.

The protocol-level simulators (simulator/) test the real clients; this fake
lets the core's tests script connection and state changes exactly.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from custom_components.printernizer.api.models import (
    CommandError,
    ConnectionPhase,
    ConnectionUpdate,
    PrinterConnectionError,
    PrinterError,
    PrinterInfo,
    PrinterState,
    PrinterStatus,
)

IDLE = PrinterState(
    status=PrinterStatus.IDLE,
    nozzle_temp=25.0,
    nozzle_target=0.0,
    bed_temp=24.0,
    bed_target=0.0,
    chamber_temp=22.0,
    layer=0,
    total_layers=0,
)


class FakeClient:
    """Scriptable PrinterClient (push or poll)."""

    def __init__(
        self,
        *,
        family: str = "bambu_lab",
        push: bool = True,
        serial: str = "FAKE0001",
        state: PrinterState = IDLE,
    ) -> None:
        self.family = family
        self.push = push
        self._info = PrinterInfo(
            serial=serial,
            model="Fake X1",
            name="Fake printer",
            firmware="1.2.3",
            manufacturer="Fake Labs",
        )
        self.state = state
        self.connect_error: PrinterError | None = None
        self.poll_error: PrinterError | None = None
        self.command_error: CommandError | None = None
        self.commands: list[str] = []
        self.connected = False
        self.polls = 0
        self.interval: float | None = None if push else 5.0
        self._on_state: Any = None
        self._on_connection: Any = None

    @property
    def info(self) -> PrinterInfo:
        return self._info

    @property
    def poll_interval(self) -> float | None:
        return self.interval

    def set_listeners(self, on_state: Any, on_connection: Any) -> None:
        self._on_state = on_state
        self._on_connection = on_connection

    async def async_connect(self) -> None:
        if self.connect_error is not None:
            raise self.connect_error
        self.connected = True
        if self.push and self._on_connection:
            self._on_connection(ConnectionUpdate(ConnectionPhase.CONNECTED))

    async def async_disconnect(self) -> None:
        self.connected = False

    async def async_poll(self) -> PrinterState:
        self.polls += 1
        if self.poll_error is not None:
            raise self.poll_error
        return self.state

    async def _command(self, name: str, status: PrinterStatus | None) -> None:
        if self.command_error is not None:
            raise self.command_error
        self.commands.append(name)
        if status is not None:
            self.set_state(replace(self.state, status=status))

    async def async_pause(self) -> None:
        await self._command("pause", PrinterStatus.PAUSED)

    async def async_resume(self) -> None:
        await self._command("resume", PrinterStatus.PRINTING)

    async def async_stop(self) -> None:
        await self._command("stop", None)

    def diagnostics(self) -> dict[str, Any]:
        return {"fake": True, "access_code": "must-be-redacted"}

    # --- scripting helpers -------------------------------------------------

    def set_state(self, state: PrinterState) -> None:
        """The printer's state changes (pushed at once for push clients)."""
        self.state = state
        if self.push and self._on_state:
            self._on_state(state)

    def update(self, **changes: Any) -> None:
        self.set_state(replace(self.state, **changes))

    def connection(self, phase: ConnectionPhase, message: str | None = None) -> None:
        assert self._on_connection is not None
        self._on_connection(ConnectionUpdate(phase, message))

    def go_away(self) -> None:
        """Poll clients: the printer stops answering."""
        self.poll_error = PrinterConnectionError("timed out")
