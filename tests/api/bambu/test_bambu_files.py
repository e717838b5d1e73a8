"""BambuClient's file capability (api/bambu/ftps.py) against the simulator's FTPS server."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from bambu_helpers import CODE, SERIAL, make_client

from custom_components.printernizer.api.bambu.client import BambuClient
from custom_components.printernizer.api.models import (
    FileAccessDeniedError,
    FileTransferError,
    PrinterAuthError,
    PrinterCertificateError,
    PrinterFileClient,
    PrinterIdentityError,
    PrinterState,
    PrinterStatus,
    RemoteFileNotFoundError,
)
from simulator.bambu import BambuSimulator

pytestmark = pytest.mark.simulator


def _client(sim: BambuSimulator, **kwargs: object) -> BambuClient:
    return make_client(sim, ftps_port=sim.ftps_port, **kwargs)


async def _read(client: BambuClient, path: str) -> bytes:
    async with client.async_open(path) as chunks:
        return b"".join([chunk async for chunk in chunks])


def _disk(sim: BambuSimulator, path: str) -> bytes:
    return (sim.ftps.root / path.lstrip("/")).read_bytes()


async def test_is_a_file_client(sim: BambuSimulator) -> None:
    """BambuClient implements the optional PrinterFileClient protocol."""
    assert isinstance(_client(sim), PrinterFileClient)


async def test_list_files_p1p(sim: BambuSimulator) -> None:
    """/, /cache, /model, /timelapse, /sdcard listed; /image and timelapse thumbnails not."""
    files = {f.path: f for f in await _client(sim).async_list_files()}
    assert set(files) == {
        "/Lan print with spaces.gcode.3mf",
        "/cache/benchy.3mf",
        "/cache/cube_plate_1.gcode",
        "/model/calibration.gcode.3mf",
        "/timelapse/video_2026-11-25_10-00-00.avi",
        "/sdcard/from_sdcard.gcode.3mf",
    }
    benchy = files["/cache/benchy.3mf"]
    assert benchy.name == "benchy.3mf"
    assert benchy.size == len(_disk(sim, "/cache/benchy.3mf"))
    assert benchy.kind == "print" and benchy.storage == "internal"
    assert benchy.modified is not None and benchy.modified.tzinfo is not None
    assert files["/timelapse/video_2026-11-25_10-00-00.avi"].kind == "timelapse"
    assert files["/model/calibration.gcode.3mf"].kind == "model"
    assert files["/sdcard/from_sdcard.gcode.3mf"].storage == "sdcard"
    # the old file's LIST line has a year, the recent one a time
    mtime = (sim.ftps.root / "cache/cube_plate_1.gcode").stat().st_mtime
    old = files["/cache/cube_plate_1.gcode"].modified
    assert old is not None and old.date().isoformat() == _utc_date(mtime)
    assert all(sim.ftps.data_connections), "every data connection resumed the TLS session"


def _utc_date(mtime: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(mtime, dt.UTC).date().isoformat()


async def test_list_files_x1c_layout() -> None:
    """X1C: /models and .mp4 timelapses."""
    async with BambuSimulator(serial=SERIAL, access_code=CODE, model="X1C") as sim:
        paths = {f.path for f in await _client(sim).async_list_files()}
    assert "/models/calibration.gcode.3mf" in paths
    assert "/timelapse/video_2026-11-25_10-00-00.mp4" in paths
    assert not any(p.startswith(("/image", "/sdcard", "/timelapse/thumbnail")) for p in paths)


async def test_stat(sim: BambuSimulator) -> None:
    """SIZE + MDTM (UTC, seconds)."""
    client = _client(sim)
    entry = await client.async_stat("/cache/benchy.3mf")
    real = sim.ftps.root / "cache/benchy.3mf"
    assert entry.size == real.stat().st_size
    assert entry.modified is not None
    assert int(entry.modified.timestamp()) == int(real.stat().st_mtime)
    with pytest.raises(RemoteFileNotFoundError):
        await client.async_stat("/cache/missing.3mf")


async def test_download_bytes_equal(sim: BambuSimulator) -> None:
    """A download streams exactly the file's bytes, also for a name with spaces."""
    client = _client(sim)
    assert await _read(client, "/cache/benchy.3mf") == _disk(sim, "/cache/benchy.3mf")
    big = bytes(range(256)) * 4096 + b"tail"  # ~1 MB, several chunks
    await sim.ftps.put_file("/cache/big file.3mf", big)
    data = await _read(client, "/cache/big file.3mf")
    assert hashlib.sha256(data).digest() == hashlib.sha256(big).digest()


async def test_download_missing_is_not_found(sim: BambuSimulator) -> None:
    """RETR of a file that is not there: RemoteFileNotFoundError (SIZE 550)."""
    with pytest.raises(RemoteFileNotFoundError):
        await _read(_client(sim), "/cache/nothing.3mf")


async def test_retr_550_is_access_denied(sim: BambuSimulator) -> None:
    """P2S/H2D: listed, SIZE works, RETR answers 550 -> FileAccessDeniedError."""
    sim.ftps.deny_internal_retr = True
    client = _client(sim)
    assert "/cache/benchy.3mf" in {f.path for f in await client.async_list_files()}
    with pytest.raises(FileAccessDeniedError):
        await _read(client, "/cache/benchy.3mf")
    # /sdcard still works, and the client's session is usable after the refusal
    assert await _read(client, "/sdcard/from_sdcard.gcode.3mf") == _disk(
        sim, "/sdcard/from_sdcard.gcode.3mf"
    )


async def test_522_when_session_not_resumed(sim: BambuSimulator) -> None:
    """A 522 on the data connection is a FileTransferError (client forced not to resume)."""
    import aioftp.client

    client = _client(sim)
    original = aioftp.client.BaseClient._open_connection

    async def no_resume(self: aioftp.client.BaseClient, host: str, port: int) -> object:
        stream, self._stream = self._stream, None  # no control stream: no session to bind
        try:
            return await original(self, host, port)
        finally:
            self._stream = stream

    async def first_connect(self: aioftp.client.BaseClient, host: str, port: int) -> object:
        if self._stream is None:
            return await original(self, host, port)
        return await no_resume(self, host, port)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(aioftp.client.BaseClient, "_open_connection", first_connect)
        with pytest.raises(FileTransferError, match="522"):
            await _read(client, "/cache/benchy.3mf")
        with pytest.raises(FileTransferError, match="522"):
            await client.async_list_files()
    assert sim.ftps.data_connections[:2] == [False, False]
    # resuming again: fine
    assert await _read(client, "/cache/benchy.3mf") == _disk(sim, "/cache/benchy.3mf")


async def test_wrong_access_code(sim: BambuSimulator) -> None:
    """530 on PASS: PrinterAuthError."""
    client = _client(sim, access_code="00000000")
    with pytest.raises(PrinterAuthError):
        await client.async_list_files()


async def test_wrong_serial_and_insecure() -> None:
    """The FTPS certificate is checked like MQTT's (CN = serial) unless TLS is unverified."""
    async with BambuSimulator(serial=SERIAL, access_code=CODE, wrong_cn=True) as sim:
        with pytest.raises(PrinterIdentityError):
            await _client(sim).async_list_files()
        assert await _client(sim, insecure_tls=True).async_list_files()


async def test_other_ca_refused() -> None:
    """A certificate not issued by the trusted CA: PrinterCertificateError, naming that CA."""
    async with BambuSimulator(serial=SERIAL, access_code=CODE, other_ca=True) as sim:
        with pytest.raises(PrinterCertificateError, match="configured CA"):
            await _client(sim).async_stat("/cache/benchy.3mf")


async def test_delete(sim: BambuSimulator) -> None:
    """DELE removes the file; deleting it again: RemoteFileNotFoundError."""
    client = _client(sim)
    await client.async_delete("/cache/benchy.3mf")
    assert "/cache/benchy.3mf" not in await sim.ftps.paths()
    with pytest.raises(RemoteFileNotFoundError):
        await client.async_delete("/cache/benchy.3mf")


async def test_short_read_is_transfer_error(sim: BambuSimulator) -> None:
    """The file shrinks between SIZE and RETR: fewer bytes than announced -> FileTransferError."""
    client = _client(sim)
    real = sim.ftps.root / "cache/benchy.3mf"
    original = sim.ftps._server.size  # type: ignore[union-attr]

    async def size_then_truncate(connection: object, rest: str) -> bool:
        result = await original(connection, rest)
        real.write_bytes(b"PK\x03\x04short")
        return result

    sim.ftps._server.commands_mapping["size"] = size_then_truncate  # type: ignore[union-attr]
    with pytest.raises(FileTransferError, match="announced"):
        await _read(client, "/cache/benchy.3mf")


async def test_leaving_early_aborts(sim: BambuSimulator) -> None:
    """Leaving the block after one chunk aborts; the next session works."""
    client = _client(sim)
    await sim.ftps.put_file("/cache/large.3mf", b"x" * (4 * 1024 * 1024))
    async with client.async_open("/cache/large.3mf") as chunks:
        async for _chunk in chunks:
            break
    with pytest.raises(RuntimeError):
        async with client.async_open("/cache/large.3mf") as chunks:
            async for _chunk in chunks:
                raise RuntimeError("consumer failed")
    assert await client.async_stat("/cache/large.3mf")


async def test_one_session_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Firmware that fails a second session (421): concurrent calls are serialized.

    No 421 retry here, so only the client's one-session lock keeps this green.
    """
    monkeypatch.setattr("custom_components.printernizer.api.bambu.ftps.BUSY_RETRIES", 0)
    async with BambuSimulator(serial=SERIAL, access_code=CODE) as sim:
        sim.ftps.set_max_sessions(1)
        client = _client(sim)
        results = await asyncio.gather(
            client.async_list_files(),
            client.async_stat("/cache/benchy.3mf"),
            _read(client, "/cache/benchy.3mf"),
            client.async_list_files(),
        )
    assert results[0] == results[3]
    assert len(results[2]) == results[1].size


@pytest.mark.parametrize(
    ("model", "file_name", "expected"),
    [
        ("P1P", "benchy.3mf", "/benchy.gcode.3mf"),
        ("A1", "Part with spaces.gcode.3mf", "/Part with spaces.gcode.3mf"),
        ("X1C", "x1 plate.3mf", "/x1 plate.gcode.3mf"),
        ("P1P", "cache/cloud_part.3mf", "/cache/cloud_part.3mf"),
    ],
)
async def test_job_file_name_forms(model: str, file_name: str, expected: str) -> None:
    """The running job's file for each form the models report (X1 /data/Metadata/...)."""
    async with BambuSimulator(serial=SERIAL, access_code=CODE, model=model) as sim:
        client = _client(sim)
        await client.async_connect()
        try:
            await sim.start_print(file_name)
            await _wait_report(client, sim)
            if model == "X1C":
                assert client.last_report["gcode_file"] == "/data/Metadata/plate_1.gcode"
            state = await client.async_poll()
            found = await client.async_job_file(state)
            assert found is not None and found.path == expected
            assert (await _read(client, found.path)).startswith(b"PK\x03\x04")
        finally:
            await client.async_disconnect()


async def test_job_file_truncated_name_and_absent(sim: BambuSimulator) -> None:
    """A truncated subtask name finds the file by prefix; no file: None."""
    client = _client(sim)
    await client.async_connect()
    try:
        await sim.ftps.put_file("/a_very_long_project_name_plate_1.gcode.3mf", b"PK\x03\x04x")
        await sim.update(
            gcode_state="RUNNING",
            subtask_name="a_very_long_project_na",
            gcode_file="a_very_long_project_na",
        )
        await _wait_report(client, sim)
        found = await client.async_job_file(await client.async_poll())
        assert found is not None
        assert found.path == "/a_very_long_project_name_plate_1.gcode.3mf"
        await sim.update(subtask_name="nothing_like_it", gcode_file="nothing_like_it.gcode.3mf")
        await _wait_report(client, sim)
        assert await client.async_job_file(await client.async_poll()) is None
    finally:
        await client.async_disconnect()


async def test_job_file_without_job(sim: BambuSimulator) -> None:
    """No job name anywhere: None without touching FTPS."""
    client = _client(sim)
    assert await client.async_job_file(PrinterState(status=PrinterStatus.IDLE)) is None
    assert sim.ftps.data_connections == []


async def _wait_report(client: BambuClient, sim: BambuSimulator) -> None:
    async with asyncio.timeout(5):
        while client.last_report.get("subtask_name") != sim.state.get("subtask_name"):  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def test_cancelled_download_leaves_nothing(sim: BambuSimulator) -> None:
    """Cancelling mid-transfer (Home Assistant stopping) closes the session; the next one works."""
    client = _client(sim)
    await sim.ftps.put_file("/cache/large.3mf", b"y" * (8 * 1024 * 1024))
    first_chunk = asyncio.Event()

    async def download() -> None:
        async with client.async_open("/cache/large.3mf") as chunks:
            async for _chunk in chunks:
                first_chunk.set()
                await asyncio.Event().wait()  # a consumer that never finishes

    task = asyncio.create_task(download())
    await first_chunk.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (await client.async_stat("/cache/large.3mf")).size == 8 * 1024 * 1024


async def test_tls12_only_printer_resumes(sim: BambuSimulator) -> None:
    """A printer offering only TLS 1.2 (H2D): the data connections still resume the session."""
    import ssl

    sim.ftps._ssl.maximum_version = ssl.TLSVersion.TLSv1_2
    client = _client(sim)
    assert await _read(client, "/cache/benchy.3mf") == _disk(sim, "/cache/benchy.3mf")
    assert await client.async_list_files()
    assert sim.ftps.data_connections and all(sim.ftps.data_connections)
