"""BambuClient against the simulator over real TLS sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from bambu_helpers import CODE, SERIAL, Recorder, make_client, wait_for

from custom_components.printernizer.api.bambu.client import BambuClient
from custom_components.printernizer.api.models import (
    CommandError,
    CommandNotAllowedError,
    CommandTimeoutError,
    ConnectionPhase,
    PrinterAuthError,
    PrinterCertificateError,
    PrinterClient,
    PrinterConnectionError,
    PrinterIdentityError,
    PrinterStatus,
)
from simulator.bambu import BambuSimulator

pytestmark = pytest.mark.simulator


async def test_connect_pushall_and_info(sim, client_factory) -> None:
    """Connect returns after the first full report; get_version fills info."""
    client = client_factory()
    assert isinstance(client, PrinterClient)
    rec = Recorder()
    client.set_listeners(rec.on_state, rec.on_connection)
    await client.async_connect()
    assert rec.phases == ["connecting", "connected", "monitoring"]
    state = await client.async_poll()
    assert state.status == PrinterStatus.FAILED
    assert state.job_name == "Fidget Collection"
    assert state.nozzle_temp == 21.25
    assert rec.states[-1] == state
    assert sim.pushall_count == 1
    await wait_for(lambda: client.info is not None)
    assert client.info.model == "P1P"
    assert client.info.serial == SERIAL
    assert client.info.firmware == "01.07.00.00"
    assert client.info.manufacturer == "Bambu Lab"
    assert client.last_report["gcode_state"] == "FAILED"
    diag = client.diagnostics()
    assert CODE not in repr(diag)
    assert diag["connected"] is True
    # the listeners ran on the loop thread
    assert client.poll_interval is None


async def test_print_updates_via_deltas(sim, client_factory) -> None:
    """Scripted print: deltas merge into the full state."""
    client = client_factory()
    rec = Recorder()
    client.set_listeners(rec.on_state, rec.on_connection)
    await client.async_connect()
    await sim.start_print("benchy.3mf", total_layers=100, total_minutes=50)
    await wait_for(lambda: rec.states[-1].status == PrinterStatus.PREPARING)
    await sim.set_progress(40)
    await wait_for(lambda: rec.states[-1].progress == 40)
    state = rec.states[-1]
    assert state.status == PrinterStatus.PRINTING
    assert state.layer == 40
    assert state.total_layers == 100
    assert state.remaining_seconds == 30 * 60
    assert state.job_name == "benchy"
    assert state.printer_job_id is not None
    assert state.nozzle_target == 220
    # a key the deltas never carried survives
    assert client.last_report["nozzle_type"] == "hardened_steel"
    await sim.finish()
    await wait_for(lambda: rec.states[-1].status == PrinterStatus.FINISHED)
    assert rec.states[-1].progress == 100
    await sim.start_print("cube.gcode")
    await wait_for(lambda: rec.states[-1].status == PrinterStatus.PREPARING)
    await sim.cancel()
    await wait_for(lambda: rec.states[-1].status == PrinterStatus.CANCELLED)
    assert rec.states[-1].cancelled is True
    assert rec.states[-1].error is None
    await sim.start_print("cube.gcode")
    await wait_for(lambda: rec.states[-1].status == PrinterStatus.PREPARING)
    await sim.fail(0x0300_4000)
    await wait_for(lambda: rec.states[-1].status == PrinterStatus.FAILED)
    assert rec.states[-1].cancelled is False
    assert rec.states[-1].error == "0300_4000"


async def test_commands_confirmed_by_echo(sim, client_factory) -> None:
    """pause/resume/stop return after the echo and the state follows."""
    client = client_factory()
    rec = Recorder()
    client.set_listeners(rec.on_state, rec.on_connection)
    await client.async_connect()
    with pytest.raises(CommandNotAllowedError):
        await client.async_pause()  # FAILED state in the capture
    await sim.start_print()
    await sim.set_progress(10)
    await wait_for(lambda: rec.states[-1].status == PrinterStatus.PRINTING)
    with pytest.raises(CommandNotAllowedError):
        await client.async_resume()
    await client.async_pause()
    await wait_for(lambda: rec.states[-1].status == PrinterStatus.PAUSED)
    await client.async_resume()
    await wait_for(lambda: rec.states[-1].status == PrinterStatus.PRINTING)
    await client.async_stop()
    await wait_for(lambda: rec.states[-1].status == PrinterStatus.CANCELLED)
    assert rec.states[-1].cancelled
    commands = [r["print"]["command"] for r in sim.requests if "print" in r]
    assert commands == ["pause", "resume", "stop"]


async def test_command_fail_and_timeout(sim, client_factory) -> None:
    """A 'fail' echo raises CommandError; no echo raises CommandTimeoutError."""
    client = client_factory(command_timeout=0.3)
    await client.async_connect()
    await sim.start_print()
    await sim.set_progress(5)
    await wait_for(lambda: client._state.status == PrinterStatus.PRINTING)
    sim.command_result = "fail"
    with pytest.raises(CommandError) as err:
        await client.async_pause()
    assert not isinstance(err.value, CommandTimeoutError)
    sim.command_result = "success"
    sim.ignore_commands = True
    with pytest.raises(CommandTimeoutError):
        await client.async_pause()


async def test_wrong_access_code(sim) -> None:
    """rc 5 → PrinterAuthError, ERROR phase, nothing keeps running."""
    client = make_client(sim, access_code="wrong")
    rec = Recorder()
    client.set_listeners(rec.on_state, rec.on_connection)
    with pytest.raises(PrinterAuthError):
        await client.async_connect()
    assert rec.phases[-1] == "error"
    assert client._reconnect_task is None
    assert client._misc_timer is None
    await client.async_disconnect()


async def test_broker_restart_reconnects(sim, client_factory) -> None:
    """Lost connection → FAILED, then reconnect and a new pushall."""
    client = client_factory()
    client.reconnect_min = 0.05
    rec = Recorder()
    client.set_listeners(rec.on_state, rec.on_connection)
    await client.async_connect()
    await sim.restart_broker()
    await wait_for(lambda: "failed" in rec.phases)
    await wait_for(lambda: rec.phases[-1] == "monitoring" and sim.pushall_count >= 2)
    after = rec.phases[rec.phases.index("failed") :]
    assert after[-3:] == ["connecting", "connected", "monitoring"]
    assert set(after[:-3]) <= {"failed", "connecting"}
    await sim.start_print()
    await wait_for(lambda: rec.states[-1].status == PrinterStatus.PREPARING)


async def test_access_code_changed_while_connected(sim, client_factory) -> None:
    """After a drop, a changed access code ends in ERROR and retries stop."""
    client = client_factory()
    client.reconnect_min = 0.05
    rec = Recorder()
    client.set_listeners(rec.on_state, rec.on_connection)
    await client.async_connect()
    sim.access_code = "87654321"
    await sim.restart_broker()
    await wait_for(lambda: rec.phases[-1] == "error")
    task = client._reconnect_task
    await wait_for(task.done)
    assert rec.updates[-1].phase == ConnectionPhase.ERROR


async def test_malformed_reports_ignored(sim, client_factory) -> None:
    """Garbage on the report topic is ignored, the session stays up."""
    client = client_factory()
    rec = Recorder()
    client.set_listeners(rec.on_state, rec.on_connection)
    await client.async_connect()
    for raw in (
        b"\xff\xfe",
        b"[1,2]",
        b'{"print": 5}',
        b'{"print": {"mc_percent": "x"}}',
        b'{"print": {"gcode_state": 7, "nozzle_temper": {}}}',
        b"null",
        b"",
    ):
        await sim.publish_raw(raw)
    await sim.update(mc_percent=33, gcode_state="RUNNING")
    await wait_for(lambda: rec.states[-1].progress == 33)
    assert client.connected


@pytest.mark.parametrize(
    ("kwargs", "certificate"), [({"wrong_cn": True}, False), ({"other_ca": True}, True)]
)
async def test_identity_errors(kwargs, certificate) -> None:
    """Wrong CN → PrinterIdentityError, another CA → PrinterCertificateError (a subclass);
    insecure_tls connects anyway."""
    bad = BambuSimulator(serial=SERIAL, access_code=CODE, **kwargs)
    await bad.start()
    try:
        client = make_client(bad)
        with pytest.raises(PrinterIdentityError) as err:
            await client.async_connect()
        assert isinstance(err.value, PrinterCertificateError) is certificate
        if certificate:
            # the CA was a custom file (the simulator's), not Bambu Lab's
            assert f"not issued by the configured CA ({bad.ca_file})" in str(err.value)
            assert "Bambu Lab" not in str(err.value)
        await client.async_disconnect()
        insecure = make_client(bad, insecure_tls=True, ca_file=None)
        try:
            await insecure.async_connect()
            assert (await insecure.async_poll()).status == PrinterStatus.FAILED
        finally:
            await insecure.async_disconnect()
    finally:
        await bad.stop()


async def test_no_thread_touches_listeners(sim, client_factory) -> None:
    """Listeners run on the event loop thread."""
    client = client_factory()
    threads: set[int] = set()
    client.set_listeners(
        lambda s: threads.add(threading.get_ident()),
        lambda u: threads.add(threading.get_ident()),
    )
    await client.async_connect()
    await sim.set_progress(3)
    await wait_for(lambda: len(threads) > 0 and client._state.progress == 3)
    assert threads == {threading.get_ident()}
    asyncio.get_running_loop()


async def test_watchdog_asks_for_pushall(sim, client_factory) -> None:
    """No report for report_watchdog seconds → pushall again."""
    client = client_factory()
    client.report_watchdog = 0.2
    client.misc_interval = 0.05
    await client.async_connect()
    await wait_for(lambda: sim.pushall_count >= 3)
    assert client.connected


async def test_connection_refused() -> None:
    """Nothing listening → PrinterConnectionError, FAILED phase, nothing left running."""
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    client = BambuClient("127.0.0.1", SERIAL, CODE, port=port, ca_file=None)
    rec = Recorder()
    client.set_listeners(rec.on_state, rec.on_connection)
    with pytest.raises(PrinterConnectionError):
        await client.async_connect()
    assert rec.phases == ["connecting", "failed"]
    assert client._reconnect_task is None
    await client.async_disconnect()


async def test_tls_handshake_timeout() -> None:
    """A peer that accepts TCP but never speaks TLS → PrinterConnectionError in time."""
    writers: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        client = BambuClient("127.0.0.1", SERIAL, CODE, port=port, connect_timeout=0.5)
        async with asyncio.timeout(5):
            with pytest.raises(PrinterConnectionError):
                await client.async_connect()
        await client.async_disconnect()
    finally:
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_diagnostics_without_secret(sim, client_factory) -> None:
    """diagnostics carries facts and the report, never the access code."""
    client = client_factory()
    await client.async_connect()
    await sim.update(rtsp_note=f"rtsps://bblp:{CODE}@127.0.0.1/x")
    await wait_for(lambda: "rtsp_note" in client.last_report)
    diag = client.diagnostics()
    assert CODE not in json.dumps(diag)
    assert diag["last_report"]["rtsp_note"] == "**REDACTED**"
    assert diag["phase"] == "monitoring"
    assert diag["info"]["model"] == "P1P" or diag["info"] is None


async def test_autoplay_cycles() -> None:
    """Autoplay (development mode) runs prepare → printing → finished on its own."""
    auto = BambuSimulator(serial=SERIAL, access_code=CODE, autoplay=True, autoplay_step=0.01)
    await auto.start()
    client = make_client(auto)
    seen: set[PrinterStatus] = set()
    client.set_listeners(lambda s: seen.add(s.status), None)
    try:
        await client.async_connect()
        await wait_for(
            lambda: (
                {PrinterStatus.PREPARING, PrinterStatus.PRINTING, PrinterStatus.FINISHED} <= seen
            )
        )
    finally:
        await client.async_disconnect()
        await auto.stop()


async def test_disconnect_while_retrying() -> None:
    """Printer gone: FAILED + retries with backoff; async_disconnect stops them all."""
    gone = BambuSimulator(serial=SERIAL, access_code=CODE)
    await gone.start()
    client = make_client(gone)
    client.reconnect_min = 0.02
    rec = Recorder()
    client.set_listeners(rec.on_state, rec.on_connection)
    try:
        await client.async_connect()
    finally:
        await gone.stop()
    await wait_for(lambda: rec.phases.count("failed") >= 3)
    retrying = client._reconnect_task
    assert retrying is not None
    await client.async_disconnect()
    # Nothing is left that could act later: the retry task is finished and no
    # task or timer of the client is scheduled on the loop.
    assert retrying.done()
    assert client._reconnect_task is None
    assert client._misc_timer is None
    assert client._mqttc is None
    assert not client.connected
    assert not [
        t for t in asyncio.all_tasks() if "_reconnect_loop" in repr(t.get_coro()) and not t.done()
    ]
    loop = asyncio.get_running_loop()
    scheduled = [h for h in getattr(loop, "_scheduled", []) if not h.cancelled()]
    assert not [h for h in scheduled if getattr(h._callback, "__self__", None) is client]
    client._start_reconnect()  # a late "connection lost" starts no retry once closing
    assert client._reconnect_task is None


async def test_x1c_packed_temperatures_full_updates() -> None:
    """X1C capture (packed device temps, full reports each time) follows a print."""
    x1c = BambuSimulator(serial=SERIAL, access_code=CODE, model="X1C", delta_updates=False)
    await x1c.start()
    client = make_client(x1c)
    rec = Recorder()
    client.set_listeners(rec.on_state, rec.on_connection)
    try:
        await client.async_connect()
        first = await client.async_poll()
        assert first.status == PrinterStatus.FINISHED
        assert first.chamber_temp == 25.0
        await x1c.start_print("plate.3mf", total_layers=200)
        await x1c.set_progress(50)
        await wait_for(lambda: rec.states[-1].progress == 50)
        state = rec.states[-1]
        assert (state.nozzle_temp, state.nozzle_target) == (220.0, 220.0)
        assert (state.bed_temp, state.bed_target) == (60.0, 60.0)
        assert state.layer == 100
        assert client.last_report["device"]["bed"]["info"]["temp"] == (60 << 16) | 60
    finally:
        await client.async_disconnect()
        await x1c.stop()
