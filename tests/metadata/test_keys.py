"""metadata_from_keys: PrusaLink's file `meta` (the OpenAPI spec's FileMeta) to FileMetadata."""

from __future__ import annotations

from custom_components.printernizer.metadata import metadata_from_keys


def test_prusalink_meta() -> None:
    meta = metadata_from_keys(
        {
            "estimated printing time (normal mode)": "42m 42s",
            "estimated_print_time": 2562,
            "filament used [g]": 15.42,
            "filament used [g] per tool": [14.42, 1.0],
            "filament used [mm]": 5142.06,
            "filament_type": "PLA",
            "filament_type per tool": ["PLA", "PETG"],
            "fill_density": "20%",
            "layer_height": 0.3,
            "nozzle_diameter": 0.4,
            "nozzle_diameter per tool": [0.4, 0.6],
            "printer_model": "XL5",
            "bed_temperature": 60,
            "brim_width": 0,
            "support_material": True,
            "objects_info": {"objects": []},
        },
        file_format="bgcode",
    )
    assert meta.as_dict() == {
        "file_format": "bgcode",
        "is_print_file": True,
        "print_time": 2562,
        "filament_used": 15.42,
        "filament_length": 5142.06,
        "layer_height": 0.3,
        "infill": 20.0,
        "printer_model": "XL5",
        "nozzle_diameter": 0.4,
        "filaments": [
            {"type": "PLA", "color": None, "grams": 14.42},
            {"type": "PETG", "color": None, "grams": 1.0},
        ],
    }


def test_garbage_ignored() -> None:
    meta = metadata_from_keys(
        {
            "estimated_print_time": -5,
            "layer_height": "thin",
            "filament used [g]": [None, {}],
            "x" * 200: 1,
        }
    )
    assert meta.as_dict() == {"file_format": "gcode", "is_print_file": True}
    assert metadata_from_keys({}).as_dict() == {"file_format": "gcode", "is_print_file": True}
