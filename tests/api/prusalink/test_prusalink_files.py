"""PrusaLinkClient's file capability (api/prusalink/files.py) against the simulator.

Every JSON exchange is checked against the OpenAPI spec by the ``http`` fixture.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prusalink_helpers import BOTH_TRANSPORTS, ClientFactory, Recorded, SimFactory

from custom_components.printernizer.api.models import (
    FileError,
    FileTransferError,
    PrinterAuthError,
    PrinterConnectionError,
    PrinterFileClient,
    PrinterState,
    PrinterStatus,
    PrinterThumbnailClient,
    RemoteFile,
    RemoteFileNotFoundError,
)
from custom_components.printernizer.api.prusalink import files as files_module
from custom_components.printernizer.api.prusalink.client import PrusaLinkClient
from custom_components.printernizer.api.prusalink.files import remote_file, safe_display_name
from simulator.prusalink import PrusaLinkSimulator

pytestmark = pytest.mark.simulator

ACTIVE = PrinterState(status=PrinterStatus.PRINTING, job_name="x")


async def _read(client: PrusaLinkClient, path: str) -> bytes:
    async with client.async_open(path) as chunks:
        return b"".join([chunk async for chunk in chunks])


def _paths(sim: PrusaLinkSimulator) -> dict[str, bytes]:
    return {f"/usb/{f.rel_path}": f.content for f in sim.files}


async def test_protocols(sim: PrusaLinkSimulator, make_client: ClientFactory) -> None:
    """PrusaLinkClient implements both optional protocols."""
    client = make_client(sim)
    assert isinstance(client, PrinterFileClient)
    assert isinstance(client, PrinterThumbnailClient)


async def test_list_files_nested(sim: PrusaLinkSimulator, make_client: ClientFactory) -> None:
    """Folders are recursed; paths are the short-name API paths, names the long ones."""
    files = {f.path: f for f in await make_client(sim).async_list_files()}
    assert set(files) == set(_paths(sim))
    clip = next(f for f in files.values() if f.name == "clip.gcode")
    assert clip.path.startswith("/usb/PROJECTS/TOOLS/")
    assert clip.storage == "usb" and clip.kind == "print"
    assert clip.size == len(_paths(sim)[clip.path])
    assert clip.modified == datetime.fromtimestamp(1_764_000_000, UTC)
    assert clip.thumbnail_path == f"/thumb/l{clip.path}"


async def test_relisting_uses_etag(sim: PrusaLinkSimulator, make_client: ClientFactory) -> None:
    """A second listing sends If-None-Match; 304 answers reuse the cached children."""
    client = make_client(sim)
    first = await client.async_list_files()
    assert sim.not_modified_count == 0
    second = await client.async_list_files()
    assert second == first
    assert sim.not_modified_count == 3  # usb, PROJECTS, PROJECTS/TOOLS
    added = sim.add_file("new part.gcode", folder="PROJECTS")
    third = {f.path for f in await client.async_list_files()}
    assert f"/usb/{added.rel_path}" in third
    assert sim.not_modified_count == 5  # PROJECTS changed; usb and TOOLS did not


async def test_stat_with_meta(sim: PrusaLinkSimulator, make_client: ClientFactory) -> None:
    """Details include the slicer's meta; a folder or a missing file is not found."""
    client = make_client(sim)
    benchy = sim.file_by_name("benchy.bgcode")
    assert benchy is not None
    entry = await client.async_stat(f"/usb/{benchy.rel_path}")
    assert entry.name == "benchy.bgcode"
    assert entry.meta is not None and entry.meta["estimated_print_time"] == 2_820
    for missing in ("/usb/NOPE.BGC", "/usb/PROJECTS", "/usb", "relative/x", "/usb/../etc"):
        with pytest.raises(RemoteFileNotFoundError):
            await client.async_stat(missing)


@pytest.mark.parametrize("auth_mode", ["digest", "digest_no_qop", "apikey"])
@BOTH_TRANSPORTS
async def test_download_bytes_equal(
    make_sim: SimFactory, make_client: ClientFactory, auth_mode: str
) -> None:
    """refs.download is fetched with the same authentication; bytes equal, nested too."""
    sim = await make_sim(auth_mode=auth_mode)
    client = make_client(sim)
    big = sim.add_file("big.bgcode", folder="PROJECTS", content=bytes(range(256)) * 8192)
    for path, content in _paths(sim).items():
        assert await _read(client, path) == content, path
    assert len(await _read(client, f"/usb/{big.rel_path}")) == len(big.content)


@BOTH_TRANSPORTS
async def test_download_errors(sim: PrusaLinkSimulator, make_client: ClientFactory) -> None:
    """Missing file: RemoteFileNotFoundError; wrong password: PrinterAuthError."""
    with pytest.raises(RemoteFileNotFoundError):
        await _read(make_client(sim), "/usb/NOPE.BGC")
    wrong = make_client(sim, password="wrong")
    path = next(iter(_paths(sim)))
    with pytest.raises(PrinterAuthError):
        await _read(wrong, path)
    with pytest.raises(PrinterAuthError):
        await wrong.async_list_files()
    sim.fail_mode = "500"
    with pytest.raises(PrinterConnectionError):
        await make_client(sim).async_list_files()


@BOTH_TRANSPORTS
async def test_leaving_early(sim: PrusaLinkSimulator, make_client: ClientFactory) -> None:
    """Leaving the block early closes the response; the next download works."""
    client = make_client(sim)
    big = sim.add_file("big.bgcode", content=b"x" * (1024 * 1024))
    path = f"/usb/{big.rel_path}"
    with pytest.raises(RuntimeError):
        async with client.async_open(path) as chunks:
            async for _chunk in chunks:
                raise RuntimeError("consumer failed")
    assert await _read(client, path) == big.content


async def test_delete(sim: PrusaLinkSimulator, make_client: ClientFactory) -> None:
    """DELETE removes a file; missing: not found; the printed file: FileError (409)."""
    client = make_client(sim)
    doomed = sim.add_file("doomed.gcode", folder="PROJECTS/TOOLS")
    await client.async_delete(f"/usb/{doomed.rel_path}")
    assert sim.file_by_path(doomed.rel_path) is None
    with pytest.raises(RemoteFileNotFoundError):
        await client.async_delete(f"/usb/{doomed.rel_path}")
    sim.start_print("benchy.bgcode")
    assert sim.job is not None
    with pytest.raises(FileError, match="being printed"):
        await client.async_delete(f"/usb/{sim.job.file.rel_path}")


async def test_job_file(sim: PrusaLinkSimulator, make_client: ClientFactory) -> None:
    """The job's file from /api/v1/job (top level and nested); None without a job."""
    client = make_client(sim)
    assert await client.async_job_file(ACTIVE) is None  # 204
    sim.start_print("benchy.bgcode")
    found = await client.async_job_file(ACTIVE)
    benchy = sim.file_by_name("benchy.bgcode")
    assert benchy is not None and found is not None
    assert found.path == f"/usb/{benchy.rel_path}" and found.name == "benchy.bgcode"
    assert await _read(client, found.path) == benchy.content
    sim.clear()
    sim.start_print("clip.gcode")
    nested = await client.async_job_file(ACTIVE)
    assert nested is not None and nested.path.startswith("/usb/PROJECTS/TOOLS/")
    assert await client.async_job_file(PrinterState(status=PrinterStatus.IDLE)) is None


async def test_thumbnail(sim: PrusaLinkSimulator, make_client: ClientFactory) -> None:
    """refs.thumbnail gives the PNG; a file without one (or a 404) gives None."""
    client = make_client(sim)
    files = await client.async_list_files()
    first = files[0]
    data = await client.async_read_thumbnail(first)
    simfile = next(f for f in sim.files if f"/usb/{f.rel_path}" == first.path)
    assert data == simfile.thumbnail_png
    none = RemoteFile(path="/usb/X.BGC", name="x", size=1, modified=None, storage="usb")
    assert await client.async_read_thumbnail(none) is None
    gone = RemoteFile(
        path="/usb/X.BGC",
        name="x",
        size=1,
        modified=None,
        storage="usb",
        thumbnail_path="/thumb/l/usb/X.BGC",
    )
    assert await client.async_read_thumbnail(gone) is None


async def test_thumbnail_formats(sim: PrusaLinkSimulator, make_client: ClientFactory) -> None:
    """PNG, JPEG and QOI (magic ``qoif``, lower case) are images; other bytes give None."""
    client = make_client(sim)
    first = (await client.async_list_files())[0]
    simfile = next(f for f in sim.files if f"/usb/{f.rel_path}" == first.path)
    for data, served in (
        (b"qoif" + bytes(20), True),
        (b"\xff\xd8\xff\xe0" + bytes(20), True),
        (b"QOIF" + bytes(20), False),
        (b"GIF89a" + bytes(20), False),
    ):
        simfile.thumbnail_png = data
        assert await client.async_read_thumbnail(first) == (data if served else None)


def test_hostile_entries() -> None:
    """Refs to other hosts or with traversal are dropped; bad types become None."""
    entry = {
        "name": "A.BGC",
        "display_name": 42,
        "size": -1,
        "m_timestamp": "yesterday",
        "type": "PRINT_FILE",
        "refs": {"thumbnail": "//evil.example/x.png", "download": "http://evil/x"},
    }
    file = remote_file("/usb/A.BGC", entry, "usb")
    assert (file.name, file.size, file.modified, file.thumbnail_path) == (
        "A.BGC",
        None,
        None,
        None,
    )
    for ref in ("/thumb/../../etc", "/a\\b", "/a\nb"):
        assert (
            remote_file("/usb/A", {**entry, "refs": {"thumbnail": ref}}, "usb").thumbnail_path
            is None
        )


async def test_malformed_listing_is_an_error() -> None:
    """A printer answering junk JSON: a FileError, not a crash (via a stub transport)."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/storage":
            return httpx.Response(200, json={"storage_list": [{"path": "/usb", "available": True}]})
        return httpx.Response(200, content=b"{not json", headers={"ETag": '"x"'})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = PrusaLinkClient(http, "http://printer.invalid", password="p")
        with pytest.raises(FileError, match="invalid JSON"):
            await client.async_list_files()


async def test_deeply_nested_json_is_an_error() -> None:
    """JSON nested deeper than the parser's recursion limit: FileError, not RecursionError."""
    deep = b"[" * 200_000 + b"]" * 200_000

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/storage":
            return httpx.Response(200, json={"storage_list": [{"path": "/usb", "available": True}]})
        return httpx.Response(200, content=deep)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = PrusaLinkClient(http, "http://printer.invalid", password="p")
        with pytest.raises(FileError, match="invalid JSON"):
            await client.async_list_files()
        with pytest.raises(FileError, match="invalid JSON"):
            await client.async_stat("/usb/A.BGC")


@BOTH_TRANSPORTS
async def test_download_asks_for_identity(
    sim: PrusaLinkSimulator, make_client: ClientFactory, http: httpx.AsyncClient
) -> None:
    """Downloads ask for the bytes as stored, although the shared client offers gzip."""
    assert "gzip" in http.headers["accept-encoding"]
    path, content = next(iter(_paths(sim).items()))
    assert await _read(make_client(sim), path) == content
    assert sim.download_accept_encodings == ["identity"]


@BOTH_TRANSPORTS
async def test_compressed_download_refused(
    sim: PrusaLinkSimulator, make_client: ClientFactory
) -> None:
    """A printer that gzips anyway (a decompression bomb): refused before inflating a byte."""
    bomb = sim.add_file("bomb.bgcode", content=b"G28\n")
    sim.download_gzip = True
    sim.download_extra = 64 * 1024 * 1024
    client = make_client(sim)
    path = f"/usb/{bomb.rel_path}"
    got = 0
    for listed_first in (False, True):
        if listed_first:
            await client.async_list_files()
        with pytest.raises(FileTransferError, match="compressed"):
            async with client.async_open(path) as chunks:
                async for chunk in chunks:
                    got += len(chunk)
    assert got == 0


@BOTH_TRANSPORTS
async def test_download_without_length_bounded_by_listing(
    sim: PrusaLinkSimulator, make_client: ClientFactory
) -> None:
    """No Content-Length: the download stops once it exceeds the size the listing reported."""
    file = sim.add_file("grows.bgcode", content=b"x" * 1000)
    path = f"/usb/{file.rel_path}"
    sim.download_chunked = True
    client = make_client(sim)
    listed = {f.path: f for f in await client.async_list_files()}
    assert listed[path].size == 1000
    assert await _read(client, path) == file.content  # exact size: fine
    sim.download_extra = 16 * 1024 * 1024
    got = 0
    with pytest.raises(FileTransferError, match="more than the 1000 bytes"):
        async with client.async_open(path) as chunks:
            async for chunk in chunks:
                got += len(chunk)
    assert got <= 1000


async def test_folder_walk_is_capped(
    sim: PrusaLinkSimulator,
    make_client: ClientFactory,
    recorded: list[Recorded],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """More folders than MAX_FOLDERS: that many listings (breadth first), one warning."""
    monkeypatch.setattr(files_module, "MAX_FOLDERS", 6)
    many = [sim.add_file(f"part {i:02d}.gcode", folder=f"MANY/D{i:02d}") for i in range(20)]
    client = make_client(sim)
    for _ in range(2):
        recorded.clear()
        listed = {f.path for f in await client.async_list_files()}
        folders = [r.path for r in recorded if r.path.startswith("/api/v1/files/")]
        assert folders == [
            "/api/v1/files/usb",
            "/api/v1/files/usb/MANY",
            "/api/v1/files/usb/PROJECTS",
            "/api/v1/files/usb/MANY/D00",
            "/api/v1/files/usb/MANY/D01",
            "/api/v1/files/usb/MANY/D02",
        ]
        top = {f"/usb/{f.rel_path}" for f in sim.files if f.folder in ("", "PROJECTS")}
        assert listed == top | {f"/usb/{f.rel_path}" for f in many[:3]}
    warnings = [r for r in caplog.records if "more than 6 folders" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelname == "WARNING"


HOSTILE_NAMES = {
    "../../etc/passwd.gcode": "_.._etc_passwd.gcode",
    "/abs/olute.bgcode": "_abs_olute.bgcode",
    "..\\..\\win.gcode": "_.._win.gcode",
    "nul\x00byte.gcode": "nulbyte.gcode",
    "line\nbreak\r\x1b[31m.gcode": "linebreak[31m.gcode",
    "\u202egnp.exe.gcode": "gnp.exe.gcode",
    " .hidden. ": "hidden",
}


async def test_hostile_display_names(sim: PrusaLinkSimulator, make_client: ClientFactory) -> None:
    """Names from display_name are made safe; the download still uses the real path."""
    hostile = [
        (sim.add_file(raw, folder="PROJECTS", content=raw.encode() * 3), safe)
        for raw, safe in HOSTILE_NAMES.items()
    ]
    dots = sim.add_file("..", content=b"dots")
    long = sim.add_file("é" * 200 + ".gcode", content=b"long")
    client = make_client(sim)
    listed = {f.path: f for f in await client.async_list_files()}
    for simfile, safe in hostile:
        path = f"/usb/{simfile.rel_path}"
        assert listed[path].name == safe
        assert await _read(client, path) == simfile.content
        stat = await client.async_stat(path)
        assert stat.name == safe
    # nothing left of ".." -> the printer's short name
    assert listed[f"/usb/{dots.rel_path}"].name == dots.name
    long_name = listed[f"/usb/{long.rel_path}"].name
    assert len(long_name.encode()) <= 255
    assert long_name.endswith(".gcode") and long_name.startswith("é" * 100)
    assert await _read(client, f"/usb/{long.rel_path}") == b"long"
    sim.start_print(next(iter(HOSTILE_NAMES)))
    job = await client.async_job_file(ACTIVE)
    assert job is not None
    assert job.name == "_.._etc_passwd.gcode"


@settings(max_examples=1000, deadline=None)
@given(name=st.one_of(st.text(), st.text(alphabet="./\\\x00\n é\u202e\ud800"), st.none()))
def test_safe_display_name_property(name: str | None) -> None:
    """Any display name becomes one harmless name component of at most 255 bytes."""
    safe = safe_display_name(name, "FALLBA~1.BGC")
    assert safe not in ("", ".", "..")
    assert "/" not in safe and "\\" not in safe
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in safe)
    assert len(safe.encode("utf-8")) <= 255
    assert safe == safe.strip(" .")


def test_safe_display_name_examples() -> None:
    """Fallbacks and shortening keep what can be kept."""
    assert safe_display_name(None, "A.BGC") == "A.BGC"
    assert safe_display_name("\ud800.gcode", "A.BGC") == "gcode"
    assert safe_display_name("..", "..") == "file"
    assert safe_display_name(42, "\x00") == "file"
    assert safe_display_name("x" * 300, "A.BGC") == "x" * 255
    shortened = safe_display_name("ü" * 200 + ".gcode.3mf", "A.BGC")
    assert shortened == "ü" * 122 + ".gcode.3mf"  # 244 + 10 bytes: a whole character less
    no_suffix = safe_display_name("a." + "b" * 300, "A.BGC")
    assert no_suffix == "a." + "b" * 253
