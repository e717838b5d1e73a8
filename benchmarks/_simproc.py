"""Printer simulators in a child process, driven over a pipe.

Running the simulators in their own process keeps their CPU time out of the
figures measured in the Home Assistant process (``time.process_time``) and
lets them use the other core: a real printer does not share Home Assistant's
CPU either. Commands are sent over a ``multiprocessing`` pipe; a round trip
takes well under a millisecond.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.connection
import sys
import time
from typing import Any

from benchmarks._harness import ROOT


def _child(
    conn: multiprocessing.connection.Connection, family: str, count: int, kwargs: dict[str, Any]
) -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    asyncio.run(_serve(conn, family, count, kwargs))


def _make(family: str, index: int, kwargs: dict[str, Any]) -> Any:
    if family == "prusa":
        from simulator.prusalink import PrusaLinkSimulator  # noqa: PLC0415 (child only)

        return PrusaLinkSimulator(serial=f"SN-BENCH-{index:04d}", **kwargs)
    if family == "bambu_lab":
        from simulator.bambu import BambuSimulator  # noqa: PLC0415 (child only)

        return BambuSimulator(serial=f"01P00A{index:09d}", **kwargs)
    raise ValueError(f"unknown family {family!r}")


def _describe(family: str, sim: Any) -> dict[str, Any]:
    if family == "prusa":
        return {"port": sim.port, "serial": sim.serial, "password": sim.password}
    return {
        "mqtt_port": sim.mqtt_port,
        "serial": sim.serial,
        "ca_file": sim.ca_file,
        "access_code": sim.access_code,
    }


async def _run(sim: Any, method: str, args: Any) -> Any:
    result = getattr(sim, method)(*args)
    if asyncio.iscoroutine(result):
        result = await result
    return result


async def _schedule(
    sims: list[Any], method: str, period: float, values: list[list[Any]], spread: bool
) -> list[tuple[int, int, float]]:
    """Round ``k`` at ``start + k * period``: ``sims[i].method(values[k][i])`` for every printer.

    ``spread``: printer ``i`` at ``i / len(sims)`` of the period (a printer's own
    pace), else all back to back. Returns ``(round, printer, perf_counter just
    before the call)`` for every call, once all rounds are done: the parent's
    process does nothing for it in between (no pipe round trip per call).
    """
    start = time.perf_counter()
    done: list[tuple[int, int, float]] = []
    for k, round_values in enumerate(values):
        for i, (sim, value) in enumerate(zip(sims, round_values, strict=True)):
            slot = start + k * period + (i * period / len(sims) if spread else 0.0)
            if (delay := slot - time.perf_counter()) > 0:
                await asyncio.sleep(delay)
            started = time.perf_counter()
            await _run(sim, method, (value,))
            done.append((k, i, started))
    return done


async def _serve(
    conn: multiprocessing.connection.Connection, family: str, count: int, kwargs: dict[str, Any]
) -> None:
    sims: list[Any] = []
    try:
        try:
            for i in range(count):
                sims.append(_make(family, i, kwargs))
                await sims[-1].start()
        except Exception as err:  # tell the parent instead of leaving it waiting
            conn.send(err)
            return
        conn.send([_describe(family, sim) for sim in sims])
        loop = asyncio.get_running_loop()
        while True:
            cmd, *args = await loop.run_in_executor(None, conn.recv)
            if cmd == "stop":
                break
            try:
                if cmd == "requests":  # PrusaLink: requests served, per path, all printers
                    total: dict[str, int] = {}
                    for sim in sims:
                        for path, n in sim.request_count.items():
                            total[path] = total.get(path, 0) + n
                    conn.send(total)
                elif cmd == "call":  # sims[index].method(*args)
                    index, method, *rest = args
                    conn.send(await _run(sims[index], method, rest))
                elif cmd == "timed_call":  # (perf_counter just before, result)
                    index, method, *rest = args
                    started = time.perf_counter()
                    conn.send((started, await _run(sims[index], method, rest)))
                elif cmd == "timed_each":  # [(perf_counter just before, result)] per printer
                    method, args_list = args
                    answers = []
                    for sim, sim_args in zip(sims, args_list, strict=True):
                        started = time.perf_counter()
                        answers.append((started, await _run(sim, method, sim_args)))
                    conn.send(answers)
                elif cmd == "schedule":
                    conn.send(await _schedule(sims, *args))
                else:
                    raise ValueError(f"unknown command {cmd!r}")
            except Exception as err:  # report to the parent, keep serving
                conn.send(err)
    finally:
        for sim in sims:
            await sim.stop()
        conn.send("stopped")


class SimProcess:
    """``count`` simulators of ``family`` (``prusa`` or ``bambu_lab``) in a child process."""

    def __init__(self, family: str, count: int, **kwargs: Any) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child_conn = ctx.Pipe()
        self._proc = ctx.Process(
            target=_child, args=(child_conn, family, count, kwargs), daemon=True
        )
        self._child_conn = child_conn
        self._lock = asyncio.Lock()
        #: per simulator: ports, serial, credentials, CA file
        self.printers: list[dict[str, Any]] = []

    async def start(self) -> None:
        self._proc.start()
        # the child has its end now; closing ours makes recv() raise EOFError if it dies
        self._child_conn.close()
        loop = asyncio.get_running_loop()
        printers = await loop.run_in_executor(None, self._conn.recv)
        if isinstance(printers, Exception):
            await loop.run_in_executor(None, self._proc.join, 10)
            raise RuntimeError(f"simulators did not start: {printers!r}") from printers
        self.printers = printers

    def _roundtrip(self, msg: tuple[Any, ...]) -> Any:
        self._conn.send(msg)
        result = self._conn.recv()
        if isinstance(result, Exception):
            raise result
        return result

    async def call(self, index: int, method: str, *args: Any) -> Any:
        """``sims[index].method(*args)`` in the child (awaited there when async)."""
        return await self._send("call", index, method, *args)

    async def timed_call(self, index: int, method: str, *args: Any) -> tuple[float, Any]:
        """Like :meth:`call`; also the child's ``time.perf_counter()`` just before the call.

        ``perf_counter`` is CLOCK_MONOTONIC on Linux, one clock for all processes, so
        the time is comparable with the parent's.
        """
        return await self._send("timed_call", index, method, *args)

    async def timed_each(
        self, method: str, args_list: list[tuple[Any, ...]]
    ) -> list[tuple[float, Any]]:
        """``sims[i].method(*args_list[i])`` for every printer, back to back, each timed."""
        return await self._send("timed_each", method, args_list)

    async def schedule(
        self, method: str, period: float, values: list[list[Any]], *, spread: bool
    ) -> list[tuple[int, int, float]]:
        """Let the child call ``method`` on its own clock (see ``_schedule``); its call times."""
        return await self._send("schedule", method, period, values, spread)

    async def requests(self) -> dict[str, int]:
        """PrusaLink: requests served per path, summed over the printers."""
        return await self._send("requests")

    async def _send(self, *msg: Any) -> Any:
        async with self._lock:
            return await asyncio.get_running_loop().run_in_executor(None, self._roundtrip, msg)

    def call_blocking(self, index: int, method: str, *args: Any) -> Any:
        """Like :meth:`call`, blocking the caller for the round trip."""
        return self._roundtrip(("call", index, method, *args))

    async def stop(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            if self._proc.is_alive():
                await self._send("stop")
        finally:
            await loop.run_in_executor(None, self._proc.join, 10)
            if self._proc.is_alive():
                self._proc.kill()
