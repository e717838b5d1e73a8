"""File download throughput and memory: FTPS (Bambu) and HTTP (PrusaLink) vs a raw-socket baseline.

The simulators run in a child process. That process also serves a baseline:
the same bytes over a plain TLS socket (for FTPS, same certificate and SSL
context settings, the file read in the same 64 KiB blocks through the
executor as the FTPS server's AsyncPathIO does) and over a plain TCP socket
(for HTTP, which PrusaLink speaks without TLS, the bytes from the same
in-memory SimFile). HTTP is measured twice: through an aiohttp session, as the
integration downloads (clients.py passes Home Assistant's session), and through
httpx, the fallback without a session. No FTP, no HTTP in the baselines. Every client, the
baselines included, hashes what it receives with SHA-256 as it streams, and
the digest is checked against the file's. Each transfer runs with two
consumers: ``batched`` as the integration downloads (core/downloads.py: 1 MiB
batches hashed in the executor while the next arrives) and ``loop`` (every
chunk hashed on the event loop as it arrives).

Targets (issue 10): each protocol >= 80 % of its baseline's throughput;
RSS growth < 16 MB while downloading a 200 MB file.

Run: ``.venv/bin/python -m benchmarks.bench_files [--quick]``
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
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

import aiohttp
import httpx

from custom_components.printernizer.api.bambu.ftps import BambuFtpsClient
from custom_components.printernizer.api.bambu.tls import create_ssl_context
from custom_components.printernizer.api.prusalink.client import PrusaLinkClient

BLOCK = 64 * 1024
TLS = "baseline: TLS socket"
FTPS = "FTPS (Bambu, aioftp)"
TCP = "baseline: TCP socket"
HTTP = "HTTP (PrusaLink, httpx digest)"
HTTP_AIO = "HTTP (PrusaLink, aiohttp digest)"
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


#: Bytes the integration's consumer collects before hashing them in the executor
#: (core/downloads.py WRITE_BATCH).
BATCH = 1024 * 1024

Consumer = Callable[[AsyncIterator[bytes]], Awaitable[tuple[int, str]]]


async def _consume_loop(chunks: AsyncIterator[bytes]) -> tuple[int, str]:
    """Every chunk hashed on the event loop as it arrives (the simplest consumer)."""
    sha = hashlib.sha256()
    total = 0
    async for chunk in chunks:
        sha.update(chunk)
        total += len(chunk)
    return total, sha.hexdigest()


async def _consume_batched(chunks: AsyncIterator[bytes]) -> tuple[int, str]:
    """As the integration's download (core/downloads.py ``_stream``, minus the disk).

    Chunks are collected into 1 MiB batches; each batch is hashed in the
    executor while the next one arrives (one batch in flight), so the loop
    only receives.
    """
    loop = asyncio.get_running_loop()
    sha = hashlib.sha256()
    pending: asyncio.Future[None] | None = None
    batch: list[bytes] = []
    batched = 0
    total = 0
    async for chunk in chunks:
        batch.append(chunk)
        batched += len(chunk)
        total += len(chunk)
        if batched >= BATCH:
            if pending is not None:
                await pending
            pending = loop.run_in_executor(None, sha.update, b"".join(batch))
            batch, batched = [], 0
    if pending is not None:
        await pending
    if batch:
        await loop.run_in_executor(None, sha.update, b"".join(batch))
    return total, sha.hexdigest()


CONSUMERS: dict[str, Consumer] = {"batched": _consume_batched, "loop": _consume_loop}


async def _raw(port: int, ctx: ssl.SSLContext | None, consume: Consumer) -> tuple[int, str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx)

    async def chunks() -> AsyncIterator[bytes]:
        while block := await reader.read(BLOCK):
            yield block

    try:
        return await consume(chunks())
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

        async def ftps_run(consume: Consumer) -> tuple[int, str]:
            async with ftps.async_open(FTP_PATH) as chunks:
                return await consume(chunks)

        async with httpx.AsyncClient() as http, aiohttp.ClientSession() as session:
            prusa = PrusaLinkClient(http, info["prusa_url"], password=info["prusa_password"])
            # as the integration builds it: downloads through the aiohttp session
            prusa_aio = PrusaLinkClient(
                http, info["prusa_url"], password=info["prusa_password"], session=session
            )

            async def http_run(consume: Consumer) -> tuple[int, str]:
                async with prusa.async_open(info["prusa_path"]) as chunks:
                    return await consume(chunks)

            async def http_aio_run(consume: Consumer) -> tuple[int, str]:
                async with prusa_aio.async_open(info["prusa_path"]) as chunks:
                    return await consume(chunks)

            kinds: dict[str, Callable[[Consumer], Awaitable[tuple[int, str]]]] = {
                TLS: lambda consume: _raw(info["tls_port"], ctx, consume),
                FTPS: ftps_run,
                TCP: lambda consume: _raw(info["tcp_port"], None, consume),
                HTTP: http_run,
                HTTP_AIO: http_aio_run,
            }
            transfers: dict[tuple[str, str], Callable[[], Awaitable[tuple[int, str]]]] = {
                (consumer, kind): functools.partial(run, CONSUMERS[consumer])
                for consumer in CONSUMERS
                for kind, run in kinds.items()
            }
            samples: dict[tuple[str, str], list[tuple[float, float, float, float]]] = {
                key: [] for key in transfers
            }
            # interleaved: each round runs every transfer once, so load changes hit all alike
            for _ in range(runs):
                for key, run in transfers.items():
                    samples[key].append(await _once(" / ".join(key), run, info, child_cpu))
        results = [
            {
                "consumer": key[0],
                "name": key[1],
                "rate": statistics.median(v[0] for v in values),
                "rss": max(v[1] for v in values),
                "cpu": statistics.median(v[2] for v in values),
                "server": statistics.median(v[3] for v in values),
            }
            for key, values in samples.items()
        ]
        return results
    finally:
        parent.send("stop")
        await loop.run_in_executor(None, proc.join, 30)


def main() -> None:
    """Run and print the table."""
    args = parse_args(__doc__ or "")
    results = asyncio.run(main_async(args.quick))
    by = {(r["consumer"], r["name"]): r for r in results}
    size = 50 if args.quick else 200
    runs = 1 if args.quick else 5
    rss_ok = all(r["rss"] < 16 for r in results if not r["name"].startswith("baseline"))

    def ratio(consumer: str, name: str, base: str) -> str:
        value = by[(consumer, name)]["rate"] / by[(consumer, base)]["rate"]
        return f"{value:.0%} ({'met' if value >= 0.8 else 'MISSED'} >= 80 %)"

    verdicts = "; ".join(
        f"{consumer} consumer: FTPS {ratio(consumer, FTPS, TLS)} of TLS baseline, "
        f"HTTP via aiohttp {ratio(consumer, HTTP_AIO, TCP)} "
        f"(via httpx {ratio(consumer, HTTP, TCP)}) of TCP baseline"
        for consumer in CONSUMERS
    )
    rows = [
        [
            r["consumer"],
            r["name"],
            f"{r['rate']:.1f}",
            f"{r['cpu']:.3f}",
            f"{r['server']:.3f}",
            f"{r['rss']:.1f}",
        ]
        for r in results
    ]
    print(machine())
    print(
        table(
            f"Downloads of a {size} MB file with SHA-256 (median of {runs}, interleaved); "
            f"{verdicts}; RSS growth {'met' if rss_ok else 'MISSED'} < 16 MB",
            [
                "consumer",
                "transfer",
                "MB/s",
                "client CPU s/100 MB",
                "server CPU s/100 MB",
                "RSS growth MB",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
