"""An in-process fake PrinterClient for the printer-agnostic core's tests.

The protocol-level simulators (simulator/) test the real clients; this fake
lets the core's tests script connection and state changes exactly.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from custom_components.printernizer.api.models import (
    CommandError,
    ConnectionPhase,
    ConnectionUpdate,
    FileTransferError,
    PrinterConnectionError,
    PrinterError,
    PrinterInfo,
    PrinterState,
    PrinterStatus,
    RemoteFile,
    RemoteFileNotFoundError,
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


class FakeFileClient(FakeClient):
    """A FakeClient with the file capability (PrinterFileClient) over an in-memory dict.

    ``files`` maps a printer path to its bytes; failures are injectable:
    ``list_error`` (listing), ``open_error`` (refused at RETR), ``break_after``
    (the stream breaks with ``stream_error`` after that many bytes),
    ``size_override`` (the listing lies about a size), ``hold`` (an event the
    stream waits on after its first chunk), ``job_path`` (what
    ``async_job_file`` answers; None: not there yet).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.files: dict[str, bytes] = {}
        self.kinds: dict[str, str] = {}
        self.list_error: PrinterError | None = None
        self.open_error: PrinterError | None = None
        self.stream_error: BaseException = FileTransferError("connection reset")
        self.break_after: int | None = None
        self.size_override: dict[str, int] = {}
        self.hold: asyncio.Event | None = None
        self.streaming = asyncio.Event()
        self.chunk_size = 4096
        self.job_path: str | None = None
        self.opened: list[str] = []
        self.deleted: list[str] = []
        self.closed_streams = 0

    def add(self, path: str, content: bytes, kind: str = "print") -> None:
        self.files[path] = content
        self.kinds[path] = kind

    def _remote(self, path: str) -> RemoteFile:
        content = self.files[path]
        return RemoteFile(
            path=path,
            name=path.rsplit("/", 1)[-1],
            size=self.size_override.get(path, len(content)),
            modified=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
            storage="sdcard",
            kind=self.kinds.get(path, "print"),
        )

    async def async_list_files(self) -> list[RemoteFile]:
        if self.list_error is not None:
            raise self.list_error
        return [self._remote(path) for path in sorted(self.files)]

    async def async_stat(self, path: str) -> RemoteFile:
        if path not in self.files:
            raise RemoteFileNotFoundError(f"550 {path}: no such file")
        return self._remote(path)

    @asynccontextmanager
    async def async_open(self, path: str) -> AsyncIterator[AsyncIterator[bytes]]:
        if path not in self.files:
            raise RemoteFileNotFoundError(f"550 {path}: no such file")
        if self.open_error is not None:
            raise self.open_error
        self.opened.append(path)
        try:
            yield self._chunks(self.files[path])
        finally:
            self.closed_streams += 1

    async def _chunks(self, content: bytes) -> AsyncIterator[bytes]:
        sent = 0
        for start in range(0, len(content), self.chunk_size):
            if self.break_after is not None and sent >= self.break_after:
                raise self.stream_error
            chunk = content[start : start + self.chunk_size]
            sent += len(chunk)
            yield chunk
            self.streaming.set()
            if self.hold is not None:
                await self.hold.wait()
            await asyncio.sleep(0)

    async def async_delete(self, path: str) -> None:
        if path not in self.files:
            raise RemoteFileNotFoundError(f"550 {path}: no such file")
        del self.files[path]
        self.deleted.append(path)

    async def async_job_file(self, state: PrinterState) -> RemoteFile | None:
        if self.job_path is None or self.job_path not in self.files:
            return None
        return self._remote(self.job_path)
