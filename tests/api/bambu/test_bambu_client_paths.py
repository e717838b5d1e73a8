"""BambuClient's less common paths against the simulator over real TLS on 127.0.0.1.

Listener and handler failures, an unreadable CA file, refused CONNACKs,
commands without a connection, a burst of messages in one TLS record,
a disconnect during connect.
"""

from __future__ import annotations

import asyncio
import logging

import paho.mqtt.client as mqtt
import pytest
from bambu_helpers import Recorder, make_client, wait_for

from custom_components.printernizer.api.bambu import client as client_module
from custom_components.printernizer.api.bambu.client import BambuClient
from custom_components.printernizer.api.models import (
    CommandError,
    PrinterConnectionError,
    PrinterState,
    PrinterTlsError,
)
from simulator.bambu import BambuSimulator

pytestmark = pytest.mark.simulator


def _delta(**fields: object) -> dict[str, object]:
    return {"print": {**fields, "command": "push_status", "msg": 1}}


async def test_failing_listeners_are_logged(
    sim: BambuSimulator, client_factory, caplog: pytest.LogCaptureFixture
) -> None:
    """Listeners that raise are logged; the client connects and keeps its state."""

    def bad_state(state: PrinterState) -> None:
        raise RuntimeError("state listener bug")

    def bad_connection(update: object) -> None:
        raise RuntimeError("connection listener bug")

    client: BambuClient = client_factory()
    client.set_listeners(bad_state, bad_connection)
    await client.async_connect()
    assert client.connected
    await sim.update(mc_percent=42)
    await wait_for(lambda: client._state.progress == 42)
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert "Connection listener failed" in messages
    assert "State listener failed" in messages


async def test_unreadable_ca_file(sim: BambuSimulator, tmp_path) -> None:
    """A CA file that cannot be read: PrinterConnectionError, phase failed."""
    client = make_client(sim, ca_file=str(tmp_path / "missing.pem"))
    rec = Recorder()
    client.set_listeners(rec.on_state, rec.on_connection)
    with pytest.raises(PrinterConnectionError, match="Cannot load CA certificates"):
        await client.async_connect()
    assert rec.phases == ["connecting", "failed"]
    await client.async_disconnect()


async def test_connack_refused_without_auth_error(sim: BambuSimulator, client_factory) -> None:
    """CONNACK 3 (server unavailable) is a connection error, not an access-code error."""
    sim.refuse_connections(3)
    client: BambuClient = client_factory()
    with pytest.raises(PrinterConnectionError, match="refused the connection") as info:
        await client.async_connect()
    assert "access code" not in str(info.value)
    sim.refuse_connections(None)
    await client.async_connect()
    assert client.connected


async def test_commands_light_speed_and_not_connected(sim: BambuSimulator, client_factory) -> None:
    """Chamber light (answered in ``system``) and speed level; bad level and no connection."""
    client: BambuClient = client_factory()
    with pytest.raises(CommandError, match=r"Not connected to 127\.0\.0\.1"):
        await client.async_set_chamber_light(True)
    await client.async_connect()
    await client.async_set_chamber_light(False)
    await wait_for(lambda: client._state.extra.get("chamber_light") == "off")
    await client.async_set_speed_level(3)
    await wait_for(lambda: client._state.extra.get("speed_level") == 3)
    with pytest.raises(CommandError, match="Unknown speed level 7"):
        await client.async_set_speed_level(7)
    sent = [r.get("print", r.get("system", {})).get("command") for r in sim.requests]
    assert sent.count("ledctrl") == 1
    assert sent.count("print_speed") == 1


async def test_pending_command_fails_on_disconnect(sim: BambuSimulator, client_factory) -> None:
    """A command waiting for its echo gets CommandError when the client disconnects."""
    client: BambuClient = client_factory(command_timeout=30.0)
    await client.async_connect()
    sim.ignore_commands = True
    task = asyncio.create_task(client.async_set_chamber_light(True))
    await wait_for(lambda: any("system" in r for r in sim.requests))
    await client.async_disconnect()
    with pytest.raises(CommandError, match="Connection lost: disconnected"):
        await task


async def test_burst_in_one_tls_record(sim: BambuSimulator, client_factory) -> None:
    """Several messages in one TLS record are all handled without waiting for more traffic."""
    client: BambuClient = client_factory()
    rec = Recorder()
    client.set_listeners(rec.on_state, rec.on_connection)
    await client.async_connect()
    await sim.publish_burst([_delta(mc_percent=p) for p in (11, 12, 13, 14)])
    await wait_for(lambda: bool(rec.states) and rec.states[-1].progress == 14)
    assert [s.progress for s in rec.states[-4:]] == [11, 12, 13, 14]


async def test_report_handler_bug_keeps_the_connection(
    sim: BambuSimulator,
    client_factory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug while handling one report is logged; the connection stays, the next report counts.

    (Fault injection: the report normalizer raises once.)
    """
    client: BambuClient = client_factory()
    await client.async_connect()
    real = client_module.normalize
    calls = 0

    def failing_once(*args: object, **kwargs: object) -> PrinterState:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("normalizer bug")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(client_module, "normalize", failing_once)
    await sim.update(mc_percent=30)
    await wait_for(lambda: calls == 1)
    await sim.update(mc_percent=31)
    await wait_for(lambda: client._state.progress == 31)
    assert client.connected
    assert any(r.getMessage() == "Failed to handle a report from 127.0.0.1" for r in caplog.records)


async def test_mqtt_processing_failure_reconnects(
    sim: BambuSimulator,
    client_factory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """paho failing while reading is logged, counts as a lost connection, and reconnects.

    (Fault injection in paho: ``loop_read`` raises once.)
    """
    client: BambuClient = client_factory()
    client.reconnect_min = 0.01
    rec = Recorder()
    client.set_listeners(rec.on_state, rec.on_connection)
    await client.async_connect()
    real = mqtt.Client.loop_read
    calls = 0

    def failing_once(self: mqtt.Client, max_packets: int = 1) -> mqtt.MQTTErrorCode:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("paho bug")
        return real(self, max_packets)

    monkeypatch.setattr(mqtt.Client, "loop_read", failing_once)
    await sim.update(mc_percent=50)
    await wait_for(lambda: rec.phases.count("monitoring") == 2)
    assert "failed" in rec.phases
    failed = [u.message for u in rec.updates if u.phase.value == "failed"]
    assert any("internal error: paho bug" in (m or "") for m in failed)
    assert any(r.getMessage() == "MQTT processing failed for 127.0.0.1" for r in caplog.records)
    assert client.connected


async def test_disconnect_during_connect(sim: BambuSimulator, client_factory) -> None:
    """async_disconnect while connect waits for the first report: connect fails, nothing left."""
    sim.ignore_pushall = True
    client: BambuClient = client_factory(connect_timeout=30.0)
    rec = Recorder()
    client.set_listeners(rec.on_state, rec.on_connection)
    task = asyncio.create_task(client.async_connect())
    await wait_for(lambda: sim.pushall_count == 1)
    await client.async_disconnect()
    with pytest.raises(PrinterConnectionError, match="disconnected"):
        await task
    assert client._mqttc is None
    assert not client.connected
    await wait_for(lambda: sim.client_count == 0)


async def test_peer_without_tls_is_a_tls_error() -> None:
    """A peer answering plain bytes to the TLS hello: PrinterTlsError, phase failed."""
    writers: list[asyncio.StreamWriter] = []

    async def plain(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n" * 4)
        await writer.drain()

    server = await asyncio.start_server(plain, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = BambuClient("127.0.0.1", "SERIAL", "CODE", port=port, connect_timeout=5.0)
    rec = Recorder()
    client.set_listeners(rec.on_state, rec.on_connection)
    try:
        with pytest.raises(PrinterTlsError, match=f"TLS handshake with 127.0.0.1:{port} failed"):
            await client.async_connect()
        assert rec.phases == ["connecting", "failed"]
    finally:
        await client.async_disconnect()
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_connection_lost_while_waiting_for_the_version(
    sim: BambuSimulator, client_factory
) -> None:
    """The first report came, get_version is not answered and the printer drops the connection:
    connect fails with "lost during connect" once the version wait ends."""
    sim.ignore_version = True
    client: BambuClient = client_factory()
    task = asyncio.create_task(client.async_connect())
    await wait_for(lambda: client._have_full)
    await sim.restart_broker()
    with pytest.raises(PrinterConnectionError, match="lost during connect"):
        await task
    assert client._mqttc is None
    assert not client.connected
