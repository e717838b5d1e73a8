"""Scale: 100 simulated printers (Bambu Lab and PrusaLink mixed) in one Home Assistant.

Benchmark only, never in CI (issue 9). The simulators run in two child
processes (benchmarks/_simproc.py: 50 Bambu Lab over MQTT/TLS, 50 PrusaLink
over HTTP with digest auth), all printing. For ``--duration`` seconds every
Bambu printer reports its progress once a second (spread over the second, as
a printer's pushes are), and the PrusaLink printers change their progress
while Home Assistant polls them on its own timers (5 s while printing).

Driving (the default since branch perf9): the child processes publish on their
own clock (``SimProcess.schedule``: each Bambu simulator once a second, printer
``i`` at ``i / 50`` of the second; the PrusaLink simulators every 5 s) and send
the publish times once at the end. Home Assistant's process does nothing for
the driving in between but a ``state_changed`` listener that notes when a
progress sensor reached a value. ``--pipe-driven`` is the first driving: one
pipe round trip through an executor thread, a task and a future per Bambu
report, from Home Assistant's process (it cost that process about 3-4 points
of a core: BENCHMARKS.md).

Reported:
- report-to-state latency of the Bambu printers (the child's ``perf_counter``
  just before the report is built and published, to the ``state_changed``
  event of the printer's progress sensor); target p99 <= 20 ms;
- Home Assistant's CPU while all print (process CPU time / wall time over the
  measured window, in % of one core; with ``--pipe-driven`` it includes the
  benchmark's own driving); target < 10 %; also the event loop thread's own
  CPU time alone ("loop thread": Home Assistant's work on printer updates is
  all on the loop);
- memory per printer (resident set size after set-up minus before, / 100;
  it includes the one-off import of the integration's platforms).

Run: ``.venv/bin/python -m benchmarks.bench_scale [--quick] [--profile] [--pipe-driven]``
(``--profile``:
cProfile of the event loop thread over the measured window; it slows Home
Assistant down, so take the CPU figure from a run without it) (not part of
``scripts/bench``'s default list; ``scripts/bench scale`` runs it).
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, callback

from benchmarks._harness import (
    StateWatcher,
    Summary,
    add_entry,
    home_assistant,
    machine,
    ms,
    parse_args,
    profile_top,
    quiet_logging,
    setup_entries,
    table,
    verdict,
)
from benchmarks._simproc import SimProcess

BAMBU = 50
PRUSA = 50
ACCESS_CODE = "12345678"
PASSWORD = "bench-pass-123"  # noqa: S105 (simulator password)
LATENCY_TARGET = 0.020
CPU_TARGET = 10.0  # % of one core


def _rss() -> int:
    """Resident set size of this process in bytes."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def _drive_by_schedule(
    hass: Any,
    *,
    duration: float,
    bambu: SimProcess,
    prusa: SimProcess,
    progress: list[int],
    latencies: list[float],
) -> tuple[float, float, float]:
    """The child processes publish on their own clock; this process only records.

    Each Bambu simulator reports once a second (printer ``i`` at ``i / 50`` of
    the second), the PrusaLink simulators change their progress every 5 s;
    the children send the publish times once at the end. Home Assistant's
    process does nothing for the driving but one pipe round trip per child
    and a ``state_changed`` listener that notes the time a progress sensor
    reached a value. Returns (process CPU %, loop thread CPU %, wall s).
    """
    rounds = max(1, round(duration))
    values: list[list[int]] = []
    for _ in range(rounds):
        progress[:] = [2 + p % 98 for p in progress]
        values.append(list(progress))
    prusa_values = [[1 + (5 * (k + 1)) % 98] * PRUSA for k in range(max(1, rounds // 5))]
    wanted = {
        (f"sensor.bambu_{i:02d}_progress", str(v))
        for round_ in values
        for i, v in enumerate(round_)
    }
    reached: dict[tuple[str, str], float] = {}
    all_reached = asyncio.Event()

    @callback
    def on_event(event: Event) -> None:
        new_state = event.data.get("new_state")
        if new_state is not None and (key := (event.data["entity_id"], new_state.state)) in wanted:
            reached.setdefault(key, time.perf_counter())
            if len(reached) == len(wanted):
                all_reached.set()

    unsub = hass.bus.async_listen(EVENT_STATE_CHANGED, on_event)
    cpu0, wall0, loop_cpu0 = time.process_time(), time.perf_counter(), time.thread_time()
    published, _ = await asyncio.gather(
        bambu.schedule("set_progress", 1.0, values, spread=True),
        prusa.schedule("set_progress", 5.0, prusa_values, spread=False),
    )
    # the last reports' states (each is due within milliseconds)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_reached.wait(), 10)
    wall = time.perf_counter() - wall0
    cpu = (time.process_time() - cpu0) / wall * 100
    loop_cpu = (time.thread_time() - loop_cpu0) / wall * 100
    unsub()
    for k, i, started in published:
        key = (f"sensor.bambu_{i:02d}_progress", str(values[k][i]))
        if key not in reached:
            raise RuntimeError(f"{key[0]} never showed {key[1]}")
        latencies.append(reached[key] - started)
    return cpu, loop_cpu, wall


async def _drive_by_pipe(
    *,
    duration: float,
    bambu: SimProcess,
    prusa: SimProcess,
    report: Callable[[int], Awaitable[None]],
    latencies: list[float],
) -> tuple[float, float, float]:
    """The first driving (``--pipe-driven``): one pipe round trip through an
    executor thread per Bambu report and per PrusaLink change, from this process."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    loop_cpu0 = time.thread_time()
    pending: list[asyncio.Task[None]] = []
    second = 0
    while time.perf_counter() - wall0 < duration:
        start = time.perf_counter()
        for i in range(BAMBU):
            pending.append(asyncio.create_task(report(i)))
            await asyncio.sleep(max(0.0, start + (i + 1) / BAMBU - time.perf_counter()))
        second += 1
        if second % 5 == 0:
            for i in range(PRUSA):
                await prusa.call(i, "set_progress", 1 + second % 98)
    await asyncio.gather(*pending)
    wall = time.perf_counter() - wall0
    cpu = (time.process_time() - cpu0) / wall * 100
    loop_cpu = (time.thread_time() - loop_cpu0) / wall * 100
    return cpu, loop_cpu, wall


async def run(duration: float, profile: bool = False, pipe_driven: bool = False) -> dict[str, Any]:
    bambu = SimProcess("bambu_lab", BAMBU, access_code=ACCESS_CODE, model="P1P")
    prusa = SimProcess("prusa", PRUSA, password=PASSWORD)
    await bambu.start()
    await prusa.start()
    try:
        async with home_assistant() as hass:
            rss0 = _rss()
            entries = [
                add_entry(
                    hass,
                    title=f"Bambu {i:02d}",
                    unique_id=p["serial"],
                    data={
                        "family": "bambu_lab",
                        "host": f"127.0.0.1:{p['mqtt_port']}",
                        "serial": p["serial"],
                        "access_code": ACCESS_CODE,
                        "ca_file": p["ca_file"],
                    },
                )
                for i, p in enumerate(bambu.printers)
            ] + [
                add_entry(
                    hass,
                    title=f"Prusa {i:02d}",
                    unique_id=p["serial"],
                    data={
                        "family": "prusa",
                        "host": f"http://127.0.0.1:{p['port']}",
                        "username": "maker",
                        "password": PASSWORD,
                    },
                )
                for i, p in enumerate(prusa.printers)
            ]
            t0 = time.perf_counter()
            await setup_entries(hass, entries)
            setup_s = time.perf_counter() - t0
            rss1 = _rss()

            await bambu.timed_each("start_print", [("benchy.3mf", 100, 60)] * BAMBU)
            for i in range(PRUSA):
                await prusa.call(i, "start_print", "benchy.bgcode")
                await prusa.call(i, "set_progress", 1)
            # one refresh each, so they poll at the printing interval from here on
            await asyncio.gather(*(e.runtime_data.async_refresh() for e in entries[BAMBU:]))
            await hass.async_block_till_done()

            watcher = StateWatcher()
            hass.bus.async_listen(EVENT_STATE_CHANGED, watcher.on_event)
            progress = [1] * BAMBU
            latencies: list[float] = []

            async def report(i: int) -> None:
                progress[i] = 2 + progress[i] % 98
                fut = watcher.expect(f"sensor.bambu_{i:02d}_progress", str(progress[i]))
                published, _ = await bambu.timed_call(i, "set_progress", progress[i])
                latencies.append(await asyncio.wait_for(fut, 10) - published)

            # warm-up round (a state for every printer's progress sensor)
            await asyncio.gather(*(report(i) for i in range(BAMBU)))
            latencies.clear()

            profiler = cProfile.Profile() if profile else None
            if profiler:
                profiler.enable()
            if pipe_driven:
                cpu, loop_cpu, wall = await _drive_by_pipe(
                    duration=duration, bambu=bambu, prusa=prusa, report=report, latencies=latencies
                )
            else:
                cpu, loop_cpu, wall = await _drive_by_schedule(
                    hass,
                    duration=duration,
                    bambu=bambu,
                    prusa=prusa,
                    progress=progress,
                    latencies=latencies,
                )
            if profiler:
                profiler.disable()
                profile_top(profiler, 30)
            prusa_printing = sum(
                1
                for i in range(PRUSA)
                if (state := hass.states.get(f"sensor.prusa_{i:02d}_status"))
                and state.state == "printing"
            )
            for entry in entries:
                await hass.config_entries.async_unload(entry.entry_id)
            return {
                "setup": setup_s,
                "latency": Summary.of(latencies),
                "cpu": cpu,
                "loop_cpu": loop_cpu,
                "wall": wall,
                "driving": "pipe" if pipe_driven else "schedule",
                "memory": (rss1 - rss0) / (BAMBU + PRUSA),
                "prusa_printing": prusa_printing,
                "duration": duration,
            }
    finally:
        await bambu.stop()
        await prusa.stop()


def report(result: dict[str, Any]) -> str:
    lat: Summary = result["latency"]
    return table(
        f"bench_scale: {BAMBU} Bambu Lab + {PRUSA} PrusaLink printers, all printing, "
        f"{result['duration']:.0f} s, driven by {result['driving']}  "
        f"targets p99 <= {LATENCY_TARGET * 1000:.0f} ms: {verdict(lat.p99, LATENCY_TARGET)}, "
        f"CPU < {CPU_TARGET:.0f} %: {verdict(result['cpu'], CPU_TARGET)}",
        [
            "reports",
            "mean",
            "p50",
            "p99",
            "max",
            "HA CPU % of a core",
            "loop thread %",
            "KiB per printer",
            "setup s",
            "Prusa printing",
        ],
        [
            [
                lat.n,
                ms(lat.mean),
                ms(lat.p50),
                ms(lat.p99),
                ms(lat.max),
                f"{result['cpu']:.1f}",
                f"{result['loop_cpu']:.1f}",
                f"{result['memory'] / 1024:.0f}",
                f"{result['setup']:.1f}",
                f"{result['prusa_printing']}/{PRUSA}",
            ]
        ],
    )


def main() -> None:
    args = parse_args(
        __doc__ or "",
        lambda parser: parser.add_argument(
            "--pipe-driven",
            action="store_true",
            help="drive every report from this process (the first driving; see the docstring)",
        ),
    )
    quiet_logging()
    result = asyncio.run(run(10.0 if args.quick else 30.0, args.profile, args.pipe_driven))
    print(report(result))
    print("latency in ms: Bambu report published by the simulator -> progress state_changed")
    print(f"machine: {machine()}")


if __name__ == "__main__":
    main()
