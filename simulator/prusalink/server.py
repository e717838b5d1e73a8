"""A PrusaLink printer at the HTTP level (aiohttp), following the OpenAPI spec.

Tests drive the print explicitly (``start_print``, ``set_progress``, ``pause``,
``finish``, ...) so every scenario is deterministic; ``autoplay`` runs a
wall-clock loop of prints for development.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import json
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from aiohttp import web

from .assets import (
    M_TIMESTAMP,
    STORAGE_NAME,
    STORAGE_PATH,
    SimFile,
    default_files,
    short_name,
)
from .digest import DigestVerifier

_LOGGER = logging.getLogger(__name__)

AuthMode = Literal["digest", "digest_no_qop", "apikey"]
FailMode = Literal["timeout", "500", "401"] | None

REALM = "Printer API"
NOZZLE_TARGET = 215.0
BED_TARGET = 60.0
AMBIENT = 24.0
#: How long a request hangs in fail_mode "timeout" (unless the simulator stops first).
HANG_SECONDS = 3600.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class SimJob:
    """The simulated job."""

    id: int
    file: SimFile
    state: str = "PRINTING"
    progress: float = 0.0
    time_printing: int = 0

    @property
    def time_remaining(self) -> int:
        """Seconds left, from the file's estimate and the progress."""
        return max(0, round(self.file.print_time * (100.0 - self.progress) / 100.0))


class PrusaLinkSimulator:
    """A PrusaLink printer on ``host:port`` (``port=0`` picks a free one)."""

    def __init__(
        self,
        *,
        username: str = "maker",
        password: str = "secret-pass",  # noqa: S107 (simulator default)
        api_key: str | None = None,
        auth_mode: AuthMode = "digest",
        host: str = "127.0.0.1",
        port: int = 0,
        api_version: str = "2.0.0",
        serial: str | None = "SN-SIM-0001",
        hostname: str = "prusa-mk4",
        firmware: str = "6.2.4+sim",
    ) -> None:
        """Configure the simulator; nothing runs until :meth:`start`."""
        if auth_mode not in ("digest", "digest_no_qop", "apikey"):
            raise ValueError(f"unknown auth mode {auth_mode!r}")
        self.username = username
        self._password = password
        self._api_key = api_key
        self.auth_mode: AuthMode = auth_mode
        self.host = host
        self._requested_port = port
        self.api_version = api_version
        self.serial = serial
        self.hostname = hostname
        self.firmware = firmware
        self.fail_mode: FailMode = None
        self.request_count: Counter[str] = Counter()
        #: Authorization / X-Api-Key headers seen (for auth tests).
        self.auth_headers: list[str] = []
        self.digest = DigestVerifier(realm=REALM, qop=auth_mode == "digest")
        self.files: list[SimFile] = default_files()
        #: 304 answers given to If-None-Match (ETag) requests.
        self.not_modified_count = 0
        #: Hostile downloads: ``download_gzip`` sends the body gzip-compressed
        #: whatever the client's Accept-Encoding says; ``download_chunked``
        #: sends it without Content-Length; ``download_extra`` appends that
        #: many zero bytes to the file (more than the listing says).
        self.download_gzip = False
        self.download_chunked = False
        self.download_extra = 0
        #: Accept-Encoding of every download request ("" when absent).
        self.download_accept_encodings: list[str] = []
        #: A broken or hostile printer: ``overrides[path]`` answers every
        #: request for that (decoded) path in place of the API, before
        #: authentication (odd statuses, malformed bodies, dropped connections).
        self.overrides: dict[str, Handler] = {}
        #: A deterministic pause mid-body: while ``download_gate`` is set to an
        #: unset Event, a download sends its first half, sets ``download_paused``
        #: and waits for the gate (or the simulator stopping) before the rest.
        self.download_gate: asyncio.Event | None = None
        self.download_paused = asyncio.Event()

        self.state = "IDLE"
        self.job: SimJob | None = None
        self._next_job_id = 100
        self.nozzle_temp = AMBIENT
        self.nozzle_target = 0.0
        self.bed_temp = AMBIENT
        self.bed_target = 0.0
        self.axis_z = 0.0
        self.speed = 100
        self.flow = 100

        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._stopping = asyncio.Event()
        self._autoplay_task: asyncio.Task[None] | None = None

    # --- properties ---------------------------------------------------------

    @property
    def password(self) -> str:
        """The digest password (also the API key unless ``api_key`` was given)."""
        return self._password

    @password.setter
    def password(self, value: str) -> None:
        self._password = value

    @property
    def api_key(self) -> str:
        """The key accepted in ``apikey`` mode."""
        return self._api_key if self._api_key is not None else self._password

    @api_key.setter
    def api_key(self, value: str | None) -> None:
        self._api_key = value

    @property
    def port(self) -> int:
        """The bound port (after :meth:`start`)."""
        if self._port is None:
            raise RuntimeError("simulator not started")
        return self._port

    @property
    def url(self) -> str:
        """``http://host:port``."""
        return f"http://{self.host}:{self.port}"

    # --- lifecycle ----------------------------------------------------------

    def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/api/version", self._h_version)
        app.router.add_get("/api/v1/info", self._h_info)
        app.router.add_get("/api/v1/status", self._h_status)
        app.router.add_get("/api/v1/job", self._h_job)
        app.router.add_delete("/api/v1/job/{id}", self._h_stop)
        app.router.add_put("/api/v1/job/{id}/pause", self._h_pause)
        app.router.add_put("/api/v1/job/{id}/resume", self._h_resume)
        app.router.add_put("/api/v1/job/{id}/continue", self._h_continue)
        app.router.add_get("/api/v1/storage", self._h_storage)
        app.router.add_get("/api/v1/files/{storage}", self._h_files)
        app.router.add_get("/api/v1/files/{storage}/{path:.*}", self._h_files)
        app.router.add_delete("/api/v1/files/{storage}/{path:.*}", self._h_delete_file)
        app.router.add_get("/api/v1/transfer", self._h_transfer)
        app.router.add_get(f"{STORAGE_PATH}/{{name:.+}}", self._h_download)
        app.router.add_get(f"/thumb/{{size}}{STORAGE_PATH}/{{name:.+}}", self._h_thumb)
        return app

    async def start(self) -> None:
        """Bind and serve."""
        if self._runner is not None:
            raise RuntimeError("already started")
        self._stopping = asyncio.Event()
        runner = web.AppRunner(
            self._make_app(), access_log=None, handle_signals=False, shutdown_timeout=0.1
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        _LOGGER.debug("PrusaLink simulator on %s", self.url)

    async def stop(self) -> None:
        """Stop serving; hanging requests and autoplay end at once."""
        self._stopping.set()
        await self.stop_autoplay()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def wait_stopped(self) -> None:
        """Return once :meth:`stop` is called (a hanging override waits on this)."""
        await self._stopping.wait()

    async def __aenter__(self) -> PrusaLinkSimulator:
        """Start (async context manager)."""
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stop (async context manager)."""
        await self.stop()

    # --- scripted print -------------------------------------------------------

    def file_by_name(self, name: str) -> SimFile | None:
        """Find a storage file by display name or short name."""
        for file in self.files:
            if name in (file.display_name, file.name):
                return file
        return None

    def file_by_path(self, rel_path: str) -> SimFile | None:
        """Find a storage file by its path inside the storage (``FOLDER/NAME.BGC``)."""
        rel_path = rel_path.strip("/")
        for file in self.files:
            if file.rel_path == rel_path:
                return file
        return None

    def folders(self) -> set[str]:
        """Every folder inside the storage ("" is the top level)."""
        out = {""}
        for file in self.files:
            parts = file.folder.split("/") if file.folder else []
            for i in range(1, len(parts) + 1):
                out.add("/".join(parts[:i]))
        return out

    def add_file(
        self,
        display_name: str,
        print_time: int = 1800,
        *,
        folder: str = "",
        content: bytes = b"",
    ) -> SimFile:
        """Add a print file to the storage (in ``folder``, with ``content`` if given)."""
        name = short_name(display_name, {f.name for f in self.files if f.folder == folder})
        file = SimFile(
            name=name,
            display_name=display_name,
            print_time=print_time,
            rgb=(200, 80, 160),
            folder=folder.strip("/"),
            content=content,
        )
        self.files.append(file)
        return file

    def start_print(self, name: str = "benchy.bgcode") -> int:
        """Start printing ``name`` (added to the storage when unknown); return the new job id."""
        file = self.file_by_name(name) or self.add_file(name)
        self._next_job_id += 1
        self.job = SimJob(id=self._next_job_id, file=file)
        self.state = "PRINTING"
        self.nozzle_target, self.bed_target = NOZZLE_TARGET, BED_TARGET
        self.set_progress(0)
        return self.job.id

    def _require_job(self) -> SimJob:
        if self.job is None:
            raise RuntimeError("no job")
        return self.job

    def set_progress(self, progress: float) -> None:
        """Set the job's progress; remaining/printing time, Z and temperatures follow."""
        job = self._require_job()
        job.progress = max(0.0, min(100.0, float(progress)))
        job.time_printing = round(job.file.print_time * job.progress / 100.0)
        self.axis_z = round(job.progress / 100.0 * 40.0 * job.file.layer_height / 0.2, 2)
        if self.state in ("PRINTING", "PAUSED"):
            # Still heating at 0 %, at the targets once the print is under way.
            factor = 1.0 if job.progress >= 1.0 else 0.9
            self.nozzle_temp = round(AMBIENT + (self.nozzle_target - AMBIENT) * factor, 1)
            self.bed_temp = round(AMBIENT + (self.bed_target - AMBIENT) * factor, 1)

    def _set_job_state(self, state: str) -> None:
        self.state = state
        if self.job is not None:
            self.job.state = state

    def pause(self) -> None:
        """Pause (PRINTING → PAUSED)."""
        self._require_job()
        self._set_job_state("PAUSED")

    def resume(self) -> None:
        """Resume (PAUSED → PRINTING)."""
        self._require_job()
        self._set_job_state("PRINTING")

    def _cool_down(self) -> None:
        self.nozzle_target = self.bed_target = 0.0

    def finish(self) -> None:
        """Finish the job (FINISHED, 100 %)."""
        self.set_progress(100)
        self._set_job_state("FINISHED")
        self._cool_down()

    def fail(self) -> None:
        """The printer reports an error (ERROR)."""
        self._set_job_state("ERROR")
        self._cool_down()

    def stop_job(self) -> None:
        """The user stopped the job on the printer (STOPPED)."""
        self._require_job()
        self._set_job_state("STOPPED")
        self._cool_down()

    def attention(self) -> None:
        """The printer waits for the user (ATTENTION), e.g. filament runout."""
        self.state = "ATTENTION"

    def busy(self) -> None:
        """The printer is busy (BUSY), e.g. calibrating."""
        self.state = "BUSY"

    def clear(self) -> None:
        """Back to IDLE without a job (``/api/v1/job`` answers 204)."""
        self.job = None
        self.state = "IDLE"
        self._cool_down()
        self.nozzle_temp = self.bed_temp = AMBIENT
        self.axis_z = 0.0

    # --- autoplay -------------------------------------------------------------

    def start_autoplay(self, *, print_seconds: float = 120.0, idle_seconds: float = 15.0) -> None:
        """Loop prints on the wall clock until :meth:`stop_autoplay` (development)."""
        if self._autoplay_task is None or self._autoplay_task.done():
            self._autoplay_task = asyncio.get_running_loop().create_task(
                self._autoplay(print_seconds, idle_seconds), name="prusalink-sim-autoplay"
            )

    async def stop_autoplay(self) -> None:
        """Stop the autoplay loop, if any."""
        task, self._autoplay_task = self._autoplay_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _autoplay(self, print_seconds: float, idle_seconds: float) -> None:
        step = max(print_seconds / 100.0, 0.05)
        index = 0
        while True:
            file = self.files[index % len(self.files)]
            index += 1
            self.clear()
            await asyncio.sleep(idle_seconds)
            self.start_print(file.display_name)
            progress = 0.0
            while progress < 100.0:
                await asyncio.sleep(step)
                if self.state == "PAUSED":
                    continue
                if self.state != "PRINTING":
                    break  # stopped through the API
                progress += 1.0
                self.set_progress(progress)
            if self.state == "PRINTING":
                self.finish()
            await asyncio.sleep(idle_seconds)

    # --- HTTP: auth and failure injection --------------------------------------

    def _unauthorized(self) -> web.Response:
        if self.auth_mode == "apikey":
            challenge = f'ApiKey realm="{REALM}"'
        else:
            challenge = self.digest.challenge()
        return web.json_response(
            {"title": "Unauthorized", "text": "Authentication required"},
            status=401,
            headers={"WWW-Authenticate": challenge},
        )

    def _authorized(self, request: web.Request) -> bool:
        if self.auth_mode == "apikey":
            key = request.headers.get("X-Api-Key")
            if key is not None:
                self.auth_headers.append(f"X-Api-Key: {key}")
            return key is not None and key == self.api_key
        header = request.headers.get("Authorization")
        if header is not None:
            self.auth_headers.append(header)
        return self.digest.verify(
            header, request.method, request.raw_path, self.username, self._password
        )

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.request_count[request.path] += 1
        if self.fail_mode == "timeout":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), HANG_SECONDS)
            return web.Response(status=503, text="Service Unavailable")
        if self.fail_mode == "500":
            return web.Response(status=500, text="Internal Server Error")
        override = self.overrides.get(request.path)
        if override is not None:
            return await override(request)
        if self.fail_mode == "401" or not self._authorized(request):
            return self._unauthorized()
        return await handler(request)

    # --- HTTP: bodies ---------------------------------------------------------

    def version_json(self) -> dict[str, Any]:
        """``/api/version`` (Buddy firmware fields plus the spec's required ``version``)."""
        return {
            "api": self.api_version,
            "server": "2.1.2",
            "version": "2.1.2",
            "nozzle_diameter": 0.4,
            "text": "PrusaLink",
            "hostname": self.hostname,
            "firmware": self.firmware,
            "printer": "1.4.0",
            "sdk": "0.7.0",
            "capabilities": {"upload-by-put": True},
        }

    def info_json(self) -> dict[str, Any]:
        """``/api/v1/info`` (no ``serial`` when the simulator has none)."""
        info: dict[str, Any] = {
            "nozzle_diameter": 0.4,
            "mmu": False,
            "hostname": self.hostname,
            "min_extrusion_temp": 170,
        }
        if self.serial is not None:
            info["serial"] = self.serial
        return info

    def status_json(self) -> dict[str, Any]:
        """``/api/v1/status``."""
        printer: dict[str, Any] = {
            "state": self.state,
            "temp_nozzle": self.nozzle_temp,
            "target_nozzle": self.nozzle_target,
            "temp_bed": self.bed_temp,
            "target_bed": self.bed_target,
            "axis_z": self.axis_z,
            "flow": self.flow,
            "speed": self.speed,
            "fan_hotend": 3600 if self.nozzle_target else 0,
            "fan_print": 5200 if self.state == "PRINTING" else 0,
        }
        if self.state not in ("PRINTING", "BUSY"):
            printer["axis_x"] = 7.9
            printer["axis_y"] = 8.4
        body: dict[str, Any] = {
            "storage": {"path": f"{STORAGE_PATH}/", "name": STORAGE_NAME, "read_only": False},
            "printer": printer,
        }
        if self.job is not None:
            body["job"] = {
                "id": self.job.id,
                "progress": self.job.progress,
                "time_remaining": self.job.time_remaining,
                "time_printing": self.job.time_printing,
            }
        return body

    def job_json(self) -> dict[str, Any] | None:
        """``/api/v1/job`` body, None for 204."""
        job = self.job
        if job is None:
            return None
        return {
            "id": job.id,
            "state": job.state,
            "progress": job.progress,
            "time_remaining": job.time_remaining,
            "time_printing": job.time_printing,
            "file": job.file.job_file(),
        }

    # --- HTTP: handlers ---------------------------------------------------------

    async def _h_version(self, request: web.Request) -> web.Response:
        return web.json_response(self.version_json())

    async def _h_info(self, request: web.Request) -> web.Response:
        return web.json_response(self.info_json())

    async def _h_status(self, request: web.Request) -> web.Response:
        return web.json_response(self.status_json())

    async def _h_job(self, request: web.Request) -> web.Response:
        body = self.job_json()
        if body is None:
            return web.Response(status=204)
        return web.json_response(body)

    async def _h_transfer(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    @staticmethod
    def _error(status: int, title: str, text: str) -> web.Response:
        return web.json_response({"title": title, "text": text}, status=status)

    def _job_for(self, request: web.Request) -> SimJob | web.Response:
        try:
            job_id = int(request.match_info["id"])
        except ValueError:
            return self._error(404, "Not Found", "Job id must be an integer")
        if self.job is None or self.job.id != job_id:
            return self._error(404, "Not Found", f"No job with id {job_id}")
        return self.job

    def _conflict(self, action: str) -> web.Response:
        return self._error(409, "Conflict", f"Cannot {action} in state {self.state}")

    async def _h_pause(self, request: web.Request) -> web.Response:
        job = self._job_for(request)
        if isinstance(job, web.Response):
            return job
        if self.state != "PRINTING":
            return self._conflict("pause")
        self.pause()
        return web.Response(status=204)

    async def _h_resume(self, request: web.Request) -> web.Response:
        job = self._job_for(request)
        if isinstance(job, web.Response):
            return job
        if self.state != "PAUSED":
            return self._conflict("resume")
        self.resume()
        return web.Response(status=204)

    async def _h_continue(self, request: web.Request) -> web.Response:
        job = self._job_for(request)
        if isinstance(job, web.Response):
            return job
        return self._conflict("continue")

    async def _h_stop(self, request: web.Request) -> web.Response:
        job = self._job_for(request)
        if isinstance(job, web.Response):
            return job
        if self.state not in ("PRINTING", "PAUSED"):
            return self._conflict("stop")
        self.stop_job()
        return web.Response(status=204)

    async def _h_storage(self, request: web.Request) -> web.Response:
        used = sum(len(f.content) for f in self.files)
        return web.json_response(
            {
                "storage_list": [
                    {
                        "name": STORAGE_NAME,
                        "type": "USB",
                        "path": STORAGE_PATH,
                        "print_files": used,
                        "free_space": 7_000_000_000,
                        "total_space": 8_000_000_000,
                        "available": True,
                        "read_only": False,
                    }
                ]
            }
        )

    def _is_printing(self, file: SimFile) -> bool:
        return (
            self.job is not None
            and self.job.file is file
            and self.state in ("PRINTING", "PAUSED", "BUSY", "ATTENTION")
        )

    def _folder_json(self, folder: str) -> dict[str, Any]:
        name = folder.rsplit("/", 1)[-1] if folder else STORAGE_NAME
        children: list[dict[str, Any]] = [f.basic_info() for f in self.files if f.folder == folder]
        for sub in sorted(self.folders()):
            if sub and sub.rpartition("/")[0] == folder:
                short = sub.rsplit("/", 1)[-1]
                children.append(
                    {
                        "name": short,
                        "display_name": short.lower(),
                        "read_only": False,
                        "type": "FOLDER",
                        "m_timestamp": M_TIMESTAMP,
                    }
                )
        return {
            "name": name,
            "display_name": name,
            "read_only": False,
            "type": "FOLDER",
            "m_timestamp": M_TIMESTAMP,
            "children": children,
        }

    def _etag_response(
        self, request: web.Request, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> web.Response:
        """JSON with a content ETag; 304 without a body when If-None-Match matches."""
        text = json.dumps(body, sort_keys=True)
        etag = '"' + hashlib.sha256(text.encode()).hexdigest()[:20] + '"'
        if request.headers.get("If-None-Match") == etag:
            self.not_modified_count += 1
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            text=text,
            content_type="application/json",
            headers={"ETag": etag, **(headers or {})},
        )

    async def _h_files(self, request: web.Request) -> web.Response:
        storage = request.match_info["storage"].strip("/")
        path = request.match_info.get("path", "").strip("/")
        if storage != STORAGE_NAME:
            return self._error(404, "Not Found", f"No storage {storage}")
        if path in self.folders():
            return self._etag_response(request, self._folder_json(path))
        file = self.file_by_path(path) or (self.file_by_name(path) if "/" not in path else None)
        if file is None:
            return self._error(404, "Not Found", f"No file {path}")
        return self._etag_response(
            request,
            file.full_info(),
            headers={
                "Read-Only": "?0",
                "Currently-Printed": "?1" if self._is_printing(file) else "?0",
            },
        )

    async def _h_delete_file(self, request: web.Request) -> web.Response:
        storage = request.match_info["storage"].strip("/")
        path = request.match_info.get("path", "").strip("/")
        file = self.file_by_path(path) if storage == STORAGE_NAME else None
        if file is None:
            return self._error(404, "Not Found", f"No file {path}")
        if self._is_printing(file):
            return self._error(409, "Conflict", "The file is being printed")
        self.files.remove(file)
        return web.Response(status=204)

    async def _h_download(self, request: web.Request) -> web.StreamResponse:
        file = self.file_by_path(request.match_info["name"])
        if file is None:
            return self._error(404, "Not Found", "No such file")
        self.download_accept_encodings.append(request.headers.get("Accept-Encoding", ""))
        # RFC 6266 ``filename*``: a display name with quotes, newlines or NUL
        # (hostile-name tests) cannot break the header.
        headers = {
            "Content-Disposition": "attachment; filename*=UTF-8''"
            + quote(file.display_name, safe="", errors="replace")
        }
        gate = self.download_gate
        if not (self.download_gzip or self.download_chunked or self.download_extra or gate):
            return web.Response(
                body=file.content, content_type="application/octet-stream", headers=headers
            )
        body = file.content + bytes(self.download_extra)
        if self.download_gzip:
            body = gzip.compress(body, compresslevel=9)
            headers["Content-Encoding"] = "gzip"
        response = web.StreamResponse(headers=headers)
        response.content_type = "application/octet-stream"
        if self.download_chunked:
            response.enable_chunked_encoding()
        else:
            response.content_length = len(body)
        await response.prepare(request)
        try:
            half = len(body) // 2 if gate is not None else len(body)
            for start in range(0, half, 64 * 1024):
                await response.write(body[start : min(half, start + 64 * 1024)])
            if gate is not None:
                self.download_paused.set()
                await self._hold(gate)
            for start in range(half, len(body), 64 * 1024):
                await response.write(body[start : start + 64 * 1024])
            await response.write_eof()
        except (ConnectionResetError, OSError):
            pass  # the client gave up (the point of a hostile download)
        return response

    async def _hold(self, gate: asyncio.Event) -> None:
        """Wait for ``gate`` or the simulator stopping, whichever comes first."""
        waits = [asyncio.ensure_future(gate.wait()), asyncio.ensure_future(self._stopping.wait())]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()

    async def _h_thumb(self, request: web.Request) -> web.Response:
        file = self.file_by_path(request.match_info["name"])
        size = request.match_info["size"]
        if file is None or size not in ("s", "l"):
            return self._error(404, "Not Found", "No such thumbnail")
        body = file.icon_png if size == "s" else file.thumbnail_png
        return web.Response(body=body, content_type="image/png")
