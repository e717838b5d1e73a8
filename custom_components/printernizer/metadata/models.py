"""What the print-file readers return: metadata, embedded thumbnails and the one error.

Pure data, no Home Assistant import. `FileMetadata.as_dict()` is plain JSON (the
`metadata` of `file_metadata_extracted`): only what the file states is included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

type ThumbnailFormat = Literal["png", "jpg", "qoi"]
type FileFormat = Literal["gcode", "bgcode", "3mf"]


class MetadataError(Exception):
    """A print file could not be read: malformed, truncated, hostile or unsupported.

    The message is meant for people (events, logs, bug reports): it says what is wrong
    with the file, never a Python traceback.
    """


@dataclass(slots=True)
class Filament:
    """One filament (extruder or AMS slot) the print uses.

    ``slot``: the slicer's filament number (1-based, a 3MF's ``<filament id>``);
    a printer's tray mapping says which tray feeds it. None where the file does
    not number its filaments (G-code, bgcode).
    """

    type: str | None = None
    color: str | None = None
    grams: float | None = None
    slot: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON: type, color, grams (None where unknown), and slot where known."""
        out: dict[str, Any] = {"type": self.type, "color": self.color, "grams": self.grams}
        if self.slot is not None:
            out["slot"] = self.slot
        return out


@dataclass(slots=True)
class Plate:
    """One plate of a multi-plate 3MF project."""

    index: int
    sliced: bool = False
    print_time: int | None = None
    filament_used: float | None = None
    printer_model: str | None = None
    nozzle_diameter: float | None = None
    bed_type: str | None = None
    filaments: list[Filament] = field(default_factory=list)
    objects: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON, keys without a value left out (index and sliced always present)."""
        out: dict[str, Any] = {"index": self.index, "sliced": self.sliced}
        for key in ("print_time", "filament_used", "printer_model", "nozzle_diameter", "bed_type"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.filaments:
            out["filaments"] = [f.as_dict() for f in self.filaments]
        if self.objects:
            out["objects"] = list(self.objects)
        return out


@dataclass(slots=True)
class FileMetadata:
    """Everything a reader found in one print file (units in the field names' docs).

    - print_time: estimated print time in seconds (int)
    - filament_used: grams of filament, all extruders (float)
    - filament_length: millimetres of filament, all extruders (float)
    - filament_volume: cubic millimetres of filament (Cura for Ultimaker states only this)
    - layer_height: millimetres; first_layer_height likewise
    - infill: sparse infill density in percent (float)
    - nozzle_diameter: millimetres (the first extruder's)
    - filaments: per filament type, colour (#RRGGBB) and grams, where stated
    - total_layers: number of layers
    - plate / plates: for a 3MF, the chosen plate's index and every plate
    - is_print_file: False for a project that was never sliced (a model only)
    """

    file_format: FileFormat
    is_print_file: bool = True
    print_time: int | None = None
    filament_used: float | None = None
    filament_length: float | None = None
    filament_volume: float | None = None
    layer_height: float | None = None
    first_layer_height: float | None = None
    infill: float | None = None
    slicer: str | None = None
    slicer_version: str | None = None
    printer_model: str | None = None
    nozzle_diameter: float | None = None
    bed_type: str | None = None
    filaments: list[Filament] = field(default_factory=list)
    total_layers: int | None = None
    max_layer_z: float | None = None
    plate: int | None = None
    plates: list[Plate] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON (str, int, float, bool, lists, dicts); keys without a value left out."""
        out: dict[str, Any] = {
            "file_format": self.file_format,
            "is_print_file": self.is_print_file,
        }
        for key in (
            "print_time",
            "filament_used",
            "filament_length",
            "filament_volume",
            "layer_height",
            "first_layer_height",
            "infill",
            "slicer",
            "slicer_version",
            "printer_model",
            "nozzle_diameter",
            "bed_type",
            "total_layers",
            "max_layer_z",
            "plate",
        ):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.filaments:
            out["filaments"] = [f.as_dict() for f in self.filaments]
        if self.plates:
            out["plates"] = [p.as_dict() for p in self.plates]
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out


@dataclass(slots=True, frozen=True)
class Thumbnail:
    """An image embedded in a print file, still encoded (PNG, JPEG or QOI bytes).

    width and height are what the file declares (the thumbnail maker checks them against
    the image's own header before decoding).
    """

    format: ThumbnailFormat
    width: int
    height: int
    data: bytes = field(repr=False)

    def describe(self) -> dict[str, Any]:
        """Plain JSON without the bytes: format, width, height, bytes."""
        return {
            "format": self.format,
            "width": self.width,
            "height": self.height,
            "bytes": len(self.data),
        }
