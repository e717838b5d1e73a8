"""PrusaLink client: polls a Prusa printer over HTTP (no Home Assistant import).

The HTTP client is injected: either an :class:`httpx.AsyncClient`, used and
never closed here, or a factory of them, whose clients the printer client owns
(Home Assistant's glue passes one, so each printer has its own connection pool:
httpcore scans a pool on every request, so one pool shared by many printers
costs the square of their number; BENCHMARKS.md, bench_scale). An owned client
is opened on the first request and closed by :meth:`PrusaLinkClient.async_disconnect`;
a request after that opens a new one. Optionally an :class:`aiohttp.ClientSession`
for file downloads (Home Assistant's shared session, never closed here; see
files.py). Every request goes through :meth:`PrusaLinkClient._request`, which
sets the timeout and the auth and maps transport errors.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal
from urllib.parse import urlsplit

import aiohttp
import httpx

from ..models import (
    CommandError,
    CommandNotAllowedError,
    CommandTimeoutError,
    ConnectionListener,
    ConnectionPhase,
    ConnectionUpdate,
    PrinterAuthError,
    PrinterConnectionError,
    PrinterFamily,
    PrinterInfo,
    PrinterNotSupportedError,
    PrinterState,
    PrinterStatus,
    RemoteFile,
    StateListener,
)
from .auth import PrusaLinkAuth
from .files import PrusaLinkFiles
from .parse import (
    PrinterDetails,
    PrusaLinkParseError,
    VersionInfo,
    build_printer_info,
    parse_info,
    parse_state,
    parse_version,
    status_job_id,
)

_LOGGER = logging.getLogger(__name__)

DEFAULT_USERNAME = "maker"
DEFAULT_TIMEOUT = 10.0
MIN_API_VERSION = (2, 0)

#: Poll interval (s) for this long after a command (s).
FAST_POLL_INTERVAL = 2.0
FAST_POLL_WINDOW = 30.0
#: Poll interval (s) while a job is preparing, printing or paused.
ACTIVE_POLL_INTERVAL = 5.0
#: Poll interval (s) otherwise.
IDLE_POLL_INTERVAL = 30.0

_POLL_ACTIVE_STATUSES = frozenset(
    {PrinterStatus.PREPARING, PrinterStatus.PRINTING, PrinterStatus.PAUSED}
)

_VALID_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-._")


def _now() -> float:
    """Monotonic clock (a function so tests can freeze it without touching ``time``)."""
    return time.monotonic()


class PrusaLinkTimeoutError(PrinterConnectionError):
    """The printer did not answer in time (a :class:`PrinterConnectionError`)."""


def normalize_host(user_input: str) -> str:
    """Turn what a user typed into a base URL such as ``http://host`` or ``http://host:8080``.

    Accepts ``host``, ``host:port``, ``http://host/``, ``https://host:8443/path/``
    and bare IPv6 addresses; drops any path, query and default port. Raises
    :class:`ValueError` for empty input, other schemes, credentials in the URL,
    invalid ports or host names.
    """
    if not isinstance(user_input, str):
        raise ValueError("host must be a string")
    text = user_input.strip()
    if not text:
        raise ValueError("host is empty")
    try:
        ipaddress.IPv6Address(text.strip("[]"))
    except ValueError:
        pass
    else:
        text = f"[{text.strip('[]')}]"
    if "://" not in text:
        text = f"http://{text}"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as err:
        raise ValueError(f"invalid host: {user_input!r}") from err
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"unsupported scheme: {parts.scheme!r}")
    if "@" in parts.netloc:
        raise ValueError("credentials in the host are not supported")
    host = parts.hostname
    if not host:
        raise ValueError(f"no host in {user_input!r}")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if not set(host) <= _VALID_HOST_CHARS or host.startswith(("-", ".")) or ".." in host:
            raise ValueError(f"invalid host name: {host!r}") from None
        host_part = host
    else:
        host_part = f"[{address.compressed}]" if address.version == 6 else address.compressed
    default_port = 80 if scheme == "http" else 443
    if port is not None and port != default_port:
        return f"{scheme}://{host_part}:{port}"
    return f"{scheme}://{host_part}"


class PrusaLinkClient:
    """PrinterClient for PrusaLink (poll based).

    ``extra`` keys of the states are documented in :mod:`.parse`.
    """

    family: PrinterFamily = "prusa"
    push: bool = False

    def __init__(
        self,
        http: httpx.AsyncClient | Callable[[], httpx.AsyncClient],
        host: str,
        *,
        username: str = DEFAULT_USERNAME,
        password: str,
        timeout: float = DEFAULT_TIMEOUT,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        """Prepare a client for ``host`` (see :func:`normalize_host`); no I/O here.

        ``http``: an HTTP client to use (never closed here), or a factory of
        the clients this one owns (see the module's docstring). Downloads
        stream through ``session`` when given (faster than httpx for big
        files), else through the HTTP client.
        """
        self._http: httpx.AsyncClient | None = None
        self._open_http: Callable[[], httpx.AsyncClient]
        #: Whether ``_http`` is this client's own (closed on disconnect).
        self._owns_http = not isinstance(http, httpx.AsyncClient)
        if isinstance(http, httpx.AsyncClient):
            injected = self._http = http
            self._open_http = lambda: injected
        else:
            self._open_http = http
        self._base_url = normalize_host(host)
        self._auth = PrusaLinkAuth(username, password)
        self._timeout = httpx.Timeout(timeout)
        self._version: VersionInfo | None = None
        self._details: PrinterDetails | None = None
        self._info: PrinterInfo | None = None
        self._on_state: StateListener | None = None
        self._on_connection: ConnectionListener | None = None
        self._last_status_json: Any = None
        self._last_job_json: Any = None
        #: job id whose /api/v1/job body is in ``_last_job_json``
        self._job_fetched_for: int | None = None
        self._job_id: int | None = None
        self._last_state: PrinterState | None = None
        self._last_command: float | None = None
        #: Files (storage, folders, downloads, thumbnails): same HTTP client and auth.
        self._files = PrusaLinkFiles(
            self._http_client, self._base_url, self._auth, timeout=timeout, session=session
        )

    # --- properties -------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The normalized base URL (``http://host[:port]``)."""
        return self._base_url

    @property
    def info(self) -> PrinterInfo | None:
        """Static printer facts, once connected."""
        return self._info

    @property
    def api_version(self) -> str | None:
        """The ``api`` field of ``/api/version``, once connected."""
        return self._version.api if self._version else None

    @property
    def nozzle_diameter(self) -> float | None:
        """Nozzle diameter (mm) from ``/api/v1/info``, once connected."""
        return self._details.nozzle_diameter if self._details else None

    @property
    def auth_mode(self) -> Literal["digest", "apikey"] | None:
        """``"digest"`` or ``"apikey"`` once the printer asked for credentials."""
        return self._auth.mode

    @property
    def last_state(self) -> PrinterState | None:
        """The state returned by the last successful poll."""
        return self._last_state

    @property
    def poll_interval(self) -> float:
        """Seconds until the next poll: 2 s after a command, 5 s during a job, else 30 s."""
        if self._last_command is not None and _now() - self._last_command < FAST_POLL_WINDOW:
            return FAST_POLL_INTERVAL
        if self._last_state is not None and self._last_state.status in _POLL_ACTIVE_STATUSES:
            return ACTIVE_POLL_INTERVAL
        return IDLE_POLL_INTERVAL

    def set_listeners(
        self,
        on_state: StateListener | None,
        on_connection: ConnectionListener | None,
    ) -> None:
        """Store the core's callbacks; only ``on_connection`` is used (auth failures)."""
        self._on_state = on_state
        self._on_connection = on_connection

    # --- transport --------------------------------------------------------

    def _http_client(self) -> httpx.AsyncClient:
        """The HTTP client for the next request (an owned one is opened here)."""
        http = self._http
        if http is None:
            http = self._http = self._open_http()
        return http

    def _notify(self, phase: ConnectionPhase, message: str | None = None) -> None:
        if self._on_connection is None:
            return
        try:
            self._on_connection(ConnectionUpdate(phase, message))
        except Exception:
            _LOGGER.exception("Connection listener failed")

    async def _request(self, method: str, path: str) -> httpx.Response:
        """Send one request with auth and timeout; map transport errors and 401/5xx.

        Returns the response for every other status; callers check it.
        """
        url = f"{self._base_url}{path}"
        try:
            response = await self._http_client().request(
                method,
                url,
                auth=self._auth,
                timeout=self._timeout,
                follow_redirects=False,
            )
        except httpx.TimeoutException as err:
            _LOGGER.debug("%s %s timed out", method, path)
            raise PrusaLinkTimeoutError(f"{method} {path}: timeout") from err
        except httpx.HTTPError as err:
            _LOGGER.debug("%s %s failed: %s", method, path, type(err).__name__)
            raise PrinterConnectionError(f"{method} {path}: {type(err).__name__}: {err}") from err
        except (NotImplementedError, ValueError) as err:
            # e.g. a digest challenge asking for auth-int only
            raise PrinterConnectionError(f"{method} {path}: {err}") from err
        if response.status_code == 401:
            _LOGGER.debug("%s %s: 401 after authentication", method, path)
            self._notify(ConnectionPhase.ERROR, "authentication failed")
            raise PrinterAuthError(f"{method} {path}: HTTP {response.status_code}")
        if response.status_code >= 500:
            raise PrinterConnectionError(f"{method} {path}: HTTP {response.status_code}")
        return response

    @staticmethod
    def _json(response: httpx.Response, path: str) -> Any:
        """Decode a JSON body or raise :class:`PrinterConnectionError`."""
        try:
            return response.json()
        except (ValueError, RecursionError) as err:  # RecursionError: nesting too deep
            _LOGGER.warning("PrusaLink %s returned invalid JSON", path)
            raise PrinterConnectionError(f"{path}: invalid JSON") from err

    async def _get_json(self, path: str, *, not_found_unsupported: bool = False) -> Any:
        response = await self._request("GET", path)
        if response.status_code == 404 and not_found_unsupported:
            raise PrinterNotSupportedError(f"{path} not found: PrusaLink API v1 required")
        if response.status_code != 200:
            raise PrinterConnectionError(f"GET {path}: unexpected HTTP {response.status_code}")
        return self._json(response, path)

    # --- lifecycle --------------------------------------------------------

    async def async_connect(self) -> None:
        """Read ``/api/version`` and ``/api/v1/info``; check the API version.

        Raises PrinterAuthError, PrinterNotSupportedError (api < 2.0, no v1
        endpoints) or PrinterConnectionError.
        """
        version_json = await self._get_json("/api/version", not_found_unsupported=True)
        try:
            version = parse_version(version_json)
        except PrusaLinkParseError as err:
            _LOGGER.warning("PrusaLink /api/version: %s", err)
            raise PrinterConnectionError(f"/api/version: {err}") from err
        if version.api_tuple[:2] < MIN_API_VERSION:
            raise PrinterNotSupportedError(
                f"PrusaLink API {version.api} is not supported (2.0 or newer needed)"
            )
        info_json = await self._get_json("/api/v1/info", not_found_unsupported=True)
        try:
            details = parse_info(info_json)
        except PrusaLinkParseError as err:
            _LOGGER.warning("PrusaLink /api/v1/info: %s", err)
            raise PrinterConnectionError(f"/api/v1/info: {err}") from err
        self._version = version
        self._details = details
        self._info = build_printer_info(version, details)
        _LOGGER.debug(
            "Connected to PrusaLink %s (api %s, auth %s)",
            self._base_url,
            version.api,
            self._auth.mode,
        )

    async def async_disconnect(self) -> None:
        """Forget per-connection state; close an owned HTTP client (an injected one stays open)."""
        if self._owns_http and (http := self._http) is not None:
            self._http = None
            await http.aclose()
        self._last_status_json = None
        self._last_job_json = None
        self._job_fetched_for = None
        self._job_id = None
        self._last_state = None
        self._last_command = None

    # --- polling ----------------------------------------------------------

    async def async_poll(self) -> PrinterState:
        """Fetch ``/api/v1/status`` (and ``/api/v1/job`` when the job id changed)."""
        status_json = await self._get_json("/api/v1/status")
        try:
            job_id = status_job_id(status_json)
        except PrusaLinkParseError as err:
            _LOGGER.warning("PrusaLink /api/v1/status: %s", err)
            raise PrinterConnectionError(f"/api/v1/status: {err}") from err
        self._last_status_json = status_json

        if job_id is None:
            self._job_fetched_for = None
            self._last_job_json = None
        elif job_id != self._job_fetched_for:
            await self._fetch_job(job_id)
        self._job_id = job_id

        try:
            state = parse_state(
                status_json,
                self._last_job_json if job_id is not None else None,
                nozzle_diameter=self.nozzle_diameter,
            )
        except PrusaLinkParseError as err:
            # A bad /api/v1/job answer must not poison later polls: forget
            # it, so the next poll fetches the job again.
            self._last_job_json = None
            self._job_fetched_for = None
            _LOGGER.warning("PrusaLink status could not be read: %s", err)
            raise PrinterConnectionError(f"status: {err}") from err
        self._last_state = state
        return state

    async def _fetch_job(self, job_id: int) -> None:
        """Fetch ``/api/v1/job`` for a new job id (file name, thumbnail)."""
        response = await self._request("GET", "/api/v1/job")
        if response.status_code == 204:
            # The job ended (or has not started) between the two requests; retry next poll.
            self._last_job_json = None
            self._job_fetched_for = None
            return
        if response.status_code != 200:
            raise PrinterConnectionError(f"GET /api/v1/job: unexpected HTTP {response.status_code}")
        job_json = self._json(response, "/api/v1/job")
        if not isinstance(job_json, dict):
            _LOGGER.warning("PrusaLink /api/v1/job: not an object")
            raise PrinterConnectionError("/api/v1/job: not an object")
        body_id = job_json.get("id")
        self._last_job_json = job_json
        self._job_fetched_for = job_id if body_id == job_id else None

    # --- commands ---------------------------------------------------------

    async def _current_job_id(self) -> int:
        if self._job_id is None:
            status_json = await self._get_json("/api/v1/status")
            try:
                self._job_id = status_job_id(status_json)
            except PrusaLinkParseError as err:
                raise CommandError(f"/api/v1/status: {err}") from err
        if self._job_id is None:
            raise CommandNotAllowedError("no print job")
        return self._job_id

    async def _command(self, method: str, action: str | None) -> None:
        try:
            job_id = await self._current_job_id()
            path = f"/api/v1/job/{job_id}" + (f"/{action}" if action else "")
            response = await self._request(method, path)
        except PrusaLinkTimeoutError as err:
            raise CommandTimeoutError(str(err)) from err
        except PrinterConnectionError as err:
            raise CommandError(str(err)) from err
        name = action or "stop"
        if response.status_code in (200, 204):
            self._last_command = _now()
            _LOGGER.debug("PrusaLink %s of job %s accepted", name, job_id)
            return
        if response.status_code == 409:
            raise CommandNotAllowedError(f"{name}: not allowed in the printer's current state")
        if response.status_code == 404:
            # Our job id is stale: look it up again next time.
            self._job_id = None
            raise CommandError(f"{name}: job {job_id} not found")
        raise CommandError(f"{name}: HTTP {response.status_code}")

    async def async_pause(self) -> None:
        """Pause the current job (PUT /api/v1/job/{id}/pause)."""
        await self._command("PUT", "pause")

    async def async_resume(self) -> None:
        """Resume the current job (PUT /api/v1/job/{id}/resume)."""
        await self._command("PUT", "resume")

    async def async_stop(self) -> None:
        """Stop the current job (DELETE /api/v1/job/{id})."""
        await self._command("DELETE", None)

    # --- diagnostics ------------------------------------------------------

    # --- files (PrinterFileClient + PrinterThumbnailClient, in files.py) ----

    async def async_list_files(self) -> list[RemoteFile]:
        """Every file on every storage (ETag-cached folder listings)."""
        return await self._files.async_list_files()

    async def async_stat(self, path: str) -> RemoteFile:
        """One file's details, with the slicer's ``meta``."""
        return await self._files.async_stat(path)

    def async_open(self, path: str) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
        """Stream a file's bytes (``refs.download``, same authentication)."""
        return self._files.async_open(path)

    async def async_delete(self, path: str) -> None:
        """Delete a file on the printer."""
        await self._files.async_delete(path)

    async def async_job_file(self, state: PrinterState) -> RemoteFile | None:
        """The current job's file (``/api/v1/job`` ``file``); None without a job."""
        if state.job_name is None and not state.is_active:
            return None
        return await self._files.async_job_file()

    async def async_read_thumbnail(self, file: RemoteFile) -> bytes | None:
        """The file's thumbnail (``refs.thumbnail``), None when it has none."""
        return await self._files.async_read_thumbnail(file)

    def diagnostics(self) -> dict[str, Any]:
        """API version, auth mode, last status/job JSON; never the password or API key."""
        version = self._version
        return {
            "base_url": self._base_url,
            "api_version": version.api if version else None,
            "server_version": version.server if version else None,
            "firmware": version.firmware if version else None,
            "printer_type": version.printer if version else None,
            "capabilities": dict(version.capabilities) if version else None,
            "auth_mode": self._auth.mode,
            "nozzle_diameter": self.nozzle_diameter,
            "mmu": self._details.mmu if self._details else None,
            "poll_interval": self.poll_interval,
            "last_status": _bounded(self._last_status_json),
            "last_job": _bounded(self._last_job_json),
        }


_SURROGATES = re.compile("[\ud800-\udfff]")


def _bounded(value: Any, depth: int = 32) -> Any:
    """``value`` made serialisable for diagnostics: nesting deeper than ``depth`` cut,
    lone surrogates replaced, NaN, Infinity and integers beyond 64 bits dropped."""
    if isinstance(value, str):
        return _SURROGATES.sub("\ufffd", value)
    if isinstance(value, dict):
        if depth <= 0:
            return None
        return {_bounded(str(k)): _bounded(v, depth - 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_bounded(v, depth - 1) for v in value] if depth > 0 else None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**64:
        return None
    return value


async def async_probe(
    http: httpx.AsyncClient, base_url: str, *, request_timeout: float = 5.0
) -> Literal["digest", "apikey", "open"] | None:
    """Tell whether PrusaLink answers at ``base_url`` and how it authenticates.

    Without credentials PrusaLink answers ``/api/version`` with 401 and a
    Digest or ApiKey challenge ("digest" / "apikey"); a printer that allows
    anonymous reads answers 200 with the version JSON ("open"). Anything else
    (no answer, another web server) is not PrusaLink (None).
    """
    try:
        response = await http.get(f"{base_url}/api/version", timeout=request_timeout)
    except (httpx.HTTPError, OSError):
        return None
    if response.status_code == 401:
        challenge = response.headers.get("WWW-Authenticate", "").lower()
        if challenge.startswith("digest"):
            return "digest"
        if challenge.startswith("apikey"):
            return "apikey"
        return None
    if response.status_code == 200:
        try:
            body = response.json()
        except (ValueError, RecursionError):
            return None
        if isinstance(body, dict) and "api" in body and "printer" in body:
            return "open"
    return None
