"""Discovery: NOTIFY parsing and the UDP listener with the simulator's announcement."""

from __future__ import annotations

import asyncio

import pytest
from bambu_helpers import SERIAL

from custom_components.printernizer.api.bambu.discovery import (
    BambuAnnouncement,
    BambuDiscoveryListener,
    parse_announcement,
)
from simulator.bambu import BambuSimulator

REAL = (
    b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1990\r\nServer: UPnP/1.0\r\n"
    b"Location: 192.168.1.50\r\nNT: urn:bambulab-com:device:3dprinter:1\r\n"
    b"USN: 00M09A350100123\r\nCache-Control: max-age=1800\r\n"
    b"DevModel.bambu.com: 3DPrinter-X1-Carbon\r\nDevName.bambu.com: Workshop X1C\r\n"
    b"DevSignal.bambu.com: -38\r\nDevConnect.bambu.com: lan\r\nDevBind.bambu.com: free\r\n"
    b"Devseclink.bambu.com: secure\r\n\r\n"
)


def test_parse_announcement() -> None:
    """A real-looking datagram parses; model code mapped to a name."""
    ann = parse_announcement(REAL, ("192.168.1.50", 1990))
    assert ann == BambuAnnouncement(
        host="192.168.1.50",
        serial="00M09A350100123",
        model="X1C",
        name="Workshop X1C",
        model_code="3DPrinter-X1-Carbon",
        connect="lan",
        bind="free",
    )


def test_parse_announcement_variants() -> None:
    """Unknown code kept, non-IP Location falls back to sender, others rejected."""
    data = REAL.replace(b"3DPrinter-X1-Carbon", b"Z9").replace(b"192.168.1.50", b"printer")
    ann = parse_announcement(data, ("10.0.0.7", 2021))
    assert ann is not None
    assert ann.model == "Z9"
    assert ann.host == "10.0.0.7"
    for code, name in (
        ("C11", "P1P"),
        ("C12", "P1S"),
        ("N2S", "A1"),
        ("N1", "A1 mini"),
        ("O1D", "H2D"),
        ("BL-P001", "X1C"),
    ):
        ann = parse_announcement(REAL.replace(b"3DPrinter-X1-Carbon", code.encode()), None)
        assert ann is not None
        assert ann.model == name
    assert parse_announcement(b"M-SEARCH * HTTP/1.1\r\n\r\n", None) is None
    assert parse_announcement(REAL.replace(b"bambulab-com", b"other"), None) is None
    assert parse_announcement(REAL.replace(b"USN: 00M09A350100123", b"USN: "), None) is None
    assert parse_announcement(b"\xff\x00garbage", None) is None
    assert parse_announcement(b"", None) is None


async def test_listener_receives_simulator_announcement() -> None:
    """The listener on a free 127.0.0.1 port gets the simulator's NOTIFY."""
    received: list[BambuAnnouncement] = []
    got = asyncio.Event()

    def callback(ann: BambuAnnouncement) -> None:
        received.append(ann)
        got.set()

    listener = BambuDiscoveryListener(callback, ports=(0,), host="127.0.0.1")
    await listener.start()
    try:
        assert len(listener.bound_ports) == 1
        sim = BambuSimulator(serial=SERIAL, model="P1P", name="Sim P1P")
        await sim.send_announcement("127.0.0.1", listener.bound_ports[0])
        async with asyncio.timeout(5):
            await got.wait()
    finally:
        listener.stop()
    assert received[0].serial == SERIAL
    assert received[0].model == "P1P"
    assert received[0].name == "Sim P1P"
    assert received[0].host == "127.0.0.1"
    assert listener.bound_ports == []


async def test_listener_skips_unbindable_port() -> None:
    """A port that cannot be bound is skipped."""
    first = BambuDiscoveryListener(lambda a: None, ports=(0,), host="127.0.0.1")
    await first.start()
    try:
        # 127.0.0.2 is not loopback-bindable everywhere; an invalid address never is
        second = BambuDiscoveryListener(lambda a: None, ports=(0,), host="256.0.0.1")
        await second.start()
        assert second.bound_ports == []
        second.stop()
    finally:
        first.stop()


def test_parse_announcement_usn_forms_and_sender() -> None:
    """``uuid:<serial>::urn...`` USN gives the serial; no IP and no sender address: None."""
    data = REAL.replace(b"USN: 00M09A350100123", b"USN: uuid:00M09A350100123::urn:x")
    ann = parse_announcement(data, None)
    assert ann is not None
    assert ann.serial == "00M09A350100123"
    no_ip = REAL.replace(b"Location: 192.168.1.50", b"Location: printer.local")
    assert parse_announcement(no_ip, None) is None
    assert parse_announcement(no_ip, ()) is None
    assert parse_announcement(no_ip, (1234, 1990)) is None
    assert parse_announcement(REAL.replace(b"NOTIFY *", b"HTTP/1.1 200"), None) is None


async def test_listener_survives_junk_and_a_failing_callback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A non-Bambu datagram is ignored; a callback that raises is logged, the next one arrives."""
    received: list[BambuAnnouncement] = []
    got = asyncio.Event()
    calls = 0

    def callback(ann: BambuAnnouncement) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("boom")
        received.append(ann)
        got.set()

    listener = BambuDiscoveryListener(callback, ports=(0,), host="127.0.0.1")
    await listener.start()
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, remote_addr=("127.0.0.1", listener.bound_ports[0])
    )
    try:
        transport.sendto(b"M-SEARCH * HTTP/1.1\r\n\r\n")
        transport.sendto(REAL.replace(b"00M09A350100123", b"FIRST"))
        transport.sendto(REAL)
        async with asyncio.timeout(5):
            await got.wait()
    finally:
        transport.close()
        listener.stop()
    assert calls == 2
    assert [a.serial for a in received] == ["00M09A350100123"]
    failed = [r for r in caplog.records if r.getMessage() == "Discovery callback failed"]
    assert len(failed) == 1
    assert failed[0].exc_info is not None
    assert str(failed[0].exc_info[1]) == "boom"
