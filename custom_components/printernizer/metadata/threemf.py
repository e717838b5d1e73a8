"""Bambu Studio / OrcaSlicer 3MF projects (a zip): plates, metadata and plate thumbnails.

Members are read by name, each with a size cap and a compression-ratio cap (zip bombs);
nothing is ever extracted to disk. XML is parsed only without a DOCTYPE (no entities at
all, so neither external entities nor entity expansion), JSON with a size cap.
"""

from __future__ import annotations

import json
import os
import re
import struct
import zipfile
import zlib
from typing import Any, NoReturn
from xml.etree import ElementTree as ET
from xml.parsers import expat

from ._values import (
    apply_slicer_keys,
    clean_text,
    parse_color,
    parse_float,
    parse_float_list,
    parse_int,
    split_producer,
)
from .images import probe
from .models import Filament, FileMetadata, MetadataError, Plate, Thumbnail

MAX_MEMBERS = 20000
MAX_CONFIG = 8 * 1024 * 1024  # slice_info, project_settings
MAX_PLATE_JSON = 1024 * 1024  # plate_N.json (a few kB: bed type, bounding boxes, colours)
#: everything one archive may make us decompress, all members together (up to 256 plates
#: each with its own JSON: without it, MAX_CONFIG per member allowed 2 GB per file)
MAX_TOTAL = 32 * 1024 * 1024
MAX_IMAGE = 8 * 1024 * 1024
MAX_RATIO = 200  # uncompressed / compressed size above this is a zip bomb
RATIO_FLOOR = 1024 * 1024  # members smaller than this may compress as well as they like
MODEL_HEAD = 64 * 1024  # of 3D/3dmodel.model (can be hundreds of MB of mesh)
GCODE_HEAD = 64 * 1024  # of Metadata/plate_N.gcode
MAX_PLATES = 256

SLICE_INFO = "Metadata/slice_info.config"
PROJECT_SETTINGS = "Metadata/project_settings.config"
MODEL = "3D/3dmodel.model"
_PLATE_MEMBER = re.compile(r"Metadata/plate_(\d{1,3})(?:_small)?\.(?:png|json|gcode)")
_APPLICATION = re.compile(rb'<metadata\s+name="Application"\s*>([^<]{1,200})</metadata>')
_LAYERS = re.compile(rb"^;\s*total layer number:\s*(\d{1,7})", re.MULTILINE)
# Bambu Lab printer model ids in slice_info.config (printer_model_id)
PRINTER_MODELS = {
    "BL-P001": "Bambu Lab X1 Carbon",
    "BL-P002": "Bambu Lab X1",
    "C11": "Bambu Lab P1P",
    "C12": "Bambu Lab P1S",
    "C13": "Bambu Lab X1E",
    "N1": "Bambu Lab A1 mini",
    "N2S": "Bambu Lab A1",
    "O1D": "Bambu Lab H2D",
}


def read_3mf(
    path: str | os.PathLike[str], *, plate: int | None = None
) -> tuple[FileMetadata, list[Thumbnail]]:
    """Metadata of the chosen plate (`plate`, else plate 1) with every plate, and its images."""
    try:
        with zipfile.ZipFile(path) as archive:
            return _Project(archive).read(plate)
    except zipfile.BadZipFile as err:
        raise MetadataError(f"not a 3MF file (not a valid zip: {err})") from err
    except OSError as err:
        raise MetadataError(f"cannot read the file: {err.strerror or err}") from err
    except (
        EOFError,
        ValueError,
        struct.error,
        OverflowError,
        zipfile.LargeZipFile,
        NotImplementedError,
        RuntimeError,
    ) as err:
        # zipfile on a hostile archive: unsupported compression, encryption, broken headers
        raise MetadataError(f"3MF: unreadable archive ({err})") from err


class _Project:
    def __init__(self, archive: zipfile.ZipFile) -> None:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise MetadataError(f"3MF: {len(infos)} members is too many")
        self._archive = archive
        self._members = {info.filename: info for info in infos}
        self._budget = MAX_TOTAL

    def has(self, name: str) -> bool:
        return name in self._members

    def member(self, name: str, limit: int, *, head: bool = False) -> bytes | None:
        """The member's bytes (at most `limit`), None when absent.

        With `head`, only the first `limit` bytes are wanted: the bounded streaming read is
        then the protection, so neither the declared size nor the ratio matters.
        """
        info = self._members.get(name)
        if info is None:
            return None
        if not head and info.file_size > limit:
            raise MetadataError(f"3MF: {name} is too big ({info.file_size} bytes)")
        if (
            not head
            and info.file_size > RATIO_FLOOR
            and (info.compress_size == 0 or info.file_size / info.compress_size > MAX_RATIO)
        ):
            raise MetadataError(f"3MF: {name} is compressed suspiciously well (zip bomb)")
        cost = min(limit, info.file_size)
        if cost > self._budget:
            raise MetadataError(
                f"3MF: more than {MAX_TOTAL // (1024 * 1024)} MiB to decompress (at {name})"
            )
        self._budget -= cost
        try:
            # zipfile never yields more than the declared size (checked above unless head)
            with self._archive.open(info) as stream:
                return stream.read(limit)
        except zipfile.BadZipFile as err:
            raise MetadataError(f"3MF: {name} is corrupt ({err})") from err
        except (zlib.error, EOFError) as err:
            raise MetadataError(f"3MF: {name} does not decompress ({err})") from err

    def read(self, wanted: int | None) -> tuple[FileMetadata, list[Thumbnail]]:
        meta = FileMetadata(file_format="3mf", is_print_file=False)
        settings = self._project_settings()
        if settings:
            apply_slicer_keys(meta, settings)
        self._identity(meta)
        plates = self._plates()
        meta.plates = plates
        meta.is_print_file = any(p.sliced for p in plates)
        chosen = self._choose(plates, wanted, meta)
        images: list[Thumbnail] = []
        if chosen is not None:
            meta.plate = chosen.index
            self._apply_plate(meta, chosen)
            images = self._plate_images(chosen.index)
        if not images:
            images = self._images("Metadata/thumbnail.png", "Metadata/thumbnail_small.png")
        return meta, images

    def _project_settings(self) -> dict[str, str]:
        raw = self.member(PROJECT_SETTINGS, MAX_CONFIG)
        if raw is None:
            return {}
        data = _json(raw, PROJECT_SETTINGS)
        if not isinstance(data, dict):
            raise MetadataError(f"3MF: {PROJECT_SETTINGS} is not a JSON object")
        out: dict[str, str] = {}
        for key, value in data.items():
            if isinstance(value, str):
                out[str(key).lower()] = value
            elif isinstance(value, list) and all(isinstance(v, str) for v in value[:64]):
                out[str(key).lower()] = ";".join(value[:64])
        return out

    def _identity(self, meta: FileMetadata) -> None:
        head = self.member(MODEL, MODEL_HEAD, head=True)
        if head and (match := _APPLICATION.search(head)):
            # "BambuStudio-01.09.00.70", "OrcaSlicer-2.1.1"
            meta.slicer, meta.slicer_version = split_producer(
                match.group(1).decode("utf-8", "replace").replace("-", " ", 1)
            )

    def _plates(self) -> list[Plate]:
        plates: dict[int, Plate] = {}
        raw = self.member(SLICE_INFO, MAX_CONFIG)
        if raw is not None:
            for element in _xml(raw, SLICE_INFO).iter("plate"):
                plate = _slice_info_plate(element)
                if plate is not None and len(plates) < MAX_PLATES:
                    plates.setdefault(plate.index, plate)
        for name in self._members:
            match = _PLATE_MEMBER.fullmatch(name)
            if match and len(plates) < MAX_PLATES:
                index = int(match.group(1))
                if index > 0:
                    plates.setdefault(index, Plate(index=index))
        for plate in plates.values():
            plate.sliced = self.has(f"Metadata/plate_{plate.index}.gcode")
            self._plate_json(plate)
        return [plates[i] for i in sorted(plates)]

    def _plate_json(self, plate: Plate) -> None:
        raw = self.member(f"Metadata/plate_{plate.index}.json", MAX_PLATE_JSON)
        if raw is None:
            return
        data = _json(raw, f"plate_{plate.index}.json")
        if not isinstance(data, dict):
            return
        bed = data.get("bed_type")
        if isinstance(bed, str):
            plate.bed_type = clean_text(bed, 60)
        nozzle = data.get("nozzle_diameter")
        if plate.nozzle_diameter is None and isinstance(nozzle, int | float) and nozzle > 0:
            plate.nozzle_diameter = float(nozzle)

    @staticmethod
    def _choose(plates: list[Plate], wanted: int | None, meta: FileMetadata) -> Plate | None:
        by_index = {p.index: p for p in plates}
        if wanted is not None and wanted in by_index:
            return by_index[wanted]
        chosen = by_index.get(1) or next(
            (p for p in plates if p.sliced), plates[0] if plates else None
        )
        if wanted is not None and chosen is not None:
            meta.warnings.append(f"plate {wanted} is not in the file: plate {chosen.index} used")
        return chosen

    def _apply_plate(self, meta: FileMetadata, plate: Plate) -> None:
        if plate.print_time is not None:
            meta.print_time = plate.print_time
        if plate.filament_used is not None:
            meta.filament_used = plate.filament_used
        if plate.printer_model is not None and meta.printer_model is None:
            meta.printer_model = plate.printer_model
        if plate.nozzle_diameter is not None:
            meta.nozzle_diameter = plate.nozzle_diameter
        if plate.bed_type is not None:
            meta.bed_type = plate.bed_type
        if plate.filaments:
            meta.filaments = [Filament(f.type, f.color, f.grams, f.slot) for f in plate.filaments]
        if not meta.is_print_file:
            # an unsliced project: no estimates, whatever its settings say
            meta.print_time = meta.filament_used = meta.filament_length = None
            meta.filaments = []
            return
        head = self.member(f"Metadata/plate_{plate.index}.gcode", GCODE_HEAD, head=True)
        if head and (match := _LAYERS.search(head)):
            meta.total_layers = int(match.group(1))

    def _plate_images(self, index: int) -> list[Thumbnail]:
        return self._images(f"Metadata/plate_{index}.png", f"Metadata/plate_{index}_small.png")

    def _images(self, *names: str) -> list[Thumbnail]:
        out = []
        for name in names:
            data = self.member(name, MAX_IMAGE)
            if data is None:
                continue
            found = probe(data)
            if found is None:
                continue  # not an image we know: the other plate images still count
            out.append(Thumbnail(format=found[0], width=found[1], height=found[2], data=data))
        return out


def _slice_info_plate(element: ET.Element) -> Plate | None:
    values = {
        str(m.get("key")): str(m.get("value", ""))
        for m in element.findall("metadata")
        if m.get("key") is not None
    }
    index = parse_int(values.get("index"))
    if index is None or not 0 < index <= 999:
        return None
    plate = Plate(index=index)
    plate.print_time = parse_int(values.get("prediction"))
    plate.filament_used = parse_float(values.get("weight"))
    model_id = clean_text(values.get("printer_model_id"), 40)
    if model_id:
        plate.printer_model = PRINTER_MODELS.get(model_id, model_id)
    nozzles = parse_float_list(values.get("nozzle_diameters"))
    if nozzles and nozzles[0] > 0:
        plate.nozzle_diameter = nozzles[0]
    for filament in element.findall("filament")[:64]:
        plate.filaments.append(
            Filament(
                type=clean_text(filament.get("type"), 40),
                color=parse_color(filament.get("color")),
                grams=parse_float(filament.get("used_g")),
                slot=_slot(filament.get("id")),
            )
        )
    for obj in element.findall("object")[:256]:
        name = clean_text(obj.get("name"), 120)
        if name and obj.get("skipped") != "true":
            plate.objects.append(name)
    return plate


#: A slicer numbers at most this many filaments (Bambu Studio: 32 and growing).
MAX_FILAMENT_SLOT = 64


def _slot(value: str | None) -> int | None:
    """A ``<filament id>``: the slicer's filament number, 1..MAX_FILAMENT_SLOT, else None."""
    if value is None or not value.strip().isdigit():
        return None
    slot = int(value.strip()[:3])
    return slot if 1 <= slot <= MAX_FILAMENT_SLOT else None


def _xml(raw: bytes, name: str) -> ET.Element:
    """Parse XML that declares no DOCTYPE and no entity (checked by expat itself first)."""

    def refuse(*_: object) -> NoReturn:
        raise MetadataError(f"3MF: {name} declares a DOCTYPE or entities (refused)")

    scanner = expat.ParserCreate()
    scanner.StartDoctypeDeclHandler = refuse
    scanner.EntityDeclHandler = refuse
    scanner.ExternalEntityRefHandler = refuse
    try:
        scanner.Parse(raw, True)
        return ET.fromstring(raw)  # noqa: S314 - no DOCTYPE (checked above), size capped
    except (expat.ExpatError, ET.ParseError) as err:
        raise MetadataError(f"3MF: {name} is not valid XML ({err})") from err


def _json(raw: bytes, name: str) -> Any:
    try:
        return json.loads(raw.decode("utf-8", "replace"))
    except (ValueError, RecursionError) as err:
        raise MetadataError(f"3MF: {name} is not valid JSON") from err
