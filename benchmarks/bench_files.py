"""File download throughput and memory: FTPS (Bambu) and HTTP (PrusaLink) vs a raw-socket baseline.

The simulators run in a child process. That process also serves a baseline:
the same bytes over a plain TLS socket (for FTPS, same certificate and SSL
context settings, the file read in the same 64 KiB blocks through the
executor as the FTPS server's AsyncPathIO does) and over a plain TCP socket
(for HTTP, which PrusaLink speaks without TLS, the bytes from the same
in-memory SimFile). No FTP, no HTTP in the baselines. Every client, the
baselines included, hashes what it receives with SHA-256 as it streams, and
the digest is checked against the file's.

Targets (issue 10): each protocol >= 80 % of its baseline's throughput;
RSS growth < 16 MB while downloading a 200 MB file.

Run: ``.venv/bin/python -m benchmarks.bench_files [--quick]``
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import multiprocessing
import multiprocessing.connection
import os
import ssl
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from benchmarks._harness import ROOT, machine, parse_args, table

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx

from custom_components.printernizer.api.bambu.ftps import BambuFtpsClient
from custom_components.printernizer.api.bambu.tls import create_ssl_context
from custom_components.printernizer.api.prusalink.client import PrusaLinkClient

BLOCK = 64 * 1024
FTP_PATH = "/cache/bench.gcode.3mf"
MB = 1024 * 1024


# --- child: simulators and baselines -------------------------------------------------


def _child(conn: multiprocessing.connection.Connection, size: int) -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    asyncio.run(_serve(conn, size))


async def _serve(conn: multiprocessing.connection.Connection, size: int) -> None:
    from simulator.bambu import BambuSimulator  # noqa: PLC0415 (child only)
    from simulator.prusalink import PrusaLinkSimulator  # noqa: PLC0415

    loop = asyncio.get_running_loop()
    data = os.urandom(size)
    digest = hashlib.sha256(data).hexdigest()
    bambu = BambuSimulator(serial="01P00A000000001", access_code="12345678")
    prusa = PrusaLinkSimulator()
    await bambu.start()
    await prusa.start()
    await bambu.ftps.put_file(FTP_PATH, data)
    simfile = prusa.add_file("bench.bgcode", content=data)
    real = bambu.ftps.root / FTP_PATH.lstrip("/")
    tmp = Path(bambu.ca_file).parent
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(tmp / "cert.pem", tmp / "key.pem")

    async def tls_handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with real.open("rb") as handle:
            while block := await loop.run_in_executor(None, handle.read, BLOCK):
                writer.write(block)
                await writer.drain()
        writer.close()

    async def tcp_handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(simfile.content)
        await writer.drain()
        writer.close()

    tls_server = await asyncio.start_server(tls_handler, "127.0.0.1", 0, ssl=server_ctx)
    tcp_server = await asyncio.start_server(tcp_handler, "127.0.0.1", 0)
    del data
    conn.send(
        {
            "ftps_port": bambu.ftps_port,
            "ca_file": bambu.ca_file,
            "serial": bambu.serial,
            "access_code": bambu.access_code,
            "prusa_url": prusa.url,
            "prusa_password": prusa.password,
            "prusa_path": f"/usb/{simfile.rel_path}",
            "tls_port": tls_server.sockets[0].getsockname()[1],
            "tcp_port": tcp_server.sockets[0].getsockname()[1],
            "sha256": digest,
            "size": size,
        }
    )
    while await loop.run_in_executor(None, conn.recv) == "cpu":
        conn.send(time.process_time())
    tls_server.close()
    tcp_server.close()
    await bambu.stop()
    await prusa.stop()


# --- parent: clients -----------------------------------------------------------------


def _rss() -> int:
    """Resident set size of this process, bytes (Linux /proc)."""
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def _consume(chunks: AsyncIterator[bytes]) -> tuple[int, str]:
    sha = hashlib.sha256()
    total = 0
    async for chunk in chunks:
        sha.update(chunk)
        total += len(chunk)
    return total, sha.hexdigest()


async def _raw(port: int, ctx: ssl.SSLContext | None) -> tuple[int, str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx)

    async def chunks() -> AsyncIterator[bytes]:
        while block := await reader.read(BLOCK):
            yield block

    try:
        return await _consume(chunks())
    finally:
        writer.close()


async def _once(
    name: str,
    run: Callable[[], Awaitable[tuple[int, str]]],
    info: dict[str, Any],
    child_cpu: Callable[[], Awaitable[float]],
) -> tuple[float, float, float, float]:
    """One download: (MB/s, peak RSS growth MB, client and server CPU s per 100 MB)."""
    server0 = await child_cpu()
    cpu0 = time.process_time()
    base = _rss()
    peak = base
    done = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _rss())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), 0.01)

    sampler = asyncio.create_task(sample())
    start = time.perf_counter()
    try:
        size, digest = await run()
    finally:
        elapsed = time.perf_counter() - start
        done.set()
        await sampler
    cpu = time.process_time() - cpu0
    server = await child_cpu() - server0
    if size != info["size"] or digest != info["sha256"]:
        raise AssertionError(f"{name}: got {size} bytes, sha256 {digest}: not the file")
    per_100 = 100 * MB / size
    return size / elapsed / MB, (peak - base) / MB, cpu * per_100, server * per_100


async def main_async(quick: bool) -> list[dict[str, Any]]:
    size = (50 if quick else 200) * MB
    runs = 1 if quick else 5
    parent, child = multiprocessing.Pipe()
    proc = multiprocessing.get_context("spawn").Process(target=_child, args=(child, size))
    proc.start()
    loop = asyncio.get_running_loop()
    try:
        info: dict[str, Any] = await loop.run_in_executor(None, parent.recv)

        async def child_cpu() -> float:
            parent.send("cpu")
            value: float = await loop.run_in_executor(None, parent.recv)
            return value

        ctx = await loop.run_in_executor(None, lambda: create_ssl_context(ca_file=info["ca_file"]))

        async def context() -> ssl.SSLContext:
            return ctx

        ftps = BambuFtpsClient(
            "127.0.0.1",
            info["serial"],
            info["access_code"],
            ssl_context=context,
            port=info["ftps_port"],
        )

        async def ftps_run() -> tuple[int, str]:
            async with ftps.async_open(FTP_PATH) as chunks:
                return await _consume(chunks)

        async with httpx.AsyncClient() as http:
            prusa = PrusaLinkClient(http, info["prusa_url"], password=info["prusa_password"])

            async def http_run() -> tuple[int, str]:
                async with prusa.async_open(info["prusa_path"]) as chunks:
                    return await _consume(chunks)

            transfers: dict[str, Callable[[], Awaitable[tuple[int, str]]]] = {
                "baseline: TLS socket": lambda: _raw(info["tls_port"], ctx),
                "FTPS (Bambu, aioftp)": ftps_run,
                "baseline: TCP socket": lambda: _raw(info["tcp_port"], None),
                "HTTP (PrusaLink, httpx digest)": http_run,
            }
            samples: dict[str, list[tuple[float, float, float, float]]] = {
                name: [] for name in transfers
            }
            # interleaved: each round runs every transfer once, so load changes hit all alike
            for _ in range(runs):
                for name, run in transfers.items():
                    samples[name].append(await _once(name, run, info, child_cpu))
        results = [
            {
                "name": name,
                "rate": statistics.median(v[0] for v in values),
                "rss": max(v[1] for v in values),
                "cpu": statistics.median(v[2] for v in values),
                "server": statistics.median(v[3] for v in values),
            }
            for name, values in samples.items()
        ]
        return results
    finally:
        parent.send("stop")
        await loop.run_in_executor(None, proc.join, 30)


def main() -> None:
    """Run and print the table."""
    args = parse_args(__doc__ or "")
    results = asyncio.run(main_async(args.quick))
    by = {r["name"]: r for r in results}
    ftps_ratio = by["FTPS (Bambu, aioftp)"]["rate"] / by["baseline: TLS socket"]["rate"]
    http_ratio = by["HTTP (PrusaLink, httpx digest)"]["rate"] / by["baseline: TCP socket"]["rate"]
    size = 50 if args.quick else 200
    rss_ok = all(r["rss"] < 16 for r in results if not r["name"].startswith("baseline"))
    rows = [
        [r["name"], f"{r['rate']:.1f}", f"{r['cpu']:.3f}", f"{r['server']:.3f}", f"{r['rss']:.1f}"]
        for r in results
    ]
    runs = 1 if args.quick else 5
    ftps_verdict = "met" if ftps_ratio >= 0.8 else "MISSED"
    http_verdict = "met" if http_ratio >= 0.8 else "MISSED"
    print(machine())
    print(
        table(
            f"Downloads of a {size} MB file with SHA-256 (median of {runs}, interleaved); "
            f"FTPS {ftps_ratio:.0%} of TLS baseline ({ftps_verdict} >= 80 %), "
            f"HTTP {http_ratio:.0%} of TCP baseline ({http_verdict} >= 80 %), "
            f"RSS growth {'met' if rss_ok else 'MISSED'} < 16 MB",
            ["transfer", "MB/s", "client CPU s/100 MB", "server CPU s/100 MB", "RSS growth MB"],
            rows,
        )
    )


if __name__ == "__main__":
    main()
