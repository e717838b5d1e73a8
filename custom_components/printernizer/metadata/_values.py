"""Value parsing shared by the readers: durations, numbers, lists, slicer config keys."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from .models import Filament, FileMetadata

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([dhms])", re.IGNORECASE)
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_HEX_COLOR = re.compile(r"#?([0-9A-Fa-f]{6})(?:[0-9A-Fa-f]{2})?")
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
MAX_VALUE = 1e12  # anything larger in a slicer field is garbage


def parse_float(value: str | None) -> float | None:
    """The first number in `value` ("0.2", "15%", "1.84m"), finite and sane, else None."""
    if value is None:
        return None
    match = _NUMBER.search(value[:64])
    if match is None:
        return None
    number = float(match.group())
    if not math.isfinite(number) or abs(number) > MAX_VALUE:
        return None
    return number


def parse_int(value: str | None) -> int | None:
    """parse_float, rounded to an int."""
    number = parse_float(value)
    return None if number is None else round(number)


def parse_float_list(value: str | None) -> list[float]:
    """A comma or semicolon list of numbers ("1.2, 3.4" or "0.4;0.4"); unparsable items skipped."""
    if not value:
        return []
    out = []
    for item in re.split(r"[,;]", value[:4096]):
        number = parse_float(item)
        if number is not None:
            out.append(number)
    return out


def parse_sum(value: str | None) -> float | None:
    """Sum of a per-extruder list ("1.2, 3.4" -> 4.6), None when nothing parses."""
    numbers = parse_float_list(value)
    return round(sum(numbers), 4) if numbers else None


def parse_str_list(value: str | None) -> list[str]:
    """A semicolon (or comma) separated list of names, quotes and blanks stripped."""
    if not value:
        return []
    sep = ";" if ";" in value else ","
    return [item.strip().strip('"') for item in value[:4096].split(sep)]


def parse_duration(value: str | None) -> int | None:
    """Seconds from "1d 2h 3m 4s" (or a bare number of seconds), None when unparsable."""
    if value is None:
        return None
    text = value.strip()[:64]
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return round(float(text))
    parts = _DURATION.findall(text)
    if not parts:
        return None
    return round(sum(float(n) * _UNIT_SECONDS[u.lower()] for n, u in parts))


def parse_color(value: str | None) -> str | None:
    """'#RRGGBB' (upper case) from '#rrggbb', 'RRGGBBAA' or '#RRGGBBAA', else None."""
    if not value:
        return None
    match = _HEX_COLOR.fullmatch(value.strip())
    return f"#{match.group(1).upper()}" if match else None


def clean_text(value: str | None, limit: int = 200) -> str | None:
    """A stripped, length-capped single-line string, None when empty."""
    if value is None:
        return None
    text = " ".join(value.split())[:limit]
    return text or None


def split_producer(value: str | None) -> tuple[str | None, str | None]:
    """('PrusaSlicer', '2.7.1+win64') from 'PrusaSlicer 2.7.1+win64 on 2024-01-01 at ...'."""
    text = clean_text(value)
    if text is None:
        return None, None
    text = re.split(r"\s+on\s+\d", text, maxsplit=1)[0]
    match = re.match(r"([A-Za-z][\w .-]*?)[\s_-]+v?(\d[\w.+-]*)$", text)
    if match:
        return match.group(1).strip(), match.group(2)
    return text, None


def filaments_from(
    types: list[str], colors: list[str], grams: list[float], total: float | None
) -> list[Filament]:
    """Per-extruder filaments: those with grams > 0 where grams are per extruder."""
    count = max(len(types), len(grams))
    out: list[Filament] = []
    for i in range(min(count, 64)):
        kind = clean_text(types[i], 40) if i < len(types) else None
        color = parse_color(colors[i]) if i < len(colors) else None
        weight = grams[i] if i < len(grams) else None
        if grams and (weight is None or weight <= 0):
            continue
        out.append(Filament(type=kind, color=color, grams=weight))
    if not grams and len(out) == 1 and total is not None:
        out[0].grams = total
    return out


def apply_slicer_keys(meta: FileMetadata, keys: Mapping[str, str]) -> None:
    """Fill `meta` from PrusaSlicer / SuperSlicer / OrcaSlicer / Bambu Studio config keys.

    `keys` maps lower-case keys ("estimated printing time (normal mode)", "layer_height",
    "filament used [g]") to raw values; what a key does not parse to is left as it was.
    """

    def first(*names: str) -> str | None:
        for name in names:
            if name in keys:
                return keys[name]
        return None

    seconds = parse_duration(
        first("estimated printing time (normal mode)", "estimated printing time")
    )
    if seconds is not None:
        meta.print_time = seconds
    grams_raw = first("filament used [g]")
    grams = parse_float_list(grams_raw)
    total = parse_float(first("total filament used [g]", "total filament weight [g]"))
    if total is None and grams:
        total = round(sum(grams), 4)
    if total is not None:
        meta.filament_used = total
    length = parse_sum(first("filament used [mm]")) or parse_float(
        first("total filament length [mm]", "total filament used [mm]")
    )
    if length is not None:
        meta.filament_length = length
    if (value := parse_float(first("layer_height"))) is not None:
        meta.layer_height = value
    first_layer = parse_float(first("first_layer_height", "initial_layer_print_height"))
    if first_layer is not None:
        meta.first_layer_height = first_layer
    if (value := parse_float(first("sparse_infill_density", "fill_density"))) is not None:
        meta.infill = value
    if (nozzles := parse_float_list(first("nozzle_diameter"))) and nozzles[0] > 0:
        meta.nozzle_diameter = nozzles[0]
    if (model := clean_text(first("printer_model"))) is not None:
        meta.printer_model = model
    if (
        layers := parse_int(first("total layer number", "total layers", "total_layer_number"))
    ) and (layers > 0):
        meta.total_layers = layers
    if (z := parse_float(first("max_layer_z"))) is not None:
        meta.max_layer_z = z
    if (bed := clean_text(first("curr_bed_type", "bed_type"), 60)) is not None:
        meta.bed_type = bed
    types = parse_str_list(first("filament_type"))
    colors = parse_str_list(first("filament_colour", "filament_color", "extruder_colour"))
    if types or grams:
        filaments = filaments_from(types, colors, grams, total)
        if filaments:
            meta.filaments = filaments
