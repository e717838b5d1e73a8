"""PrusaLink files against a broken or hostile printer: the simulator's ``overrides``.

Each override replaces one path's answer on the real simulator (127.0.0.1),
so the client's requests, timeouts and dropped connections are real. The
answers are deliberately outside the OpenAPI spec, so these tests use their
own httpx client instead of the spec-checking ``http`` fixture.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import httpx
import pytest
from aiohttp import web
from prusalink_helpers import BOTH_TRANSPORTS

from custom_components.printernizer.api.models import (
    FileAccessDeniedError,
    FileTransferError,
    PrinterAuthError,
    PrinterConnectionError,
    RemoteFileNotFoundError,
)
from custom_components.printernizer.api.prusalink import files as files_module
from custom_components.printernizer.api.prusalink.auth import PrusaLinkAuth
from custom_components.printernizer.api.prusalink.client import PrusaLinkClient
from custom_components.printernizer.api.prusalink.files import PrusaLinkFiles
from simulator.prusalink import PrusaLinkSimulator

pytestmark = pytest.mark.simulator

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
STORAGE = "/api/v1/storage"
ROOT = "/api/v1/files/usb"


@pytest.fixture
async def raw_http() -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client without the spec check (these answers break the spec on purpose)."""
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def files(
    sim: PrusaLinkSimulator,
    raw_http: httpx.AsyncClient,
    download_session: aiohttp.ClientSession | None,
) -> PrusaLinkFiles:
    """The file capability with short timeouts (a hanging printer fails fast)."""
    auth = PrusaLinkAuth(sim.username, sim.password)
    return PrusaLinkFiles(
        raw_http, sim.url, auth, timeout=0.5, transfer_timeout=0.5, session=download_session
    )


def _json(body: Any, status: int = 200, **headers: str) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(
            status=status,
            body=json.dumps(body).encode(),
            content_type="application/json",
            headers=headers,
        )

    return handler


def _status(status: int) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=status)

    return handler


def _partial(sim: PrusaLinkSimulator, sent: bytes, *, announced: int | None, then: str) -> Handler:
    """Send ``sent`` of a body announced as ``announced`` bytes, then hang or drop."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        if announced is None:
            response.enable_chunked_encoding()
        else:
            response.content_length = announced
        await response.prepare(request)
        await response.write(sent)
        if then == "drop":
            assert request.transport is not None
            request.transport.close()
        else:  # hang until the simulator stops
            await sim.wait_stopped()
        return response

    return handler


def _entry(name: str, kind: str = "PRINT_FILE", **extra: Any) -> dict[str, Any]:
    return {"name": name, "display_name": name.lower(), "type": kind, **extra}


# --- listing -------------------------------------------------------------------------


async def test_listing_skips_bad_children(sim: PrusaLinkSimulator, files: PrusaLinkFiles) -> None:
    """Children that are no names, folders named '..', junk types: skipped, not followed."""
    sim.overrides[ROOT] = _json(
        {
            "children": [
                _entry("..", "FOLDER"),
                _entry(".", "FOLDER"),
                _entry("A/B.BGC"),
                _entry("C\\D.BGC"),
                _entry("E\nF.BGC"),
                {"name": 42, "type": "PRINT_FILE"},
                "not an object",
                _entry("OK.BGC", size=3, m_timestamp=1e300),
                _entry("WEIRD.BGC", "SYMLINK"),
            ]
        }
    )
    listed = await files.async_list_files()
    assert [(f.path, f.name, f.size, f.modified) for f in listed] == [
        ("/usb/OK.BGC", "ok.bgc", 3, None)  # a timestamp beyond datetime's range: None
    ]
    assert sim.request_count[f"{ROOT}/.."] == 0


async def test_storages_fallback_and_filtering(
    sim: PrusaLinkSimulator, files: PrusaLinkFiles
) -> None:
    """No storage endpoint: ``usb``; unavailable, junk and duplicate storages are skipped."""
    sim.overrides[STORAGE] = _status(404)
    assert await files.async_storages() == ["usb"]
    sim.overrides[STORAGE] = _json(
        {
            "storage_list": [
                "junk",
                {"path": "/local", "available": False},
                {"path": "/usb", "available": True},
                {"name": "usb"},
                {"path": "/a/b"},
                {"path": "/.."},
                {"path": 7},
                {"name": "sd"},
            ]
        }
    )
    assert await files.async_storages() == ["usb", "sd"]


async def test_folder_gone_during_walk(sim: PrusaLinkSimulator, files: PrusaLinkFiles) -> None:
    """A folder that answers 404 (deleted meanwhile) or 304 unasked is skipped."""
    sim.overrides[f"{ROOT}/PROJECTS"] = _status(404)
    listed = {f.path for f in await files.async_list_files()}
    assert listed == {f"/usb/{f.rel_path}" for f in sim.files if f.folder == ""}
    sim.overrides[f"{ROOT}/PROJECTS"] = _status(304)
    assert {f.path for f in await files.async_list_files()} == listed


@pytest.mark.parametrize(
    ("handler", "match"),
    [
        (_status(403), r"unexpected answer \(HTTP 403\)"),
        (_json(["a", "list"]), r"unexpected answer \(HTTP 200\)"),
        (_json({"children": {"A.BGC": {}}}), "malformed listing"),
    ],
)
async def test_listing_errors(
    sim: PrusaLinkSimulator, files: PrusaLinkFiles, handler: Handler, match: str
) -> None:
    """A listing the client cannot read: FileTransferError naming the problem."""
    sim.overrides[ROOT] = handler
    with pytest.raises(FileTransferError, match=match):
        await files.async_list_files()


async def test_listing_without_etag_is_not_cached(
    sim: PrusaLinkSimulator, files: PrusaLinkFiles
) -> None:
    """No ETag: the next listing asks again without If-None-Match; an ETag lost drops it."""
    seen: list[str | None] = []
    etag: dict[str, str] = {"ETag": '"v1"'}

    async def handler(request: web.Request) -> web.StreamResponse:
        seen.append(request.headers.get("If-None-Match"))
        return web.json_response({"children": [_entry("A.BGC")]}, headers=etag)

    sim.overrides[ROOT] = handler
    for _ in range(2):
        assert [f.path for f in await files.async_list_files()] == ["/usb/A.BGC"]
    etag.clear()  # the printer stops sending ETags: the cached one is forgotten
    await files.async_list_files()
    await files.async_list_files()
    assert seen == [None, '"v1"', '"v1"', None]


async def test_etag_cache_is_bounded(
    sim: PrusaLinkSimulator, raw_http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More folders than MAX_CACHED_FOLDERS: the cache starts over, fewer 304s."""
    auth = PrusaLinkAuth(sim.username, sim.password)
    unbounded = PrusaLinkFiles(raw_http, sim.url, auth)
    for _ in range(2):
        await unbounded.async_list_files()
    assert unbounded.not_modified == 3  # usb, PROJECTS, PROJECTS/TOOLS
    monkeypatch.setattr(files_module, "MAX_CACHED_FOLDERS", 2)
    bounded = PrusaLinkFiles(raw_http, sim.url, auth)
    for _ in range(2):
        await bounded.async_list_files()
    # each third folder clears the cache, so nothing cached survives to be asked again
    assert bounded.not_modified == 0


# --- bounded reads -------------------------------------------------------------------


async def test_json_compressed_or_too_large(
    sim: PrusaLinkSimulator, files: PrusaLinkFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Compressed JSON, a declared or streamed size over the limit: refused."""
    body = json.dumps({"children": [_entry(f"F{i}.BGC") for i in range(50)]}).encode()

    async def gzipped(request: web.Request) -> web.StreamResponse:
        return web.Response(
            body=gzip.compress(body),
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        )

    sim.overrides[ROOT] = gzipped
    with pytest.raises(FileTransferError, match="compressed answer"):
        await files.async_list_files()
    # /api/v1/storage (a few hundred bytes) still fits; the listing does not
    monkeypatch.setattr(files_module, "MAX_JSON_BYTES", len(body) - 1)
    sim.overrides[ROOT] = _json(json.loads(body))
    with pytest.raises(FileTransferError, match=f"^{ROOT}: answer too large"):
        await files.async_list_files()

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(body), 50):
            await response.write(body[start : start + 50])
        await response.write_eof()
        return response

    sim.overrides[ROOT] = chunked
    with pytest.raises(FileTransferError, match=f"^{ROOT}: answer too large"):
        await files.async_list_files()


@pytest.mark.parametrize(("then", "match"), [("hang", "timed out"), ("drop", "connection lost")])
async def test_json_body_interrupted(
    sim: PrusaLinkSimulator, files: PrusaLinkFiles, then: str, match: str
) -> None:
    """A listing body that stops (hangs past the timeout, or the connection drops)."""
    sim.overrides[ROOT] = _partial(sim, b'{"children": [', announced=1000, then=then)
    with pytest.raises(FileTransferError, match=match):
        await files.async_list_files()


# --- transport -----------------------------------------------------------------------


async def test_request_timeout_and_refused(sim: PrusaLinkSimulator, files: PrusaLinkFiles) -> None:
    """No answer in time: FileTransferError; nothing listening: PrinterConnectionError."""
    sim.fail_mode = "timeout"
    with pytest.raises(FileTransferError, match="timed out"):
        await files.async_stat("/usb/A.BGC")
    sim.fail_mode = None
    await sim.stop()
    with pytest.raises(PrinterConnectionError, match="ConnectError"):
        await files.async_stat("/usb/A.BGC")


async def test_unsupported_digest_challenge(sim: PrusaLinkSimulator, files: PrusaLinkFiles) -> None:
    """A digest challenge httpx cannot answer (auth-int only): PrinterConnectionError."""

    async def auth_int(request: web.Request) -> web.StreamResponse:
        return web.Response(
            status=401,
            headers={"WWW-Authenticate": 'Digest realm="x", nonce="abc", qop="auth-int"'},
        )

    sim.overrides[STORAGE] = auth_int
    with pytest.raises(PrinterConnectionError, match="auth-int"):
        await files.async_storages()


# --- single files --------------------------------------------------------------------


async def test_stat_errors(sim: PrusaLinkSimulator, files: PrusaLinkFiles) -> None:
    """403: access denied; a non-object answer: FileTransferError."""
    sim.overrides[f"{ROOT}/A.BGC"] = _status(403)
    with pytest.raises(FileAccessDeniedError):
        await files.async_stat("/usb/A.BGC")
    sim.overrides[f"{ROOT}/A.BGC"] = _json([1, 2])
    with pytest.raises(FileTransferError, match="unexpected answer"):
        await files.async_stat("/usb/A.BGC")


@BOTH_TRANSPORTS
async def test_download_statuses(sim: PrusaLinkSimulator, files: PrusaLinkFiles) -> None:
    """403: FileAccessDeniedError; a redirect is not followed (credentials stay home)."""
    sim.overrides["/usb/A.BGC"] = _status(403)
    with pytest.raises(FileAccessDeniedError):
        async with files.async_open("/usb/A.BGC"):
            pass

    async def redirect(request: web.Request) -> web.StreamResponse:
        return web.Response(status=302, headers={"Location": "http://elsewhere.invalid/x"})

    sim.overrides["/usb/A.BGC"] = redirect
    with pytest.raises(FileTransferError, match="HTTP 302"):
        async with files.async_open("/usb/A.BGC"):
            pass


@BOTH_TRANSPORTS
@pytest.mark.parametrize(("then", "match"), [("hang", "timed out"), ("drop", "connection lost")])
async def test_download_interrupted(
    sim: PrusaLinkSimulator, files: PrusaLinkFiles, then: str, match: str
) -> None:
    """A download that stops halfway: FileTransferError after the bytes that came."""
    sim.overrides["/usb/A.BGC"] = _partial(sim, b"G28\n" * 100, announced=10_000, then=then)
    got = bytearray()
    with pytest.raises(FileTransferError, match=match):
        async with files.async_open("/usb/A.BGC") as chunks:
            async for chunk in chunks:
                got += chunk
    assert bytes(got) == b"G28\n" * 100


async def test_download_shorter_than_announced() -> None:
    """A transport that does not enforce Content-Length (HTTP/2, a proxy): the count does.

    h11 refuses a short HTTP/1.1 body itself (the test above); this transport
    hands over a short body as complete, so the client's own check must fire.
    """

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Length": "100"}, content=b"x" * 10)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = PrusaLinkClient(http, "http://printer.invalid", password="p")
        with pytest.raises(FileTransferError, match="got 10 bytes, the printer announced 100"):
            async with client.async_open("/usb/A.BGC") as chunks:
                assert b"".join([c async for c in chunks]) == b"x" * 10


async def test_thumbnail_too_large(
    sim: PrusaLinkSimulator, files: PrusaLinkFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A thumbnail over MAX_THUMBNAIL_BYTES: None (not an error); within it: the PNG."""
    listed = await files.async_list_files()
    first = next(f for f in listed if f.thumbnail_path)
    data = await files.async_read_thumbnail(first)
    assert data is not None and data.startswith(b"\x89PNG")
    monkeypatch.setattr(files_module, "MAX_THUMBNAIL_BYTES", len(data) - 1)
    assert await files.async_read_thumbnail(first) is None


async def test_delete_errors(sim: PrusaLinkSimulator, files: PrusaLinkFiles) -> None:
    """403: FileAccessDeniedError; any other refusal: FileTransferError with the status."""
    sim.overrides[f"{ROOT}/A.BGC"] = _status(403)
    with pytest.raises(FileAccessDeniedError):
        await files.async_delete("/usb/A.BGC")
    sim.overrides[f"{ROOT}/A.BGC"] = _status(400)
    with pytest.raises(FileTransferError, match="HTTP 400"):
        await files.async_delete("/usb/A.BGC")
    with pytest.raises(RemoteFileNotFoundError):
        await files.async_delete("usb-without-slash")


@pytest.mark.parametrize(
    "file",
    [
        None,
        "a string",
        {"path": 7, "name": "A.BGC"},
        {"path": "/usb", "name": ""},
        {"path": "relative", "name": "A.BGC"},
        {"path": "/usb/../..", "name": "A.BGC"},
        {"path": "/", "name": "usb"},  # "/usb": a storage, not a file
    ],
)
async def test_job_file_unusable(sim: PrusaLinkSimulator, files: PrusaLinkFiles, file: Any) -> None:
    """A job whose file is missing, malformed or no file path: no job file."""
    sim.overrides["/api/v1/job"] = _json({"id": 1, "state": "PRINTING", "file": file})
    assert await files.async_job_file() is None


async def test_job_file_unexpected(sim: PrusaLinkSimulator, files: PrusaLinkFiles) -> None:
    """/api/v1/job answering 403 or a list: FileTransferError."""
    for handler in (_status(403), _json([1])):
        sim.overrides["/api/v1/job"] = handler
        with pytest.raises(FileTransferError, match="unexpected answer"):
            await files.async_job_file()


def _challenge(value: str) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=401, headers={"WWW-Authenticate": value})

    return handler


@BOTH_TRANSPORTS
@pytest.mark.parametrize(
    ("challenge", "error", "match"),
    [
        ('Digest realm="x", nonce="abc", qop="auth-int"', PrinterConnectionError, "auth-int"),
        ('Digest realm="x", qop="auth"', PrinterConnectionError, "ProtocolError"),  # no nonce
        ('Basic realm="x"', PrinterAuthError, "HTTP 401"),  # a scheme PrusaLink never asks for
        ("Digest", PrinterAuthError, "HTTP 401"),  # no parameters: nothing to answer
    ],
)
async def test_download_challenges_not_answered(
    sim: PrusaLinkSimulator,
    files: PrusaLinkFiles,
    challenge: str,
    error: type[Exception],
    match: str,
) -> None:
    """A challenge the client cannot answer: a clear error, one retry at most."""
    sim.overrides["/usb/A.BGC"] = _challenge(challenge)
    with pytest.raises(error, match=match):
        async with files.async_open("/usb/A.BGC"):
            pass
    assert sim.request_count["/usb/A.BGC"] <= 2


@BOTH_TRANSPORTS
async def test_download_request_failures(sim: PrusaLinkSimulator, files: PrusaLinkFiles) -> None:
    """500: PrinterConnectionError; no answer in time: FileTransferError; refused: connection."""
    sim.fail_mode = "500"
    with pytest.raises(PrinterConnectionError, match="HTTP 500"):
        async with files.async_open("/usb/A.BGC"):
            pass
    sim.fail_mode = "timeout"
    with pytest.raises(FileTransferError, match="timed out"):
        async with files.async_open("/usb/A.BGC"):
            pass
    sim.fail_mode = None
    await sim.stop()
    with pytest.raises(PrinterConnectionError, match=r"ConnectError|ClientConnectorError"):
        async with files.async_open("/usb/A.BGC"):
            pass
