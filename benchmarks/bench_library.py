"""Files core on the event loop: discovery and diff of 1,000 files; a 10,000-file library.

(a) Discovery: ``FileDiscovery.async_discover_printer`` on a fake file client
    (tests/fake_client.py, an in-memory listing, so only the core is measured)
    with 1,000 files: list, diff against the index, build and fire
    ``files_discovered`` and ``file_sync_complete``. Cases: nothing changed,
    and 100 files replaced by new ones. Target: < 100 ms.
(b) Library of 10,000 files: ``async_add_file`` (a new checksum: rename in the
    executor, index, ``library_file_added``), ``async_remove`` (unlink in the
    executor, ``library_file_deleted``), ``page(100, offset)`` and the lookups
    ``get``/``by_path``/``by_source``. Wall time of the await includes the
    executor's rename/unlink, so loop time is lower. Target: < 20 ms each.

Run: ``.venv/bin/python -m benchmarks.bench_library [--quick]``
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path
from typing import Any

from benchmarks._harness import Summary, home_assistant, machine, ms, parse_args, quiet_logging
from benchmarks._harness import table as make_table
from custom_components.printernizer.core.files import FileDiscovery, FileIndex
from custom_components.printernizer.core.library import Library, LibraryFile, LibrarySource
from custom_components.printernizer.core.storage import CollectionStore
from custom_components.printernizer.emitter import EventEmitter
from tests.fake_client import FakeFileClient


class _ListingClient(FakeFileClient):
    """The fake with its listing built once per change (only the core is measured)."""

    def __init__(self) -> None:
        super().__init__()
        self.listing: list[Any] = []

    def refresh(self) -> None:
        self.listing = [self._remote(path) for path in sorted(self.files)]

    async def async_list_files(self) -> list[Any]:
        return self.listing


class _Monitor:
    name = "Bench printer"


class _Coordinator:
    """The two things discovery reads from a coordinator."""

    def __init__(self, client: _ListingClient) -> None:
        self.client = client
        self.printer_id = "BENCH0001"
        self.monitor = _Monitor()
        self.online = True


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


async def bench_discovery(hass: Any, runs: int) -> dict[str, Summary]:
    client = _ListingClient()
    for i in range(1000):
        client.add(f"/cache/part_{i:04}.gcode.3mf", b"x" * (i + 1))
    client.refresh()
    index = FileIndex(hass)
    discovery = FileDiscovery(hass, EventEmitter(hass), index)
    coordinator: Any = _Coordinator(client)
    await discovery.async_discover_printer(coordinator)  # the first listing
    same: list[float] = []
    changed: list[float] = []
    for run in range(runs):
        start = time.perf_counter()
        await discovery.async_discover_printer(coordinator)
        same.append(time.perf_counter() - start)
        for i in range(100):  # 100 files go, 100 new ones come
            client.files.pop(f"/cache/part_{(run * 100 + i) % 1000:04}.gcode.3mf", None)
            client.add(f"/cache/new_{run}_{i}.3mf", b"n")
        client.refresh()
        start = time.perf_counter()
        await discovery.async_discover_printer(coordinator)
        changed.append(time.perf_counter() - start)
        await hass.async_block_till_done()
    return {"unchanged": Summary.of(same), "100 added + 100 removed": Summary.of(changed)}


async def bench_library(hass: Any, folder: Path, runs: int) -> dict[str, Summary]:
    store = CollectionStore(hass, "printernizer.bench_library", 1, save_delay=3600)
    library = Library(hass, EventEmitter(hass), folder, quota_bytes=10**15, store=store)
    await library.async_load()
    for i in range(10_000):  # an existing library of 10,000 files (index only)
        library._index(
            LibraryFile(
                checksum=hashlib.sha256(str(i).encode()).hexdigest(),
                filename=f"part_{i}.3mf",
                path=f"Bench printer/part_{i}.3mf",
                file_size=1000 + i,
                added_at=f"2026-01-01T00:00:{i % 60:02}+00:00",
                sources=[LibrarySource(printer_id="BENCH0001", path=f"/cache/part_{i}.3mf")],
            )
        )
    printer_folder = library.folder_for("Bench printer")
    add: list[float] = []
    delete: list[float] = []
    page: list[float] = []
    lookup: list[float] = []
    for run in range(runs):
        data = f"new file {run}".encode()
        temp = printer_folder / f".printernizer-bench-{run}.part"
        await hass.async_add_executor_job(_write, temp, data)
        checksum = hashlib.sha256(data).hexdigest()
        start = time.perf_counter()
        await library.async_add_file(
            temp,
            checksum=checksum,
            size=len(data),
            filename=f"new_{run}.3mf",
            source=LibrarySource(printer_id="BENCH0001", path=f"/cache/new_{run}.3mf"),
        )
        add.append(time.perf_counter() - start)
        start = time.perf_counter()
        library.page(100, 0)
        library.page(100, 5_000)
        page.append((time.perf_counter() - start) / 2)
        start = time.perf_counter()
        library.get(checksum)
        library.by_path(f"Bench printer/new_{run}.3mf")
        library.by_source("BENCH0001", f"/cache/new_{run}.3mf")
        lookup.append((time.perf_counter() - start) / 3)
        start = time.perf_counter()
        await library.async_remove(checksum)
        delete.append(time.perf_counter() - start)
        await hass.async_block_till_done()
    assert len(library) == 10_000
    return {
        "add (new checksum)": Summary.of(add),
        "delete": Summary.of(delete),
        "list (page of 100)": Summary.of(page),
        "lookup (get/by_path/by_source)": Summary.of(lookup),
    }


def _rows(results: dict[str, Summary], target: float) -> list[list[str]]:
    return [
        [
            case,
            str(s.n),
            ms(s.mean),
            ms(s.p50),
            ms(s.p99),
            ms(s.max),
            "yes" if s.p99 < target else "NO",
        ]
        for case, s in results.items()
    ]


async def main_async(quick: bool) -> str:
    runs = 10 if quick else 50
    header = ["case", "n", "mean ms", "p50 ms", "p99 ms", "max ms", "p99 on target"]
    async with home_assistant() as hass:
        discovery = await bench_discovery(hass, runs)
        folder = Path(hass.config.config_dir) / "library"
        library = await bench_library(hass, folder, runs * 4)
    return (
        make_table(
            "bench_library (a): discovery + diff of 1,000 files on one printer (target < 100 ms)",
            header,
            _rows(discovery, 0.100),
        )
        + "\n\n"
        + make_table(
            "bench_library (b): a library of 10,000 files (target < 20 ms each)",
            header,
            _rows(library, 0.020),
        )
    )


def main() -> None:
    args = parse_args(__doc__ or "")
    quiet_logging()
    print(asyncio.run(main_async(args.quick)))
    print(f"machine: {machine()}")


if __name__ == "__main__":
    main()
