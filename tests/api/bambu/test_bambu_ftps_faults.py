"""BambuFtpsClient against misbehaving firmware (the simulator's answers and break_transfers).

Every failure is one of the client's declared errors with a message naming
the command, the path and the cause; afterwards the client works again.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from datetime import UTC, datetime

import aioftp
import pytest
from bambu_helpers import make_client, wait_for

from custom_components.printernizer.api.bambu import ftps
from custom_components.printernizer.api.bambu.client import BambuClient
from custom_components.printernizer.api.bambu.ftps import BambuFtpsClient
from custom_components.printernizer.api.models import (
    FileTransferError,
    PrinterAuthError,
    PrinterConnectionError,
    RemoteFileNotFoundError,
)
from simulator.bambu import BambuSimulator

pytestmark = pytest.mark.simulator

BENCHY = "/cache/benchy.3mf"


def _client(sim: BambuSimulator) -> BambuClient:
    return make_client(sim, ftps_port=sim.ftps_port)


async def _read(client: BambuClient, path: str) -> bytes:
    async with client.async_open(path) as chunks:
        return b"".join([chunk async for chunk in chunks])


def _disk(sim: BambuSimulator, path: str) -> bytes:
    return (sim.ftps.root / path.lstrip("/")).read_bytes()


async def _works_again(sim: BambuSimulator, client: BambuClient) -> None:
    sim.ftps.answers.clear()
    sim.ftps.break_transfers = None
    assert (await client.async_stat(BENCHY)).size == len(_disk(sim, BENCHY))
    assert BENCHY in {f.path for f in await client.async_list_files()}


async def test_busy_printer_retries_then_gives_up(
    sim: BambuSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another session holds the only slot: 421 on every retry, then "busy" (not a crash)."""
    monkeypatch.setattr(ftps, "BUSY_DELAY", 0.0)
    sim.ftps.set_max_sessions(1)
    holder, client = _client(sim), _client(sim)
    async with holder.async_open(BENCHY) as chunks:
        with pytest.raises(PrinterConnectionError, match=r"busy with another session \(421\)"):
            await client.async_list_files()
        assert b"".join([c async for c in chunks]) == _disk(sim, BENCHY)
    await _works_again(sim, client)


@pytest.mark.parametrize(
    ("answer", "error", "message"),
    [
        ("421 Service not available", PrinterConnectionError, r"FTPS login failed: \['421'\]"),
        (None, PrinterConnectionError, r"FTPS login failed: \w+Error"),
    ],
    ids=["other-code", "dropped"],
)
async def test_login_failures(
    sim: BambuSimulator, answer: str | None, error: type[Exception], message: str
) -> None:
    """PASS answered with an unexpected code, or the connection dropped at PASS."""
    sim.ftps.answers["pass"] = answer
    client = _client(sim)
    with pytest.raises(error, match=message):
        await client.async_stat(BENCHY)
    await _works_again(sim, client)


async def test_size_malformed_and_dropped(sim: BambuSimulator) -> None:
    """SIZE answering junk, or the connection lost at SIZE: FileTransferError naming SIZE."""
    client = _client(sim)
    sim.ftps.answers["size"] = "213 lots"
    with pytest.raises(FileTransferError, match=f"SIZE {BENCHY}: malformed answer"):
        await client.async_stat(BENCHY)
    sim.ftps.answers["size"] = None
    with pytest.raises(FileTransferError, match=f"SIZE {BENCHY}: connection lost"):
        await client.async_stat(BENCHY)
    await _works_again(sim, client)


async def test_mdtm_refused_or_dropped(sim: BambuSimulator) -> None:
    """MDTM refused: the file without a date; the connection lost at MDTM: FileTransferError."""
    client = _client(sim)
    sim.ftps.answers["mdtm"] = "502 Command not implemented"
    stat = await client.async_stat(BENCHY)
    assert (stat.size, stat.modified) == (len(_disk(sim, BENCHY)), None)
    sim.ftps.answers["mdtm"] = None
    with pytest.raises(FileTransferError, match=f"MDTM {BENCHY}: connection lost"):
        await client.async_stat(BENCHY)
    await _works_again(sim, client)


async def test_retr_refused_or_dropped(sim: BambuSimulator) -> None:
    """RETR with another error than 550, or the connection lost at RETR."""
    client = _client(sim)
    sim.ftps.answers["retr"] = "451 Local error"
    with pytest.raises(FileTransferError, match=f"RETR {BENCHY}: the printer answered 451"):
        await _read(client, BENCHY)
    sim.ftps.answers["retr"] = None
    with pytest.raises(FileTransferError, match=f"RETR {BENCHY}: connection lost"):
        await _read(client, BENCHY)
    await _works_again(sim, client)
    assert await _read(client, BENCHY) == _disk(sim, BENCHY)


async def test_dele_not_logged_in_or_dropped(sim: BambuSimulator) -> None:
    """DELE answered 530, or the connection lost: PrinterAuthError, FileTransferError; kept."""
    client = _client(sim)
    sim.ftps.answers["dele"] = "530 Please login with USER and PASS"
    with pytest.raises(PrinterAuthError, match=rf"DELE {BENCHY}: not logged in \(530\)"):
        await client.async_delete(BENCHY)
    sim.ftps.answers["dele"] = None
    with pytest.raises(FileTransferError, match=f"DELE {BENCHY}: connection lost"):
        await client.async_delete(BENCHY)
    assert BENCHY in await sim.ftps.paths()
    await _works_again(sim, client)


async def test_list_refused_or_dropped(sim: BambuSimulator) -> None:
    """LIST answered 451, or the connection lost at LIST: FileTransferError naming LIST /."""
    client = _client(sim)
    sim.ftps.answers["list"] = "451 Requested action aborted"
    with pytest.raises(FileTransferError, match="LIST /: the printer answered 451"):
        await client.async_list_files()
    sim.ftps.answers["list"] = None
    with pytest.raises(FileTransferError, match="LIST /: connection lost"):
        await client.async_list_files()
    await _works_again(sim, client)


async def test_root_not_listable_is_an_empty_listing(sim: BambuSimulator) -> None:
    """LIST / answered 550 (no such folder): no files, not an error."""
    client = _client(sim)
    sim.ftps.answers["list"] = "550 Failed to open directory."
    assert await client.async_list_files() == []
    await _works_again(sim, client)


async def test_data_connection_reset_then_426(sim: BambuSimulator) -> None:
    """The data connection is reset mid-transfer: the control connection's 426 is the error."""
    client = _client(sim)
    sim.ftps.break_transfers = "reset"
    with pytest.raises(FileTransferError, match="LIST /: the printer answered 426"):
        await client.async_list_files()
    with pytest.raises(FileTransferError, match=f"RETR {BENCHY}: the printer answered 426"):
        await _read(client, BENCHY)
    await _works_again(sim, client)


async def test_data_connection_reset_and_no_answer(sim: BambuSimulator) -> None:
    """The data connection is reset and the control connection stays silent: "connection lost"
    with the data connection's error (after the bounded wait for an answer)."""
    client = _client(sim)
    sim.ftps.break_transfers = "reset-silent"
    with pytest.raises(FileTransferError, match=r"LIST /: connection lost \(\w+Error\)"):
        await client.async_list_files()
    with pytest.raises(FileTransferError, match=rf"RETR {BENCHY}: connection lost \(\w+Error\)"):
        await _read(client, BENCHY)
    await _works_again(sim, client)


async def test_cancelled_listing_releases_the_session(sim: BambuSimulator) -> None:
    """A LIST that stalls is cancelled (Home Assistant stopping): the next operation works."""
    client = _client(sim)
    sim.ftps.break_transfers = "stall"
    task = asyncio.create_task(client.async_list_files())
    await wait_for(lambda: len(sim.ftps.data_connections) == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await _works_again(sim, client)


async def test_listing_too_large(sim: BambuSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """A listing over MAX_LIST_BYTES: FileTransferError, the session is dropped, not reused."""
    monkeypatch.setattr(ftps, "MAX_LIST_BYTES", 200)
    client = _client(sim)
    with pytest.raises(FileTransferError, match="LIST /: listing too large"):
        await client.async_list_files()
    monkeypatch.setattr(ftps, "MAX_LIST_BYTES", 8 * 1024 * 1024)
    await _works_again(sim, client)


async def test_over_long_line_is_dropped_whole(
    sim: BambuSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A LIST line over MAX_LINE_BYTES across many small blocks: neither its head nor its tail
    becomes an entry; the lines around it are listed."""
    before = {f.path for f in await _client(sim).async_list_files()}
    long_name = "x" * 200 + ".3mf"
    await sim.ftps.put_file(f"/cache/{long_name}", b"long")
    await sim.ftps.put_file("/cache/zz_after.3mf", b"after")
    monkeypatch.setattr(ftps, "CHUNK_SIZE", 16)
    monkeypatch.setattr(ftps, "MAX_LINE_BYTES", 120)
    after = {f.path for f in await _client(sim).async_list_files()}
    assert after == before | {"/cache/zz_after.3mf"}


def test_non_utf8_list_line_is_skipped(caplog: pytest.LogCaptureFixture) -> None:
    """A LIST line that is not UTF-8 is skipped (logged at debug); the others are parsed."""
    now = datetime(2026, 11, 27, tzinfo=UTC)
    lines = [
        b"-rw-r--r--    1 0 0 5 Nov 26 12:00 \xff\xfe.3mf\r",
        b"-rw-r--r--    1 0 0 7 Nov 26 12:00 ok.3mf\r",
    ]
    with caplog.at_level(logging.DEBUG, logger=ftps.__name__):
        entries = BambuFtpsClient._parse_lines(lines, now)
    assert [(e.name, e.size) for e in entries] == [("ok.3mf", 7)]
    assert "Skipping a LIST line that is not UTF-8" in caplog.text


def _status(code: str) -> aioftp.StatusCodeError:
    return aioftp.StatusCodeError(aioftp.Code("2xx"), aioftp.Code(code), ["x"])


@pytest.mark.parametrize(
    ("err", "error", "message"),
    [
        (_status("532"), PrinterAuthError, r"RETR /a: not logged in \(532\)"),
        (_status("522"), FileTransferError, r"refused the data connection \(522, TLS session\)"),
        (_status("550"), RemoteFileNotFoundError, r"RETR /a: no such file \(550\)"),
        (_status("452"), FileTransferError, "RETR /a: the printer answered 452"),
        (TimeoutError(), FileTransferError, "RETR /a: timed out"),
        (
            ssl.SSLError(1, "bad record mac"),
            FileTransferError,
            r"RETR /a: TLS error \(.*bad record mac",
        ),
        (ValueError("line too long"), FileTransferError, "RETR /a: malformed answer"),
        (BrokenPipeError(), FileTransferError, r"RETR /a: connection lost \(BrokenPipeError\)"),
    ],
)
def test_map_error(err: BaseException, error: type[Exception], message: str) -> None:
    """Every failure maps to a declared error whose message names the command, path and cause."""
    mapped = BambuFtpsClient._map_error(err, "/a", "RETR")
    assert type(mapped) is error
    assert re.search(message, str(mapped)), str(mapped)


async def test_hostile_path_is_not_found(sim: BambuSimulator) -> None:
    """A path with NUL or a line break never reaches the printer: RemoteFileNotFoundError."""
    client = _client(sim)
    for path in ("/cache/a\x00b.3mf", "/cache/a\r\nDELE /x", ""):
        with pytest.raises(RemoteFileNotFoundError, match="Invalid printer path"):
            await client.async_stat(path)
    assert sim.ftps.data_connections == []
