"""Prusa binary G-code (`.bgcode`): metadata and thumbnail blocks before the G-code.

Layout (little-endian; prusa3d/libbgcode doc/specifications.md, read here by our own
code): file header `GCDE`, version u32, checksum type u16 (0 none, 1 CRC32); then blocks
of type u16, compression u16, uncompressed size u32, compressed size u32 (only when
compressed), parameters, data and a CRC32 of header + parameters + data. Reading stops at
the first G-code block, so only the first few hundred kB of a file are ever read.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from collections.abc import Callable
from typing import Any, BinaryIO

from ._values import apply_slicer_keys, split_producer
from .images import probe
from .models import FileMetadata, MetadataError, Thumbnail, ThumbnailFormat

MAGIC = b"GCDE"
MAX_VERSION = 1
MAX_BLOCK = 4 * 1024 * 1024  # compressed or uncompressed size of one block
MAX_BLOCKS = 64  # blocks before the first G-code block
MAX_TOTAL = 16 * 1024 * 1024  # bytes read in all
MAX_METADATA_KEYS = 4096

BLOCK_FILE_METADATA = 0
BLOCK_GCODE = 1
BLOCK_SLICER_METADATA = 2
BLOCK_PRINTER_METADATA = 3
BLOCK_PRINT_METADATA = 4
BLOCK_THUMBNAIL = 5
_METADATA_BLOCKS = {
    BLOCK_FILE_METADATA: "file metadata",
    BLOCK_SLICER_METADATA: "slicer metadata",
    BLOCK_PRINTER_METADATA: "printer metadata",
    BLOCK_PRINT_METADATA: "print metadata",
}
COMPRESSION_NONE = 0
COMPRESSION_DEFLATE = 1
COMPRESSION_HEATSHRINK_11_4 = 2
COMPRESSION_HEATSHRINK_12_4 = 3
_THUMB_FORMATS: dict[int, ThumbnailFormat] = {0: "png", 1: "jpg", 2: "qoi"}


def _heatshrink() -> Callable[..., bytes] | None:
    """heatshrink2's decoder (ISC licence) when installed, else None."""
    try:
        from heatshrink2 import decompress  # noqa: PLC0415
    except ImportError:
        return None
    return decompress  # type: ignore[no-any-return]


def read_bgcode(path: str | os.PathLike[str]) -> tuple[FileMetadata, list[Thumbnail]]:
    """Metadata and thumbnails of a binary G-code file."""
    try:
        with open(path, "rb") as stream:
            return parse_bgcode_stream(stream)
    except OSError as err:
        raise MetadataError(f"cannot read the file: {err.strerror or err}") from err


class _Reader:
    """Exact reads with a budget; EOF is a truncated file."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.total = 0

    def read(self, size: int) -> bytes:
        self.total += size
        if self.total > MAX_TOTAL:
            raise MetadataError("binary G-code: too much data before the first G-code block")
        data = self._stream.read(size)
        if len(data) != size:
            raise MetadataError("binary G-code: the file is truncated")
        return data


def parse_bgcode_stream(stream: BinaryIO) -> tuple[FileMetadata, list[Thumbnail]]:
    """read_bgcode on an open binary stream positioned at 0."""
    reader = _Reader(stream)
    header = stream.read(10)
    if len(header) < 10 or not header.startswith(MAGIC):
        raise MetadataError("not a binary G-code file (no GCDE header)")
    version, checksum_type = struct.unpack("<IH", header[4:10])
    if not 1 <= version <= MAX_VERSION:
        raise MetadataError(f"binary G-code version {version} is not supported")
    if checksum_type not in (0, 1):
        raise MetadataError(f"binary G-code: unknown checksum type {checksum_type}")
    with_crc = checksum_type == 1

    meta = FileMetadata(file_format="bgcode")
    keys: dict[str, str] = {}
    producer: str | None = None
    thumbnails: list[Thumbnail] = []
    for _ in range(MAX_BLOCKS):
        head = stream.read(8)
        if not head:
            break  # a file without G-code: metadata only
        if len(head) < 8:
            raise MetadataError("binary G-code: the file is truncated")
        block_type, compression, size = struct.unpack("<HHI", head)
        if block_type == BLOCK_GCODE:
            break
        if block_type not in _METADATA_BLOCKS and block_type != BLOCK_THUMBNAIL:
            raise MetadataError(f"binary G-code: unknown block type {block_type}")
        if compression not in (0, 1, 2, 3):
            raise MetadataError(f"binary G-code: unknown compression {compression}")
        compressed = b""
        stored = size
        if compression != COMPRESSION_NONE:
            compressed = reader.read(4)
            (stored,) = struct.unpack("<I", compressed)
        if size > MAX_BLOCK or stored > MAX_BLOCK:
            raise MetadataError(f"binary G-code: a block of {max(size, stored)} bytes is too big")
        params = reader.read(6 if block_type == BLOCK_THUMBNAIL else 2)
        data = reader.read(stored)
        if with_crc:
            (crc,) = struct.unpack("<I", reader.read(4))
            if zlib.crc32(head + compressed + params + data) != crc:
                raise MetadataError("binary G-code: checksum mismatch (the file is corrupt)")
        if block_type == BLOCK_THUMBNAIL:
            thumb = _thumbnail(params, _decompress(compression, data, size))
            if thumb is not None:
                thumbnails.append(thumb)
            continue
        payload = _decompress(compression, data, size)
        if payload is None:
            meta.warnings.append(
                f"{_METADATA_BLOCKS[block_type]} is heatshrink-compressed: not extractable"
            )
            continue
        (encoding,) = struct.unpack("<H", params)
        values = _metadata(payload, encoding)
        if block_type == BLOCK_FILE_METADATA:
            producer = values.get("producer") or producer
        else:
            # the slicer block is the whole config: printer and print metadata win over it
            for key, value in values.items():
                if block_type == BLOCK_SLICER_METADATA:
                    keys.setdefault(key, value)
                else:
                    keys[key] = value
    else:
        raise MetadataError("binary G-code: too many blocks before the G-code")
    apply_slicer_keys(meta, keys)
    if producer:
        meta.slicer, meta.slicer_version = split_producer(producer)
    return meta, thumbnails


def _decompress(compression: int, data: bytes, size: int) -> bytes | None:
    """The block's payload of exactly `size` bytes; None when heatshrink is unavailable."""
    if compression == COMPRESSION_NONE:
        return data
    if compression == COMPRESSION_DEFLATE:
        inflater = zlib.decompressobj()
        try:
            out = inflater.decompress(data, size + 1)
        except zlib.error as err:
            raise MetadataError(f"binary G-code: a block does not inflate ({err})") from err
        if len(out) != size or not inflater.eof:
            raise MetadataError("binary G-code: a block's size does not match its header")
        return out
    decompress = _heatshrink()
    if decompress is None:
        return None
    window = 11 if compression == COMPRESSION_HEATSHRINK_11_4 else 12
    try:
        out = decompress(data, window_sz2=window, lookahead_sz2=4)
    except Exception as err:  # a C extension: any failure is a corrupt block
        raise MetadataError("binary G-code: a heatshrink block does not decode") from err
    if len(out) != size:
        raise MetadataError("binary G-code: a block's size does not match its header")
    return bytes(out)


def _metadata(payload: bytes, encoding: int) -> dict[str, str]:
    """Lower-case keys to values from INI `key=value` lines (0) or a JSON object (1)."""
    text = payload.decode("utf-8", "replace")
    out: dict[str, str] = {}
    if encoding == 0:
        for line in text.splitlines()[:MAX_METADATA_KEYS]:
            key, sep, value = line.partition("=")
            if sep and 0 < len(key.strip()) <= 80:
                out[key.strip().lower()] = value.strip()
        return out
    if encoding == 1:
        try:
            data: Any = json.loads(text)
        except (ValueError, RecursionError) as err:
            raise MetadataError("binary G-code: a metadata block is not valid JSON") from err
        if isinstance(data, dict):
            for key, value in list(data.items())[:MAX_METADATA_KEYS]:
                if isinstance(value, str | int | float) and len(str(key)) <= 80:
                    out[str(key).lower()] = str(value)
        return out
    raise MetadataError(f"binary G-code: unknown metadata encoding {encoding}")


def _thumbnail(params: bytes, data: bytes | None) -> Thumbnail | None:
    """A thumbnail block, None when unreadable (the file's other images still count)."""
    fmt_code, width, height = struct.unpack("<HHH", params)
    fmt = _THUMB_FORMATS.get(fmt_code)
    if fmt is None or data is None:
        return None
    found = probe(data)
    if found is None or found[0] != fmt or (found[1], found[2]) != (width, height):
        return None
    return Thumbnail(format=fmt, width=width, height=height, data=data)
