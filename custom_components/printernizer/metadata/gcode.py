"""Plain G-code: slicer comments and embedded thumbnails from a bounded head and tail.

Reads at most HEAD_BYTES from the start and TAIL_BYTES from the end, whatever the file's
size (the whole file when it is smaller than both together), so a 1 GB file costs the same
as a 1 MB one. Knows PrusaSlicer / SuperSlicer, OrcaSlicer, Bambu Studio (plain export),
Cura (incl. the escaped JSON of `;SETTING_3`) and Cura for Ultimaker (Griffin header).
Comment lines longer than MAX_LINE are cut there.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from typing import BinaryIO

from ._values import (
    apply_slicer_keys,
    clean_text,
    parse_duration,
    parse_float,
    parse_float_list,
    parse_int,
    parse_sum,
    split_producer,
)
from .images import probe
from .models import FileMetadata, MetadataError, Thumbnail, ThumbnailFormat

HEAD_BYTES = 1536 * 1024  # thumbnails sit at the top and can be hundreds of kB
TAIL_BYTES = 512 * 1024  # footer, config block, Cura's SETTING_3
MAX_LINE = 16 * 1024  # bytes kept of one comment line
MAX_THUMBNAIL_B64 = 1024 * 1024  # declared base64 length of one block
MAX_THUMBNAILS = 16
MAX_SETTINGS = 256 * 1024  # Cura's SETTING_3 text, joined
MAX_COMMENT_LINES = 40_000  # per chunk; real files have a few thousand
DENSE_TAIL = 64 * 1024  # a tail with more comment lines than that: only its end is read

# a literal "\n;" prefix lets the regex engine skip ahead fast (the chunk gets a leading "\n")
_COMMENT = re.compile(rb"\n;[^\n]{0,%d}" % MAX_LINE)
_THUMB_BEGIN = re.compile(
    rb"; ?thumbnail(?:_(PNG|JPG|QOI))? begin (\d{1,5})x(\d{1,5}) (\d{1,9})[ \t]*\r?\n"
)
_THUMB_END = re.compile(rb"; ?thumbnail(?:_(?:PNG|JPG|QOI))? end")
_FORMATS: dict[bytes | None, ThumbnailFormat] = {
    None: "png",
    b"PNG": "png",
    b"JPG": "jpg",
    b"QOI": "qoi",
}
_BAMBU_TOTAL = re.compile(r"total estimated time:\s*([^;]+)")
_GENERATED = re.compile(r"^;\s*generated (?:by|with)\s+(.+)$", re.IGNORECASE)
_BAMBU_HEADER = re.compile(r"^;\s*(BambuStudio|OrcaSlicer)\s+v?([\d.]+\S*)\s*$")


def read_head_tail(stream: BinaryIO, size: int) -> tuple[bytes, bytes]:
    """(head, tail) of a file of `size` bytes, cut at line boundaries; tail b"" if small."""
    if size <= HEAD_BYTES + TAIL_BYTES:
        return stream.read(HEAD_BYTES + TAIL_BYTES), b""
    head = stream.read(HEAD_BYTES)
    stream.seek(size - TAIL_BYTES)
    tail = stream.read(TAIL_BYTES)
    cut = head.rfind(b"\n")
    head = head[: cut + 1] if cut >= 0 else head
    cut = tail.find(b"\n")
    tail = tail[cut + 1 :] if cut >= 0 else b""
    return head, tail


def read_gcode(path: str | os.PathLike[str]) -> tuple[FileMetadata, list[Thumbnail]]:
    """Metadata and embedded thumbnails of a plain G-code file (at most 2 MiB read)."""
    try:
        with open(path, "rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            return parse_gcode_stream(stream, size)
    except OSError as err:
        raise MetadataError(f"cannot read the file: {err.strerror or err}") from err


def parse_gcode_stream(stream: BinaryIO, size: int) -> tuple[FileMetadata, list[Thumbnail]]:
    """read_gcode on an open binary stream of `size` bytes (positioned at 0)."""
    head, tail = read_head_tail(stream, size)
    if not head or head.isspace():
        raise MetadataError("the file is empty")
    if b"\x00" in head[:4096]:
        raise MetadataError("not a G-code file (binary content)")
    return parse_gcode_bytes(head, tail)


def parse_gcode_bytes(head: bytes, tail: bytes = b"") -> tuple[FileMetadata, list[Thumbnail]]:
    """Metadata and thumbnails from the head (and tail) of a G-code file."""
    meta = FileMetadata(file_format="gcode")
    keys: dict[str, str] = {}
    cura: dict[str, str] = {}
    settings: list[str] = []
    settings_size = 0
    for chunk in _comment_chunks(head, tail):
        for count, match in enumerate(_COMMENT.finditer(b"\n" + chunk)):
            if count >= MAX_COMMENT_LINES:
                break
            line = match.group()[1:].decode("utf-8", "replace").rstrip("\r")
            if line.startswith(";SETTING_3 "):
                if settings_size < MAX_SETTINGS:
                    settings.append(line[11:])
                    settings_size += len(line)
                continue
            _collect(line, keys, cura)
    apply_slicer_keys(meta, keys)
    _apply_identity(meta, keys)
    _apply_bambu(meta, keys)
    _apply_cura(meta, cura, "".join(settings))
    thumbnails = _thumbnails(head) + _thumbnails(tail)  # a small file: all in `head`
    return meta, thumbnails[:MAX_THUMBNAILS]


def _comment_chunks(head: bytes, tail: bytes) -> tuple[bytes, bytes]:
    """Head and tail for the comment scan, each capped at MAX_COMMENT_LINES lines.

    A small file comes whole as `head`: its last TAIL_BYTES are scanned as the tail, so
    the footer is read however many comment lines come before it. A tail with more
    comment lines than the cap (hostile or odd) is read from its last DENSE_TAIL bytes.
    """
    if not tail and len(head) > TAIL_BYTES:
        cut = head.find(b"\n", len(head) - TAIL_BYTES)
        if cut >= 0:
            head, tail = head[: cut + 1], head[cut + 1 :]
    if tail.count(b"\n;") > MAX_COMMENT_LINES:
        cut = tail.find(b"\n", len(tail) - DENSE_TAIL)
        tail = tail[cut + 1 :] if cut >= 0 else b""
    return head, tail


def _collect(line: str, keys: dict[str, str], cura: dict[str, str]) -> None:
    """Sort one comment line into slicer `key = value` pairs or Cura `KEY:value` pairs."""
    if len(line) > 1 and line[1] not in " \t;" and ":" in line:
        # Cura: ";TIME:199", ";Filament used: 1.84m", ";PRINT.TIME:480"
        key, _, value = line[1:].partition(":")
        if len(key) <= 80:
            cura[key.strip().upper()] = value.strip()
        return
    match = _GENERATED.match(line) or _BAMBU_HEADER.match(line)
    if match:
        keys.setdefault("__generated__", " ".join(match.groups()))
        return
    body = line.lstrip("; \t")
    if " = " in body:
        key, _, value = body.partition(" = ")
    elif ":" in body:
        key, _, value = body.partition(":")
    else:
        return
    key = key.strip().lower()
    if 0 < len(key) <= 80:
        keys[key] = value.strip()


def _apply_identity(meta: FileMetadata, keys: dict[str, str]) -> None:
    producer = keys.get("__generated__")
    if producer is None:
        return
    slicer, version = split_producer(producer)
    meta.slicer, meta.slicer_version = slicer, version


def _apply_bambu(meta: FileMetadata, keys: dict[str, str]) -> None:
    """Bambu Studio's `; model printing time: 15m 1s; total estimated time: 20m 2s`."""
    value = keys.get("model printing time")
    if value and (m := _BAMBU_TOTAL.search(value)):
        seconds = parse_duration(m.group(1))
        if seconds is not None:
            meta.print_time = seconds
    if meta.slicer is None and "model printing time" in keys:
        meta.slicer = "BambuStudio"


def _apply_cura(meta: FileMetadata, cura: dict[str, str], settings: str) -> None:
    """Cura's header (`;TIME:`, `;Filament used:`), Griffin's, and SETTING_3's JSON."""
    if not cura:
        return
    if (seconds := parse_int(cura.get("TIME") or cura.get("PRINT.TIME"))) is not None:
        meta.print_time = seconds
    if (metres := parse_sum(cura.get("FILAMENT USED"))) is not None:
        meta.filament_length = round(metres * 1000, 2)
    if (height := parse_float(cura.get("LAYER HEIGHT"))) is not None:
        meta.layer_height = height
    if (layers := parse_int(cura.get("LAYER_COUNT"))) is not None and layers > 0:
        meta.total_layers = layers
    volumes = [
        v
        for key, raw in cura.items()
        if key.startswith("EXTRUDER_TRAIN.")
        and key.endswith(".MATERIAL.VOLUME_USED")
        and (v := parse_float(raw)) is not None
    ]
    if volumes:
        meta.filament_volume = round(sum(volumes), 3)
    nozzle = parse_float(cura.get("EXTRUDER_TRAIN.0.NOZZLE.DIAMETER"))
    if nozzle is not None and nozzle > 0:
        meta.nozzle_diameter = nozzle
    if model := clean_text(cura.get("TARGET_MACHINE.NAME")):
        meta.printer_model = model
    if name := clean_text(cura.get("GENERATOR.NAME")):
        meta.slicer = name
        meta.slicer_version = clean_text(cura.get("GENERATOR.VERSION"), 40)
    if meta.slicer and meta.slicer.startswith("Cura_SteamEngine"):
        meta.slicer = "Cura"
    if meta.slicer is None and ("TIME" in cura or "FLAVOR" in cura):
        meta.slicer = "Cura"
    if settings:
        _apply_cura_settings(meta, settings)


def _apply_cura_settings(meta: FileMetadata, text: str) -> None:
    """`;SETTING_3 {"global_quality": "[general]\\n...infill_sparse_density = 20\\n"}`."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        # cut or garbled: the escaped INI is still readable
        blob = text.replace("\\\\n", "\n").replace("\\n", "\n")
    else:
        parts: list[str] = []
        if isinstance(data, dict):
            for value in data.values():
                if isinstance(value, str):
                    parts.append(value)
                elif isinstance(value, list):
                    parts.extend(v for v in value if isinstance(v, str))
        blob = "\n".join(parts)
    values: dict[str, str] = {}
    for line in blob.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values.setdefault(key.strip(), value.strip())
    if (infill := parse_float(values.get("infill_sparse_density"))) is not None:
        meta.infill = infill
    if meta.layer_height is None and (h := parse_float(values.get("layer_height"))) is not None:
        meta.layer_height = h
    if meta.nozzle_diameter is None:
        size = parse_float_list(values.get("machine_nozzle_size"))
        if size:
            meta.nozzle_diameter = size[0]


#: Bytes a thumbnail block's first line may have before "thumbnail" (";", spaces).
_LINE_PREFIX_MAX = 16


def _thumbnails(chunk: bytes) -> list[Thumbnail]:
    """Base64 thumbnail blocks, found with bytes.find (fast) rather than a regex scan."""
    out: list[Thumbnail] = []
    pos = 0
    while len(out) < MAX_THUMBNAILS and (pos := chunk.find(b"thumbnail", pos)) >= 0:
        # A block starts a line ("; thumbnail begin", ";thumbnail_QOI begin"): look back a
        # few bytes only, so a long line full of "thumbnail" costs linear time, not quadratic.
        window = max(0, pos - _LINE_PREFIX_MAX)
        newline = chunk.rfind(b"\n", window, pos)
        begin = _THUMB_BEGIN.match(chunk, newline + 1) if newline >= 0 or window == 0 else None
        pos += 9
        if begin is None:
            continue
        body_end = _block_end(chunk, begin.end())
        if body_end is None:
            continue  # unterminated: the next block (if any) is still tried
        pos = body_end
        thumb = _decode_block(begin, chunk[begin.end() : body_end])
        if thumb is not None:
            out.append(thumb)
    return out


def _block_end(chunk: bytes, start: int) -> int | None:
    """Offset of the `; thumbnail end` line after `start`; None when another block begins."""
    pos = start
    while (pos := chunk.find(b"thumbnail", pos)) >= 0:
        if pos - start > MAX_THUMBNAIL_B64 * 2:
            return None
        # the line start, looked for a few bytes back only (`start` is one): a long line
        # full of "thumbnail" costs linear time, not quadratic
        window = max(start, pos - _LINE_PREFIX_MAX)
        newline = chunk.rfind(b"\n", window, pos)
        line = newline + 1 if newline >= 0 else (start if window == start else -1)
        if line >= 0 and _THUMB_END.match(chunk, line):
            return line
        if line >= 0 and _THUMB_BEGIN.match(chunk, line):
            return None
        pos += 9
    return None


def _decode_block(begin: re.Match[bytes], body: bytes) -> Thumbnail | None:
    fmt = _FORMATS[begin.group(1)]
    width, height, length = int(begin.group(2)), int(begin.group(3)), int(begin.group(4))
    if length > MAX_THUMBNAIL_B64 or not width or not height or len(body) > 2 * length + 1024:
        return None
    encoded = body.translate(None, b"; \t\r\n\v\f")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None
    found = probe(data)
    if found is None or found[0] != fmt:
        return None
    return Thumbnail(format=fmt, width=found[1], height=found[2], data=data)
