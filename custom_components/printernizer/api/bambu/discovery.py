"""Discovery of Bambu Lab printers from their SSDP-like NOTIFY datagrams.

Bambu printers broadcast a non-standard ``NOTIFY * HTTP/1.1`` datagram to UDP
ports 2021 and 1990 (``NT: urn:bambulab-com:device:3dprinter:1``,
``Location: <ip>``, ``USN: <serial>``, ``DevModel.bambu.com: <code>``,
``DevName.bambu.com: <name>``...). No Home Assistant import here.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .parse import model_name

_LOGGER = logging.getLogger(__name__)

BAMBU_NT = "urn:bambulab-com:device:3dprinter:1"
DISCOVERY_PORTS = (2021, 1990)


@dataclass(frozen=True, slots=True)
class BambuAnnouncement:
    """A printer's announcement."""

    host: str
    serial: str
    #: model name (``X1C``, ``P1P``...), the raw code when unknown, None when absent
    model: str | None
    name: str | None
    #: the raw ``DevModel.bambu.com`` code
    model_code: str | None = None
    #: ``DevConnect.bambu.com`` (``lan`` / ``cloud``)
    connect: str | None = None
    #: ``DevBind.bambu.com`` (``free`` / ``occupied``)
    bind: str | None = None


def parse_announcement(data: bytes, addr: Any = None) -> BambuAnnouncement | None:
    """Parse a NOTIFY datagram; None when it is not a Bambu printer's.

    The host is ``Location`` when it is an IP address, else the sender address.
    """
    lines = data.decode("utf-8", errors="replace").replace("\r\n", "\n").split("\n")
    if not lines[0].strip().upper().startswith("NOTIFY "):
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        key, sep, value = line.partition(":")
        if sep and key.strip():
            headers[key.strip().lower()] = value.strip()
    if headers.get("nt", "").lower() != BAMBU_NT:
        return None
    serial = headers.get("usn", "").strip()
    if serial.lower().startswith("uuid:"):
        serial = serial[5:]
    serial = serial.split("::", 1)[0].strip()
    if not serial:
        return None
    host = headers.get("location", "").strip()
    try:
        ipaddress.ip_address(host)
    except ValueError:
        sender = addr[0] if isinstance(addr, tuple) and addr else None
        if not isinstance(sender, str):
            return None
        host = sender
    code = headers.get("devmodel.bambu.com") or None
    return BambuAnnouncement(
        host=host,
        serial=serial,
        model=model_name(code),
        name=headers.get("devname.bambu.com") or None,
        model_code=code,
        connect=headers.get("devconnect.bambu.com") or None,
        bind=headers.get("devbind.bambu.com") or None,
    )


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, callback: Callable[[BambuAnnouncement], None]) -> None:
        self._callback = callback

    def datagram_received(self, data: bytes, addr: Any) -> None:
        announcement = parse_announcement(data, addr)
        if announcement is None:
            return
        try:
            self._callback(announcement)
        except Exception:
            _LOGGER.exception("Discovery callback failed")


class BambuDiscoveryListener:
    """Listens for announcements on UDP ports; calls ``callback`` on the event loop."""

    def __init__(
        self,
        callback: Callable[[BambuAnnouncement], None],
        ports: tuple[int, ...] = DISCOVERY_PORTS,
        host: str = "0.0.0.0",  # noqa: S104
    ) -> None:
        """Configure; ``start`` binds."""
        self._callback = callback
        self._ports = ports
        self._host = host
        self._transports: list[asyncio.DatagramTransport] = []

    @property
    def bound_ports(self) -> list[int]:
        """Ports actually bound (the real port when 0 was asked)."""
        ports = []
        for transport in self._transports:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                ports.append(sock.getsockname()[1])
        return ports

    async def start(self) -> None:
        """Bind every port it can (a port in use is logged and skipped)."""
        loop = asyncio.get_running_loop()
        for port in self._ports:
            try:
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    if hasattr(socket, "SO_REUSEPORT"):
                        with contextlib.suppress(OSError):
                            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
                    sock.setblocking(False)
                    sock.bind((self._host, port))
                except OSError:
                    sock.close()
                    raise
                transport, _ = await loop.create_datagram_endpoint(
                    lambda: _Protocol(self._callback), sock=sock
                )
            except OSError as err:
                _LOGGER.warning("Cannot listen for Bambu printers on UDP %s: %s", port, err)
                continue
            self._transports.append(transport)

    def stop(self) -> None:
        """Close every socket."""
        for transport in self._transports:
            transport.close()
        self._transports.clear()
