"""Cost of the print-file readers (custom_components/printernizer/metadata), pure, no HA.

- G-code: metadata and thumbnails of sparse files of 1 MB .. 10 GB (truncate: head and tail
  are real slicer output, the middle is a hole), time per read and bytes read per read
  (from /proc/self/io `rchar`, i.e. what the read() calls really returned). Target: a 1 GB
  file < 10 ms, bytes read independent of the size.
- 3MF: a two-plate Bambu Studio project with a 512x512 cover: metadata + embedded images,
  then the small/medium/large previews. Target: metadata and thumbnails < 50 ms.
- bgcode: a PrusaSlicer-like file (deflate metadata, PNG + QOI thumbnails), for reference.

Files are warm in the page cache after the first read (as right after a download).

Run: ``.venv/bin/python -m benchmarks.bench_metadata [--quick]``
"""

from __future__ import annotations

import io
import os
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from benchmarks._harness import Summary, machine, ms, parse_args, table, verdict
from custom_components.printernizer.metadata import bgcode as bgcode_mod
from custom_components.printernizer.metadata import gcode as gcode_mod
from custom_components.printernizer.metadata import make_previews, read_metadata, save_previews
from custom_components.printernizer.metadata.gcode import HEAD_BYTES, TAIL_BYTES
from tests.metadata import writers as w

GCODE_SIZES = (10**6, 10**8, 10**9, 10**10)
GCODE_TARGET = 0.010
THREEMF_TARGET = 0.050


def cover(width: int, height: int) -> bytes:
    """A PNG that compresses like a real slicer cover (shaded shapes, not a flat colour)."""
    image = Image.new("RGBA", (width, height), (40, 40, 48, 255))
    draw = ImageDraw.Draw(image)
    for i in range(0, width, 4):
        draw.line([(i, 0), (width - i, height)], fill=(i % 255, (i * 3) % 255, 160, 255))
    draw.ellipse([width // 4, height // 4, 3 * width // 4, 3 * height // 4], fill=(0, 174, 66))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class CountingFile(io.FileIO):
    """A real file that counts the bytes its reads return."""

    total = 0

    def read(self, size: int = -1, /) -> bytes:
        data = super().read(size)
        CountingFile.total += len(data)
        return data

    def readinto(self, buffer: Any, /) -> int:
        count = super().readinto(buffer)
        CountingFile.total += count
        return count


def counting_open(path: Any, mode: str = "rb") -> io.BufferedReader:
    assert mode == "rb"
    return io.BufferedReader(CountingFile(path, "r"))


def measure(fn: Callable[[], object], repeat: int) -> tuple[Summary, int]:
    """Timing of `repeat` calls after a warm-up, and bytes read by one call."""
    fn()
    for module in (gcode_mod, bgcode_mod):
        module.open = counting_open  # type: ignore[attr-defined]
    CountingFile.total = 0
    try:
        fn()
    finally:
        for module in (gcode_mod, bgcode_mod):
            del module.open  # type: ignore[attr-defined]
    read = CountingFile.total
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return Summary.of(samples), read


def sparse_gcode(path: Path, size: int) -> None:
    """OrcaSlicer-like file of `size` bytes: real head (with a 300x300 cover) and tail."""
    text = w.orcaslicer(thumbnail=(cover(300, 300), 300, 300), moves=0)
    head, _, tail = text.partition("; THUMBNAIL_BLOCK_END\n")
    head_bytes = (head + "; THUMBNAIL_BLOCK_END\n").encode()
    moves = w._moves(80_000).encode()  # real G-code after the header, as far as the head cap
    head_bytes += moves[: max(0, min(HEAD_BYTES * 2, size // 2) - len(head_bytes))]
    tail_bytes = moves[:TAIL_BYTES] + tail.encode()
    with path.open("wb") as f:
        f.write(head_bytes)
        if size > len(head_bytes) + len(tail_bytes):
            f.truncate(size - len(tail_bytes))
            f.seek(0, os.SEEK_END)
        f.write(tail_bytes)


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    repeat = 50 if args.quick else 300
    print(f"# bench_metadata  ({machine()})")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        rows = []
        one_gb = None
        reads = set()
        for size in GCODE_SIZES:
            path = root / f"f{size}.gcode"
            sparse_gcode(path, size)
            meta, thumbs = read_metadata(path)
            assert meta.print_time == 2465 and len(thumbs) == 1, meta
            summary, read = measure(lambda p=path: read_metadata(p), repeat)
            if size > HEAD_BYTES + TAIL_BYTES:
                reads.add(read)
            if size == 10**9:
                one_gb = summary
            rows.append([f"{size / 1e9:g} GB", ms(summary.p50), ms(summary.p99), f"{read:,}"])
        assert one_gb is not None
        ok = verdict(one_gb.p50, GCODE_TARGET)
        title = (
            f"G-code metadata + thumbnails, sparse files (target: 1 GB < 10 ms: {ok}; "
            f"bytes read the same for every file above the caps: "
            f"{'met' if len(reads) == 1 else 'MISSED'})"
        )
        print()
        print(table(title, ["file size", "p50", "p99", "bytes read"], rows))

        plates = [w.PlateSpec(1), w.PlateSpec(2, prediction=99)]
        project = root / "p.gcode.3mf"
        data = w.threemf(plates)
        project.write_bytes(data)
        # swap in realistic covers
        with zipfile.ZipFile(project, "w") as archive, zipfile.ZipFile(io.BytesIO(data)) as src:
            for info in src.infolist():
                body = src.read(info)
                if info.filename.endswith(".png"):
                    small = info.filename.endswith("_small.png")
                    body = cover(128, 128) if small else cover(512, 512)
                archive.writestr(info, body)
        out = root / "thumbs"

        def meta_only() -> object:
            return read_metadata(project)

        def previews_only() -> object:
            return make_previews(read_metadata(project)[1])

        def everything() -> object:
            _meta, thumbs = read_metadata(project)
            return save_previews(make_previews(thumbs), out)

        rows = []
        all_in = None
        for name, fn in (
            ("metadata + embedded images", meta_only),
            ("... + small/medium/large previews", previews_only),
            ("... + previews written (fsync)", everything),
        ):
            summary, read = measure(fn, repeat // 3)
            if fn is previews_only:
                all_in = summary
            rows.append([name, ms(summary.p50), ms(summary.p99)])
        assert all_in is not None
        print()
        print(
            table(
                f"3MF (2 plates, 512x512 cover; target: metadata + thumbnails < 50 ms: "
                f"{verdict(all_in.p50, THREEMF_TARGET)})",
                ["step", "p50", "p99"],
                rows,
            )
        )

        bg = root / "a.bgcode"
        bg.write_bytes(
            w.bgcode(
                w.BgcodeSpec(
                    thumbnails=[(cover(16, 16), 16, 16, 0), (w.qoi(313, 173), 313, 173, 2)]
                )
            )
        )
        summary, read = measure(lambda: read_metadata(bg), repeat)
        summary2, _ = measure(lambda: make_previews(read_metadata(bg)[1]), repeat // 3)
        print()
        print(
            table(
                "bgcode (deflate metadata, PNG + QOI thumbnails; no target)",
                ["step", "p50", "p99", "bytes read"],
                [
                    ["metadata + embedded images", ms(summary.p50), ms(summary.p99), f"{read:,}"],
                    ["... + previews", ms(summary2.p50), ms(summary2.p99), ""],
                ],
            )
        )


if __name__ == "__main__":
    main()
