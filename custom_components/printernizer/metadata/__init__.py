"""Print-file readers: metadata and embedded thumbnails of G-code, binary G-code and 3MF.

Pure and synchronous (standard library and Pillow, no Home Assistant import): the core
calls these in the executor. Every failure is a `MetadataError` with a message for people.

    meta, thumbnails = read_metadata(path, plate=None)
    previews = make_previews(thumbnails)          # {"small"|"medium"|"large": Preview}
    paths = save_previews(previews, directory)    # {"small": ".../small.png", ...}
    meta = metadata_from_keys(prusalink_file["meta"])  # keys a printer already parsed
"""

from __future__ import annotations

import os
from pathlib import Path

from .bgcode import read_bgcode
from .gcode import read_gcode
from .keys import metadata_from_keys
from .models import Filament, FileFormat, FileMetadata, MetadataError, Plate, Thumbnail
from .threemf import read_3mf
from .thumbnails import SIZES, Preview, make_previews, save_previews

__all__ = [
    "SIZES",
    "Filament",
    "FileFormat",
    "FileMetadata",
    "MetadataError",
    "Plate",
    "Preview",
    "Thumbnail",
    "detect_format",
    "is_print_file_name",
    "make_previews",
    "metadata_from_keys",
    "read_metadata",
    "save_previews",
]

EXTENSIONS: dict[str, FileFormat] = {
    ".gcode": "gcode",
    ".gco": "gcode",
    ".g": "gcode",
    ".bgcode": "bgcode",
    ".3mf": "3mf",
}


def is_print_file_name(name: str) -> bool:
    """True for the extensions the readers know (.gcode, .gco, .g, .bgcode, .3mf)."""
    return Path(name).suffix.lower() in EXTENSIONS


def detect_format(path: str | os.PathLike[str]) -> FileFormat:
    """The file's format from its first bytes (magic), else from its extension."""
    try:
        with open(path, "rb") as stream:
            magic = stream.read(4)
    except OSError as err:
        raise MetadataError(f"cannot read the file: {err.strerror or err}") from err
    if magic == b"GCDE":
        return "bgcode"
    if magic == b"PK\x03\x04":
        return "3mf"
    suffix = Path(path).suffix.lower()
    fmt = EXTENSIONS.get(suffix)
    if fmt is None:
        raise MetadataError(f"unsupported file type {suffix or '(no extension)'}")
    if fmt != "gcode":
        raise MetadataError(f"not a {suffix} file (wrong magic bytes)")
    return fmt


def read_metadata(
    path: str | os.PathLike[str], *, plate: int | None = None
) -> tuple[FileMetadata, list[Thumbnail]]:
    """Metadata and embedded thumbnails of a print file; `plate` chooses a 3MF's plate."""
    fmt = detect_format(path)
    if fmt == "bgcode":
        return read_bgcode(path)
    if fmt == "3mf":
        return read_3mf(path, plate=plate)
    return read_gcode(path)
