"""Plain G-code: every slicer dialect, thumbnails, bounded reads, hostile files."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from custom_components.printernizer.metadata import MetadataError, read_metadata
from custom_components.printernizer.metadata import gcode as gcode_mod
from custom_components.printernizer.metadata.gcode import (
    HEAD_BYTES,
    MAX_LINE,
    TAIL_BYTES,
    parse_gcode_bytes,
    parse_gcode_stream,
)

from . import writers as w

Write = Callable[[str, bytes | str], Path]


def test_prusaslicer(write: Write) -> None:
    thumbs = [
        (w.png(16, 16), 16, 16, ""),
        (w.png(313, 173), 313, 173, ""),
        (w.qoi(480, 240), 480, 240, "QOI"),
        (w.jpg(100, 80), 100, 80, "JPG"),
    ]
    meta, images = read_metadata(write("a.gcode", w.prusaslicer(thumbnails=thumbs)))
    assert meta.as_dict() == {
        "file_format": "gcode",
        "is_print_file": True,
        "print_time": 93784,  # 1d 2h 3m 4s
        "filament_used": 12.77,
        "filament_length": 4321.1,
        "layer_height": 0.2,
        "first_layer_height": 0.25,
        "infill": 20.0,
        "slicer": "PrusaSlicer",
        "slicer_version": "2.7.1+win64",
        "printer_model": "MK4",
        "nozzle_diameter": 0.4,
        # two extruders configured, only the first used (grams 12.77, 0.00)
        "filaments": [{"type": "PETG", "color": "#FF8000", "grams": 12.77}],
    }
    assert [(t.format, t.width, t.height) for t in images] == [
        ("png", 16, 16),
        ("png", 313, 173),
        ("qoi", 480, 240),
        ("jpg", 100, 80),
    ]
    assert images[2].data == w.qoi(480, 240)


def test_orcaslicer(write: Write) -> None:
    path = write("o.gcode", w.orcaslicer(thumbnail=(w.png(140, 110), 140, 110)))
    meta, images = read_metadata(path)
    assert meta.slicer == "OrcaSlicer"
    assert meta.slicer_version == "2.1.1"
    assert meta.print_time == 41 * 60 + 5
    assert meta.filament_used == 10.5
    assert meta.layer_height == 0.16
    assert meta.first_layer_height == 0.2
    assert meta.infill == 15.0
    assert meta.total_layers == 75
    assert meta.printer_model == "Bambu Lab P1S"
    assert [f.as_dict() for f in meta.filaments] == [
        {"type": "PLA", "color": "#00AE42", "grams": 10.5}
    ]
    assert [(t.format, t.width, t.height) for t in images] == [("png", 140, 110)]


def test_bambu_studio_plain_gcode(write: Write) -> None:
    meta, images = read_metadata(write("b.gcode", w.bambu_gcode(macro_line=6000)))
    assert meta.slicer == "BambuStudio"
    assert meta.slicer_version == "01.09.00.70"
    assert meta.print_time == 22 * 60 + 46  # the total, not the model time
    assert meta.filament_used == 12.03
    assert meta.filament_length == 4012.33
    assert meta.total_layers == 60
    assert meta.layer_height == 0.2
    assert meta.infill == 15.0
    assert meta.nozzle_diameter == 0.4  # after a 6 kB macro line
    assert meta.printer_model == "Bambu Lab X1 Carbon"
    assert meta.bed_type == "Textured PEI Plate"
    assert [(f.type, f.color) for f in meta.filaments] == [("PLA", "#FFFFFF"), ("PETG", "#000000")]
    assert images == []  # Bambu Studio's G-code carries no thumbnail


def test_cura(write: Write) -> None:
    meta, _ = read_metadata(write("c.gcode", w.cura()))
    assert meta.slicer == "Cura"
    assert meta.slicer_version == "5.4.0"
    assert meta.print_time == 6666
    assert meta.filament_length == 1840.0  # 1.84 m; Cura states no grams
    assert meta.filament_used is None
    assert meta.layer_height == 0.2
    assert meta.infill == 18.0  # from the escaped JSON of SETTING_3
    assert meta.nozzle_diameter == 0.4
    assert meta.total_layers == 50


def test_cura_settings_cut_still_readable() -> None:
    """A SETTING_3 blob that is cut (not valid JSON) still yields its escaped INI values."""
    text = ';TIME:10\n;SETTING_3 {"global_quality": "[values]\\\\ninfill_sparse_density = 33\\\\n'
    meta, _ = parse_gcode_bytes(text.encode())
    assert meta.infill == 33.0


def test_cura_griffin(write: Write) -> None:
    meta, _ = read_metadata(write("u.gcode", w.cura_griffin()))
    assert meta.slicer == "Cura"
    assert meta.slicer_version == "5.6.0"
    assert meta.print_time == 480
    assert meta.filament_volume == 3000.5  # mm³ of both extruders
    assert meta.printer_model == "Ultimaker S5"
    assert meta.nozzle_diameter == 0.4
    assert meta.total_layers == 30


def test_metadata_in_tail_of_a_big_file(write: Write) -> None:
    """Header and footer of a file far larger than the caps: both read."""
    text = w.orcaslicer(thumbnail=(w.png(64, 64), 64, 64), moves=120_000)
    assert len(text) > HEAD_BYTES + TAIL_BYTES
    meta, images = read_metadata(write("big.gcode", text))
    assert meta.total_layers == 75  # head
    assert meta.print_time == 2465  # tail
    assert len(images) == 1


class CountingStream(io.RawIOBase):
    """A sparse file's stream that counts the bytes handed out."""

    def __init__(self, size: int, head: bytes, tail: bytes) -> None:
        self.size, self.head, self.tail = size, head, tail
        self.pos = 0
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = offset if whence == 0 else self.pos + offset
        return self.pos

    def read(self, size: int = -1) -> bytes:
        size = self.size - self.pos if size < 0 else min(size, self.size - self.pos)
        out = bytearray(size)
        for start, data in ((0, self.head), (self.size - len(self.tail), self.tail)):
            lo, hi = max(self.pos, start), min(self.pos + size, start + len(data))
            if lo < hi:
                out[lo - self.pos : hi - self.pos] = data[lo - start : hi - start]
        self.pos += size
        self.bytes_read += size
        return bytes(out)


@pytest.mark.parametrize("size", [10**7, 10**9, 10**11])
def test_bytes_read_independent_of_size(size: int) -> None:
    text = w.orcaslicer(thumbnail=(w.png(64, 64), 64, 64))
    head, _, tail = text.partition("; THUMBNAIL_BLOCK_END\n")
    stream = CountingStream(size, (head + "; THUMBNAIL_BLOCK_END\n").encode(), tail.encode())
    meta, images = parse_gcode_stream(stream, size)  # type: ignore[arg-type]
    assert stream.bytes_read == HEAD_BYTES + TAIL_BYTES <= 2 * 1024 * 1024
    assert meta.print_time == 2465
    assert meta.total_layers == 75
    assert len(images) == 1


class CountingFile(io.FileIO):
    """A real file object that counts every byte its reads return."""

    total = 0

    def read(self, size: int = -1, /) -> bytes:
        data = super().read(size)
        CountingFile.total += len(data)
        return data

    def readinto(self, buffer: Any, /) -> int:
        count = super().readinto(buffer)
        CountingFile.total += count
        return count

    def readall(self) -> bytes:
        data = super().readall()
        CountingFile.total += len(data)
        return data


def test_sparse_1gb_file_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real 1 GB sparse file (truncate): header and footer found, at most 2 MiB read."""
    path = tmp_path / "huge.gcode"
    text = w.orcaslicer(thumbnail=(w.png(32, 32), 32, 32))
    head, _, tail = text.partition("; THUMBNAIL_BLOCK_END\n")
    with path.open("wb") as f:
        f.write((head + "; THUMBNAIL_BLOCK_END\n").encode())
        f.truncate(10**9 - len(tail.encode()))
        f.seek(0, os.SEEK_END)
        f.write(b"\n" + tail.encode())
    assert path.stat().st_size > 10**9

    def counting_open(name: Any, mode: str = "r") -> io.BufferedReader:
        assert mode == "rb"
        return io.BufferedReader(CountingFile(name, "r"))

    monkeypatch.setattr(gcode_mod, "open", counting_open, raising=False)
    CountingFile.total = 0
    meta, images = read_metadata(path)
    assert meta.print_time == 2465 and meta.total_layers == 75 and len(images) == 1
    assert 0 < CountingFile.total <= 2 * 1024 * 1024


def test_giant_line_is_cut(write: Write) -> None:
    """A 3 MB comment line at the top: cut at MAX_LINE, the footer still read."""
    text = "; generated by PrusaSlicer 2.7.1 on 2024-01-01 at 10:00:00 UTC\n"
    text += "; custom = " + "x" * 3_000_000 + "\n" + w.prusaslicer()
    meta, _ = read_metadata(write("giant.gcode", text))
    assert meta.print_time == 93784
    assert meta.slicer == "PrusaSlicer"
    meta, _ = parse_gcode_bytes(("; layer_height = 0.3" + "9" * (2 * MAX_LINE) + "\n").encode())
    assert meta.layer_height is not None  # cut, not refused


def test_one_line_of_nothing_but_a_giant_line(write: Write) -> None:
    meta, images = read_metadata(write("line.gcode", "G1 X1" * 1_000_000))
    assert meta.print_time is None and images == []


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "empty"), (b"   \n\n", "empty"), (b"\x00\x01\x02binary" * 10, "binary")],
)
def test_refused(write: Write, data: bytes, message: str) -> None:
    with pytest.raises(MetadataError, match=message):
        read_metadata(write("bad.gcode", data))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MetadataError, match="cannot read"):
        read_metadata(tmp_path / "nope.gcode")


def test_broken_thumbnail_blocks_are_skipped() -> None:
    good = w.thumbnail_block(w.png(20, 10), 20, 10)
    not_base64 = "; thumbnail begin 20x10 100\n; ####!!!!\n; thumbnail end\n"
    wrong_format = w.thumbnail_block(w.png(20, 10), 20, 10, "QOI")  # says QOI, holds PNG
    unterminated = "; thumbnail begin 20x10 100\n; iVBORw0KGgo=\n"
    too_long = "; thumbnail begin 20x10 999999999\n; iVBORw0KGgo=\n; thumbnail end\n"
    text = not_base64 + wrong_format + too_long + good + unterminated + "; layer_height = 0.2\n"
    meta, images = parse_gcode_bytes(text.encode())
    assert [(t.format, t.width, t.height) for t in images] == [("png", 20, 10)]
    assert meta.layer_height == 0.2


def test_thumbnail_size_comes_from_the_image() -> None:
    """A block claiming 600x600 around a 20x10 PNG: the image's own header wins."""
    block = w.thumbnail_block(w.png(20, 10), 20, 10).replace("20x10", "600x600")
    _, images = parse_gcode_bytes(block.encode())
    assert (images[0].width, images[0].height) == (20, 10)


def test_crlf_and_invalid_utf8() -> None:
    text = b"; generated by SuperSlicer 2.5.59 on 2024-01-01 at 10:00:00 UTC\r\n"
    text += b"; filament_type = P\xffLA\r\n; layer_height = 0.3\r\n"
    text += b"; estimated printing time (normal mode) = 2h 30s\r\n"
    meta, _ = parse_gcode_bytes(text)
    assert meta.slicer == "SuperSlicer"
    assert meta.slicer_version == "2.5.59"
    assert meta.layer_height == 0.3
    assert meta.print_time == 7230
    assert meta.filaments[0].type == "P\ufffdLA"


def _noisy_png(width: int, height: int) -> bytes:
    """A PNG that does not compress (random pixels): a big base64 block."""
    import random

    from PIL import Image

    rng = random.Random(7)
    image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_large_thumbnail_block_at_the_top(write: Write) -> None:
    """A 300x300 cover of ~360 kB base64 at the top of a file bigger than the caps."""
    cover = _noisy_png(300, 300)
    assert len(cover) * 4 // 3 > 300_000
    text = w.prusaslicer(thumbnails=[(w.png(16, 16), 16, 16, ""), (cover, 300, 300, "")])
    text = text.replace("G28\n", "G28\n" + "G1 X1 Y1 E0.1 ; move\n" * 150_000, 1)
    assert len(text) > HEAD_BYTES + TAIL_BYTES
    meta, images = read_metadata(write("cover.gcode", text))
    assert [(t.width, t.height) for t in images] == [(16, 16), (300, 300)]
    assert images[1].data == cover
    assert meta.print_time == 93784


def test_thumbnail_cut_by_the_head_cap_is_skipped(write: Write) -> None:
    cover = _noisy_png(700, 700)  # ~1.9 MB of base64: beyond HEAD_BYTES
    text = w.prusaslicer(thumbnails=[(w.png(16, 16), 16, 16, ""), (cover, 700, 700, "")])
    meta, images = read_metadata(write("cut.gcode", text))
    assert [(t.width, t.height) for t in images] == [(16, 16)]
    assert meta.print_time == 93784


@pytest.mark.parametrize("size", [400_000, 1_900_000, 5_000_000])
def test_dense_comment_lines(write: Write, size: int) -> None:
    """Hostile: nothing but comment lines. The scan is capped; the footer is still read."""
    body = ";TYPE:WALL\n" * (size // 11)
    meta, _ = read_metadata(write("dense.gcode", w.prusaslicer().replace("G28\n", body)))
    assert meta.print_time == 93784
    assert meta.layer_height == 0.2
    assert meta.slicer == "PrusaSlicer"


def test_long_line_of_thumbnail_words_is_no_block() -> None:
    """A 1.5 MiB line of "thumbnail" with no newline holds no block (and is scanned linearly)."""
    from custom_components.printernizer.metadata.gcode import _thumbnails

    assert _thumbnails(b";" + b"thumbnail" * 170_000) == []
    assert _thumbnails(b"G1 X1\n" + b" " * 40 + b"; thumbnail begin 2x2 10\n") == []


def test_unreadable_file_read_directly(tmp_path: Path) -> None:
    with pytest.raises(MetadataError, match="cannot read the file"):
        gcode_mod.read_gcode(tmp_path / "nope.gcode")


def test_bambu_studio_time_names_the_slicer() -> None:
    """Bambu Studio's time line alone (no header naming the slicer) is enough."""
    text = "; model printing time: 1m 2s; total estimated time: 2m 3s\nG28\n"
    meta, _ = parse_gcode_bytes(text.encode())
    assert (meta.print_time, meta.slicer) == (123, "BambuStudio")


def test_block_end_skips_the_word_elsewhere_and_gives_up_after_its_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ "thumbnail" not at a line start is not the end; an endless block is given up on."""
    body = b"; aGVsbG8= thumbnail\n;thumbnail-ish\n; thumbnail end\n"
    assert gcode_mod._block_end(body, 0) == body.index(b"; thumbnail end")
    # the end right at the block's first line (no newline before it)
    assert gcode_mod._block_end(b"; thumbnail end\n", 0) == 0
    # another block begins first: this one has no end
    assert gcode_mod._block_end(b"; x\n; thumbnail begin 2x2 10\n", 0) is None
    monkeypatch.setattr(gcode_mod, "MAX_THUMBNAIL_B64", 16)
    assert gcode_mod._block_end(b"; thumbnail-ish\n" * 8 + b"; thumbnail end\n", 0) is None


def test_long_line_of_thumbnail_words_inside_a_block() -> None:
    """A hostile block body (one long line repeating "thumbnail"): no image, then the next one.

    The end-line search looks back a few bytes only, so this is linear (it was quadratic:
    2.1 s for 170,000 repetitions, now about 0.1 s; BENCHMARKS.md).
    """
    good = w.thumbnail_block(w.png(4, 4), 4, 4)
    text = "; thumbnail begin 10x10 100\n;" + "thumbnail" * 50_000 + "\n" + good
    _, images = parse_gcode_bytes(text.encode())
    assert [(t.width, t.height) for t in images] == [(4, 4)]
