"""BambuFtpsClient's connect errors against hostile or broken FTPS servers on 127.0.0.1.

A tiny asyncio server plays the "printer": implicit TLS (or none) and then a
greeting chosen by the test. Every failure is one of the client's declared
errors, never a raw ``UnicodeDecodeError``/``ValueError``/``ssl.SSLError``.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from bambu_helpers import CODE, SERIAL, make_client

from custom_components.printernizer.api.bambu.ftps import BambuFtpsClient
from custom_components.printernizer.api.bambu.tls import create_ssl_context
from custom_components.printernizer.api.models import (
    PrinterCertificateError,
    PrinterConnectionError,
    PrinterTlsError,
)
from simulator.bambu import BambuSimulator
from simulator.bambu.certs import make_chain

pytestmark = pytest.mark.simulator


def _server_context(folder: Path) -> ssl.SSLContext:
    chain = make_chain(SERIAL)
    (folder / "cert.pem").write_text(chain.cert_pem)
    (folder / "key.pem").write_text(chain.key_pem)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return ctx


@asynccontextmanager
async def _greeting_server(greeting: bytes, tls: ssl.SSLContext | None) -> AsyncIterator[int]:
    """Serve ``greeting`` to every connection, then wait for the client to leave."""
    writers: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        try:
            writer.write(greeting)
            await writer.drain()
            await reader.read()
        except (OSError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in writers:
            writer.transport.abort()
        await server.wait_closed()


def _client(port: int) -> BambuFtpsClient:
    async def context() -> ssl.SSLContext:
        return create_ssl_context(insecure=True)

    return BambuFtpsClient(
        "127.0.0.1",
        SERIAL,
        CODE,
        ssl_context=context,
        insecure_tls=True,
        port=port,
        timeout=5,
        connect_timeout=5,
    )


@pytest.mark.parametrize(
    "greeting",
    [
        pytest.param(b"\xff\xfe220 hello\r\n", id="not-utf8"),
        pytest.param(b"220 " + b"x" * (80 * 1024) + b"\r\n", id="line-over-64KiB"),
    ],
)
async def test_malformed_greeting_is_a_connection_error(greeting: bytes, tmp_path: Path) -> None:
    """A greeting that is not UTF-8 or longer than the stream limit: PrinterConnectionError."""
    async with _greeting_server(greeting, _server_context(tmp_path)) as port:
        with pytest.raises(PrinterConnectionError, match="malformed greeting"):
            await _client(port).async_list_files()


async def test_plain_server_is_a_tls_error() -> None:
    """A server that does not speak TLS (handshake fails, not a certificate): PrinterTlsError."""
    async with _greeting_server(b"220 plain FTP\r\n", None) as port:
        with pytest.raises(PrinterTlsError):
            await _client(port).async_list_files()


async def test_other_ca_names_the_configured_ca() -> None:
    """A custom CA file that does not sign the certificate is named as such, not Bambu Lab's."""
    async with BambuSimulator(serial=SERIAL, access_code=CODE, other_ca=True) as sim:
        client = make_client(sim, ftps_port=sim.ftps_port)
        with pytest.raises(PrinterCertificateError, match="the configured CA") as info:
            await client.async_stat("/cache/benchy.3mf")
        assert "Bambu Lab" not in str(info.value)
        shipped = make_client(sim, ftps_port=sim.ftps_port, ca_file=None)
        with pytest.raises(PrinterCertificateError, match="Bambu Lab's CA"):
            await shipped.async_stat("/cache/benchy.3mf")


async def test_greeting_with_an_error_code_is_refused(tmp_path: Path) -> None:
    """A greeting that is an error (not 421): PrinterConnectionError naming the code."""
    async with _greeting_server(b"500 go away\r\n", _server_context(tmp_path)) as port:
        with pytest.raises(PrinterConnectionError, match=r"refused the session: \['500'\]"):
            await _client(port).async_list_files()


async def test_connection_refused() -> None:
    """Nothing listens on the port: PrinterConnectionError "Cannot connect"."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        port = sock.getsockname()[1]
        with pytest.raises(
            PrinterConnectionError, match=f"Cannot connect to FTPS 127.0.0.1:{port}"
        ):
            await _client(port).async_list_files()
