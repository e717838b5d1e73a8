"""A minimal MQTT 3.1.1 broker on asyncio, enough to play a Bambu printer.

CONNECT/CONNACK (rc 5 on bad credentials), SUBSCRIBE/SUBACK, UNSUBSCRIBE,
PUBLISH QoS 0/1 (PUBACK), PINGREQ/PINGRESP, DISCONNECT. Topic filters: exact
match, ``+`` and ``#``. No retained messages, no sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import struct
from collections.abc import Awaitable, Callable

_LOGGER = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes], Awaitable[None] | None]


def topic_matches(filt: str, topic: str) -> bool:
    """Return True when an MQTT topic filter matches a topic."""
    fparts, tparts = filt.split("/"), topic.split("/")
    for i, part in enumerate(fparts):
        if part == "#":
            return True
        if i >= len(tparts) or (part not in ("+", tparts[i])):
            return False
    return len(fparts) == len(tparts)


def _encode_len(length: int) -> bytes:
    out = bytearray()
    while True:
        byte, length = length % 128, length // 128
        out.append(byte | (0x80 if length else 0))
        if not length:
            return bytes(out)


def _str(data: bytes, pos: int) -> tuple[bytes, int]:
    (length,) = struct.unpack_from("!H", data, pos)
    return data[pos + 2 : pos + 2 + length], pos + 2 + length


def publish_packet(topic: str, payload: bytes) -> bytes:
    """Encode a QoS 0 PUBLISH packet."""
    t = topic.encode()
    body = struct.pack("!H", len(t)) + t + payload
    return b"\x30" + _encode_len(len(body)) + body


class _Session:
    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.subscriptions: set[str] = set()
        self.username: str | None = None

    def send(self, data: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(data)


class MqttBroker:
    """A TLS MQTT broker that checks one username/password pair."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        ssl_context: ssl.SSLContext | None,
        check_login: Callable[[str | None, str | None], bool],
        on_message: MessageHandler,
    ) -> None:
        """Create the broker (``start`` listens)."""
        self._host = host
        self._port = port
        self._ssl = ssl_context
        self._check_login = check_login
        self._on_message = on_message
        self._server: asyncio.Server | None = None
        self._sessions: set[_Session] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        #: CONNACK return code for every CONNECT (3: server unavailable); None: check the login.
        self.refuse_code: int | None = None

    @property
    def port(self) -> int:
        """The listening port (after start)."""
        return self._port

    @property
    def client_count(self) -> int:
        """Number of logged-in clients."""
        return sum(1 for s in self._sessions if s.username is not None)

    async def start(self) -> None:
        """Listen (on the same port again after a stop)."""
        # TLS is started in the handler so that a failed handshake (a client
        # rejecting our certificate) ends up in our except clause instead of
        # the loop's exception handler.
        self._server = await asyncio.start_server(
            self._handle, self._host, self._port, reuse_address=True
        )
        self._port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and drop every connection."""
        if self._server is not None:
            self._server.close()
        for session in list(self._sessions):
            session.writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    def publish(self, topic: str, payload: bytes) -> int:
        """Send a message to every matching subscriber; return how many got it."""
        packet = publish_packet(topic, payload)
        count = 0
        for session in list(self._sessions):
            if session.username is not None and any(
                topic_matches(f, topic) for f in session.subscriptions
            ):
                session.send(packet)
                count += 1
        return count

    def publish_burst(self, topic: str, payloads: list[bytes]) -> int:
        """Send several messages in one write (one TLS record), like a printer's burst."""
        packet = b"".join(publish_packet(topic, payload) for payload in payloads)
        count = 0
        for session in list(self._sessions):
            if session.username is not None and any(
                topic_matches(f, topic) for f in session.subscriptions
            ):
                session.send(packet)
                count += 1
        return count

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        session = _Session(writer)
        self._sessions.add(session)
        try:
            if self._ssl is not None:
                await writer.start_tls(self._ssl, ssl_handshake_timeout=10)
            await self._serve(session, reader)
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError, OSError):
            pass
        except asyncio.CancelledError:
            pass
        except Exception:
            _LOGGER.exception("Broker session failed")
        finally:
            self._sessions.discard(session)
            self._tasks.discard(task)
            writer.transport.abort()

    async def _serve(self, session: _Session, reader: asyncio.StreamReader) -> None:
        while True:
            header = (await reader.readexactly(1))[0]
            length, mult = 0, 1
            while True:
                byte = (await reader.readexactly(1))[0]
                length += (byte & 0x7F) * mult
                mult *= 128
                if not byte & 0x80:
                    break
            body = await reader.readexactly(length) if length else b""
            ptype = header >> 4
            if session.username is None and ptype != 1:
                return
            if ptype == 1:  # CONNECT
                if not self._connect(session, body):
                    await session.writer.drain()
                    return
            elif ptype == 3:  # PUBLISH
                await self._publish_in(session, header, body)
            elif ptype == 8:  # SUBSCRIBE
                (pid,) = struct.unpack_from("!H", body)
                pos, granted = 2, bytearray()
                while pos < len(body):
                    filt, pos = _str(body, pos)
                    qos = body[pos]
                    pos += 1
                    session.subscriptions.add(filt.decode())
                    granted.append(min(qos, 1))
                payload = struct.pack("!H", pid) + bytes(granted)
                session.send(b"\x90" + _encode_len(len(payload)) + payload)
            elif ptype == 10:  # UNSUBSCRIBE
                (pid,) = struct.unpack_from("!H", body)
                pos = 2
                while pos < len(body):
                    filt, pos = _str(body, pos)
                    session.subscriptions.discard(filt.decode())
                session.send(b"\xb0\x02" + struct.pack("!H", pid))
            elif ptype == 12:  # PINGREQ
                session.send(b"\xd0\x00")
            elif ptype == 14:  # DISCONNECT
                return
            await session.writer.drain()

    def _connect(self, session: _Session, body: bytes) -> bool:
        _proto, pos = _str(body, 0)
        flags = body[pos + 1]
        pos += 4  # level, flags, keepalive
        _client_id, pos = _str(body, pos)
        if flags & 0x04:  # will
            _, pos = _str(body, pos)
            _, pos = _str(body, pos)
        username = password = None
        if flags & 0x80:
            raw, pos = _str(body, pos)
            username = raw.decode(errors="replace")
        if flags & 0x40:
            raw, pos = _str(body, pos)
            password = raw.decode(errors="replace")
        if self.refuse_code is not None:
            session.send(b"\x20\x02\x00" + bytes([self.refuse_code]))
            return False
        if not self._check_login(username, password):
            session.send(b"\x20\x02\x00\x05")
            return False
        session.username = username or ""
        session.send(b"\x20\x02\x00\x00")
        return True

    async def _publish_in(self, session: _Session, header: int, body: bytes) -> None:
        qos = (header >> 1) & 0x03
        topic_b, pos = _str(body, 0)
        if qos:
            (pid,) = struct.unpack_from("!H", body, pos)
            pos += 2
            session.send(b"\x40\x02" + struct.pack("!H", pid))
        topic = topic_b.decode(errors="replace")
        result = self._on_message(topic, body[pos:])
        if result is not None:
            await result
