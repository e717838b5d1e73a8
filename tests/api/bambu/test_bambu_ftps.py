"""The simulator's implicit FTPS server at the protocol level, with ftplib clients.

``ftplib.FTP_TLS`` does not resume the TLS session on data connections
(CPython issue 63699): like P2S and X1C firmware 01.08+, the simulator refuses
it with 522. A subclass that passes ``session=`` is accepted.
"""

from __future__ import annotations

import asyncio
import ftplib
import ssl
from typing import Any

import pytest

from simulator.bambu import BambuSimulator

pytestmark = pytest.mark.simulator


class ImplicitFTPTLS(ftplib.FTP_TLS):
    """FTP_TLS speaking TLS from the first byte (implicit FTPS, port 990); no session reuse."""

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


class ResumingFTPTLS(ImplicitFTPTLS):
    """Wraps each data connection with the control connection's TLS session."""

    def ntransfercmd(self, cmd: str, rest: Any = None) -> tuple[Any, int | None]:
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)  # noqa: S321
        if self._prot_p:
            conn = self.context.wrap_socket(conn, session=self.sock.session)
        return conn, size


def _context(ca_file: str) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=ca_file)
    ctx.check_hostname = False
    ctx.verify_flags &= ~ssl.VERIFY_X509_STRICT
    return ctx


def _session(cls: type[ImplicitFTPTLS], port: int, ca_file: str, password: str) -> ImplicitFTPTLS:
    ftp = cls(context=_context(ca_file), timeout=10)
    ftp.connect("127.0.0.1", port)
    ftp.login("bblp", password)
    ftp.prot_p()
    return ftp


def _resuming_session(port: int, ca_file: str, password: str) -> dict[str, Any]:
    ftp = _session(ResumingFTPTLS, port, ca_file, password)
    try:
        lines: list[str] = []
        ftp.retrlines("LIST /cache", lines.append)
        root: list[str] = []
        ftp.retrlines("LIST", root.append)
        chunks: list[bytes] = []
        ftp.retrbinary("RETR /cache/benchy.3mf", chunks.append)
        result = {
            "lines": lines,
            "root": root,
            "data": b"".join(chunks),
            "size": ftp.size("/cache/benchy.3mf"),
            "mdtm": ftp.sendcmd("MDTM /cache/benchy.3mf"),
        }
        ftp.delete("/cache/cube_plate_1.gcode")
        with pytest.raises(ftplib.error_perm, match=r"^550"):
            ftp.size("/cache/cube_plate_1.gcode")
        with pytest.raises(ftplib.error_perm, match=r"^502"):
            ftp.sendcmd("MLST /cache")
        ftp.quit()
    finally:
        ftp.close()
    return result


def _non_resuming(port: int, ca_file: str, password: str, command: str) -> None:
    ftp = _session(ImplicitFTPTLS, port, ca_file, password)
    try:
        if command.startswith("LIST"):
            ftp.retrlines(command, lambda _line: None)
        else:
            ftp.retrbinary(command, lambda _chunk: None)
    finally:
        ftp.close()


def _bad_login(port: int, ca_file: str) -> None:
    ftp = ImplicitFTPTLS(context=_context(ca_file), timeout=10)
    try:
        ftp.connect("127.0.0.1", port)
        ftp.login("bblp", "wrong")
    finally:
        ftp.close()


async def test_resuming_client_lists_downloads_and_deletes(sim: BambuSimulator) -> None:
    """A client that resumes the session: LIST in both date forms, RETR, SIZE, MDTM, DELE."""
    result = await asyncio.get_running_loop().run_in_executor(
        None, _resuming_session, sim.ftps_port, sim.ca_file, sim.access_code
    )
    assert result["data"].startswith(b"PK\x03\x04")
    assert result["size"] == len(result["data"])
    assert result["mdtm"].startswith("213 ") and len(result["mdtm"].split()[1]) == 14
    names = [line.split(maxsplit=8)[8] for line in result["lines"]]
    assert names == ["benchy.3mf", "cube_plate_1.gcode"]
    # recent file: "Mon DD HH:MM"; 400 days old: "Mon DD  YYYY"
    assert ":" in result["lines"][0].split()[7]
    assert result["lines"][1].split()[7].isdigit()
    assert any(line.startswith("d") and line.endswith(" cache") for line in result["root"])
    assert all(sim.ftps.data_connections)
    assert "/cache/cube_plate_1.gcode" not in await sim.ftps.paths()


@pytest.mark.parametrize("command", ["LIST /cache", "RETR /cache/benchy.3mf"])
async def test_non_resuming_client_is_refused_522(sim: BambuSimulator, command: str) -> None:
    """ftplib.FTP_TLS does not resume the TLS session: 522, and no data is sent."""
    with pytest.raises(ftplib.error_perm, match=r"^522 SSL connection failed: session reuse"):
        await asyncio.get_running_loop().run_in_executor(
            None, _non_resuming, sim.ftps_port, sim.ca_file, sim.access_code, command
        )
    assert sim.ftps.data_connections == [False]


async def test_bad_login_refused(sim: BambuSimulator) -> None:
    """A wrong access code gets 530."""
    with pytest.raises(ftplib.error_perm, match=r"^530"):
        await asyncio.get_running_loop().run_in_executor(
            None, _bad_login, sim.ftps_port, sim.ca_file
        )
