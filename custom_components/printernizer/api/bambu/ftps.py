"""Files on a Bambu Lab printer over implicit FTPS (port 990), no Home Assistant import.

Why aioftp and not ``ftplib``: the printers (P2S, X1C on firmware 01.08+)
refuse a data connection that does not resume the control connection's TLS
session (``522 SSL connection failed: session reuse required``).
``ftplib.FTP_TLS`` never resumes (CPython issue 63699); a subclass could pass
``session=`` itself, but ftplib blocks, so every command and every chunk
would hop through an executor thread. aioftp (>= 0.28) is asyncio-native and
its client opens each data connection with ``SSLSessionBoundContext``, i.e.
the control connection's SSL context *and* its ``SSLSession`` (read in
``aioftp/client.py: BaseClient._open_connection``); the simulator checks
``session_reused`` on the server side, and tests/api/bambu prove both the
resumption and the 522 for a client that does not resume.

TLS is verified exactly like MQTT: the context comes from the printer client
(:func:`..tls.create_ssl_context`, built in an executor) and the peer's CN
must be the serial, unless the user chose unverified TLS.

Each operation is one FTP session (connect, log in, work, quit) under an
:class:`asyncio.Lock`: some firmware fails two sessions at once.

The pure parts (LIST lines, MDTM, folder rules, job file matching) are
module functions so they are unit-testable.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import posixpath
import re
import ssl
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aioftp

from ..models import (
    FileAccessDeniedError,
    FileError,
    FileTransferError,
    PrinterAuthError,
    PrinterCertificateError,
    PrinterConnectionError,
    PrinterError,
    PrinterIdentityError,
    PrinterTlsError,
    RemoteFile,
    RemoteFileNotFoundError,
)
from .tls import peer_common_name

_LOGGER = logging.getLogger(__name__)

USERNAME = "bblp"
DEFAULT_PORT = 990
CHUNK_SIZE = 64 * 1024

#: Folders listed (recursively, up to MAX_DEPTH below them). ``/`` itself is
#: listed for its files only; other folders at the root are not descended.
FOLDERS: tuple[str, ...] = ("/cache", "/model", "/models", "/timelapse", "/sdcard")
#: Never listed: camera snapshots, timelapse thumbnails.
IGNORED_FOLDERS = frozenset({"/image", "/timelapse/thumbnail"})
MAX_DEPTH = 3
#: Limits for hostile or broken listings.
MAX_LIST_BYTES = 8 * 1024 * 1024
MAX_LINE_BYTES = 4096
MAX_FILES = 20_000
#: Folders LISTed in one walk (besides ``/``): a printer with thousands of
#: nested or sibling folders must not keep discovery going without end.
MAX_FOLDERS = 500
#: 421 (too many sessions) at connect: retries and their base delay (s).
BUSY_RETRIES = 3
BUSY_DELAY = 0.5

PRINT_SUFFIXES = (".gcode.3mf", ".3mf", ".gcode", ".bgcode")
TIMELAPSE_SUFFIXES = (".mp4", ".avi")

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_LIST_RE = re.compile(
    r"^(?P<type>[-dlcbps])[-rwxsStTl]{9}[+.@]?\s+\d+\s+"
    r"(?P<owner>\S+)\s+(?:(?P<group>\S+)\s+)?(?P<size>\d+)\s+"
    r"(?P<month>[A-Za-z]{3})\s+(?P<day>\d{1,2})\s+(?P<when>\d{1,2}:\d{2}|\d{4})\s(?P<name>.+)$"
)
#: A LIST date without a year may be this far ahead of ``now`` (printer
#: clocks run on UTC, UTC+8 or local time) before it counts as last year.
_FUTURE_SLACK = timedelta(days=1)


# --- pure helpers -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One parsed LIST line."""

    name: str
    is_dir: bool
    size: int
    modified: datetime | None


def _list_date(month: int, day: int, when: str, now: datetime) -> datetime | None:
    if ":" in when:
        hour_s, minute_s = when.split(":")
        hour, minute = int(hour_s), int(minute_s)
        # No year: this year, unless that is in the future, then the last
        # year in which the date exists (29 February).
        for year in range(now.year, now.year - 9, -1):
            try:
                value = datetime(year, month, day, hour, minute, tzinfo=UTC)
            except ValueError:
                continue
            if value <= now + _FUTURE_SLACK:
                return value
        return None
    try:
        return datetime(int(when), month, day, tzinfo=UTC)
    except ValueError:
        return None


def parse_list_line(line: str, now: datetime | None = None) -> ListEntry | None:
    """Parse one Unix-style LIST line; None for anything else (``total 12``, junk).

    Both date forms: ``Nov 26 12:00`` (no year: the year that does not put it
    in the future) and ``Nov 26  2024``. Times are taken as UTC. Symlinks are
    skipped (``.`` and ``..`` too).
    """
    match = _LIST_RE.match(line.rstrip("\r\n"))
    if match is None:
        return None
    kind = match["type"]
    if kind not in "-d":
        return None
    name = match["name"]
    if name in (".", "..") or "/" in name or "\x00" in name:
        return None
    month = _MONTHS.get(match["month"].lower())
    if month is None:
        return None
    modified = _list_date(month, int(match["day"]), match["when"], now or datetime.now(UTC))
    return ListEntry(name=name, is_dir=kind == "d", size=int(match["size"]), modified=modified)


def parse_mdtm(text: str) -> datetime | None:
    """Parse an MDTM answer's ``YYYYMMDDHHMMSS[.sss]`` (UTC); None when malformed."""
    value = text.strip().split(".")[0]
    if len(value) != 14 or not value.isdigit():
        return None
    try:
        return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def file_kind(path: str) -> str:
    """``timelapse``, ``model``, ``print`` or ``other`` for a printer path."""
    lower = path.lower()
    if lower.startswith("/timelapse/"):
        return "timelapse" if lower.endswith(TIMELAPSE_SUFFIXES) else "other"
    if lower.startswith(("/model/", "/models/")) and lower.endswith(PRINT_SUFFIXES):
        return "model"
    if lower.endswith(PRINT_SUFFIXES):
        return "print"
    return "other"


def storage_of(path: str) -> str:
    """``sdcard`` for /sdcard, else ``internal`` (P1/A1: the FTP root is the SD card)."""
    return "sdcard" if path == "/sdcard" or path.startswith("/sdcard/") else "internal"


def normalize_path(path: str) -> str:
    """Return an absolute, normalized printer path; ValueError for hostile input."""
    if not path or "\x00" in path or "\r" in path or "\n" in path:
        raise ValueError("invalid path")
    # one leading slash: normpath keeps a leading "//" only when given exactly two
    return posixpath.normpath("/" + path.lstrip("/"))


def _stem(name: str) -> str:
    lower = name.lower()
    for suffix in PRINT_SUFFIXES:
        if lower.endswith(suffix):
            return name[: -len(suffix)]
    return name


def job_file_candidates(gcode_file: str | None, subtask_name: str | None) -> list[str]:
    """Printer paths where the running job's file may lie, most likely first.

    The forms printers report: X1 LAN ``/data/Metadata/plate_1.gcode`` (the
    file is ``/<subtask_name>.gcode.3mf``), P1/A1 ``<name>.gcode.3mf``, cloud
    ``/cache/<name>.3mf`` (or ``cache/...``), ``file:///mnt/sdcard/...``; for
    each name both ``.gcode.3mf`` and ``.3mf`` are tried.
    """
    out: list[str] = []

    def add(path: str) -> None:
        with contextlib.suppress(ValueError):
            norm = normalize_path(path)
            if norm not in out and norm != "/":
                out.append(norm)

    def add_name(name: str, folders: Iterable[str]) -> None:
        stem = _stem(name)
        names = [name] if name.lower().endswith(PRINT_SUFFIXES) else []
        names += [f"{stem}.gcode.3mf", f"{stem}.3mf"]
        for folder in folders:
            for candidate in names:
                add(posixpath.join(folder, candidate))

    gcode = _reported_path(gcode_file)
    subtask = (subtask_name or "").strip().replace("/", "_")
    if gcode and not gcode.startswith("/data/"):
        folder, name = posixpath.split(gcode)
        if name:
            add(gcode)
            add_name(name, dict.fromkeys([folder, "/", "/cache", "/sdcard"]))
    if subtask:
        add_name(subtask, ("/", "/cache", "/sdcard"))
    return out


def _reported_path(gcode_file: str | None) -> str:
    """``gcode_file`` as an absolute FTP path ("" when none)."""
    gcode = (gcode_file or "").strip().removeprefix("file://")
    if not gcode:
        return ""
    for prefix in ("/mnt/sdcard/", "/sdcard/"):
        if gcode.startswith(prefix):
            gcode = "/" + gcode.removeprefix(prefix)
    return "/" + gcode.lstrip("/")


def match_job_file(
    files: Sequence[RemoteFile], gcode_file: str | None, subtask_name: str | None
) -> RemoteFile | None:
    """Pick the running job's file from a listing (see :func:`job_file_candidates`).

    Exact candidate paths first; then a print file whose name without its
    extension starts with the (possibly truncated) reported name, newest first.
    """
    by_path = {f.path: f for f in files}
    for candidate in job_file_candidates(gcode_file, subtask_name):
        if candidate in by_path:
            return by_path[candidate]
    gcode = _reported_path(gcode_file)
    names = [subtask_name or ""]
    if gcode and not gcode.startswith("/data/"):
        names.append(posixpath.basename(gcode))
    prefixes = [p.lower() for p in (_stem(n).strip() for n in names) if len(p) >= 3]
    if not prefixes:
        return None
    matches = [
        f
        for f in files
        if f.kind == "print"
        and not f.path.startswith(("/model/", "/models/"))
        and any(_stem(f.name).lower().startswith(p) for p in prefixes)
    ]
    if not matches:
        return None
    epoch = datetime.min.replace(tzinfo=UTC)
    return max(matches, key=lambda f: (f.modified or epoch, f.path))


# --- the client -----------------------------------------------------------------


class _BusyError(Exception):
    """421 at connect: too many sessions."""


def _codes(err: aioftp.StatusCodeError) -> list[str]:
    return [str(code) for code in err.received_codes]


def _first_code(err: aioftp.StatusCodeError) -> str:
    codes = _codes(err)
    return codes[-1] if codes else ""


class _Session:
    """One logged-in FTPS session (the control connection)."""

    def __init__(self, ftp: aioftp.Client) -> None:
        self.ftp = ftp
        #: Set when a transfer was abandoned: drop the connection, no QUIT.
        self.broken = False

    async def command(self, line: str, expected: str | tuple[str, ...]) -> tuple[str, list[str]]:
        code, info = await self.ftp.command(line, expected)
        return str(code), info

    async def open_data(self, line: str) -> aioftp.DataConnectionThrottleStreamIO:
        """Open a passive data connection (TLS, resumed session) and send ``line``.

        Unlike ``aioftp.Client.get_stream`` the data connection is closed when
        the command is refused (550, 522), not left open. The caller reads,
        then ``await stream.finish()`` (226) or ``stream.close()`` (abort).
        """
        reader, writer = await self.ftp.get_passive_connection("I")
        try:
            await self.ftp.command(line, "1xx")
        except BaseException:
            writer.close()
            raise
        return aioftp.DataConnectionThrottleStreamIO(
            self.ftp, reader, writer, throttles={}, timeout=self.ftp.socket_timeout
        )


class BambuFtpsClient:
    """Implicit FTPS to one Bambu Lab printer (implements ``PrinterFileClient``)."""

    def __init__(
        self,
        host: str,
        serial: str,
        access_code: str,
        *,
        ssl_context: Callable[[], Awaitable[ssl.SSLContext]],
        insecure_tls: bool = False,
        ca_file: str | None = None,
        port: int = DEFAULT_PORT,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
    ) -> None:
        """Configure; ``ssl_context`` returns the printer client's (cached) context.

        ``ca_file``: the custom CA the context trusts (None: Bambu Lab's), for
        the wording of certificate errors only.
        """
        self._host = host
        self._serial = serial
        self._access_code = access_code
        self._ssl_context = ssl_context
        self._insecure = insecure_tls
        self._ca_file = ca_file
        self._port = port
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._lock = asyncio.Lock()
        self._folder_cap_logged = False

    # --- sessions ---------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _session(self) -> AsyncIterator[_Session]:
        """Connect and log in under the lock; quit (or drop) on leaving."""
        async with self._lock:
            ftp = await self._login()
            session = _Session(ftp)
            clean = False
            try:
                yield session
                clean = not session.broken
            finally:
                if clean:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(self._quit(ftp), 5)
                ftp.close()

    @staticmethod
    async def _quit(ftp: aioftp.Client) -> None:
        """QUIT, then wait for the printer to close: the next session is not a second one."""
        await ftp.command("QUIT", "2xx")
        chunk = b"221"
        while chunk:  # anything after 221 is read and dropped, until EOF
            chunk = await ftp.stream.reader.read(4096)

    async def _login(self) -> aioftp.Client:
        """A connected, verified, logged-in control connection."""
        ctx = await self._ssl_context()
        attempt = 0
        while True:
            ftp = aioftp.Client(
                ssl=ctx,
                socket_timeout=self._timeout,
                connection_timeout=self._connect_timeout,
                encoding="utf-8",
                passive_commands=("epsv", "pasv"),
            )
            try:
                await self._connect(ftp)
                await self._authenticate(ftp)
            except _BusyError:
                ftp.close()
                # 421: the printer still counts the previous session (or the
                # slicer holds one). Wait a little, then try again.
                if attempt == BUSY_RETRIES:
                    raise PrinterConnectionError(
                        f"FTPS {self._host}: the printer is busy with another session (421)"
                    ) from None
                attempt += 1
                await asyncio.sleep(BUSY_DELAY * attempt)
            except BaseException:
                ftp.close()
                raise
            else:
                return ftp

    async def _connect(self, ftp: aioftp.Client) -> None:
        try:
            await ftp.connect(self._host, self._port)
        except ssl.SSLCertVerificationError as err:
            issuer = f"the configured CA ({self._ca_file})" if self._ca_file else "Bambu Lab's CA"
            raise PrinterCertificateError(
                f"Certificate of {self._host} not issued by {issuer}: {err.verify_message}"
            ) from err
        except ssl.SSLError as err:
            raise PrinterTlsError(
                f"TLS handshake with FTPS {self._host}:{self._port} failed: {err.reason or err}"
            ) from err
        except aioftp.StatusCodeError as err:
            if _first_code(err) == "421":
                raise _BusyError from err
            raise PrinterConnectionError(
                f"FTPS {self._host}:{self._port} refused the session: {_codes(err)}"
            ) from err
        except (OSError, TimeoutError, aioftp.AIOFTPException) as err:
            raise PrinterConnectionError(
                f"Cannot connect to FTPS {self._host}:{self._port}: {err or type(err).__name__}"
            ) from err
        except ValueError as err:
            # A greeting that is not UTF-8 (UnicodeDecodeError) or a line over
            # the stream's limit (ValueError from readline): not a printer.
            raise PrinterConnectionError(
                f"FTPS {self._host}:{self._port} sent a malformed greeting ({type(err).__name__})"
            ) from err
        if not self._insecure:
            ssl_object = ftp.stream.writer.transport.get_extra_info("ssl_object")
            cn = peer_common_name(ssl_object.getpeercert()) if ssl_object is not None else None
            if cn != self._serial:
                raise PrinterIdentityError(
                    f"Printer at {self._host} presents serial {cn!r}, expected {self._serial!r}"
                )

    async def _authenticate(self, ftp: aioftp.Client) -> None:
        try:
            await ftp.login(USERNAME, self._access_code)
        except aioftp.StatusCodeError as err:
            if _first_code(err) == "530":
                raise PrinterAuthError("The printer refused the access code (FTPS)") from err
            raise PrinterConnectionError(f"FTPS login failed: {_codes(err)}") from err
        except (OSError, TimeoutError, ValueError) as err:
            raise PrinterConnectionError(f"FTPS login failed: {type(err).__name__}") from err

    @staticmethod
    def _map_error(err: BaseException, path: str, action: str) -> FileError | PrinterError:
        if isinstance(err, aioftp.StatusCodeError):
            code = _first_code(err)
            if code == "522":
                return FileTransferError(
                    f"{action} {path}: the printer refused the data connection (522, TLS session)"
                )
            if code == "550":
                return RemoteFileNotFoundError(f"{action} {path}: no such file (550)")
            if code in ("530", "532"):
                return PrinterAuthError(f"{action} {path}: not logged in ({code})")
            return FileTransferError(f"{action} {path}: the printer answered {code}")
        if isinstance(err, TimeoutError):
            return FileTransferError(f"{action} {path}: timed out")
        if isinstance(err, ssl.SSLError):
            # ``reason`` is set on errors raised by the ssl module (getattr: not on others)
            reason = getattr(err, "reason", None) or err
            return FileTransferError(f"{action} {path}: TLS error ({reason})")
        if isinstance(err, ValueError):  # a response line over the stream limit
            return FileTransferError(f"{action} {path}: malformed answer")
        return FileTransferError(f"{action} {path}: connection lost ({type(err).__name__})")

    async def _failure(
        self,
        stream: aioftp.DataConnectionThrottleStreamIO,
        err: BaseException,
        path: str,
        action: str,
    ) -> FileError | PrinterError:
        """A data connection broke: the control connection's answer (522...) tells why."""
        stream.close()
        try:
            await asyncio.wait_for(stream.client.command(None, "2xx", "1xx"), 2)
        except aioftp.StatusCodeError as answer:
            return self._map_error(answer, path, action)
        except (OSError, TimeoutError, ssl.SSLError, ValueError):
            pass
        return self._map_error(err, path, action)

    # --- listing ----------------------------------------------------------------

    async def _list_dir(self, session: _Session, folder: str) -> list[ListEntry] | None:
        """LIST one folder; None when it does not exist (550)."""
        now = datetime.now(UTC)
        buffer = b""
        total = 0
        #: the start of an over-long line was dropped: drop its tail too
        in_long_line = False
        entries: list[ListEntry] = []
        try:
            stream = await session.open_data(f"LIST {folder}")
            try:
                async for block in stream.iter_by_block(CHUNK_SIZE):
                    total += len(block)
                    if total > MAX_LIST_BYTES:
                        session.broken = True
                        raise FileTransferError(f"LIST {folder}: listing too large")
                    buffer += block
                    *lines, buffer = buffer.split(b"\n")
                    if in_long_line and lines:
                        in_long_line = False
                        del lines[0]
                    if len(buffer) > MAX_LINE_BYTES:
                        buffer = b""  # a huge line: dropped, memory stays bounded
                        in_long_line = True
                    entries.extend(self._parse_lines(lines, now))
            except (OSError, TimeoutError, ssl.SSLError, ValueError) as err:
                raise await self._failure(stream, err, folder, "LIST") from err
            except BaseException:
                stream.close()
                raise
            await stream.finish()
            if not in_long_line:
                entries.extend(self._parse_lines([buffer], now))
        except aioftp.StatusCodeError as err:
            if _first_code(err) in ("550", "450"):
                return None
            raise self._map_error(err, folder, "LIST") from err
        except (OSError, TimeoutError, ssl.SSLError, ValueError) as err:
            raise self._map_error(err, folder, "LIST") from err
        return entries

    @staticmethod
    def _parse_lines(lines: list[bytes], now: datetime) -> list[ListEntry]:
        out = []
        for raw in lines:
            if not raw.strip() or len(raw) > MAX_LINE_BYTES:
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                _LOGGER.debug("Skipping a LIST line that is not UTF-8")
                continue
            if (entry := parse_list_line(text, now)) is not None:
                out.append(entry)
        return out

    @staticmethod
    def _remote(path: str, entry: ListEntry) -> RemoteFile:
        return RemoteFile(
            path=path,
            name=entry.name,
            size=entry.size,
            modified=entry.modified,
            storage=storage_of(path),
            kind=file_kind(path),
        )

    async def _walk(self, session: _Session) -> list[RemoteFile]:
        files: list[RemoteFile] = []
        root = await self._list_dir(session, "/") or []
        present = {e.name for e in root if e.is_dir}
        for entry in root:
            if not entry.is_dir:
                files.append(self._remote("/" + entry.name, entry))
        queue = collections.deque(
            (folder, 0) for folder in FOLDERS if folder.lstrip("/") in present
        )
        visited = 0
        while queue and len(files) < MAX_FILES:
            if visited >= MAX_FOLDERS:
                # a warning the first time, then debug: discovery runs every 30 minutes
                level = logging.DEBUG if self._folder_cap_logged else logging.WARNING
                self._folder_cap_logged = True
                _LOGGER.log(
                    level,
                    "FTPS %s: more than %d folders, the rest is not listed",
                    self._host,
                    MAX_FOLDERS,
                )
                break
            folder, depth = queue.popleft()
            visited += 1
            entries = await self._list_dir(session, folder)
            for entry in entries or []:
                path = posixpath.join(folder, entry.name)
                if entry.is_dir:
                    if depth < MAX_DEPTH and path not in IGNORED_FOLDERS:
                        queue.append((path, depth + 1))
                elif len(files) < MAX_FILES:
                    files.append(self._remote(path, entry))
        return files

    async def async_list_files(self) -> list[RemoteFile]:
        """Every file in ``/`` and the known folders (recursive; /image ignored)."""
        async with self._session() as session:
            return await self._walk(session)

    # --- single files -----------------------------------------------------------

    async def _size(self, session: _Session, path: str) -> int:
        try:
            _code, info = await session.command(f"SIZE {path}", "213")
        except aioftp.StatusCodeError as err:
            raise self._map_error(err, path, "SIZE") from err
        except (OSError, TimeoutError, ValueError) as err:
            raise self._map_error(err, path, "SIZE") from err
        try:
            return int(info[-1].strip())
        except (ValueError, IndexError) as err:
            raise FileTransferError(f"SIZE {path}: malformed answer") from err

    async def _mdtm(self, session: _Session, path: str) -> datetime | None:
        try:
            _code, info = await session.command(f"MDTM {path}", "213")
        except aioftp.StatusCodeError:
            return None
        except (OSError, TimeoutError, ValueError) as err:
            raise self._map_error(err, path, "MDTM") from err
        return parse_mdtm(info[-1]) if info else None

    async def _stat(self, session: _Session, path: str) -> RemoteFile:
        size = await self._size(session, path)
        modified = await self._mdtm(session, path)
        return RemoteFile(
            path=path,
            name=posixpath.basename(path),
            size=size,
            modified=modified,
            storage=storage_of(path),
            kind=file_kind(path),
        )

    async def async_stat(self, path: str) -> RemoteFile:
        """SIZE + MDTM of one file; RemoteFileNotFoundError when absent."""
        path = self._checked(path)
        async with self._session() as session:
            return await self._stat(session, path)

    @staticmethod
    def _checked(path: str) -> str:
        try:
            return normalize_path(path)
        except ValueError as err:
            raise RemoteFileNotFoundError(f"Invalid printer path {path!r}") from err

    @contextlib.asynccontextmanager
    async def async_open(self, path: str) -> AsyncIterator[AsyncIterator[bytes]]:
        """Stream a file (``async with client.async_open(p) as chunks: async for ...``).

        SIZE first (550 there: RemoteFileNotFoundError), then RETR (550 there:
        the printer lists it but refuses it, FileAccessDeniedError). Fewer
        bytes than SIZE said: FileTransferError. Leaving early drops the
        session without waiting for the printer.
        """
        path = self._checked(path)
        async with self._session() as session:
            size = await self._size(session, path)
            try:
                stream = await session.open_data(f"RETR {path}")
            except aioftp.StatusCodeError as err:
                if _first_code(err) == "550":
                    raise FileAccessDeniedError(
                        f"The printer lists {path} but refuses to hand it over (550)"
                    ) from err
                raise self._map_error(err, path, "RETR") from err
            except (OSError, TimeoutError, ssl.SSLError, ValueError) as err:
                raise self._map_error(err, path, "RETR") from err
            done = False

            async def chunks() -> AsyncGenerator[bytes]:
                nonlocal done
                received = 0
                try:
                    async for block in stream.iter_by_block(CHUNK_SIZE):
                        received += len(block)
                        yield block
                    await stream.finish()
                except aioftp.StatusCodeError as err:
                    raise self._map_error(err, path, "RETR") from err
                except (OSError, TimeoutError, ssl.SSLError, ValueError) as err:
                    raise await self._failure(stream, err, path, "RETR") from err
                if received != size:
                    raise FileTransferError(
                        f"RETR {path}: got {received} bytes, the printer announced {size}"
                    )
                done = True

            iterator = chunks()
            try:
                yield iterator
            finally:
                await iterator.aclose()
                if not done:
                    # Left early (error, cancel, break): abort, no QUIT.
                    session.broken = True
                    stream.close()

    async def async_delete(self, path: str) -> None:
        """DELE a file; RemoteFileNotFoundError when absent."""
        path = self._checked(path)
        async with self._session() as session:
            try:
                await session.command(f"DELE {path}", "2xx")
            except aioftp.StatusCodeError as err:
                raise self._map_error(err, path, "DELE") from err
            except (OSError, TimeoutError, ValueError) as err:
                raise self._map_error(err, path, "DELE") from err

    async def async_find_job_file(
        self, gcode_file: str | None, subtask_name: str | None
    ) -> RemoteFile | None:
        """The running job's file: exact candidates by SIZE, then a listing match."""
        candidates = job_file_candidates(gcode_file, subtask_name)
        if not candidates and not subtask_name:
            return None
        async with self._session() as session:
            for candidate in candidates[:12]:
                try:
                    return await self._stat(session, candidate)
                except RemoteFileNotFoundError:
                    continue
            files = await self._walk(session)
        return match_job_file(files, gcode_file, subtask_name)
