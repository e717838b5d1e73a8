"""Prusa binary G-code: blocks, compression, checksums, thumbnails, hostile files."""

from __future__ import annotations

import io
import json
import struct
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from custom_components.printernizer.metadata import MetadataError, read_metadata
from custom_components.printernizer.metadata import bgcode as bgcode_mod
from custom_components.printernizer.metadata.bgcode import MAX_BLOCK, parse_bgcode_stream

from . import writers as w

Write = Callable[[str, bytes | str], Path]
THUMBS = [(w.png(16, 16), 16, 16, 0), (w.qoi(313, 173), 313, 173, 2), (w.jpg(64, 48), 64, 48, 1)]
EXPECTED = {
    "file_format": "bgcode",
    "is_print_file": True,
    "print_time": 3723,
    "filament_used": 9.1,
    "filament_length": 3052.41,
    "layer_height": 0.2,
    "first_layer_height": 0.2,
    "infill": 15.0,
    "slicer": "PrusaSlicer",
    "slicer_version": "2.7.1",
    "printer_model": "MK4",
    "nozzle_diameter": 0.4,
    "max_layer_z": 18.2,
    "filaments": [{"type": "PLA", "color": None, "grams": 9.1}],
}


@pytest.mark.parametrize("compression", [0, 1, 2, 3], ids=["none", "deflate", "hs11", "hs12"])
@pytest.mark.parametrize("checksum", [True, False], ids=["crc", "nocrc"])
def test_blocks(write: Write, compression: int, checksum: bool) -> None:
    data = w.bgcode(w.BgcodeSpec(compression=compression, checksum=checksum, thumbnails=THUMBS))
    meta, images = read_metadata(write("a.bgcode", data))
    assert meta.as_dict() == EXPECTED
    assert [(t.format, t.width, t.height) for t in images] == [
        ("png", 16, 16),
        ("qoi", 313, 173),
        ("jpg", 64, 48),
    ]
    assert images[1].data == w.qoi(313, 173)


def test_compressed_thumbnail(write: Write) -> None:
    block = w.thumbnail_block_bgcode(w.png(40, 30), 40, 30, 0)
    block.compression = 1
    data = w.bgcode()
    gcode_at = _first_gcode_block(data)
    data = data[:gcode_at] + block.encode() + data[gcode_at:]
    _, images = read_metadata(write("t.bgcode", data))
    assert [(t.format, t.width, t.height) for t in images] == [("png", 40, 30)]


def test_heatshrink_unavailable(write: Write, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without heatshrink2, heatshrink metadata is reported as not extractable, not an error."""
    monkeypatch.setattr(bgcode_mod, "_heatshrink", lambda: None)
    meta, images = read_metadata(
        write("h.bgcode", w.bgcode(w.BgcodeSpec(compression=3, thumbnails=THUMBS)))
    )
    assert meta.print_time is None
    assert meta.slicer is None
    assert len(meta.warnings) == 4
    assert "heatshrink" in meta.warnings[0] and "not extractable" in meta.warnings[0]
    assert len(images) == 3  # thumbnails are stored uncompressed


def test_json_metadata_block() -> None:
    data = b"GCDE" + struct.pack("<IH", 1, 1)
    payload = json.dumps({"printer_model": "XL", "layer_height": 0.15, "nested": {"x": 1}})
    data += w.Block(3, payload.encode(), compression=1, params=struct.pack("<H", 1)).encode()
    meta, _ = parse_bgcode_stream(io.BytesIO(data))
    assert meta.printer_model == "XL"
    assert meta.layer_height == 0.15


def test_no_gcode_block_is_fine() -> None:
    data = w.bgcode()
    meta, _ = parse_bgcode_stream(io.BytesIO(data[: _first_gcode_block(data)]))
    assert meta.print_time == 3723


def test_stops_at_first_gcode_block() -> None:
    """Garbage after the first G-code block header is never read."""
    data = w.bgcode()
    at = _first_gcode_block(data)
    stream = io.BytesIO(data[: at + 8] + b"\xff" * 10_000_000)
    meta, _ = parse_bgcode_stream(stream)
    assert meta.print_time == 3723
    assert stream.tell() == at + 8


def _first_gcode_block(data: bytes) -> int:
    """Offset of the first G-code block (walks the writer's own output, CRC on)."""
    pos = 10
    while True:
        block_type, compression, size = struct.unpack("<HHI", data[pos : pos + 8])
        if block_type == 1:
            return pos
        stored = size
        header = 8
        if compression:
            (stored,) = struct.unpack("<I", data[pos + 8 : pos + 12])
            header = 12
        params = 6 if block_type == 5 else 2
        pos += header + params + stored + 4


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "no GCDE"),
        (b"GCDX" + struct.pack("<IH", 1, 1), "no GCDE"),
        (b"GCDE" + struct.pack("<IH", 2, 1), "version 2"),
        (b"GCDE" + struct.pack("<IH", 1, 7), "checksum type"),
        (b"GCDE" + struct.pack("<IH", 1, 1) + struct.pack("<HHI", 9, 0, 4), "block type 9"),
        (b"GCDE" + struct.pack("<IH", 1, 1) + struct.pack("<HHI", 3, 5, 4), "compression 5"),
        (
            b"GCDE" + struct.pack("<IH", 1, 1) + struct.pack("<HHI", 3, 0, MAX_BLOCK + 1),
            "too big",
        ),
        (
            b"GCDE" + struct.pack("<IH", 1, 1) + struct.pack("<HHII", 3, 1, 10, 2**31),
            "too big",
        ),
        (b"GCDE" + struct.pack("<IH", 1, 1) + b"\x03\x00", "truncated"),
    ],
)
def test_refused(data: bytes, message: str) -> None:
    with pytest.raises(MetadataError, match=message):
        parse_bgcode_stream(io.BytesIO(data))


def test_wrong_magic_with_bgcode_extension(write: Write) -> None:
    with pytest.raises(MetadataError, match="wrong magic"):
        read_metadata(write("x.bgcode", b"PK\x05\x06 not a bgcode"[::-1]))


@pytest.mark.parametrize("block", range(6))
def test_bad_crc(block: int) -> None:
    data = w.bgcode(w.BgcodeSpec(thumbnails=THUMBS[:1], corrupt_crc_block=block))
    if block == 5:  # the G-code block: never read, so never checked
        assert parse_bgcode_stream(io.BytesIO(data))[0].print_time == 3723
        return
    with pytest.raises(MetadataError, match="checksum mismatch"):
        parse_bgcode_stream(io.BytesIO(data))


def test_every_truncation() -> None:
    """Cut anywhere before the G-code: a MetadataError, or (at a block boundary) less data."""
    data = w.bgcode(w.BgcodeSpec(thumbnails=THUMBS[:2]))
    end = _first_gcode_block(data)
    outcomes = set()
    for cut in range(end):
        try:
            parse_bgcode_stream(io.BytesIO(data[:cut]))
        except MetadataError as err:
            outcomes.add("truncated" if "truncated" in str(err) else str(err))
        else:
            outcomes.add("ok")
    assert outcomes == {"ok", "truncated", "not a binary G-code file (no GCDE header)"}


def test_deflate_bomb_and_size_lies() -> None:
    header = b"GCDE" + struct.pack("<IH", 1, 0)
    bomb = zlib.compress(b"\x00" * 50_000_000)
    # declares 1000 bytes uncompressed: inflating stops at 1001 and refuses
    block = struct.pack("<HHII", 3, 1, 1000, len(bomb)) + b"\x00\x00" + bomb
    with pytest.raises(MetadataError, match="does not match"):
        parse_bgcode_stream(io.BytesIO(header + block))
    garbage = struct.pack("<HHII", 3, 1, 1000, 10) + b"\x00\x00" + b"not zlib!!"
    with pytest.raises(MetadataError, match="does not inflate"):
        parse_bgcode_stream(io.BytesIO(header + garbage))


def test_thumbnail_params_must_match_the_image() -> None:
    """A thumbnail block whose width/height disagree with its PNG is skipped."""
    data = w.bgcode(w.BgcodeSpec(thumbnails=[(w.png(16, 16), 60000, 60000, 0)]))
    _, images = parse_bgcode_stream(io.BytesIO(data))
    assert images == []


def _blocks(*blocks: w.Block, checksum: bool = True) -> bytes:
    out = b"GCDE" + struct.pack("<IH", 1, 1 if checksum else 0)
    return out + b"".join(b.encode(checksum=checksum) for b in blocks)


def _parse(data: bytes) -> tuple[object, list[object]]:
    return parse_bgcode_stream(io.BytesIO(data))


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(MetadataError, match="cannot read the file"):
        bgcode_mod.read_bgcode(tmp_path / "gone.bgcode")


def test_budgets_block_count_and_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Too many blocks, or too many bytes, before the first G-code block: refused."""
    block = w.Block(3, w.ini({"layer_height": "0.2"}))
    data = _blocks(*([block] * 5))
    assert _parse(data)[0].layer_height == 0.2  # type: ignore[attr-defined]
    monkeypatch.setattr(bgcode_mod, "MAX_BLOCKS", 3)
    with pytest.raises(MetadataError, match="too many blocks before the G-code"):
        _parse(data)
    monkeypatch.setattr(bgcode_mod, "MAX_BLOCKS", 64)
    monkeypatch.setattr(bgcode_mod, "MAX_TOTAL", 40)
    with pytest.raises(MetadataError, match="too much data before the first G-code block"):
        _parse(data)


def test_heatshrink_package_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without heatshrink2 installed, its blocks are reported as not extractable."""
    data = _blocks(
        w.Block(3, w.ini({"layer_height": "0.2"}), compression=2),
        w.thumbnail_block_bgcode(w.png(8, 8), 8, 8, 0),
    )
    monkeypatch.setitem(sys.modules, "heatshrink2", None)  # import fails
    assert bgcode_mod._heatshrink() is None
    meta, thumbs = _parse(data)
    assert meta.warnings == ["printer metadata is heatshrink-compressed: not extractable"]  # type: ignore[attr-defined]
    assert len(thumbs) == 1


def test_heatshrink_block_that_does_not_decode() -> None:
    payload = w.ini({"layer_height": "0.2"})
    good = w.Block(3, payload, compression=3).encode(checksum=False)
    # the header's uncompressed size is one byte more than the block decodes to
    lying = good[:4] + struct.pack("<I", len(payload) + 1) + good[8:]
    with pytest.raises(MetadataError, match="size does not match its header"):
        _parse(b"GCDE" + struct.pack("<IH", 1, 0) + lying)


def test_metadata_encodings() -> None:
    bad_json = w.Block(3, b"{not json", params=struct.pack("<H", 1))
    with pytest.raises(MetadataError, match="not valid JSON"):
        _parse(_blocks(bad_json))
    unknown = w.Block(3, b"a=b", params=struct.pack("<H", 7))
    with pytest.raises(MetadataError, match="unknown metadata encoding 7"):
        _parse(_blocks(unknown))


def test_thumbnail_of_unknown_format_is_skipped() -> None:
    _meta, thumbs = _parse(
        _blocks(
            w.thumbnail_block_bgcode(w.png(8, 8), 8, 8, 9),
            w.thumbnail_block_bgcode(w.png(4, 4), 4, 4, 0),
        )
    )
    assert [(t.width, t.height) for t in thumbs] == [(4, 4)]  # type: ignore[attr-defined]
