"""FileMetadata from already-parsed slicer keys (PrusaLink's file `meta`, for instance).

PrusaLink reports a file's metadata as the PrusaSlicer keys it parsed from the file
(`estimated printing time (normal mode)`, `filament used [g]`, `fill_density`, ...) with
JSON types, plus `... per tool` lists. The same mapping as the readers applies, so a file
that is not downloaded gets the same metadata fields as one that is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._values import apply_slicer_keys, parse_int
from .models import FileFormat, FileMetadata

_PER_TOOL = ("filament used [g]", "filament used [mm]", "filament_type", "nozzle_diameter")
MAX_KEYS = 4096


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return str(value)[:4096]


def metadata_from_keys(
    values: Mapping[str, Any], *, file_format: FileFormat = "gcode"
) -> FileMetadata:
    """FileMetadata from PrusaSlicer-style keys with JSON values; unknown keys ignored."""
    keys: dict[str, str] = {}
    for key, value in list(values.items())[:MAX_KEYS]:
        name = str(key).lower()
        if len(name) > 80:
            continue
        if isinstance(value, list):
            items = [_scalar(item) for item in value[:64]]
            if items and all(item is not None for item in items):
                keys[name] = ";".join(item for item in items if item is not None)
        elif (text := _scalar(value)) is not None:
            keys[name] = text
    for base in _PER_TOOL:
        if f"{base} per tool" in keys:
            keys[base] = keys[f"{base} per tool"]
    meta = FileMetadata(file_format=file_format)
    apply_slicer_keys(meta, keys)
    seconds = parse_int(keys.get("estimated_print_time"))
    if seconds is not None and seconds >= 0:
        meta.print_time = seconds
    return meta
