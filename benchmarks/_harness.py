"""Shared helpers of the benchmarks: a Home Assistant instance, statistics, tables.

Benchmarks run outside pytest, so this module puts the repository root on
``sys.path`` (for ``custom_components.printernizer``, ``simulator`` and
``tests.fake_client``) and starts Home Assistant with
``pytest_homeassistant_custom_component.common.async_test_home_assistant``,
with custom integrations enabled the way the ``enable_custom_integrations``
fixture does it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import os
import platform
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# after the sys.path line above
from homeassistant import loader  # noqa: E402
from homeassistant.config_entries import ConfigEntryState  # noqa: E402
from homeassistant.const import __version__ as ha_version  # noqa: E402
from homeassistant.core import Event, callback  # noqa: E402
from pytest_homeassistant_custom_component.common import (  # noqa: E402
    MockConfigEntry,
    async_test_home_assistant,
)

from custom_components.printernizer.const import DOMAIN  # noqa: E402


def parse_args(
    description: str, extra: Callable[[argparse.ArgumentParser], None] | None = None
) -> argparse.Namespace:
    """``--quick`` (fewer iterations), ``--profile`` (cProfile the hot part), and a
    benchmark's own options (``extra`` adds them)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="fewer iterations")
    parser.add_argument(
        "--profile", action="store_true", help="print the top cProfile entries of the hot part"
    )
    if extra is not None:
        extra(parser)
    return parser.parse_args()


def quiet_logging() -> None:
    """Warnings and errors only (HA's setup logs a lot at info level)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("homeassistant", "custom_components", "simulator", "asyncio"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # "We found a custom integration ... which has not been tested"
    logging.getLogger("homeassistant.loader").setLevel(logging.ERROR)


@contextlib.asynccontextmanager
async def home_assistant() -> AsyncIterator[Any]:
    """A running Home Assistant with custom integrations enabled, in a temporary config dir."""

    with tempfile.TemporaryDirectory(prefix="printernizer-bench-") as config_dir:
        async with async_test_home_assistant(config_dir=config_dir) as hass:
            # what the enable_custom_integrations fixture does
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
            try:
                yield hass
            finally:
                await hass.async_stop(force=True)


def add_entry(hass: Any, *, title: str, unique_id: str, data: dict[str, Any], **kwargs: Any) -> Any:
    """Add a Printernizer config entry (not set up yet); ``kwargs`` go to MockConfigEntry."""

    entry = MockConfigEntry(domain=DOMAIN, title=title, unique_id=unique_id, data=data, **kwargs)
    entry.add_to_hass(hass)
    return entry


async def setup_entries(hass: Any, entries: Sequence[Any]) -> None:
    """Set up entries one after the other; fail loudly when one does not load."""

    for entry in entries:
        # setting up the first entry sets up the integration with all its entries
        if entry.state is ConfigEntryState.NOT_LOADED:
            await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    for entry in entries:
        if entry.state is not ConfigEntryState.LOADED:
            raise RuntimeError(f"entry {entry.title} did not load: {entry.state}")


async def wait_until(cond: Callable[[], bool], timeout: float = 10.0, step: float = 0.005) -> None:  # noqa: ASYNC109
    """Poll ``cond`` until true (bounded)."""
    async with asyncio.timeout(timeout):
        while not cond():  # noqa: ASYNC110
            await asyncio.sleep(step)


# --- statistics --------------------------------------------------------------


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (p99 of 100 samples is the 99th smallest)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class Summary:
    """Mean, p50, p99 and max of samples (in the samples' unit)."""

    n: int
    mean: float
    p50: float
    p99: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary:
        return cls(
            n=len(values),
            mean=statistics.fmean(values) if values else math.nan,
            p50=percentile(values, 50),
            p99=percentile(values, 99),
            max=max(values) if values else math.nan,
        )


def ms(seconds: float) -> str:
    """Seconds as milliseconds, 3 decimals."""
    return f"{seconds * 1000:.3f}"


def us(seconds: float) -> str:
    """Seconds as microseconds, 1 decimal."""
    return f"{seconds * 1e6:.1f}"


def table(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain-text table (right-aligned columns)."""
    rows = [[str(cell) for cell in row] for row in rows]
    cols = [str(h) for h in header]
    widths = [
        max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(cols)
    ]
    line = "  ".join("-" * w for w in widths)
    out = [
        title,
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cols, widths, strict=True))
        ),
        line,
    ]
    for row in rows:
        out.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    return "\n".join(out)


def verdict(value: float, limit: float) -> str:
    """``met`` / ``MISSED`` for a value that must not exceed ``limit``."""
    return "met" if value <= limit else "MISSED"


def machine() -> str:
    """One line about this machine."""

    return (
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"Home Assistant {ha_version}, {platform.system()} {platform.machine()}"
    )


class CpuTimer:
    """Wall and process CPU time of a block."""

    def __enter__(self) -> CpuTimer:
        self.wall0 = time.perf_counter()
        self.cpu0 = time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall0
        self.cpu = time.process_time() - self.cpu0


def profile_top(profiler: Any, limit: int = 25) -> None:
    """Print the top entries of a cProfile.Profile by cumulative and own time."""

    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(limit)
    stats.sort_stats("cumulative").print_stats(limit)


class StateWatcher:
    """Resolves a future with ``time.perf_counter()`` when an entity reaches an expected state.

    Listen with ``hass.bus.async_listen("state_changed", watcher.on_event)``.
    """

    def __init__(self) -> None:
        #: entity_id -> (expected state, future of the time it was reached)
        self.pending: dict[str, tuple[str, asyncio.Future[float]]] = {}

    def expect(self, entity_id: str, state: str) -> asyncio.Future[float]:
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.pending[entity_id] = (state, fut)
        return fut

    @callback
    def on_event(self, event: Event) -> None:
        entity_id = event.data["entity_id"]
        pending = self.pending.get(entity_id)
        new_state = event.data.get("new_state")
        if pending is None or new_state is None or new_state.state != pending[0]:
            return
        del self.pending[entity_id]
        if not pending[1].done():
            pending[1].set_result(time.perf_counter())
