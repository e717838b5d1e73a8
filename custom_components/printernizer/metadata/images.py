"""Image headers without decoding: format and dimensions of PNG, JPEG and QOI bytes."""

from __future__ import annotations

import struct

from .models import ThumbnailFormat

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
QOI_MAGIC = b"qoif"
JPEG_MAGIC = b"\xff\xd8\xff"
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_JPEG_SCAN_LIMIT = 256 * 1024


def probe(data: bytes) -> tuple[ThumbnailFormat, int, int] | None:
    """(format, width, height) from the image's own header, None when not PNG/JPEG/QOI."""
    if data.startswith(PNG_MAGIC) and len(data) >= 24 and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return "png", width, height
    if data.startswith(QOI_MAGIC) and len(data) >= 14:
        width, height = struct.unpack(">II", data[4:12])
        return "qoi", width, height
    if data.startswith(JPEG_MAGIC):
        size = _jpeg_size(data)
        return None if size is None else ("jpg", size[0], size[1])
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Walk the JPEG markers up to the first start-of-frame."""
    pos = 2
    end = min(len(data), _JPEG_SCAN_LIMIT)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # standalone markers
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2:
            return None
        if marker in _SOF:
            if pos + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        pos += 2 + length
    return None
