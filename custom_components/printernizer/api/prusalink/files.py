"""Files on a PrusaLink printer (no Home Assistant import).

``GET /api/v1/storage`` names the storages; ``GET /api/v1/files/{storage}/{path}``
with ``Accept: application/json`` lists a folder (``children``, recursed here)
or describes a file (with ``meta``). Folder listings are cached with their
``ETag``: a re-listing sends ``If-None-Match`` and a 304 reuses the cached
children. Downloads ``GET`` the file's ``refs.download`` with the same
authentication; they stream through an injected :class:`aiohttp.ClientSession`
when there is one (Home Assistant's shared session), else through httpx;
thumbnails come from
``refs.thumbnail``; ``DELETE /api/v1/files/{storage}/{path}`` deletes; the
running job's file comes from ``/api/v1/job``.

Every answer is untrusted: bodies are read with a size limit, refs must be
paths on the printer itself (never another host: the credentials go with the
request), and malformed answers become :class:`FileTransferError` (or
:class:`PrinterConnectionError` for the printer's general answers).

Why downloads prefer aiohttp: httpcore (under httpx) reads a body in fixed
64 KiB reads, each with its own timer and an extra event-loop step, which
held a download to about 60 % of a plain socket's throughput (BENCHMARKS.md,
bench_files); its read size is global to every user of Home Assistant's httpx
client. aiohttp's reader hands over what has arrived (up to
:data:`DOWNLOAD_CHUNK`) per wake-up. Listings, stats, thumbnails and deletes
stay on httpx.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import posixpath
import unicodedata
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeGuard
from urllib.parse import quote

import aiohttp
import httpx
from yarl import URL

from ..models import (
    FileAccessDeniedError,
    FileError,
    FileTransferError,
    PrinterAuthError,
    PrinterConnectionError,
    RemoteFile,
    RemoteFileNotFoundError,
)
from .auth import PrusaLinkAuth

_LOGGER = logging.getLogger(__name__)

CHUNK_SIZE = 64 * 1024
#: Largest chunk an aiohttp download hands over (what has arrived, up to this).
DOWNLOAD_CHUNK = 1024 * 1024
#: Limits for hostile or broken answers.
MAX_JSON_BYTES = 4 * 1024 * 1024
MAX_THUMBNAIL_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 8
MAX_FILES = 20_000
#: Folder listings requested per :meth:`PrusaLinkFiles.async_list_files` (all storages).
MAX_FOLDERS = 2_000
MAX_CACHED_FOLDERS = 512
#: Longest name a :class:`RemoteFile` carries, in UTF-8 bytes (a file system's limit).
MAX_NAME_BYTES = 255
#: Longest suffix (``.gcode.3mf``) kept whole when a long name is shortened.
_MAX_SUFFIX_BYTES = 16
#: Used when /api/v1/storage is missing or unreadable.
DEFAULT_STORAGES = ("usb",)
_PRINT_TYPES = frozenset({"PRINT_FILE"})
_FILE_TYPES = frozenset({"PRINT_FILE", "FILE", "FIRMWARE"})
_JSON = {"Accept": "application/json"}
#: Every request asks for the bytes as stored: Home Assistant's shared httpx
#: client offers gzip/deflate/br by default, and a compressed answer can
#: expand a thousandfold in one chunk (a decompression bomb).
_IDENTITY = {"Accept-Encoding": "identity"}


def _encoded(headers: Mapping[str, str]) -> bool:
    """True when the answer is compressed (the HTTP client would inflate it on reading)."""
    encoding = headers.get("content-encoding", "").strip().lower()
    return encoding not in ("", "identity")


@dataclass(slots=True)
class _CachedFolder:
    etag: str
    children: list[Mapping[str, Any]]


def _is_printer_path(ref: Any) -> TypeGuard[str]:
    """A ref the client may follow: an absolute path on the same printer."""
    return (
        isinstance(ref, str)
        and ref.startswith("/")
        and not ref.startswith("//")
        and "\\" not in ref
        and not any(ord(c) < 32 for c in ref)
        and ".." not in ref.split("/")
        and len(ref) <= 1024
    )


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _name_char(char: str) -> str:
    """``char`` as it may appear in a name: separators become ``_``, controls go."""
    if char in "/\\":
        return "_"
    # Cc: controls (NUL, newline, DEL...), Cf: format (bidi overrides), Cs: lone
    # surrogates (valid in JSON, not encodable), Zl/Zp: line and paragraph separators.
    if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
        return ""
    return char


def safe_display_name(value: Any, fallback: str) -> str:
    """A printer's ``display_name`` made into one harmless name component.

    Separators become ``_``, control, format and surrogate characters are
    dropped, leading and trailing dots and spaces go (so ``..`` is no name),
    and a name over :data:`MAX_NAME_BYTES` UTF-8 bytes is shortened keeping its
    suffix. A name with nothing left uses ``fallback`` (made safe the same way),
    then ``"file"``. Pure: the download still uses the file's real path or ref.
    """
    for candidate in (value, fallback):
        if not isinstance(candidate, str):
            continue
        text = unicodedata.normalize("NFC", candidate)
        name = "".join(_name_char(c) for c in text).strip(" .")
        if len(name.encode("utf-8")) > MAX_NAME_BYTES:
            dot = name.find(".", 1)
            suffix = name[dot:] if dot > 0 and len(name[dot:].encode()) <= _MAX_SUFFIX_BYTES else ""
            keep = MAX_NAME_BYTES - len(suffix.encode("utf-8"))
            stem = name[: len(name) - len(suffix)].encode("utf-8")[:keep]
            name = (stem.decode("utf-8", errors="ignore").rstrip(" .") + suffix).strip(" .")
        if name:
            return name
    return "file"


def _size(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def remote_file(
    path: str, entry: Mapping[str, Any], storage: str, *, meta: bool = False
) -> RemoteFile:
    """A listing or detail entry as a :class:`RemoteFile` (``path`` already built)."""
    refs = entry.get("refs")
    refs = refs if isinstance(refs, Mapping) else {}
    thumbnail = refs.get("thumbnail")
    raw_meta = entry.get("meta") if meta else None
    return RemoteFile(
        path=path,
        name=safe_display_name(entry.get("display_name"), posixpath.basename(path)),
        size=_size(entry.get("size")),
        modified=_timestamp(entry.get("m_timestamp")),
        storage=storage,
        kind="print" if entry.get("type", "PRINT_FILE") in _PRINT_TYPES else "other",
        meta=dict(raw_meta) if isinstance(raw_meta, Mapping) else None,
        thumbnail_path=thumbnail if _is_printer_path(thumbnail) else None,
    )


def _child_name(entry: Mapping[str, Any]) -> str | None:
    name = entry.get("name")
    if not isinstance(name, str) or not name or name in (".", ".."):
        return None
    if "/" in name or "\\" in name or any(ord(c) < 32 for c in name):
        return None
    return name


async def _checked(
    path: str, raw: AsyncGenerator[bytes], limit: int | None, expected: int | None
) -> AsyncGenerator[bytes]:
    """``raw``'s chunks, aborted past ``limit`` bytes; fewer than ``expected`` is an error."""
    received = 0
    try:
        async for chunk in raw:
            received += len(chunk)
            if limit is not None and received > limit:
                raise FileTransferError(
                    f"{path}: more than the {limit} bytes the printer announced"
                )
            yield chunk
    finally:
        await raw.aclose()
    if expected is not None and received != expected:
        raise FileTransferError(f"{path}: got {received} bytes, the printer announced {expected}")


def _split(path: str) -> tuple[str, str]:
    """``/usb/A/B.BGC`` -> (``usb``, ``A/B.BGC``); RemoteFileNotFoundError when malformed."""
    if not _is_printer_path(path):
        raise RemoteFileNotFoundError(f"Invalid printer path {path!r}")
    storage, _, rest = path.strip("/").partition("/")
    if not storage or not rest:
        raise RemoteFileNotFoundError(f"Invalid printer path {path!r}")
    return storage, rest


class PrusaLinkFiles:
    """The file capability of one PrusaLink printer (PrusaLinkClient delegates here)."""

    def __init__(
        self,
        http: httpx.AsyncClient | Callable[[], httpx.AsyncClient],
        base_url: str,
        auth: PrusaLinkAuth,
        *,
        timeout: float = 10.0,
        transfer_timeout: float = 60.0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        """Use the printer client's HTTP client, base URL and auth.

        ``http``: the client, or a function returning the one to use now (the
        printer client's, which it may close and open again).

        ``session`` (optional, never closed here): downloads stream through it
        instead of ``http``.
        """
        self._http: Callable[[], httpx.AsyncClient]
        if isinstance(http, httpx.AsyncClient):
            client = http
            self._http = lambda: client
        else:
            self._http = http
        self._base_url = base_url
        self._auth = auth
        self._session = session
        self._timeout = httpx.Timeout(timeout)
        #: Between two chunks of a download (a big file takes as long as it takes).
        self._transfer_timeout = httpx.Timeout(timeout, read=transfer_timeout)
        self._download_timeout = aiohttp.ClientTimeout(
            total=None, connect=timeout, sock_connect=timeout, sock_read=transfer_timeout
        )
        self._folders: dict[str, _CachedFolder] = {}
        self._download_refs: dict[str, str] = {}
        #: Sizes from the last listing and stats: a download without
        #: Content-Length may not exceed them.
        self._sizes: dict[str, int] = {}
        self._transfer_lock = asyncio.Lock()
        self._folder_limit_logged = False
        #: 304 answers reused (diagnostics, tests).
        self.not_modified = 0

    # --- transport -----------------------------------------------------------------

    def _url(self, path: str) -> str:
        return self._base_url + quote(path, safe="/~!$&'()*+,;=:@")

    @contextlib.asynccontextmanager
    async def _stream(
        self, method: str, path: str, *, headers: Mapping[str, str] | None = None
    ) -> AsyncIterator[httpx.Response]:
        timeout = self._transfer_timeout if method == "GET" else self._timeout
        request = self._http().stream(
            method,
            self._url(path),
            auth=self._auth,
            headers={**_IDENTITY, **(headers or {})},
            timeout=timeout,
            follow_redirects=False,
        )
        # Only the request itself is mapped here; errors of the caller's block
        # (the consumer of a download) pass through unchanged.
        try:
            response = await request.__aenter__()
        except httpx.TimeoutException as err:
            raise FileTransferError(f"{method} {path}: timed out") from err
        except httpx.HTTPError as err:
            raise PrinterConnectionError(f"{method} {path}: {type(err).__name__}") from err
        except (NotImplementedError, ValueError) as err:  # e.g. a digest auth-int challenge
            raise PrinterConnectionError(f"{method} {path}: {err}") from err
        try:
            if response.status_code == 401:
                raise PrinterAuthError(f"{method} {path}: HTTP 401")
            if response.status_code >= 500:
                raise PrinterConnectionError(f"{method} {path}: HTTP {response.status_code}")
            yield response
        finally:
            await request.__aexit__(None, None, None)

    @staticmethod
    async def _read_bounded(response: httpx.Response, limit: int, what: str) -> bytes:
        if _encoded(response.headers):
            raise FileTransferError(f"{what}: compressed answer (asked for identity)")
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise FileTransferError(f"{what}: answer too large")
        body = bytearray()
        try:
            async for chunk in response.aiter_bytes(CHUNK_SIZE):
                body += chunk
                if len(body) > limit:
                    raise FileTransferError(f"{what}: answer too large")
        except httpx.TimeoutException as err:
            raise FileTransferError(f"{what}: timed out") from err
        except httpx.HTTPError as err:
            raise FileTransferError(f"{what}: connection lost ({type(err).__name__})") from err
        return bytes(body)

    async def _json(
        self, path: str, headers: Mapping[str, str] | None = None
    ) -> tuple[int, Any, httpx.Headers]:
        """GET JSON (bounded); returns (status, body or None, headers)."""
        async with self._stream("GET", path, headers={**_JSON, **(headers or {})}) as response:
            if response.status_code != 200:
                return response.status_code, None, response.headers
            raw = await self._read_bounded(response, MAX_JSON_BYTES, path)
            try:
                body = json.loads(raw)
            except (ValueError, RecursionError) as err:  # RecursionError: deep nesting
                _LOGGER.debug("PrusaLink %s: invalid JSON", path)
                raise FileTransferError(f"{path}: invalid JSON") from err
            return 200, body, response.headers

    # --- listing -------------------------------------------------------------------

    async def async_storages(self) -> list[str]:
        """Names of the available storages (``usb``, ``local``...)."""
        status, body, _headers = await self._json("/api/v1/storage")
        if status != 200 or not isinstance(body, Mapping):
            return list(DEFAULT_STORAGES)
        names: list[str] = []
        entries = body.get("storage_list")
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, Mapping) or entry.get("available") is False:
                continue
            raw = entry.get("path") or entry.get("name")
            name = raw.strip("/") if isinstance(raw, str) else ""
            if name and "/" not in name and _is_printer_path("/" + name) and name not in names:
                names.append(name)
        return names

    async def _children(self, storage: str, folder: str) -> list[Mapping[str, Any]] | None:
        """One folder's children (ETag-cached); None when the folder is gone (404)."""
        path = f"/api/v1/files/{storage}/{folder}" if folder else f"/api/v1/files/{storage}"
        cached = self._folders.get(path)
        headers = {"If-None-Match": cached.etag} if cached else None
        status, body, response_headers = await self._json(path, headers)
        if status == 304 and cached is not None:
            self.not_modified += 1
            return cached.children
        if status in (404, 304):
            self._folders.pop(path, None)
            return None
        if status != 200 or not isinstance(body, Mapping):
            raise FileTransferError(f"{path}: unexpected answer (HTTP {status})")
        raw = body.get("children", [])
        if not isinstance(raw, list):
            raise FileTransferError(f"{path}: malformed listing")
        children = [c for c in raw if isinstance(c, Mapping)]
        etag = response_headers.get("etag")
        if etag:
            if len(self._folders) >= MAX_CACHED_FOLDERS:
                self._folders.clear()
            self._folders[path] = _CachedFolder(etag, children)
        else:
            self._folders.pop(path, None)
        return children

    async def async_list_files(self) -> list[RemoteFile]:
        """Every file on every storage (folders recursed breadth first, up to MAX_DEPTH).

        At most MAX_FOLDERS folder listings and MAX_FILES files per call: a
        printer with more (or a hostile one inventing folders) gives a partial
        listing, and a warning the first time.
        """
        files: list[RemoteFile] = []
        refs: dict[str, str] = {}
        sizes: dict[str, int] = {}
        visited = 0
        for storage in await self.async_storages():
            queue: deque[tuple[str, int]] = deque([("", 0)])
            while queue and len(files) < MAX_FILES:
                if visited >= MAX_FOLDERS:
                    self._folder_limit_reached()
                    break
                folder, depth = queue.popleft()
                visited += 1
                for entry in await self._children(storage, folder) or []:
                    name = _child_name(entry)
                    if name is None:
                        continue
                    rel = f"{folder}/{name}" if folder else name
                    kind = entry.get("type")
                    if kind == "FOLDER":
                        if depth < MAX_DEPTH:
                            queue.append((rel, depth + 1))
                    elif kind in _FILE_TYPES and len(files) < MAX_FILES:
                        path = f"/{storage}/{rel}"
                        file = remote_file(path, entry, storage)
                        files.append(file)
                        if file.size is not None:
                            sizes[path] = file.size
                        entry_refs = entry.get("refs")
                        download = (
                            entry_refs.get("download") if isinstance(entry_refs, Mapping) else None
                        )
                        if _is_printer_path(download):
                            refs[path] = download
        self._download_refs = refs
        self._sizes = sizes
        return files

    def _folder_limit_reached(self) -> None:
        """Log the MAX_FOLDERS cap once per client (later listings stay quiet)."""
        if self._folder_limit_logged:
            _LOGGER.debug("PrusaLink %s: folder limit reached again", self._base_url)
            return
        self._folder_limit_logged = True
        _LOGGER.warning(
            "PrusaLink %s has more than %d folders: the file listing stops there",
            self._base_url,
            MAX_FOLDERS,
        )

    def _remember_size(self, file: RemoteFile) -> RemoteFile:
        if file.size is not None and (file.path in self._sizes or len(self._sizes) < MAX_FILES):
            self._sizes[file.path] = file.size
        return file

    # --- single files --------------------------------------------------------------

    async def async_stat(self, path: str) -> RemoteFile:
        """One file's details (with ``meta``); RemoteFileNotFoundError when absent."""
        storage, rest = _split(path)
        status, body, _headers = await self._json(f"/api/v1/files/{storage}/{rest}")
        if status == 404:
            raise RemoteFileNotFoundError(f"{path}: no such file")
        if status == 403:
            raise FileAccessDeniedError(f"{path}: access denied")
        if status != 200 or not isinstance(body, Mapping):
            raise FileTransferError(f"{path}: unexpected answer (HTTP {status})")
        if body.get("type") not in _FILE_TYPES:
            raise RemoteFileNotFoundError(f"{path}: not a file")
        refs = body.get("refs")
        download = refs.get("download") if isinstance(refs, Mapping) else None
        if _is_printer_path(download):
            self._download_refs[path] = download
        return self._remember_size(remote_file(path, body, storage, meta=True))

    @contextlib.asynccontextmanager
    async def async_open(self, path: str) -> AsyncIterator[AsyncIterator[bytes]]:
        """Stream ``refs.download`` of ``path`` (the path itself when no ref is known).

        404 -> RemoteFileNotFoundError, 403 -> FileAccessDeniedError, fewer
        bytes than Content-Length or a broken connection -> FileTransferError.
        Leaving the block early closes the connection.

        The request asks for ``Accept-Encoding: identity``; a compressed
        answer anyway is refused before a byte is inflated. The download is
        aborted (FileTransferError) as soon as it exceeds Content-Length or,
        without one, the size the last listing or stat reported.
        """
        _split(path)
        url_path = self._download_refs.get(path, path)
        download = (
            self._httpx_download(path, url_path)
            if self._session is None
            else self._aiohttp_download(self._session, path, url_path)
        )
        async with self._transfer_lock, download as (status, headers, raw):
            if status == 404:
                raise RemoteFileNotFoundError(f"{path}: no such file")
            if status == 403:
                raise FileAccessDeniedError(f"{path}: the printer refuses the download")
            if status != 200:
                raise FileTransferError(f"{path}: HTTP {status}")
            if _encoded(headers):
                raise FileTransferError(
                    f"{path}: the printer compressed the download although asked not to"
                )
            declared = headers.get("content-length")
            expected = int(declared) if declared is not None and declared.isdigit() else None
            limit = expected if expected is not None else self._sizes.get(path)
            iterator = _checked(path, raw, limit, expected)
            try:
                yield iterator
            finally:
                await iterator.aclose()

    @contextlib.asynccontextmanager
    async def _httpx_download(
        self, path: str, url_path: str
    ) -> AsyncIterator[tuple[int, Mapping[str, str], AsyncGenerator[bytes]]]:
        """A download through httpx: (status, headers, the body's chunks)."""
        async with self._stream("GET", url_path) as response:

            async def chunks() -> AsyncGenerator[bytes]:
                try:
                    # No chunk_size: httpx would copy every chunk to re-cut it.
                    # Not aiter_raw: it gains little (the decoder is identity)
                    # and fails on a response a hook or transport already read.
                    async for chunk in response.aiter_bytes():
                        yield chunk
                except httpx.TimeoutException as err:
                    raise FileTransferError(f"{path}: timed out") from err
                except httpx.HTTPError as err:
                    raise FileTransferError(
                        f"{path}: connection lost ({type(err).__name__})"
                    ) from err

            yield response.status_code, response.headers, chunks()

    async def _aiohttp_get(
        self, session: aiohttp.ClientSession, url_path: str, headers: Mapping[str, str]
    ) -> aiohttp.ClientResponse:
        """Send one download request (no redirects, no inflating); map transport errors."""
        try:
            return await session.get(
                # encoded: sent as quoted here, the path the digest answer names
                URL(self._url(url_path), encoded=True),
                headers={**_IDENTITY, **headers},
                timeout=self._download_timeout,
                allow_redirects=False,
                auto_decompress=False,
            )
        except TimeoutError as err:  # before aiohttp.ClientError: ServerTimeoutError is both
            raise FileTransferError(f"GET {url_path}: timed out") from err
        except aiohttp.ClientError as err:
            raise PrinterConnectionError(f"GET {url_path}: {type(err).__name__}") from err

    @contextlib.asynccontextmanager
    async def _aiohttp_download(
        self, session: aiohttp.ClientSession, path: str, url_path: str
    ) -> AsyncIterator[tuple[int, Mapping[str, str], AsyncGenerator[bytes]]]:
        """A download through aiohttp with PrusaLink's auth: (status, headers, chunks).

        The first request carries the API key once the printer asked for one;
        a 401 is answered once from its challenge (digest or API key, the same
        code as the httpx requests use); 401 again is :class:`PrinterAuthError`.
        """
        response = await self._aiohttp_get(session, url_path, self._auth.initial_headers())
        try:
            if response.status == 401:
                challenges = response.headers.getall("WWW-Authenticate", [])
                response.close()  # the 401's body is not read (it could be anything)
                # Errors as the httpx requests map them (_stream).
                try:
                    answer = self._auth.answer_challenge("GET", self._url(url_path), challenges)
                except httpx.HTTPError as err:  # a malformed challenge
                    raise PrinterConnectionError(f"GET {url_path}: {type(err).__name__}") from err
                except (NotImplementedError, ValueError) as err:  # e.g. auth-int only
                    raise PrinterConnectionError(f"GET {url_path}: {err}") from err
                response = await self._aiohttp_get(session, url_path, answer)
            if response.status == 401:
                raise PrinterAuthError(f"GET {url_path}: HTTP 401")
            if response.status >= 500:
                raise PrinterConnectionError(f"GET {url_path}: HTTP {response.status}")

            async def chunks() -> AsyncGenerator[bytes]:
                try:
                    async for chunk in response.content.iter_chunked(DOWNLOAD_CHUNK):
                        yield chunk
                except TimeoutError as err:
                    raise FileTransferError(f"{path}: timed out") from err
                except aiohttp.ClientError as err:
                    raise FileTransferError(
                        f"{path}: connection lost ({type(err).__name__})"
                    ) from err

            yield response.status, response.headers, chunks()
        finally:
            # Drops the connection unless the body was read to the end (then
            # aiohttp already gave it back to the pool).
            response.close()

    async def async_read_thumbnail(self, file: RemoteFile) -> bytes | None:
        """The file's thumbnail (PNG, about 220x140) or None when it has none."""
        if not file.thumbnail_path or not _is_printer_path(file.thumbnail_path):
            return None
        async with self._stream("GET", file.thumbnail_path) as response:
            if response.status_code != 200:
                return None
            try:
                data = await self._read_bounded(response, MAX_THUMBNAIL_BYTES, file.thumbnail_path)
            except FileTransferError:
                _LOGGER.debug("PrusaLink thumbnail %s too large", file.thumbnail_path)
                return None
        return data if data.startswith((b"\x89PNG", b"\xff\xd8", b"qoif")) else None

    async def async_delete(self, path: str) -> None:
        """DELETE the file; 404 -> RemoteFileNotFoundError, 409 (being printed) -> FileError."""
        storage, rest = _split(path)
        async with self._stream("DELETE", f"/api/v1/files/{storage}/{rest}") as response:
            status = response.status_code
        if status == 404:
            raise RemoteFileNotFoundError(f"{path}: no such file")
        if status == 409:
            raise FileError(f"{path} is being printed and cannot be deleted")
        if status == 403:
            raise FileAccessDeniedError(f"{path}: the printer refuses to delete it")
        if status not in (200, 204):
            raise FileTransferError(f"DELETE {path}: HTTP {status}")
        self._download_refs.pop(path, None)

    async def async_job_file(self) -> RemoteFile | None:
        """The current job's file from ``/api/v1/job`` (None without a job)."""
        status, body, _headers = await self._json("/api/v1/job")
        if status in {204, 404}:
            return None
        if status != 200 or not isinstance(body, Mapping):
            raise FileTransferError(f"/api/v1/job: unexpected answer (HTTP {status})")
        file = body.get("file")
        if not isinstance(file, Mapping):
            return None
        folder, name = file.get("path"), file.get("name")
        if not isinstance(folder, str) or not isinstance(name, str) or not name:
            return None
        full = folder if folder.rstrip("/").endswith("/" + name) else f"{folder.rstrip('/')}/{name}"
        if not _is_printer_path(full):
            return None
        try:
            storage, _rest = _split(full)
        except RemoteFileNotFoundError:
            return None
        refs = file.get("refs")
        download = refs.get("download") if isinstance(refs, Mapping) else None
        if _is_printer_path(download):
            self._download_refs[full] = download
        return self._remember_size(remote_file(full, file, storage))
