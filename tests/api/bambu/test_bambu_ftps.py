"""The simulator's implicit FTPS server works with a plain ftplib client."""

from __future__ import annotations

import asyncio
import ftplib
import ssl
from typing import Any

import pytest

from simulator.bambu import BambuSimulator

pytestmark = pytest.mark.simulator


class ImplicitFTPTLS(ftplib.FTP_TLS):
    """FTP_TLS speaking TLS from the first byte (implicit FTPS, port 990)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sock: Any = None

    @property
    def sock(self) -> Any:
        """The control socket, TLS-wrapped as soon as it is set."""
        return self._sock

    @sock.setter
    def sock(self, value: Any) -> None:
        if value is not None and not isinstance(value, ssl.SSLSocket):
            value = self.context.wrap_socket(value)
        self._sock = value


def _download(port: int, ca_file: str, password: str) -> tuple[list[str], bytes, int | None]:
    ctx = ssl.create_default_context(cafile=ca_file)
    ctx.check_hostname = False
    ctx.verify_flags &= ~ssl.VERIFY_X509_STRICT
    ftp = ImplicitFTPTLS(context=ctx, timeout=10)
    try:
        ftp.connect("127.0.0.1", port)
        ftp.login("bblp", password)
        ftp.prot_p()
        ftp.cwd("/cache")
        names = ftp.nlst()
        size = ftp.size("benchy.3mf")
        chunks: list[bytes] = []
        ftp.retrbinary("RETR benchy.3mf", chunks.append)
        ftp.quit()
    finally:
        ftp.close()
    return names, b"".join(chunks), size


def _bad_login(port: int, ca_file: str) -> None:
    ctx = ssl.create_default_context(cafile=ca_file)
    ctx.check_hostname = False
    ctx.verify_flags &= ~ssl.VERIFY_X509_STRICT
    ftp = ImplicitFTPTLS(context=ctx, timeout=10)
    try:
        ftp.connect("127.0.0.1", port)
        ftp.login("bblp", "wrong")
    finally:
        ftp.close()


async def test_ftps_download(sim: BambuSimulator) -> None:
    """Log in with the access code, list /cache and download a file over TLS."""
    loop = asyncio.get_running_loop()
    names, data, size = await loop.run_in_executor(
        None, _download, sim.ftps_port, sim.ca_file, sim.access_code
    )
    assert sorted(names) == ["benchy.3mf", "cube.gcode"]
    assert data.startswith(b"PK\x03\x04")
    assert size == len(data)
    with pytest.raises(ftplib.error_perm):
        await loop.run_in_executor(None, _bad_login, sim.ftps_port, sim.ca_file)
