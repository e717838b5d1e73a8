"""The file processor on a Home Assistant loop in asyncio debug mode: slow callbacks.

A running Home Assistant (the test harness's, as in the other benchmarks) with
the library entry; its loop in debug mode with ``slow_callback_duration`` =
5 ms, so asyncio logs every callback or task step that holds the loop longer
("Executing <...> took 0.012 seconds"). A batch of print files (3MF projects
with a 512x512 cover, PrusaSlicer G-code with a 300x300 thumbnail, binary
G-code with a QOI thumbnail) is put in the library folder and processed by the
``FileProcessor`` (metadata, previews, library record, events). Reported: the
slow callbacks asyncio logged during the batch, those attributed to the
integration (the message names ``printernizer``), and the worst of each.
Target: none of the integration's.

asyncio measures wall time, so on a loaded machine a step is also "slow" when
the OS preempted the loop thread in the middle of it. Each step of the
integration's callbacks is therefore also measured with the loop thread's own
CPU time (``time.thread_time``) and its context switches (``getrusage``,
``RUSAGE_THREAD``): a step that used >= 5 ms of loop CPU is work to move into
the executor; one that used far less but was preempted (involuntary switches)
is the machine. Waiting for the GIL held by an executor thread would show as
voluntary switches.

Run: ``.venv/bin/python -m benchmarks.bench_processing [--quick]``
"""

from __future__ import annotations

import asyncio
import asyncio.events
import hashlib
import logging
import os
import re
import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks._harness import (
    add_entry,
    home_assistant,
    machine,
    ms,
    parse_args,
    quiet_logging,
    setup_entries,
    table,
    wait_until,
)
from benchmarks.bench_metadata import cover
from custom_components.printernizer.const import (
    CONF_ENTRY_KIND,
    ENTRY_KIND_LIBRARY,
    LIBRARY_TITLE,
    LIBRARY_UNIQUE_ID,
    OPT_AUTO_DOWNLOAD,
    OPT_LIBRARY_FOLDER,
)
from custom_components.printernizer.core.library import SOURCE_WATCH_FOLDER, LibrarySource
from custom_components.printernizer.runtime import DATA_KEY
from tests.metadata import writers as w

SLOW: float = 0.005
_TOOK = re.compile(r"took (\d+(?:\.\d+)?) seconds")


class SlowCallbacks(logging.Handler):
    """Collects asyncio's debug-mode "Executing ... took N seconds" warnings."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[tuple[float, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if (match := _TOOK.search(message)) is not None:
            self.records.append((float(match.group(1)), message))


@dataclass(slots=True)
class Step:
    """One step (callback or task step) of the integration on the loop."""

    wall: float
    cpu: float
    voluntary: int
    involuntary: int
    what: str


@contextmanager
def measured_steps(steps: list[Step], wanted: Callable[[str], bool]) -> Iterator[None]:
    """Time every loop step whose handle ``wanted`` accepts (wall, thread CPU, switches)."""
    original = asyncio.events.Handle._run

    def run(handle: asyncio.events.Handle) -> None:
        usage, wall, cpu = (
            resource.getrusage(resource.RUSAGE_THREAD),
            time.perf_counter(),
            time.thread_time(),
        )
        try:
            original(handle)
        finally:
            wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
            if wall >= SLOW:
                what = repr(getattr(handle._callback, "__self__", handle))
                if wanted(what):
                    after = resource.getrusage(resource.RUSAGE_THREAD)
                    steps.append(
                        Step(
                            wall,
                            cpu,
                            after.ru_nvcsw - usage.ru_nvcsw,
                            after.ru_nivcsw - usage.ru_nivcsw,
                            what,
                        )
                    )

    asyncio.events.Handle._run = run  # type: ignore[method-assign]
    try:
        yield
    finally:
        asyncio.events.Handle._run = original  # type: ignore[method-assign]


def _ours(text: str) -> bool:
    return "printernizer" in text.lower()


def _files(count: int) -> list[tuple[str, bytes]]:
    """``count`` distinct print files, the three formats in turn."""
    big = cover(512, 512)
    small = cover(128, 128)
    gcode_thumb = cover(300, 300)
    out: list[tuple[str, bytes]] = []
    for i in range(count):
        kind = i % 3
        if kind == 0:
            data = w.threemf(
                [w.PlateSpec(1, prediction=1000 + i), w.PlateSpec(2, prediction=2000 + i)],
                extra={
                    "Metadata/plate_1.png": big,
                    "Metadata/plate_1_small.png": small,
                    "Metadata/plate_2.png": big,
                },
            )
            out.append((f"project_{i}.gcode.3mf", data))
        elif kind == 1:
            text = w.prusaslicer(thumbnails=[(gcode_thumb, 300, 300, "")], moves=2000)
            out.append((f"part_{i}.gcode", (text + f"; {i}\n").encode()))
        else:
            spec = w.BgcodeSpec(
                thumbnails=[(w.png(16, 16), 16, 16, 0), (w.qoi(313 + i, 173), 313 + i, 173, 2)]
            )
            out.append((f"print_{i}.bgcode", w.bgcode(spec)))
    return out


def _write_all(folder: Path, files: list[tuple[str, bytes]]) -> list[tuple[Path, str, int]]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in files:
        path = folder / name
        path.write_bytes(data)
        written.append((path, hashlib.sha256(data).hexdigest(), len(data)))
    return written


def _short(message: str, limit: int = 150) -> str:
    text = " ".join(message.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


async def run(count: int) -> None:
    async with home_assistant() as hass:
        library_folder = Path(hass.config.config_dir) / "library"
        hass.config.allowlist_external_dirs.add(str(library_folder.parent))
        entry = add_entry(
            hass,
            title=LIBRARY_TITLE,
            unique_id=LIBRARY_UNIQUE_ID,
            data={CONF_ENTRY_KIND: ENTRY_KIND_LIBRARY},
            options={OPT_LIBRARY_FOLDER: str(library_folder), OPT_AUTO_DOWNLOAD: False},
        )
        await setup_entries(hass, [entry])
        runtime = hass.data[DATA_KEY].library
        assert runtime is not None and runtime.library is not None
        assert runtime.processor is not None
        library, processor = runtime.library, runtime.processor
        files = await hass.async_add_executor_job(_files, count)
        written = await hass.async_add_executor_job(_write_all, library_folder / "batch", files)
        records = []
        for path, checksum, size in written:
            file, _new = await library.async_add_in_place(
                path,
                checksum=checksum,
                size=size,
                source=LibrarySource(kind=SOURCE_WATCH_FOLDER, path=str(path)),
            )
            records.append(file)
        await hass.async_block_till_done()

        loop = asyncio.get_running_loop()
        slow = SlowCallbacks()
        asyncio_logger = logging.getLogger("asyncio")
        asyncio_logger.addHandler(slow)
        propagate, asyncio_logger.propagate = asyncio_logger.propagate, False
        loop.set_debug(True)
        loop.slow_callback_duration = SLOW
        steps: list[Step] = []
        load = os.getloadavg()[0]
        start = time.perf_counter()
        try:
            with measured_steps(steps, _ours):
                for file in records:
                    processor.async_request(file)
                await wait_until(lambda: processor.processed >= count, timeout=600)
                await hass.async_block_till_done()
        finally:
            elapsed = time.perf_counter() - start
            loop.set_debug(False)
            asyncio_logger.removeHandler(slow)
            asyncio_logger.propagate = propagate
        diagnostics = processor.diagnostics()
        assert diagnostics["processed"] == count, diagnostics
        assert diagnostics["metadata_failed"] == diagnostics["thumbnails_failed"] == 0, diagnostics

        ours = [r for r in slow.records if _ours(r[1])]
        others = [r for r in slow.records if r not in ours]
        rows: list[list[Any]] = []
        for label, found in (("the integration's", ours), ("anything else", others)):
            worst = max(found, default=None)
            rows.append(
                [
                    label,
                    len(found),
                    ms(worst[0]) if worst else "-",
                    _short(worst[1]) if worst else "",
                ]
            )
        working = [st for st in steps if st.cpu >= SLOW]
        ok = "met" if not ours else ("met on loop CPU" if not working else "MISSED")
        print()
        print(
            table(
                f"{count} files (3MF / G-code / bgcode) processed in {elapsed:.2f} s, "
                f"asyncio debug, slow_callback_duration {SLOW * 1000:g} ms, load average "
                f"{load:.1f} on {os.cpu_count()} CPUs (target: none of the integration's: {ok})",
                ["slow callbacks (asyncio)", "count", "worst", "worst callback"],
                rows,
            )
        )
        print()
        print(
            table(
                "the integration's steps >= 5 ms wall: what the loop thread did meanwhile",
                [
                    "steps",
                    "count",
                    "worst wall",
                    "worst loop CPU",
                    "voluntary sw",
                    "involuntary sw",
                ],
                [
                    [
                        label,
                        len(found),
                        ms(max((st.wall for st in found), default=0.0)),
                        ms(max((st.cpu for st in found), default=0.0)),
                        sum(st.voluntary for st in found),
                        sum(st.involuntary for st in found),
                    ]
                    for label, found in (
                        ("all", steps),
                        (">= 5 ms of loop CPU (to move to the executor)", working),
                    )
                ],
            )
        )
        for step in sorted(working, key=lambda st: -st.cpu)[:5]:
            print(f"  {ms(step.cpu)} CPU  {_short(step.what, 300)}")


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    quiet_logging()
    print(f"# bench_processing  ({machine()})")
    asyncio.run(run(24 if args.quick else 60))


if __name__ == "__main__":
    main()
