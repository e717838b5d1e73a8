"""Pure parsing: the real captures, deltas, packed temperatures, fuzzing."""

from __future__ import annotations

import enum
import json
from types import MappingProxyType
from typing import Any

import pytest
from bambu_helpers import FIXTURES, load_report
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.printernizer.api.bambu import parse as parse_module
from custom_components.printernizer.api.bambu.client import BambuClient
from custom_components.printernizer.api.bambu.parse import (
    MAX_DEPTH,
    MODELS_WITHOUT_CHAMBER_SENSOR,
    adopt_full_report,
    decode_payload,
    dumps,
    format_error_code,
    is_full_report,
    merge_report,
    model_name,
    normalize,
    parse_version,
    plain_newer,
    tray_from_snow,
    unpack_temp,
)
from custom_components.printernizer.api.models import PrinterState, PrinterStatus


def test_p1p_capture() -> None:
    """P1P: FAILED, job 'Fidget Collection', layer 1/70, chamber 5, tray 0."""
    report = load_report("P1P.json")
    assert is_full_report(report)
    state = normalize(report)
    assert state.status == PrinterStatus.FAILED
    assert state.cancelled is False
    assert state.error is None
    assert state.nozzle_temp == 21.25
    assert state.nozzle_target == 0
    assert state.bed_temp == 19.84375
    assert state.bed_target == 0
    assert state.chamber_temp == 5.0
    assert state.progress == 0
    assert state.remaining_seconds == 759 * 60
    assert (state.layer, state.total_layers) == (1, 70)
    assert state.job_name == "Fidget Collection"
    assert state.printer_job_id is None  # task_id "0"
    assert {k: v for k, v in state.extra.items() if k != "ams"} == {
        "print_stage": 0,
        "hms": [],
        "hms_messages": [],
        "ams_active_tray": 0,
        "wifi_signal": -53,
        "nozzle_diameter": 0.4,
        "chamber_target": None,
        "fan_part": 0,
        "fan_aux": 0,
        "fan_chamber": 0,
        "fan_heatbreak": 0,
        "speed_level": 2,
        "chamber_light": "off",
        "firmware_update": {"available": False, "version": None},
    }
    version = json.loads((FIXTURES / "P1P.json").read_text())["get_version"]
    info = parse_version(version, serial="01P00A000000001")
    assert (info.serial, info.model, info.firmware, info.manufacturer) == (
        "01P00A000000001",
        "P1P",
        "01.07.00.00",
        "Bambu Lab",
    )


def test_a1_capture() -> None:
    """A1: IDLE, no job, tray 255 → None."""
    state = normalize(load_report("MOCK-A1.json"))
    assert state.status == PrinterStatus.IDLE
    assert state.nozzle_temp == 27.8125
    assert state.bed_temp == 29.75
    assert state.chamber_temp == 5.0
    assert state.progress == 0
    assert state.remaining_seconds == 0
    assert (state.layer, state.total_layers) == (0, 0)
    assert state.job_name is None
    assert state.printer_job_id is None
    assert state.extra["ams_active_tray"] is None
    assert state.extra["wifi_signal"] == -48
    version = json.loads((FIXTURES / "MOCK-A1.json").read_text())["get_version"]
    info = parse_version(version)
    assert (info.serial, info.model, info.firmware) == ("MOCK-A1", "A1", "01.05.00.00")


def test_x1c_capture() -> None:
    """X1C: FINISH 100 %, 480/480, no chamber_temper but device.ctc, packed temps."""
    report = load_report("MOCK-X1CMULTIAMS.json")
    assert "chamber_temper" not in report
    state = normalize(report)
    assert state.status == PrinterStatus.FINISHED
    assert state.progress == 100
    assert state.remaining_seconds == 0
    assert (state.layer, state.total_layers) == (480, 480)
    assert state.job_name == "Garden Hose Healer: Male fitting"
    assert state.printer_job_id == "702383065"
    assert state.nozzle_temp == 26.0
    assert state.nozzle_target == 0
    assert state.bed_temp == 23.0
    assert state.bed_target == 0
    assert state.chamber_temp == 25.0  # device.ctc.info.temp
    assert state.extra["print_stage"] == -1
    assert state.extra["wifi_signal"] == -66
    version = json.loads((FIXTURES / "MOCK-X1CMULTIAMS.json").read_text())["get_version"]
    info = parse_version(version)
    assert (info.serial, info.model, info.firmware) == ("MOCK-X1CMULTIAMS", "X1C", "01.09.00.01")


def test_no_chamber() -> None:
    """No chamber_temper and no device.ctc → chamber_temp None."""
    report = load_report("P1P.json")
    del report["chamber_temper"]
    assert normalize(report).chamber_temp is None


def test_packed_temperatures() -> None:
    """Low 16 bits current, high 16 bits target; packed values win."""
    assert unpack_temp((220 << 16) | 215) == (215.0, 220.0)
    assert unpack_temp("x") is None
    assert unpack_temp(-1) is None
    report = {
        "gcode_state": "RUNNING",
        "nozzle_temper": 1.0,
        "device": {
            "bed": {"info": {"temp": (60 << 16) | 58}},
            "extruder": {
                "state": 0x11,
                "info": [
                    {"id": 0, "temp": (200 << 16) | 100},
                    {"id": 1, "temp": (250 << 16) | 249},
                ],
            },
            "ctc": {"info": {"temp": (45 << 16) | 40}},
        },
    }
    state = normalize(report)
    assert (state.bed_temp, state.bed_target) == (58.0, 60.0)
    assert (state.nozzle_temp, state.nozzle_target) == (249.0, 250.0)  # active extruder 1
    assert state.chamber_temp == 40.0


def test_delta_merge() -> None:
    """Deltas keep absent keys, merge nested dicts, replace lists."""
    full = load_report("P1P.json")
    merged = merge_report(
        full,
        {
            "mc_percent": 50,
            "gcode_state": "RUNNING",
            "ams": {"tray_now": "2"},
            "hms": [{"attr": 0x03000100, "code": 0x00010007}],
        },
    )
    assert merged["subtask_name"] == "Fidget Collection"
    assert merged["ams"]["tray_now"] == "2"
    assert merged["ams"]["ams"] == full["ams"]["ams"]
    state = normalize(merged)
    assert state.status == PrinterStatus.PRINTING
    assert state.progress == 50
    assert state.extra["ams_active_tray"] == 2
    assert state.extra["hms"] == ["0300_0100_0001_0007"]
    assert full["mc_percent"] == 0  # inputs untouched
    assert not is_full_report({"mc_percent": 3, "msg": 1})


def test_status_mapping_and_errors() -> None:
    """gcode_state mapping, cancel, error codes, unknown state keeps previous."""
    for gs, status in (
        ("IDLE", "idle"),
        ("PREPARE", "preparing"),
        ("SLICING", "preparing"),
        ("RUNNING", "printing"),
        ("PAUSE", "paused"),
        ("FINISH", "finished"),
        ("FAILED", "failed"),
    ):
        assert normalize({"gcode_state": gs}).status == status
    cancelled = normalize({"gcode_state": "FAILED", "print_error": 50348044})
    assert cancelled.cancelled and cancelled.error is None
    assert cancelled.status == PrinterStatus.CANCELLED
    failed = normalize({"gcode_state": "FAILED", "print_error": 0x0C008001})
    assert not failed.cancelled and failed.error == "0C00_8001"
    assert failed.status == PrinterStatus.FAILED
    paused = normalize({"gcode_state": "PAUSE", "print_error": "50364437"})
    assert paused.error == format_error_code(50364437)
    prev = PrinterState(status=PrinterStatus.PRINTING)
    assert normalize({"gcode_state": "WEIRD"}, prev).status == PrinterStatus.PRINTING
    assert normalize({"gcode_state": 5}, prev).status == PrinterStatus.PRINTING
    assert normalize({"mc_percent": 250}).progress == 100
    assert normalize({"mc_percent": "12"}).progress == 12
    assert normalize({"task_id": ""}).printer_job_id is None
    assert normalize({"gcode_file": "a.gcode"}).job_name == "a.gcode"


def test_decode_and_models() -> None:
    """Payload decoding and model names."""
    assert decode_payload(b'{"print": {}}') == {"print": {}}
    for bad in (b"\xff", b"[]", b"1", b"null", b"", b"{"):
        assert decode_payload(bad) is None
    assert model_name("C11") == "P1P"
    assert model_name("Bambu Lab X1-Carbon") == "X1C"
    assert model_name("ZZ") == "ZZ"
    assert model_name(None) is None
    assert parse_version({"module": "x"}).model is None
    assert parse_version([]).serial is None  # type: ignore[arg-type]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
field_names = st.sampled_from(
    [
        "gcode_state",
        "mc_percent",
        "mc_remaining_time",
        "nozzle_temper",
        "nozzle_target_temper",
        "bed_temper",
        "bed_target_temper",
        "chamber_temper",
        "subtask_name",
        "gcode_file",
        "layer_num",
        "total_layer_num",
        "print_error",
        "hms",
        "task_id",
        "mc_print_stage",
        "stg_cur",
        "ams",
        "wifi_signal",
        "nozzle_diameter",
        "device",
        "msg",
    ]
)
reports = st.dictionaries(field_names | st.text(max_size=6), json_values, max_size=12)
device_reports = st.fixed_dictionaries(
    {
        "device": st.fixed_dictionaries(
            {
                "bed": st.fixed_dictionaries(
                    {"info": st.fixed_dictionaries({"temp": json_values})}
                ),
                "extruder": st.fixed_dictionaries(
                    {"state": json_values, "info": st.lists(json_values, max_size=3)}
                ),
                "ctc": json_values,
            }
        ),
        "ams": st.fixed_dictionaries({"tray_now": json_values}),
        "hms": st.lists(st.fixed_dictionaries({"attr": json_values, "code": json_values})),
    }
)

_FUZZ = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@_FUZZ
@given(base=reports, delta=reports | device_reports)
def test_fuzz_merge_normalize(base: dict[str, Any], delta: dict[str, Any]) -> None:
    """No exception escapes merge/normalize; results stay in range."""
    merged = merge_report(base, delta)
    for key, value in delta.items():
        if not isinstance(value, dict):
            assert merged[key] == value
    for key in base:
        assert key in merged
    state = normalize(merged, PrinterState(status=PrinterStatus.PAUSED))
    assert 0 <= state.progress <= 100
    assert state.remaining_seconds is None or state.remaining_seconds >= 0
    is_full_report(merged)


@_FUZZ
@given(payload=st.binary(max_size=64) | json_values.map(lambda v: json.dumps(v).encode()))
def test_fuzz_decode(payload: bytes) -> None:
    """decode_payload returns a dict or None, never raises."""
    result = decode_payload(payload)
    assert result is None or isinstance(result, dict)
    if result is not None:
        normalize(result.get("print") if isinstance(result.get("print"), dict) else {})
        parse_version(result)


@_FUZZ
@given(answer=json_values)
def test_fuzz_version(answer: Any) -> None:
    """parse_version never raises."""
    parse_version(answer if isinstance(answer, dict) else {"module": answer})


_P1P_FULL = json.dumps({"print": {**load_report("P1P.json"), "msg": 0}}).encode()


@settings(max_examples=60, deadline=None, database=None)
@given(
    payloads=st.lists(
        st.binary(max_size=32)
        | st.builds(lambda r: json.dumps({"print": r}).encode(), reports | device_reports)
        | st.builds(
            lambda v: json.dumps({"info": {"command": "get_version", "module": v}}).encode(),
            json_values,
        ),
        max_size=6,
    )
)
def test_fuzz_client_handler(payloads: list[bytes]) -> None:
    """The client's message handler survives any sequence of payloads."""
    client = BambuClient("127.0.0.1", "S", "code")
    states: list[PrinterState] = []
    client.set_listeners(states.append, None)
    client._handle_payload(_P1P_FULL)
    for payload in payloads:
        client._handle_payload(payload)
    assert states
    assert isinstance(client.last_report, dict)
    client.diagnostics()


def test_placeholder_chamber_dropped_for_models_without_sensor() -> None:
    """P1/A1 send chamber_temper 5 but have no sensor: dropped when the model says so."""
    report = load_report("P1P.json")
    assert normalize(report).chamber_temp == 5.0
    assert normalize(report, chamber_sensor=False).chamber_temp is None
    assert {"P1P", "P1S", "A1", "A1 mini"} <= MODELS_WITHOUT_CHAMBER_SENSOR
    assert "X1C" not in MODELS_WITHOUT_CHAMBER_SENSOR


def test_ams_tray_only_with_ams_units() -> None:
    """The AMS tray is reported only by printers that have AMS units."""
    report = load_report("P1P.json")
    assert normalize(report).extra["ams_active_tray"] == 0
    report["ams"]["ams"] = []
    assert "ams_active_tray" not in normalize(report).extra
    del report["ams"]
    assert "ams_active_tray" not in normalize(report).extra


class _Percent(enum.IntEnum):
    HALF = 50


# --- decode / merge edge cases and the caches of normalize (issue 9, speed) -----


def test_lenient_decoding_of_text_and_other_types() -> None:
    """A str payload orjson refuses (lone surrogate) is decoded leniently; a non-text is None."""
    data = decode_payload('{"print": {"subtask_name": "a\\ud800", "x": NaN}}')
    assert data == {"print": {"subtask_name": "a\ufffd", "x": None}}
    assert decode_payload(1234) is None  # type: ignore[arg-type]
    assert decode_payload(b"[1, 2]") is None  # JSON, but not an object


def test_lenient_decoding_cuts_deep_objects() -> None:
    """NaN forces the lenient path; an object nested deeper than MAX_DEPTH is cut there."""
    deep = '{"a":' * 40 + "1" + "}" * 40
    data = decode_payload(f'{{"print": {{"x": NaN, "deep": {deep}}}}}'.encode())
    assert data is not None
    node: Any = data["print"]["deep"]
    depth = 2  # data and print
    while isinstance(node, dict):
        node, depth = node["a"], depth + 1
    assert node is None  # cut, not kept
    assert depth == MAX_DEPTH + 1
    json.dumps(data)


def test_dumps_falls_back_beyond_orjson() -> None:
    """Diagnostics of a report with an integer orjson cannot write: the json fallback."""
    assert json.loads(dumps({"big": 2**70, 1: "x"})) == {"big": 2**70, "1": "x"}
    assert json.loads(dumps({"ok": [1, 2]})) == {"ok": [1, 2]}


def test_merge_with_odd_inputs() -> None:
    """A non-dict mapping merges like a dict; a delta that is not a mapping changes nothing."""
    base = {"a": 1, "device": {"bed": {"info": {"temp": 5}}}}
    merged = merge_report(base, MappingProxyType({"b": MappingProxyType({"c": 2})}))
    assert merged == {**base, "b": {"c": 2}}
    assert merge_report(base, ["not", "a", "mapping"]) == base  # type: ignore[arg-type]
    assert merge_report(base, ["x"]) is not base  # type: ignore[arg-type]


def test_merge_cuts_deep_dicts_and_lists() -> None:
    """Beyond MAX_DEPTH a dict is dropped and a list's deep items become None; scalars stay."""
    deep_dict: Any = {"leaf": 1}
    for _ in range(MAX_DEPTH + 5):
        deep_dict = {"d": deep_dict}
    deep_list: Any = [1]
    for _ in range(MAX_DEPTH + 5):
        deep_list = [7, deep_list]
    merged = merge_report({"keep": 1}, {"deep": deep_dict, "list": deep_list})
    assert merged["keep"] == 1
    depth, node = 1, merged["deep"]
    while isinstance(node, dict) and "d" in node:
        node, depth = node["d"], depth + 1
    assert depth < MAX_DEPTH
    assert node == {}  # the dict at the limit was dropped
    items, node = 0, merged["list"]
    while isinstance(node, list):
        assert node[0] == 7  # the scalar next to the deep list is kept
        node, items = node[1], items + 1
    assert node is None
    assert items < MAX_DEPTH
    json.dumps(merged)


def test_full_report_shares_unchanged_objects() -> None:
    """adopt_full_report keeps the last report's equal objects (so the AMS is not read again),
    bounds a deep new one, and takes the keys the full report lacks from the last one."""
    first = load_report("MOCK-X1CMULTIAMS.json")
    state = normalize(first)
    second = json.loads(json.dumps(first))
    deep: Any = 1
    for _ in range(MAX_DEPTH + 3):
        deep = [deep]
    second["new_deep"] = deep
    del second["wifi_signal"]
    adopted = adopt_full_report(first, second)
    assert adopted is second
    assert adopted["ams"] is first["ams"]
    assert adopted["wifi_signal"] == first["wifi_signal"]
    json.dumps(adopted)
    node, depth = adopted["new_deep"], 1
    while isinstance(node, list):
        node, depth = node[0], depth + 1
    assert node is None
    assert depth <= MAX_DEPTH
    again = normalize(adopted, state)
    assert again.extra["ams"] is state.extra["ams"]
    assert again == normalize(adopted)
    # a changed AMS object is read again
    third = json.loads(json.dumps(first))
    third["ams"]["ams"][0]["humidity"] = "1"
    changed = normalize(adopt_full_report(adopted, third), again)
    assert changed.extra["ams"] is not again.extra["ams"]
    assert changed == normalize(third)


@pytest.mark.parametrize(
    ("key", "before", "after", "extra", "expected"),
    [
        ("wifi_signal", "-52dBm", "-60dBm", "wifi_signal", -60),
        ("spd_lvl", 1, True, "speed_level", None),  # same value, another JSON type
        ("spd_lvl", 2, 3, "speed_level", 3),
        ("cooling_fan_speed", "15", "0", "fan_part", 0),
        ("hms", [], [{"attr": 0x03000100, "code": 0x00010007}], "hms", ["0300_0100_0001_0007"]),
    ],
)
def test_full_report_extras_follow_their_sources(
    key: str, before: Any, after: Any, extra: str, expected: Any
) -> None:
    """Extras are reused from the last state only while all of their sources are the same."""
    base = {**load_report("P1P.json"), key: before}
    previous = normalize(base)
    same = normalize(adopt_full_report(base, json.loads(json.dumps(base))), previous)
    assert same.extra == previous.extra
    full = json.loads(json.dumps(base))
    full[key] = after
    state = normalize(adopt_full_report(base, full), previous)
    assert state.extra[extra] == expected
    assert state == normalize(full)


def test_plain_temperature_fallbacks() -> None:
    """Temperatures as strings or ints are converted; out of range is unknown."""
    state = normalize(
        {"nozzle_temper": "600", "bed_temper": "21.5", "nozzle_target_temper": 210},
        chamber_sensor=False,
    )
    assert state.nozzle_temp is None
    assert state.bed_temp == 21.5
    assert state.nozzle_target == 210.0
    assert isinstance(state.nozzle_target, float)


def test_int_subclasses_and_non_mappings() -> None:
    """Python callers: an int subclass counts as its value; a report that is no mapping is
    an empty one (IDLE)."""
    assert normalize({"mc_percent": _Percent.HALF}).progress == 50
    state = normalize(["not", "a", "report"])  # type: ignore[arg-type]
    assert state.status == PrinterStatus.IDLE
    assert state.progress == 0


def test_snow_outside_known_units() -> None:
    """snow naming an AMS index 64-127 or a tray above 3 is no tray."""
    assert tray_from_snow(0x4000) is None
    assert tray_from_snow(0x0004) is None
    assert tray_from_snow(0x0203) == 11


def test_many_delta_shapes() -> None:
    """Deltas of ever new shapes (hostile): the shape cache stays bounded, results exact."""
    full = load_report("P1P.json")
    previous = normalize(full)
    for index in range(300):
        delta = {"mc_percent": index % 101, f"unknown_{index}": index}
        merged = merge_report(full, delta)
        state = normalize(merged, previous, changed=delta.keys())
        assert state == normalize(merged, previous)
        assert state.progress == index % 101
    assert len(parse_module._SHAPES) <= 256
    # a delta of very many keys is not remembered at all
    wide = {f"k{index}": index for index in range(100)} | {"nozzle_temper": 201.0}
    merged = merge_report(full, wide)
    parse_module._SHAPES.clear()
    state = normalize(merged, previous, plain=plain_newer(wide, merged), changed=wide.keys())
    assert state.nozzle_temp == 201.0
    assert plain_newer(wide, merged) == frozenset({"nozzle"})
    assert not parse_module._SHAPES


def test_number_edge_cases() -> None:
    """Lenient decoding keeps 64-bit integers of 19-21 digits as ints (like orjson) and
    larger ones as floats; numbers as strings with a fraction; huge ids are no job id."""
    data = decode_payload(
        b'{"print": {"x": NaN, "a": 18446744073709551615, "b": -9223372036854775808, '
        b'"c": 184467440737095516150}}'
    )
    assert data is not None
    assert data["print"]["a"] == 2**64 - 1
    assert type(data["print"]["a"]) is int
    assert data["print"]["b"] == -(2**63)
    assert type(data["print"]["c"]) is float
    state = normalize({"mc_percent": "41.7", "layer_num": " 3 ", "task_id": 10**41})
    assert state.progress == 41
    assert state.layer == 3
    assert state.printer_job_id is None
    assert normalize({"task_id": 10**39}).printer_job_id == str(10**39)


def test_hms_entries_that_are_not_objects_are_skipped() -> None:
    """HMS list items that are not objects, or lack attr/code, are left out."""
    state = normalize(
        {"hms": [7, "x", {"attr": 0x03000100}, {"attr": 0x03000100, "code": 0x00030001}]}
    )
    assert state.extra["hms"] == ["0300_0100_0003_0001"]
    assert state.extra["hms_messages"][0]["severity"] == "common"
