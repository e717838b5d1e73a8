"""A minimal implicit-FTPS server (TLS from the first byte), like a Bambu printer's port 990.

Commands: USER, PASS, SYST, FEAT, PBSZ, PROT, TYPE, PWD, CWD, CDUP, PASV,
EPSV, LIST, NLST, MLSD, SIZE, RETR, NOOP, QUIT. Files live in memory
(``{"/cache/benchy.3mf": b"..."}``); read-only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import posixpath
import ssl
from collections.abc import Callable

_LOGGER = logging.getLogger(__name__)


class FtpsServer:
    """Implicit FTPS over asyncio with one user."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        ssl_context: ssl.SSLContext,
        check_login: Callable[[str | None, str | None], bool],
        files: dict[str, bytes],
    ) -> None:
        """Create the server (``start`` listens)."""
        self._host = host
        self._port = port
        self._ssl = ssl_context
        self._check_login = check_login
        self.files = files
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._data_servers: set[asyncio.Server] = set()

    @property
    def port(self) -> int:
        """The listening port (after start)."""
        return self._port

    async def start(self) -> None:
        """Listen."""
        # TLS is started in the handlers: a failed handshake stays in our hands.
        self._server = await asyncio.start_server(
            self._handle, self._host, self._port, reuse_address=True
        )
        self._port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and drop every connection."""
        if self._server is not None:
            self._server.close()
        for server in list(self._data_servers):
            server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    def _dirs(self) -> set[str]:
        dirs = {"/"}
        for path in self.files:
            parent = posixpath.dirname(path)
            while parent not in dirs:
                dirs.add(parent)
                parent = posixpath.dirname(parent)
        return dirs

    def _listing(self, cwd: str) -> list[tuple[str, bool, int]]:
        entries: dict[str, tuple[bool, int]] = {}
        for d in self._dirs():
            if d != "/" and posixpath.dirname(d) == cwd:
                entries[posixpath.basename(d)] = (True, 0)
        for path, data in self.files.items():
            if posixpath.dirname(path) == cwd:
                entries[posixpath.basename(path)] = (False, len(data))
        return [(name, is_dir, size) for name, (is_dir, size) in sorted(entries.items())]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        data_conn: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]] | None = None
        data_server: asyncio.Server | None = None
        cwd, user, logged_in = "/", None, False

        def reply(text: str) -> None:
            writer.write(f"{text}\r\n".encode())

        async def open_passive() -> int:
            nonlocal data_conn, data_server
            if data_server is not None:
                data_server.close()
                self._data_servers.discard(data_server)
            loop = asyncio.get_running_loop()
            fut: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
                loop.create_future()
            )
            data_conn = fut

            async def on_data(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
                if fut.done():
                    w.transport.abort()
                    return
                try:
                    await w.start_tls(self._ssl, ssl_handshake_timeout=10)
                except (OSError, ssl.SSLError, asyncio.CancelledError) as err:
                    w.transport.abort()
                    if not fut.done():
                        fut.set_exception(ConnectionError(f"data TLS failed: {err}"))
                    return
                if not fut.done():
                    fut.set_result((r, w))

            data_server = await asyncio.start_server(on_data, self._host, 0)
            self._data_servers.add(data_server)
            return data_server.sockets[0].getsockname()[1]

        async def send_data(payload: bytes) -> None:
            nonlocal data_conn, data_server
            if data_conn is None:
                reply("425 Use PASV or EPSV first")
                return
            reply("150 Opening data connection")
            await writer.drain()
            try:
                _r, w = await asyncio.wait_for(data_conn, 10)
            except (TimeoutError, ConnectionError):
                reply("425 No data connection")
                return
            w.write(payload)
            await w.drain()
            w.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(w.wait_closed(), 5)
            if data_server is not None:
                data_server.close()
                self._data_servers.discard(data_server)
            data_conn = data_server = None
            reply("226 Transfer complete")

        def resolve(arg: str) -> str:
            return posixpath.normpath(posixpath.join(cwd, arg)) if arg else cwd

        try:
            await writer.start_tls(self._ssl, ssl_handshake_timeout=10)
            reply("220 Bambu simulator FTPS ready")
            await writer.drain()
            while line := await reader.readline():
                text = line.decode(errors="replace").rstrip("\r\n")
                cmd, _, arg = text.partition(" ")
                cmd = cmd.upper()
                if cmd == "USER":
                    user = arg
                    reply("331 Password required")
                elif cmd == "PASS":
                    if self._check_login(user, arg):
                        logged_in = True
                        reply("230 Logged in")
                    else:
                        reply("530 Login incorrect")
                elif cmd == "QUIT":
                    reply("221 Bye")
                    await writer.drain()
                    break
                elif cmd in ("NOOP",):
                    reply("200 OK")
                elif not logged_in:
                    reply("530 Not logged in")
                elif cmd == "SYST":
                    reply("215 UNIX Type: L8")
                elif cmd == "FEAT":
                    writer.write(b"211-Features:\r\n PBSZ\r\n PROT\r\n EPSV\r\n MLSD\r\n SIZE\r\n")
                    reply("211 End")
                elif cmd == "PBSZ":
                    reply("200 PBSZ=0")
                elif cmd == "PROT":
                    reply("200 Protection set" if arg.upper() == "P" else "536 Only PROT P")
                elif cmd == "TYPE":
                    reply("200 Type set")
                elif cmd == "PWD":
                    reply(f'257 "{cwd}" is the current directory')
                elif cmd in ("CWD", "CDUP"):
                    target = resolve(".." if cmd == "CDUP" else arg)
                    if target in self._dirs():
                        cwd = target
                        reply("250 OK")
                    else:
                        reply("550 No such directory")
                elif cmd == "PASV":
                    port = await open_passive()
                    h = self._host.replace(".", ",")
                    reply(f"227 Entering Passive Mode ({h},{port >> 8},{port & 0xFF})")
                elif cmd == "EPSV":
                    port = await open_passive()
                    reply(f"229 Entering Extended Passive Mode (|||{port}|)")
                elif cmd in ("LIST", "NLST", "MLSD"):
                    target = resolve(arg if arg and not arg.startswith("-") else "")
                    lines = []
                    for name, is_dir, size in self._listing(target):
                        if cmd == "NLST":
                            lines.append(name)
                        elif cmd == "MLSD":
                            kind = "dir" if is_dir else "file"
                            lines.append(f"type={kind};size={size}; {name}")
                        else:
                            mode = "drwxr-xr-x" if is_dir else "-rw-r--r--"
                            lines.append(f"{mode} 1 root root {size:>10} Nov 26 12:00 {name}")
                    await send_data("".join(f"{x}\r\n" for x in lines).encode())
                elif cmd == "SIZE":
                    path = resolve(arg)
                    if path in self.files:
                        reply(f"213 {len(self.files[path])}")
                    else:
                        reply("550 No such file")
                elif cmd == "RETR":
                    path = resolve(arg)
                    if path in self.files:
                        await send_data(self.files[path])
                    else:
                        reply("550 No such file")
                else:
                    reply("502 Command not implemented")
                await writer.drain()
        except (ConnectionError, ssl.SSLError, OSError, asyncio.CancelledError):
            pass
        except Exception:
            _LOGGER.exception("FTPS session failed")
        finally:
            if data_server is not None:
                data_server.close()
                self._data_servers.discard(data_server)
            self._tasks.discard(task)
            writer.transport.abort()
