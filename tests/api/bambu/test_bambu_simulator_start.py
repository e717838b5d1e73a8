"""The Bambu simulator cleans up when it cannot start (a port in use on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.bambu import BambuSimulator
from simulator.bambu import simulator as sim_module
from simulator.bambu.certs import make_chain
from simulator.bambu.ftps import FtpsServer
from simulator.bambu.mqtt_broker import MqttBroker

pytestmark = pytest.mark.simulator


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port on 127.0.0.1 that another socket listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


async def _refused(port: int) -> bool:
    try:
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except ConnectionRefusedError:
        return True
    writer.close()
    await writer.wait_closed()
    return False


async def test_ftps_port_in_use_stops_the_broker(
    busy_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FTPS cannot listen: start raises, the MQTT listener is closed, the temp folder is gone."""
    brokers: list[MqttBroker] = []

    class Recorded(MqttBroker):
        async def start(self) -> None:
            brokers.append(self)
            await super().start()

    monkeypatch.setattr(sim_module, "MqttBroker", Recorded)
    sim = BambuSimulator(ftps_port=busy_port)
    with pytest.raises(OSError, match="address already in use"):
        await sim.start()
    assert len(brokers) == 1
    mqtt_port = brokers[0].port
    assert mqtt_port != 0
    assert await _refused(mqtt_port)
    assert sim._tmpdir is None
    await sim.stop()  # a second stop is harmless
    assert await _refused(mqtt_port)


async def test_mqtt_port_in_use_raises_and_leaves_nothing(busy_port: int) -> None:
    """MQTT cannot listen: start raises, FTPS was never started, stop is harmless."""
    sim = BambuSimulator(mqtt_port=busy_port)
    with pytest.raises(OSError, match="address already in use"):
        await sim.start()
    assert sim._tmpdir is None
    assert sim.ftps_port == 0
    await sim.stop()


async def test_ftps_server_stop_after_failed_start(busy_port: int, tmp_path: Path) -> None:
    """FtpsServer.stop is safe when aioftp's Server never listened."""
    chain = make_chain("01P00A000000001")
    (tmp_path / "cert.pem").write_text(chain.cert_pem)
    (tmp_path / "key.pem").write_text(chain.key_pem)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server = FtpsServer(
        host="127.0.0.1",
        port=busy_port,
        ssl_context=ctx,
        check_login=lambda _u, _p: True,
        root=tmp_path,
    )
    with pytest.raises(OSError, match="address already in use"):
        await server.start()
    await server.stop()
    await server.stop()
