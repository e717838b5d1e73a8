"""Bambu Studio / OrcaSlicer 3MF: plates, settings, thumbnails, zip bombs, hostile XML."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from custom_components.printernizer.metadata import MetadataError, read_metadata
from custom_components.printernizer.metadata import threemf as threemf_mod

from . import writers as w

Write = Callable[[str, bytes | str], Path]

TWO_PLATES = [
    w.PlateSpec(1, prediction=1234, weight=12.34),
    w.PlateSpec(
        2,
        prediction=4321,
        weight=4.5,
        printer_model_id="N2S",
        filaments=[("PETG", "#FFFFFF", 3.5), ("PLA", "#000000FF", 1.0)],
        image=(300, 200),
        objects=["Benchy", "Clip"],
    ),
]


def test_plate_one_by_default(write: Write) -> None:
    meta, images = read_metadata(write("p.gcode.3mf", w.threemf(TWO_PLATES)))
    data = meta.as_dict()
    assert data["is_print_file"] is True
    assert data["plate"] == 1
    assert data["print_time"] == 1234
    assert data["filament_used"] == 12.34
    assert data["layer_height"] == 0.2
    assert data["infill"] == 15.0
    assert data["slicer"] == "BambuStudio"
    assert data["slicer_version"] == "01.09.00.70"
    assert data["printer_model"] == "Bambu Lab P1S"  # project_settings wins over the id
    assert data["nozzle_diameter"] == 0.4
    assert data["bed_type"] == "textured_plate"
    assert data["total_layers"] == 41  # from the plate G-code's header
    assert data["filaments"] == [{"type": "PLA", "color": "#00AE42", "grams": 12.34, "slot": 1}]
    assert [p["index"] for p in data["plates"]] == [1, 2]
    assert data["plates"][1] == {
        "index": 2,
        "sliced": True,
        "print_time": 4321,
        "filament_used": 4.5,
        "printer_model": "Bambu Lab A1",
        "nozzle_diameter": 0.4,
        "bed_type": "textured_plate",
        "filaments": [
            {"type": "PETG", "color": "#FFFFFF", "grams": 3.5, "slot": 1},
            {"type": "PLA", "color": "#000000", "grams": 1.0, "slot": 2},
        ],
        "objects": ["Benchy", "Clip"],
    }
    assert json.loads(json.dumps(data)) == data
    assert [(t.format, t.width, t.height) for t in images] == [("png", 512, 512), ("png", 128, 128)]


def test_chosen_plate(write: Write) -> None:
    meta, images = read_metadata(write("p.3mf", w.threemf(TWO_PLATES)), plate=2)
    assert meta.plate == 2
    assert meta.print_time == 4321
    assert meta.filament_used == 4.5
    assert meta.total_layers == 42
    assert [f.type for f in meta.filaments] == ["PETG", "PLA"]
    assert len(meta.plates) == 2
    assert (images[0].width, images[0].height) == (300, 200)


def test_missing_plate_falls_back_to_plate_one(write: Write) -> None:
    meta, _ = read_metadata(write("p.3mf", w.threemf(TWO_PLATES)), plate=7)
    assert meta.plate == 1
    assert meta.warnings == ["plate 7 is not in the file: plate 1 used"]


def test_single_plate_export_without_plate_one(write: Write) -> None:
    meta, _ = read_metadata(write("p.3mf", w.threemf([w.PlateSpec(3, prediction=77)])))
    assert meta.plate == 3
    assert meta.print_time == 77
    # the job names a plate the export does not have: the warning names the plate used
    meta, _ = read_metadata(write("q.3mf", w.threemf([w.PlateSpec(3, prediction=77)])), plate=2)
    assert (meta.plate, meta.print_time) == (3, 77)
    assert meta.warnings == ["plate 2 is not in the file: plate 3 used"]
    assert meta.as_dict()["warnings"] == meta.warnings


def test_orcaslicer_project(write: Write) -> None:
    meta, _ = read_metadata(write("o.3mf", w.threemf(application="OrcaSlicer-2.1.1")))
    assert (meta.slicer, meta.slicer_version) == ("OrcaSlicer", "2.1.1")


def test_unsliced_project_is_a_model(write: Write) -> None:
    meta, images = read_metadata(write("m.3mf", w.threemf([w.PlateSpec(1, sliced=False)])))
    assert meta.is_print_file is False
    assert meta.print_time is None
    assert meta.filament_used is None
    assert meta.filaments == []
    assert meta.layer_height == 0.2  # the project's settings are still told
    assert [p.sliced for p in meta.plates] == [False]
    assert len(images) == 2  # a model still has its cover


def test_plain_3mf_model(write: Write) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("3D/3dmodel.model", "<model/>")
        archive.writestr("Metadata/thumbnail.png", w.png(256, 256))
    meta, images = read_metadata(write("plain.3mf", buffer.getvalue()))
    assert meta.is_print_file is False
    assert meta.plates == []
    assert [(t.width, t.height) for t in images] == [(256, 256)]


def test_not_a_zip(write: Write) -> None:
    with pytest.raises(MetadataError, match="wrong magic"):
        read_metadata(write("x.3mf", b"hello, not a zip"))
    with pytest.raises(MetadataError, match="not a valid zip"):
        read_metadata(write("y.3mf", b"PK\x03\x04" + b"\x00" * 100))


def test_truncated_zip(write: Write) -> None:
    data = w.threemf(TWO_PLATES)
    with pytest.raises(MetadataError):
        read_metadata(write("t.3mf", data[: len(data) // 2]))


def test_zip_bomb_member_refused(write: Write) -> None:
    bomb = w.threemf(extra={"Metadata/plate_1.png": b"\x00" * 50_000_000})
    with pytest.raises(MetadataError, match=r"zip bomb|too big"):
        read_metadata(write("bomb.3mf", bomb))
    bomb = w.threemf(extra={"Metadata/plate_1.json": b" " * 5_000_000})
    with pytest.raises(MetadataError, match=r"zip bomb|too big"):
        read_metadata(write("bomb2.3mf", bomb))


def test_member_size_cap(write: Write, monkeypatch: pytest.MonkeyPatch) -> None:
    """A member above its cap is refused from its declared size, before reading."""
    data = w.threemf()
    monkeypatch.setattr(threemf_mod, "MAX_CONFIG", 100)
    with pytest.raises(MetadataError, match="too big"):
        read_metadata(write("big.3mf", data))


def test_plate_json_cap(write: Write) -> None:
    """plate_N.json has its own, smaller cap than the project's settings."""
    big = {"bed_type": "x", "pad": "a" * threemf_mod.MAX_PLATE_JSON}
    data = w.threemf(extra={"Metadata/plate_1.json": json.dumps(big).encode()})
    with pytest.raises(MetadataError, match=r"plate_1\.json is too big"):
        read_metadata(write("big-plate.3mf", data))


def test_archive_decompression_budget(write: Write) -> None:
    """Many members each under their cap: the archive's total is bounded too."""
    pad = json.dumps({"bed_type": "x", "pad": " " * 1_000_000}).encode()  # < 1 MiB, no ratio
    extra = {f"Metadata/plate_{i}.json": pad for i in range(3, 40)}  # 37 MB in all
    with pytest.raises(MetadataError, match="more than 32 MiB to decompress"):
        read_metadata(write("many-plates.3mf", w.threemf(extra=extra)))
    fewer = {f"Metadata/plate_{i}.json": pad for i in range(3, 20)}  # 17 MB: read
    meta, _ = read_metadata(write("some-plates.3mf", w.threemf(extra=fewer)))
    assert len(meta.plates) == 18  # plate 1 and 3-19


def test_lying_sizes_in_the_directory(write: Write) -> None:
    settings = json.dumps(w.PROJECT_SETTINGS).encode()
    data = bytearray(w.threemf())
    # shrink the declared uncompressed size of project_settings.config in the central directory
    name = b"Metadata/project_settings.config"
    at = data.rfind(name) - 46  # central directory header: 46 bytes before the name
    assert data[at : at + 4] == b"PK\x01\x02"
    data[at + 24 : at + 28] = (10).to_bytes(4, "little")
    with pytest.raises(MetadataError, match=r"project_settings\.config is corrupt"):
        read_metadata(write("lie.3mf", bytes(data)))
    assert len(settings) > 10


@pytest.mark.parametrize(
    "xml",
    [
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
        "<config>&lol2;</config>",
        '<?xml version="1.0"?><!DOCTYPE c [<!ENTITY x SYSTEM "file:///etc/passwd">]><config>&x;'
        "</config>",
        '<?xml version="1.0" encoding="UTF-16"?>'.encode("utf-16").decode("latin-1"),
    ],
    ids=["billion-laughs", "external-entity", "utf16"],
)
def test_hostile_xml(write: Write, xml: str) -> None:
    with pytest.raises(MetadataError, match=r"DOCTYPE|not valid XML"):
        read_metadata(write("x.3mf", w.threemf(slice_info_text=xml)))


def test_utf16_xml_with_doctype_refused(write: Write) -> None:
    """The DOCTYPE check is expat's own, so another encoding cannot hide one."""
    xml = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE c [<!ENTITY x "y">]><config/>'
    raw = xml.encode("utf-16")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("Metadata/slice_info.config", raw)
    with pytest.raises(MetadataError, match="DOCTYPE"):
        read_metadata(write("u.3mf", buffer.getvalue()))


def test_malformed_configs(write: Write) -> None:
    with pytest.raises(MetadataError, match="not valid XML"):
        read_metadata(write("a.3mf", w.threemf(slice_info_text="<config><plate>")))
    deep = w.threemf(extra={"Metadata/project_settings.config": b"[" * 100_000})
    with pytest.raises(MetadataError, match="not valid JSON"):
        read_metadata(write("b.3mf", deep))
    with pytest.raises(MetadataError, match="not a JSON object"):
        read_metadata(write("c.3mf", w.threemf(settings=[1, 2])))  # type: ignore[arg-type]


def test_garbage_values_ignored(write: Write) -> None:
    xml = (
        "<config><plate>"
        '<metadata key="index" value="1"/><metadata key="prediction" value="soon"/>'
        '<metadata key="weight" value="nan"/><filament id="1" type="PLA" color="blue"/>'
        '</plate><plate><metadata key="index" value="-4"/></plate></config>'
    )
    meta, _ = read_metadata(write("g.3mf", w.threemf(slice_info_text=xml, settings={})))
    assert meta.print_time is None
    assert meta.filament_used is None
    assert [f.as_dict() for f in meta.filaments] == [
        {"type": "PLA", "color": None, "grams": None, "slot": 1}
    ]
    assert [p.index for p in meta.plates] == [1]


def test_filament_slots_are_the_slicers_numbers(write: Write) -> None:
    """``<filament id>`` is 1-based and not always contiguous; a bad one is no slot."""
    spec = w.PlateSpec(
        1,
        filaments=[
            ("PLA", "#FFFFFF", 5.0),
            ("PETG", "#000000", 2.5),
            ("PLA", "#FF0000", 1.0),
            ("TPU", "#00FF00", 1.0),
            ("ABS", "#0000FF", 1.0),
            ("ASA", "#808080", 1.0),
        ],
        filament_ids=["2", " 7 ", "0", "65", "-1", "x"],
    )
    meta, _ = read_metadata(write("s.gcode.3mf", w.threemf([spec])))
    assert [(f.type, f.slot) for f in meta.filaments] == [
        ("PLA", 2),
        ("PETG", 7),
        ("PLA", None),
        ("TPU", None),
        ("ABS", None),
        ("ASA", None),
    ]
    assert "slot" not in meta.as_dict()["filaments"][2]


def test_huge_model_member_is_only_read_at_its_head(write: Write) -> None:
    """3D/3dmodel.model can be hundreds of MB (and compress very well): its first 64 kB only."""
    model = (
        '<?xml version="1.0"?>\n<model unit="millimeter">\n'
        ' <metadata name="Application">OrcaSlicer-2.2.0</metadata>\n'
        + ' <vertex x="0" y="0" z="0"/>\n' * 1_000_000
        + "</model>\n"
    )
    data = w.threemf(extra={"3D/3dmodel.model": model.encode()})
    meta, _ = read_metadata(write("mesh.3mf", data))
    assert (meta.slicer, meta.slicer_version) == ("OrcaSlicer", "2.2.0")
    assert meta.print_time == 1234


def _without(data: bytes, name: str) -> bytes:
    """The 3MF without one member."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename != name:
                dst.writestr(info, src.read(info))
    return out.getvalue()


def test_unreadable_file_and_archive(write: Write, tmp_path: Path) -> None:
    with pytest.raises(MetadataError, match="cannot read the file"):
        threemf_mod.read_3mf(tmp_path / "gone.3mf")
    # an encrypted member (flag bit 0 in the central directory): zipfile wants a password
    data = bytearray(w.threemf())
    central = data.index(b"PK\x01\x02")
    data[central + 8] |= 0x01
    with pytest.raises(MetadataError, match="3MF: unreadable archive"):
        read_metadata(write("e.3mf", bytes(data)))


def test_too_many_members(write: Write, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threemf_mod, "MAX_MEMBERS", 3)
    with pytest.raises(MetadataError, match="members is too many"):
        read_metadata(write("m.3mf", w.threemf()))


def test_long_plate_gcode_read_from_its_head(write: Write) -> None:
    """The layer count sits in the header: only the head of a long plate G-code is read."""
    gcode = "; HEADER_BLOCK_START\n; total layer number: 321\n; HEADER_BLOCK_END\n"
    gcode += "G1 X10 Y10 E0.1\n" * 20_000  # 320 kB, beyond the head
    meta, _ = read_metadata(
        write("l.3mf", w.threemf(extra={"Metadata/plate_1.gcode": gcode.encode()}))
    )
    assert meta.total_layers == 321


def test_plate_json_missing_or_not_an_object(write: Write) -> None:
    plain = _without(w.threemf(), "Metadata/plate_1.json")
    meta, _ = read_metadata(write("a.3mf", plain))
    assert (meta.bed_type, meta.print_time) == ("Textured PEI Plate", 1234)
    odd = w.threemf(extra={"Metadata/plate_1.json": b"[1, 2]"})
    meta, _ = read_metadata(write("b.3mf", odd))
    assert meta.plates[0].bed_type is None
    assert meta.print_time == 1234


def test_printer_model_from_the_plate_without_settings(write: Write) -> None:
    """No project settings: the plate's printer model id names the printer."""
    meta, _ = read_metadata(
        write("p.3mf", w.threemf([w.PlateSpec(1, printer_model_id="N2S")], settings={}))
    )
    assert meta.printer_model == threemf_mod.PRINTER_MODELS["N2S"]


def test_plate_image_that_is_no_image(write: Write) -> None:
    data = w.threemf(extra={"Metadata/plate_1.png": b"not an image at all"})
    _, images = read_metadata(write("i.3mf", data))
    assert [(t.width, t.height) for t in images] == [(128, 128)]  # the small one still counts
