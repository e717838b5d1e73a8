"""Cost of one normalized state update through coordinator, monitor, jobs and entities.

Fake push clients (tests/fake_client.py) stand in for printers, so only the
core is measured: ``FakeClient.update`` calls the coordinator's push listener,
which hands the state to the monitor (contract events, job tracking) and
writes every entity whose state changed. Each measured update changes the
progress and the nozzle and bed temperatures of one printer (round robin over
the printers), so entity states really get written; every update is followed
by ``hass.async_block_till_done()``.

Run: ``.venv/bin/python -m benchmarks.bench_core [--quick] [--profile]``
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import time
import tracemalloc
from typing import Any
from unittest.mock import patch

from homeassistant.const import EVENT_STATE_CHANGED, MATCH_ALL
from homeassistant.core import Event, callback

from benchmarks._harness import (
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
)
from custom_components.printernizer.api.models import PrinterStatus
from custom_components.printernizer.const import DOMAIN
from tests.fake_client import FakeClient

PRINTER_COUNTS = (1, 50)


class EventCounter:
    """Counts every event on the bus: all, state_changed, printernizer_*."""

    def __init__(self) -> None:
        self.total = 0
        self.state_changed = 0
        self.printernizer = 0

    @callback
    def on_event(self, event: Event) -> None:
        self.total += 1
        if event.event_type == EVENT_STATE_CHANGED:
            self.state_changed += 1
        elif str(event.event_type).startswith(f"{DOMAIN}_"):
            self.printernizer += 1

    def snapshot(self) -> tuple[int, int, int]:
        return self.total, self.state_changed, self.printernizer


async def run_case(printers: int, updates: int, profile: bool) -> dict[str, Any]:
    """Set up ``printers`` fake printers, then time ``updates`` state updates."""
    async with home_assistant() as hass:
        fakes: list[FakeClient] = []

        def create_client(*_args: Any, **_kwargs: Any) -> FakeClient:
            fake = FakeClient(serial=f"BENCH{len(fakes):04d}")
            fakes.append(fake)
            return fake

        entries = [
            add_entry(
                hass,
                title=f"Bench {i:02d}",
                unique_id=f"BENCH{i:04d}",
                data={
                    "family": "bambu_lab",
                    "host": "192.0.2.10",
                    "serial": f"BENCH{i:04d}",
                    "access_code": "12345678",
                },
            )
            for i in range(printers)
        ]
        with patch(
            "custom_components.printernizer.clients.create_client", side_effect=create_client
        ):
            tracemalloc.start()
            await setup_entries(hass, entries)
            setup_bytes = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
        entity_count = len(hass.states.async_all())

        # every printer starts a job (not measured)
        for i, fake in enumerate(fakes):
            fake.update(
                status=PrinterStatus.PRINTING,
                job_name="benchy.3mf",
                printer_job_id=str(1000 + i),
                progress=1,
                nozzle_target=220.0,
                bed_target=60.0,
                remaining_seconds=3600,
                layer=1,
                total_layers=100,
            )
        await hass.async_block_till_done()

        counter = EventCounter()
        hass.bus.async_listen(MATCH_ALL, counter.on_event)

        step = [0] * printers

        def next_update(k: int) -> tuple[FakeClient, dict[str, Any]]:
            i = k % printers
            step[i] += 1
            s = step[i]
            return fakes[i], {
                # 2..99 and around again: a different whole percent every update
                "progress": 2 + s % 98,
                "nozzle_temp": 200.0 + (s % 40) * 0.5,
                "bed_temp": 55.0 + (s % 20) * 0.25,
            }

        # warm-up (caches, first writes)
        for k in range(min(200, updates // 5)):
            fake, changes = next_update(k)
            fake.update(**changes)
            await hass.async_block_till_done()

        sync_times: list[float] = []
        wall_times: list[float] = []
        before = counter.snapshot()
        profiler = cProfile.Profile() if profile else None
        cpu0 = time.process_time()
        wall0 = time.perf_counter()
        if profiler:
            profiler.enable()
        for k in range(updates):
            fake, changes = next_update(k)
            t0 = time.perf_counter()
            fake.update(**changes)
            t1 = time.perf_counter()
            await hass.async_block_till_done()
            t2 = time.perf_counter()
            sync_times.append(t1 - t0)
            wall_times.append(t2 - t0)
        if profiler:
            profiler.disable()
        total_wall = time.perf_counter() - wall0
        total_cpu = time.process_time() - cpu0
        after = counter.snapshot()

        # a burst: every printer updates once, then one block_till_done
        burst_rounds = max(1, updates // max(printers, 1) // 4)
        t0 = time.perf_counter()
        for r in range(burst_rounds):
            for i in range(printers):
                fake, changes = next_update(r * printers + i)
                fake.update(**changes)
            await hass.async_block_till_done()
        burst_per_update = (time.perf_counter() - t0) / (burst_rounds * printers)

        # memory growth over many updates (a leak shows here): traced, so not timed; the
        # first phases fill Home Assistant's bounded caches, the last one is reported
        growth_updates = 1000
        growth_phases = 3
        tracemalloc.start()
        growth_bytes = 0
        k0 = 0
        for _phase in range(growth_phases):
            gc.collect()
            before_bytes = tracemalloc.get_traced_memory()[0]
            for k in range(k0, k0 + growth_updates):
                fake, changes = next_update(k)
                fake.update(**changes)
                if k % 10 == 0:
                    await hass.async_block_till_done()
            k0 += growth_updates
            await hass.async_block_till_done()
            gc.collect()
            growth_bytes = tracemalloc.get_traced_memory()[0] - before_bytes
        tracemalloc.stop()

        if profiler:
            profile_top(profiler)

        # sanity: the last update reached the entity
        progress_state = hass.states.get("sensor.bench_00_progress")
        assert progress_state is not None, "progress sensor missing"
        assert int(progress_state.state) == fakes[0].state.progress, progress_state

        events = [b - a for a, b in zip(before, after, strict=True)]
        return {
            "printers": printers,
            "entities": entity_count,
            "updates": updates,
            "sync": Summary.of(sync_times),
            "wall": Summary.of(wall_times),
            "cpu_per_update": total_cpu / updates,
            "wall_per_update": total_wall / updates,
            "burst_per_update": burst_per_update,
            "setup_kib_per_printer": setup_bytes / 1024 / printers,
            "growth_bytes_per_update": growth_bytes / growth_updates,
            "events_total": events[0] / updates,
            "events_state_changed": events[1] / updates,
            "events_printernizer": events[2] / updates,
        }


async def main_async(quick: bool, profile: bool) -> list[dict[str, Any]]:
    updates = 300 if quick else 2000
    return [await run_case(n, updates, profile) for n in PRINTER_COUNTS]


def report(results: list[dict[str, Any]]) -> str:
    rows = []
    for r in results:
        rows.append(
            [
                f"{r['printers']} printer(s), {r['entities']} entities",
                r["updates"],
                ms(r["wall"].mean),
                ms(r["wall"].p50),
                ms(r["wall"].p99),
                ms(r["sync"].mean),
                ms(r["cpu_per_update"]),
                ms(r["burst_per_update"]),
                f"{r['events_total']:.2f}",
                f"{r['events_state_changed']:.2f}",
                f"{r['events_printernizer']:.2f}",
            ]
        )
    timing = table(
        "bench_core: one state update (progress + nozzle/bed temperature) "
        "through coordinator, monitor, jobs, entities  [ms per update]",
        [
            "case",
            "N",
            "wall mean",
            "p50",
            "p99",
            "sync mean",
            "CPU mean",
            "burst/upd",
            "events",
            "state_changed",
            "printernizer_*",
        ],
        rows,
    )
    memory = table(
        "bench_core memory (tracemalloc): set-up per printer (the first case also pays the "
        "one-off imports of the integration and its platforms), and growth per update over "
        "the third run of 1000 updates (~0: no leak)",
        ["case", "set-up KiB/printer", "growth bytes/update"],
        [
            [
                f"{r['printers']} printer(s)",
                f"{r['setup_kib_per_printer']:.0f}",
                f"{r['growth_bytes_per_update']:.1f}",
            ]
            for r in results
        ],
    )
    return timing + "\n\n" + memory


def main() -> None:
    args = parse_args(__doc__ or "")
    quiet_logging()
    results = asyncio.run(main_async(args.quick, args.profile))
    print(report(results))
    print(
        "wall = update call + hass.async_block_till_done(); sync = the update call alone "
        "(coordinator -> monitor -> entity writes run synchronously); CPU = process time / N; "
        "burst/upd = every printer updates, then one block_till_done, per update."
    )
    print(f"machine: {machine()}")


if __name__ == "__main__":
    main()
