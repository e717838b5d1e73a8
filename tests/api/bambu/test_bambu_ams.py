"""AMS trays from real captures (pure reader, no Home Assistant)."""

from __future__ import annotations

import copy

from custom_components.printernizer.api.bambu.ams import (
    MAX_MAPPED_FILAMENTS,
    AmsReport,
    color_from_tray,
    read_ams,
    read_printer_mapping,
    read_tray_mapping,
    read_tray_mapping2,
)
from custom_components.printernizer.api.bambu.parse import merge_report, normalize
from simulator.bambu import load_fixture
from simulator.bambu.simulator import FIXTURES_DIR


def _report(name: str) -> dict:
    state, _version = load_fixture(FIXTURES_DIR / name)
    return state


def test_p1p_without_rfid_remain_unknown() -> None:
    report = read_ams(_report("P1P.json"))
    assert report is not None
    (unit,) = report.units
    assert unit.ams_id == 0
    assert unit.humidity is None  # no humidity_raw in this firmware
    assert unit.humidity_level == 3
    assert unit.temperature is None  # the capture says "0.0": no sensor, not 0 °C
    assert [t.slot for t in unit.trays] == [0, 1, 2, 3]
    for tray in unit.trays:
        assert tray.loaded
        assert tray.tray_type == "PLA"
        assert tray.color_hex == "#D357FE"
        assert tray.remain is None  # remain -1
        assert tray.weight is None  # tray_weight "0"
        assert tray.diameter is None  # "0.00"
        assert tray.tray_uuid is None  # all zeros
        assert not tray.has_rfid
        assert tray.remaining_grams is None
    (external,) = report.external
    assert (external.slot, external.ams_id, external.external) == (254, None, True)
    assert external.color_hex == "#161616"
    assert external.remain is None  # remain 0 without a tag is a placeholder


def test_x1c_several_units_with_rfid() -> None:
    """The reference speaks of two AMS units; the real capture has three AMS and one AMS HT."""
    report = read_ams(_report("MOCK-X1CMULTIAMS.json"))
    assert report is not None
    assert [u.ams_id for u in report.units] == [0, 1, 2, 128]
    first, second, third, ht = report.units
    assert not third.trays[0].loaded  # an empty slot
    (ht_tray,) = ht.trays
    assert (ht_tray.slot, ht_tray.tray_type) == (128, "PA-CF")
    assert (first.humidity, first.humidity_level, first.temperature) == (8.0, 5, 26.2)
    assert second.temperature == 25.4
    tray = first.trays[0]
    assert tray.tray_uuid == "5F3D8925633343C29FB9A97FA9125971"
    assert (tray.tray_type, tray.sub_brand, tray.color_hex) == ("PLA", "PLA Matte", "#000000")
    assert (tray.remain, tray.weight, tray.diameter) == (93, 1000.0, 1.75)
    assert tray.remaining_grams == 930.0
    assert report.tray(4) is not None and report.tray(4).tray_type == "ABS"  # AMS 2, tray 1
    assert report.tray(4).remain == 21
    # the external holder (255 on X1) is empty
    (external,) = report.external
    assert (external.slot, external.loaded) == (255, False)
    assert len(report.trays()) == 4 + 4 + 4 + 1 + 1


def test_a1_placeholder_remain_without_tag_is_unknown() -> None:
    """The real A1 capture reports remain 100 for spools without a tag: unknown."""
    report = read_ams(_report("MOCK-A1.json"))
    assert report is not None
    assert all(t.remain is None for t in report.trays())


def test_unchanged_ams_is_reused_and_change_is_seen() -> None:
    raw = _report("MOCK-X1CMULTIAMS.json")
    first = normalize(raw)
    merged = merge_report(raw, {"mc_percent": 5})  # a delta without AMS
    second = normalize(merged, first)
    assert second.extra["ams"] is first.extra["ams"]
    changed = copy.deepcopy(raw["ams"])
    changed["ams"][0]["tray"][0]["remain"] = 80
    third = normalize(merge_report(merged, {"ams": changed}), second)
    assert third.extra["ams"] is not second.extra["ams"]
    assert third.extra["ams"].tray(0).remain == 80
    assert isinstance(third.extra["ams"], AmsReport)


def test_malformed_input_is_ignored() -> None:
    assert read_ams({}) is None
    assert read_ams({"ams": "nonsense"}) is None
    assert read_ams({"ams": {"ams": [None, {"id": "x"}, {"id": "0", "tray": "bad"}]}}) == AmsReport(
        units=(read_ams({"ams": {"ams": [{"id": "0"}]}}).units[0],)
    )
    report = read_ams(
        {
            "ams": {
                "ams": [
                    {
                        "id": "0",
                        "humidity": "9",
                        "humidity_raw": "150",
                        "temp": "-20",
                        "tray": [
                            {"id": "7", "tray_type": "PLA"},
                            {"id": "1"},
                            {
                                "id": "2",
                                "tray_type": "PETG",
                                "tray_color": "ZZZZZZZZ",
                                "remain": 300,
                            },
                        ],
                    }
                ]
            }
        }
    )
    assert report is not None
    (unit,) = report.units
    assert (unit.humidity, unit.humidity_level, unit.temperature) == (None, None, None)
    assert [t.tray_id for t in unit.trays] == [1, 2]  # tray 7 does not exist
    assert not unit.trays[0].loaded
    assert unit.trays[1].color_hex is None and unit.trays[1].remain is None


def test_color_from_tray() -> None:
    assert color_from_tray("FF8800FF") == "#FF8800"
    assert color_from_tray("ff8800") == "#FF8800"
    assert color_from_tray("FF88") is None
    assert color_from_tray(12) is None


def test_value_types_from_hostile_reports() -> None:
    """Numbers as JSON numbers, numeric strings, booleans or junk: only real numbers count."""
    report = read_ams(
        {
            "ams": {
                "ams": [
                    {
                        "id": 1.0,  # a float id is the unit 1
                        "humidity": True,  # a boolean is no humidity level
                        "humidity_raw": 41,
                        "temp": "warm",
                        "tray": [
                            {
                                "id": 0,
                                "tray_type": "pla",
                                "tray_weight": 250,
                                "tray_diameter": False,
                                "remain": 55.0,
                                "tag_uid": "AB12",
                            },
                            {"id": -1, "tray_type": "PLA"},  # no such tray
                            "not a tray",
                        ],
                    },
                    {
                        "id": 128,
                        "tray": [{"id": 0, "tray_type": "PA"}, {"id": 1, "tray_type": "PA"}],
                    },
                    {"id": float("nan"), "tray": []},
                ]
            },
            "vt_tray": {"id": "254", "tray_type": "PETG", "tray_weight": "1e999"},
        }
    )
    assert report is not None
    unit, ht = report.units
    assert (unit.ams_id, unit.humidity_level, unit.humidity, unit.temperature) == (
        1,
        None,
        41.0,
        None,
    )
    (tray,) = unit.trays
    assert (tray.slot, tray.tray_type, tray.weight, tray.diameter) == (4, "PLA", 250.0, None)
    assert (tray.remain, tray.has_rfid, tray.remaining_grams) == (55, True, 137.5)
    # an AMS HT unit has one tray (id 0); its slot is the unit id
    assert [(t.tray_id, t.slot) for t in ht.trays] == [(0, 128)]
    (external,) = report.external
    assert (external.slot, external.weight) == (254, None)  # an infinite weight is unknown
    assert report.tray(128) == ht.trays[0]
    assert report.tray(3) is None


def test_not_a_report() -> None:
    assert read_ams(["ams"]) is None  # type: ignore[arg-type]
    assert read_ams({"vt_tray": {"id": "7", "tray_type": "PLA"}}) is None  # not an external id


def test_tray_mapping_from_a_project_file_echo() -> None:
    """``ams_mapping``: index = filament number - 1, value = AMS index * 4 + tray, -1 none."""
    # Bambu Studio: filaments 1-4 from trays 3, 2, 4, 1 of the first AMS
    assert read_tray_mapping([2, 1, 3, 0]) == (2, 1, 3, 0)
    # unused filaments, the second AMS unit, the external spool, both ids
    assert read_tray_mapping([-1, 7, 254, 255]) == (-1, 7, 254, 255)
    # AMS HT units are 16-23 there, 128-135 in the tray_now numbering
    assert read_tray_mapping([16, 23, 24]) == (128, 135, -1)
    assert read_tray_mapping(["5", 1.0]) == (5, 1)


def test_tray_mapping2_from_a_project_file_echo() -> None:
    """``ams_mapping2``: ``{ams_id, slot_id}`` per filament, 255/255 for an unused one."""
    assert read_tray_mapping2(
        [
            {"ams_id": 0, "slot_id": 2},
            {"ams_id": 255, "slot_id": 255},
            {"ams_id": 1, "slot_id": 0},
            {"ams_id": 128, "slot_id": 0},
            {"ams_id": 255, "slot_id": 0},
            {"ams_id": "254", "slot_id": "0"},
        ]
    ) == (2, -1, 4, 128, 255, 254)
    # what names no tray is -1
    bad = [{"ams_id": 0, "slot_id": 4}, {"ams_id": 128, "slot_id": 1}, {"ams_id": 64}, "x", {}]
    assert read_tray_mapping2([*bad, {"ams_id": 3, "slot_id": 3}]) == (-1, -1, -1, -1, -1, 15)
    assert read_tray_mapping2([{"ams_id": 255, "slot_id": 255}]) is None
    assert read_tray_mapping2({"ams_id": 0}) is None


def test_printer_mapping_from_the_report() -> None:
    """``print.mapping`` (X1, P2S): unit in the high byte, slot in the low, 0xFFFF unused."""
    # the real X1C capture: its last print ran from the second AMS unit's third tray
    raw = load_fixture(FIXTURES_DIR / "MOCK-X1CMULTIAMS.json")[0]
    assert read_printer_mapping(raw["mapping"]) == (6,)
    assert read_printer_mapping([0x0100, 0x0002, 0xFF00, 0xFFFF, 0x8000, 0xFE00, 0x0304]) == (
        4,
        2,
        255,
        -1,
        128,
        254,
        -1,
    )
    assert read_printer_mapping([0xFFFF]) is None
    assert read_printer_mapping([-1, 2**70, "x"]) is None


def test_tray_mapping_from_hostile_values() -> None:
    # entries that are no tray are -1; a mapping that maps nothing is none
    assert read_tray_mapping([3, 256, -2, True, None, "x", 2**70, float("nan"), 100]) == (
        3,
        -1,
        -1,
        -1,
        -1,
        -1,
        -1,
        -1,
        -1,
    )
    for read in (read_tray_mapping, read_tray_mapping2, read_printer_mapping):
        assert read([]) is None
        assert read("0,1") is None
        assert read(None) is None
        assert read([0] * (MAX_MAPPED_FILAMENTS + 1)) is None
    assert read_tray_mapping([-1, -1]) is None
    assert read_tray_mapping({"0": 1}) is None
    assert read_tray_mapping([0] * MAX_MAPPED_FILAMENTS) == (0,) * MAX_MAPPED_FILAMENTS
