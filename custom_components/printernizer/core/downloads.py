"""Downloads from printers into the library: streamed, hashed while written, atomic.

One transfer at a time per printer. The bytes stream into a hidden temporary
file in the target folder; batches of chunks are written and hashed (SHA-256)
in the executor while the next batch arrives, so the event loop never blocks
on the disk or the hash. At the end the size is compared with the listing,
the file is fsynced and renamed atomically into place by the library. On any
failure the temporary file is removed and ``file_download_failed`` carries a
clear error.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final
from uuid import uuid4

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant, callback

from ..api.models import (
    FileAccessDeniedError,
    FileError,
    FileTransferError,
    PrinterAuthError,
    PrinterConnectionError,
    PrinterError,
    PrinterFileClient,
    RemoteFile,
    RemoteFileNotFoundError,
)
from ..emitter import EventEmitter, timestamp
from .library import Library, LibraryError, LibraryFile, LibrarySource
from .paths import TEMP_PREFIX, UnsafePathError, confine, safe_name

_LOGGER = logging.getLogger(__name__)

#: Bytes collected before a batch goes to the executor.
WRITE_BATCH: Final = 1024 * 1024
#: A transfer that sends nothing for this long is abandoned.
STALL_TIMEOUT: Final = 60.0


class DownloadError(Exception):
    """A download failed; ``str(err)`` is the error reported in the event."""


@dataclass(slots=True, frozen=True)
class DownloadResult:
    """A finished download."""

    file: LibraryFile
    path: Path
    #: True when the content was new to the library.
    new: bool
    download_time: float


class _Writer:
    """A temporary file and its running hash; every method is blocking."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._hash = hashlib.sha256()
        self._handle: IO[bytes] | None = None
        self.size = 0

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self.path.open("xb")

    def write(self, data: bytes) -> None:
        assert self._handle is not None
        self._handle.write(data)
        self._hash.update(data)
        self.size += len(data)

    def finish(self) -> str:
        assert self._handle is not None
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        self._handle = None
        return self._hash.hexdigest()

    def abort(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                self._handle.close()
            self._handle = None
        with contextlib.suppress(OSError):
            self.path.unlink()


def describe_error(err: BaseException) -> str:
    """A clear English error for an event."""
    if isinstance(err, DownloadError):
        return str(err)
    if isinstance(err, FileAccessDeniedError):
        return f"the printer refuses to send this file: {err}"
    if isinstance(err, RemoteFileNotFoundError):
        return f"the file is not on the printer: {err}"
    if isinstance(err, PrinterAuthError):
        return f"the printer refused the credentials: {err}"
    if isinstance(err, FileTransferError):
        return f"the transfer broke off: {err}"
    if isinstance(err, PrinterConnectionError):
        return f"the printer cannot be reached: {err}"
    if isinstance(err, FileError | PrinterError):
        return f"download failed: {err}"
    if isinstance(err, TimeoutError):
        return f"the printer stopped sending for {STALL_TIMEOUT:.0f} seconds"
    if isinstance(err, OSError):
        if err.errno in (errno.ENOSPC, errno.EDQUOT):
            return "no space left on the library's disk"
        return f"cannot write the file: {err.strerror or err}"
    if isinstance(err, LibraryError | UnsafePathError):
        return str(err)
    return f"download failed: {err!r}"


class DownloadManager:
    """Downloads printer files into the library and fires the download events."""

    def __init__(self, hass: HomeAssistant, emitter: EventEmitter, library: Library) -> None:
        """Initialize the manager."""
        self._hass = hass
        self._emitter = emitter
        self._library = library
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[DownloadResult]] = set()
        self._stopping = False
        self._unsub_stop: Callable[[], None] | None = hass.bus.async_listen_once(
            EVENT_HOMEASSISTANT_STOP, self._on_stop
        )

    @callback
    def _on_stop(self, _event: Event) -> None:
        self._unsub_stop = None
        self._stopping = True
        self._cancel_all()

    @callback
    def _cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    async def async_stop(self) -> None:
        """Cancel running downloads (their temporary files are removed) and wait for them."""
        if self._unsub_stop is not None:
            self._unsub_stop()
            self._unsub_stop = None
        self._cancel_all()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def async_download(
        self,
        *,
        printer_id: str,
        printer_name: str,
        client: PrinterFileClient,
        remote: RemoteFile,
        auto: bool = False,
    ) -> DownloadResult:
        """Download ``remote`` into the library; raise :class:`DownloadError` on failure.

        Runs as its own task so Home Assistant stopping or the library unloading
        cancels it cleanly; the caller's cancellation cancels it too.
        """
        task: asyncio.Task[DownloadResult] = self._hass.async_create_task(
            self._download(printer_id, printer_name, client, remote, auto),
            f"printernizer download {printer_id}",
            eager_start=False,
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
            raise

    async def _download(
        self,
        printer_id: str,
        printer_name: str,
        client: PrinterFileClient,
        remote: RemoteFile,
        auto: bool,
    ) -> DownloadResult:
        filename = safe_name(remote.name or remote.path)
        lock = self._locks.setdefault(printer_id, asyncio.Lock())
        async with lock:
            self._emitter.fire(
                "file_download_started",
                {
                    "printer_id": printer_id,
                    "filename": filename,
                    "file_size": remote.size,
                    "timestamp": timestamp(),
                },
            )
            started = time.monotonic()
            writer: _Writer | None = None
            try:
                await self._library.async_make_room(remote.size)
                folder = self._library.folder_for(printer_name)
                temp = folder / f"{TEMP_PREFIX}{uuid4().hex}.part"
                writer = _Writer(temp)
                await self._hass.async_add_executor_job(self._open, writer)
                checksum = await self._stream(client, remote, writer)
                file, new = await self._library.async_add_file(
                    writer.path,
                    checksum=checksum,
                    size=writer.size,
                    filename=filename,
                    source=LibrarySource(
                        printer_id=printer_id, printer_name=printer_name, path=remote.path
                    ),
                    auto=auto,
                )
                writer = None  # the library owns the file now
            except asyncio.CancelledError:
                await self._abort(writer)
                reason = "Home Assistant is stopping" if self._stopping else "cancelled"
                self._failed(printer_id, filename, reason)
                raise
            except Exception as err:
                await self._abort(writer)
                message = describe_error(err)
                if not isinstance(err, DownloadError | PrinterError | LibraryError | OSError):
                    _LOGGER.exception("Unexpected error downloading %s", filename)
                self._failed(printer_id, filename, message)
                raise DownloadError(message) from err
            elapsed = round(time.monotonic() - started, 3)
            path = self._library.path_of(file)
            self._emitter.fire(
                "file_download_complete",
                {
                    "printer_id": printer_id,
                    "filename": file.filename,
                    "file_id": file.checksum,
                    "file_path": str(path),
                    "file_size": file.file_size,
                    "download_time": elapsed,
                    "timestamp": timestamp(),
                },
            )
            return DownloadResult(file=file, path=path, new=new, download_time=elapsed)

    def _open(self, writer: _Writer) -> None:
        # Prove the folder stays inside the library (no symlink, no escape).
        confine(self._library.folder, writer.path.parent.name)
        writer.open()

    async def _stream(self, client: PrinterFileClient, remote: RemoteFile, writer: _Writer) -> str:
        loop = asyncio.get_running_loop()
        pending: asyncio.Future[None] | None = None
        batch: list[bytes] = []
        batched = 0
        received = 0
        try:
            async with asyncio.timeout(STALL_TIMEOUT) as stall:
                async with client.async_open(remote.path) as chunks:
                    async for chunk in chunks:
                        stall.reschedule(loop.time() + STALL_TIMEOUT)
                        batch.append(chunk)
                        batched += len(chunk)
                        received += len(chunk)
                        if remote.size is not None and received > remote.size:
                            raise DownloadError(
                                f"size mismatch: the printer sent more than the {remote.size} "
                                "bytes it listed"
                            )
                        if batched >= WRITE_BATCH:
                            if pending is not None:
                                await pending
                            pending = self._hass.async_add_executor_job(
                                writer.write, b"".join(batch)
                            )
                            batch, batched = [], 0
                if pending is not None:
                    await pending
                    pending = None
                if batch:
                    await self._hass.async_add_executor_job(writer.write, b"".join(batch))
        except BaseException:
            if pending is not None:  # let the write in flight end before the file is removed
                with contextlib.suppress(BaseException):
                    await pending
            raise
        if remote.size is not None and writer.size != remote.size:
            raise DownloadError(f"size mismatch: received {writer.size} of {remote.size} bytes")
        return await self._hass.async_add_executor_job(writer.finish)

    async def _abort(self, writer: _Writer | None) -> None:
        if writer is None:
            return
        try:
            await self._hass.async_add_executor_job(writer.abort)
        except RuntimeError:  # the executor is gone (shutting down): do it here
            writer.abort()

    def _failed(self, printer_id: str, filename: str, error: str) -> None:
        _LOGGER.warning("Download of %s from %s failed: %s", filename, printer_id, error)
        self._emitter.fire(
            "file_download_failed",
            {
                "printer_id": printer_id,
                "filename": filename,
                "error": error,
                "timestamp": timestamp(),
            },
        )
