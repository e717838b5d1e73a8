"""Issue 9: newer models and hostile input through the real Bambu parser and message handler.

The H2D-like reports are built here by hand from the facts in the issue and
``print-files.md`` (dual nozzle: ``device.extruder.state`` low 4 bits the
extruder count, next 4 the active one; ``info[].snow`` AMS index in the high
byte, tray in the low byte; packed temperatures low 16 bits current, high 16
bits target).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from bambu_helpers import load_report
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.printernizer.api.bambu.client import BambuClient
from custom_components.printernizer.api.bambu.parse import (
    MAX_DEPTH,
    MODELS_WITHOUT_CHAMBER_SENSOR,
    decode_payload,
    merge_report,
    normalize,
    parse_version,
    plain_newer,
    tray_from_snow,
    tray_from_tray_now,
)
from custom_components.printernizer.api.models import PrinterState, state_as_dict


def packed(current: int, target: int) -> int:
    """A packed temperature."""
    return (target << 16) | current


def h2d_report(**changes: Any) -> dict[str, Any]:
    """A full H2D-like report: two extruders, the left one (id 1) active, AMS + AMS HT."""
    report: dict[str, Any] = {
        "command": "push_status",
        "msg": 0,
        "sequence_id": "1",
        "gcode_state": "RUNNING",
        "mc_percent": 40,
        "mc_remaining_time": 30,
        "layer_num": 40,
        "total_layer_num": 100,
        "subtask_name": "dual color cube",
        "gcode_file": "dual color cube.3mf",
        "task_id": "4242",
        "print_error": 0,
        "nozzle_temper": 210.0,
        "nozzle_target_temper": 220,
        "bed_temper": 55.0,
        "bed_target_temper": 60,
        "chamber_temper": 5,
        "nozzle_diameter": "0.4",
        "wifi_signal": "-52dBm",
        "spd_lvl": 2,
        "stg_cur": 0,
        "hms": [],
        "ams": {
            "ams": [{"id": "0", "tray": [{"id": "0"}, {"id": "1"}]}, {"id": "128", "tray": []}],
            "tray_now": "3",  # the legacy field: wrong on dual-nozzle printers
        },
        "device": {
            "bed": {"info": {"temp": packed(58, 60)}},
            "ctc": {"info": {"temp": packed(35, 40)}},
            "extruder": {
                "state": 0x12,  # 2 extruders, active one = 1
                "info": [
                    {"id": 0, "temp": packed(150, 0), "snow": 0x0001},
                    {"id": 1, "temp": packed(218, 220), "snow": 0x0102},
                ],
            },
            "nozzle": {
                "info": [{"id": 0, "diameter": 0.4}, {"id": 1, "diameter": 0.4}],
            },
        },
    }
    report.update(changes)
    return report


def payload(report: dict[str, Any]) -> bytes:
    """A ``print`` message."""
    return json.dumps({"print": report}).encode()


def version(product: str, project: str | None = None) -> bytes:
    """A get_version answer naming a product."""
    module: dict[str, Any] = {"name": "ota", "product_name": product, "sw_ver": "01.01.00.00"}
    if project:
        module["project_name"] = project
    return json.dumps({"info": {"command": "get_version", "module": [module]}}).encode()


def client_with(*payloads: bytes) -> tuple[BambuClient, list[PrinterState]]:
    """A client (never connected) fed ``payloads`` through its real message handler."""
    client = BambuClient("127.0.0.1", "SERIAL", "code")
    states: list[PrinterState] = []
    client.set_listeners(states.append, None)
    for item in payloads:
        client._handle_payload(item)
    return client, states


# --- 1. lenient decoding -------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Café".encode("latin-1"),
        "立方体".encode("gbk"),
        "Würfel".encode()[:2],  # a UTF-8 sequence cut in half
    ],
)
def test_non_utf8_job_name_keeps_the_report(name: bytes) -> None:
    """A job name that is not UTF-8 is decoded with replacement; the report is kept."""
    p1p = load_report("P1P.json")
    full = payload({**p1p, "msg": 0, "subtask_name": "@NAME@"}).replace(b"@NAME@", name)
    client, states = client_with(full)
    assert states, "the full report was dropped"
    assert states[-1].job_name is not None
    assert "\ufffd" in states[-1].job_name
    # a job-start delta with such a name keeps its status change
    delta = payload({"gcode_state": "PREPARE", "msg": 1, "subtask_name": "@N@"}).replace(
        b"@N@", name
    )
    client._handle_payload(delta)
    assert states[-1].status == "preparing"


def test_orjson_first_then_lenient() -> None:
    """orjson's answer where it accepts; the lenient path where it refuses."""
    good = b'{"print": {"a": 1, "b": [1.5, "x"], "c": 18446744073709551615}}'
    assert decode_payload(good) == orjson.loads(good)
    # what orjson refuses: NaN/Infinity, lone surrogates, invalid UTF-8
    data = decode_payload(b'{"print": {"t": NaN, "u": -Infinity, "s": "a\\ud800b", "n": "\xff"}}')
    assert data == {"print": {"t": None, "u": None, "s": "a\ufffdb", "n": "\ufffd"}}
    # integers beyond 64 bits: floats, as orjson itself reads them
    big = decode_payload(b'{"t": NaN, "i": 123456789012345678901234567890, "j": 1e999}')
    assert big == {"t": None, "i": 1.2345678901234568e29, "j": None}
    assert type(decode_payload(b'{"i": 99999999999999999999999}')["i"]) is float  # type: ignore[index]
    huge = b'{"t": NaN, "i": ' + b"9" * 5000 + b"}"  # beyond Python's int digit limit
    assert decode_payload(huge) == {"t": None, "i": None}
    # nesting beyond orjson's 1024: the lenient path cuts it, or drops the payload
    deep = b'{"t": NaN, "d": ' + b"[" * 3000 + b"]" * 3000 + b"}"
    result = decode_payload(deep)
    assert result is None or orjson.dumps(result)


# --- 2. active tray on dual-nozzle printers ------------------------------------


def test_active_tray_from_the_active_extruder() -> None:
    """H2D: the active extruder's snow wins over the legacy ams.tray_now."""
    state = normalize(h2d_report())
    assert state.extra["active_extruder"] == 1
    assert state.extra["ams_active_tray"] == 1 * 4 + 2  # AMS 1, tray 2
    right = h2d_report()
    right["device"]["extruder"]["state"] = 0x02  # active extruder 0
    assert normalize(right).extra["ams_active_tray"] == 1  # AMS 0, tray 1
    ht = h2d_report()
    ht["device"]["extruder"]["info"][1]["snow"] = 0x8000  # AMS HT id 128
    assert normalize(ht).extra["ams_active_tray"] == 128
    for snow, expected in ((0xFE00, 254), (0xFF00, None), (0xFFFF, None), (-1, None)):
        assert tray_from_snow(snow) == expected
    # single nozzle (X1C capture: one extruder, snow 65535) keeps the legacy field
    x1c = load_report("MOCK-X1CMULTIAMS.json")
    x1c["ams"]["tray_now"] = "5"
    assert normalize(x1c).extra["ams_active_tray"] == 5


def test_legacy_tray_now() -> None:
    """ams.tray_now: 255 none, 254 external, >= 128 an AMS HT, else AMS * 4 + tray."""
    assert tray_from_tray_now("255") is None
    assert tray_from_tray_now(254) == 254
    assert tray_from_tray_now(130) == 130
    assert tray_from_tray_now("6") == 6
    assert tray_from_tray_now(999) is None
    assert tray_from_tray_now(None) is None


# --- 3. models and the chamber ---------------------------------------------------


@pytest.mark.parametrize(
    ("product", "model"),
    [
        ("Bambu Lab A2L", "A2L"),
        ("Bambu Lab H2S", "H2S"),
        ("Bambu Lab H2C", "H2C"),
        ("Bambu Lab H2D Pro", "H2D Pro"),
        ("Bambu Lab P2S", "P2S"),
        ("Bambu Lab X2D", "X2D"),
        ("Bambu Lab Z9 Future", "Z9 Future"),  # unknown: the name without the brand
    ],
)
def test_newer_models(product: str, model: str) -> None:
    """Product names of the newer models give the model, even with an unknown code."""
    info = parse_version(json.loads(version(product, "ZZ9"))["info"])
    assert info.model == model


def test_no_chamber_for_a2l_and_before_the_model_is_known() -> None:
    """A2L has no chamber sensor; P1P shows none in the first state before get_version."""
    assert "A2L" in MODELS_WITHOUT_CHAMBER_SENSOR
    p1p = payload({**load_report("P1P.json"), "msg": 0})  # chamber_temper 5 (placeholder)
    client, states = client_with(p1p)
    assert states[-1].chamber_temp is None  # model not known yet
    client._handle_payload(version("Bambu Lab A2L"))
    assert client.info is not None and client.info.model == "A2L"
    client._handle_payload(p1p)
    assert states[-1].chamber_temp is None
    # a model with the sensor shows the value once known
    client, states = client_with(payload(h2d_report()))
    assert states[-1].chamber_temp == 35.0  # device.ctc, even before the model
    client._handle_payload(version("Bambu Lab H2D", "O1D"))
    assert states[-1].chamber_temp == 35.0


def test_chamber_target_from_ctc() -> None:
    """The chamber target is the high half of device.ctc.info.temp."""
    state = normalize(h2d_report())
    assert state.extra["chamber_target"] == 40.0
    assert normalize(load_report("P1P.json")).extra["chamber_target"] is None
    assert normalize(h2d_report(), chamber_sensor=False).extra["chamber_target"] is None


# --- 4. packed vs plain, per-extruder deltas, nozzle diameter -------------------


def test_plain_delta_after_packed_report_wins() -> None:
    """A delta with only the plain fields is newer than the packed value kept."""
    client, states = client_with(payload(h2d_report()))
    assert (states[-1].nozzle_temp, states[-1].bed_temp) == (218.0, 58.0)
    client._handle_payload(payload({"msg": 1, "nozzle_temper": 230.0, "bed_temper": 61.0}))
    assert (states[-1].nozzle_temp, states[-1].bed_temp) == (230.0, 61.0)
    # and a later packed update wins again
    client._handle_payload(
        payload({"msg": 1, "device": {"bed": {"info": {"temp": packed(62, 60)}}}})
    )
    assert states[-1].bed_temp == 62.0
    assert states[-1].nozzle_temp == 230.0
    assert plain_newer({"bed_temper": 1}, {}) == frozenset({"bed"})


def test_delta_for_one_extruder_keeps_the_other() -> None:
    """A delta listing only the active extruder does not erase the other nozzle."""
    full = h2d_report()
    delta = {
        "msg": 1,
        "device": {"extruder": {"info": [{"id": 1, "temp": packed(221, 220)}]}},
    }
    merged = merge_report(full, delta)
    info = merged["device"]["extruder"]["info"]
    assert [entry["id"] for entry in info] == [0, 1]
    assert info[0] == full["device"]["extruder"]["info"][0]
    assert info[1]["temp"] == packed(221, 220)
    assert info[1]["snow"] == 0x0102  # keys the delta did not carry are kept
    assert normalize(merged).nozzle_temp == 221.0
    # the other nozzle becomes active: its temperature is still known
    switched = merge_report(merged, {"device": {"extruder": {"state": 0x02}}})
    assert normalize(switched).nozzle_temp == 150.0


def test_nozzle_diameter_follows_the_nozzle_info() -> None:
    """push_alt_nozzle_info-style updates change the active nozzle's diameter."""
    client, states = client_with(payload(h2d_report()))
    assert states[-1].extra["nozzle_diameter"] == 0.4
    client._handle_payload(
        payload({"msg": 1, "device": {"nozzle": {"info": [{"id": 1, "diameter": 0.6}]}}})
    )
    assert states[-1].extra["nozzle_diameter"] == 0.6  # the stale top level says 0.4


# --- 5. out-of-range values --------------------------------------------------------


def test_out_of_range_values_are_clamped_or_unknown() -> None:
    """One rule per field (parse.py's docstring table)."""
    report = h2d_report(
        nozzle_temper=65535,
        bed_temper=-300,
        layer_num=2**70,
        total_layer_num=-5,
        mc_remaining_time=2**62,
        mc_percent=10**30,
        subtask_name="x" * 300 + "\ud800",
        task_id="7" * 400,
        print_error=2**80 + 0x03004000,
        stg_cur=2**64,
        wifi_signal="99999dBm",
        nozzle_diameter=1e300,
        spd_lvl=9,
        cooling_fan_speed="16",
        device={"bed": {"info": {"temp": 0xFFFF_FFFF}}},
    )
    state = normalize(report)
    assert state.nozzle_temp is None and state.bed_temp is None and state.bed_target is None
    assert state.layer is None and state.total_layers is None
    assert state.remaining_seconds is None
    assert state.progress == 100
    assert state.job_name is not None and len(state.job_name) == 255
    assert state.printer_job_id is not None and len(state.printer_job_id) == 255
    assert state.error == "0300_4000"
    assert state.extra["print_stage"] is None
    assert state.extra["wifi_signal"] is None
    assert state.extra["nozzle_diameter"] is None
    assert state.extra["speed_level"] is None
    assert state.extra["fan_part"] is None
    assert normalize(h2d_report(layer_num=150, total_layer_num=100)).layer == 100
    assert normalize(h2d_report(mc_remaining_time=-3)).remaining_seconds == 0
    lone = normalize(h2d_report(subtask_name="a\udcffb"))
    assert lone.job_name == "a\ufffdb"
    # everything Home Assistant does with a state works
    orjson.dumps(state_as_dict(state))
    lone.job_name.encode()
    for remaining in (normalize(h2d_report(mc_remaining_time=525_600)).remaining_seconds,):
        assert remaining is not None
        datetime.now(UTC) + timedelta(seconds=remaining)


def test_big_integers_from_the_wire() -> None:
    """Integers beyond 64 bits never reach the state (orjson cannot serialise them)."""
    raw = b'{"print": {"msg": 0, "gcode_state": "RUNNING", "layer_num": 1' + b"0" * 30 + b"}}"
    client, states = client_with(raw)
    assert states[-1].layer is None
    orjson.dumps(client.diagnostics())


# --- 6. nesting --------------------------------------------------------------------


@pytest.mark.parametrize("depth", [300, 900, 2500])
def test_deep_nesting_never_breaks_diagnostics(depth: int) -> None:
    """A deeply nested value is cut to MAX_DEPTH; diagnostics stay serialisable."""
    deep = b"[" * depth + b"]" * depth
    full = payload({**load_report("P1P.json"), "msg": 0})
    client, states = client_with(full)
    client._handle_payload(b'{"print": {"msg": 1, "mc_percent": 7, "deep": ' + deep + b"}}")
    client._handle_payload(full)
    client._handle_payload(b'{"print": {"msg": 1, "x": {"y": ' + deep + b"}}}")
    orjson.dumps(client.diagnostics())
    json.dumps(client.diagnostics())
    assert states[-1].job_name == "Fidget Collection"

    def depth_of(value: Any) -> int:
        if isinstance(value, dict):
            return 1 + max((depth_of(v) for v in value.values()), default=0)
        if isinstance(value, list):
            return 1 + max((depth_of(v) for v in value), default=0)
        return 0

    assert depth_of(client.last_report) <= MAX_DEPTH


def test_merge_bounds_deep_dicts() -> None:
    """merge_report itself cuts nesting (whichever decoder produced the report)."""
    value: Any = 1
    for _ in range(200):
        value = {"k": [value]}
    merged = merge_report({}, {"a": value})
    orjson.dumps(merged)
    assert merge_report(copy.deepcopy(merged), {"a": {"k": 2}})["a"]["k"] == 2


# --- fuzz: hostile reports through the real message handler -------------------------

#: well-formed values of the fields the extras come from (so changes are seen)
plausible_values = st.sampled_from(
    [
        [{"attr": 0x03000100, "code": 0x00010007}],
        [{"attr": 0x07008000, "code": 0x00030001}, {"attr": 1, "code": 0x40000}],
        [{"node": "chamber_light", "mode": "on"}],
        [{"node": "chamber_light", "mode": "off"}],
        {"new_version_state": 1, "new_ver_list": [{"name": "ota", "new_ver": "01.09.00.00"}]},
        {"new_version_state": 2},
        {"ams": [{"id": "0"}], "tray_now": "2"},
        "7",
        "-61dBm",
        "0.6",
        3,
    ]
).map(copy.deepcopy)  # a fresh copy each draw: code under test may keep and change it,
# and a changed example makes Hypothesis's replays differ ("inconsistent data generation")
hostile_values = st.one_of(
    plausible_values,
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=300),
    st.sampled_from(["\ud800", "65535", "-52dBm", "1e999", "NaN", "0x10"]),
    st.lists(st.integers(min_value=-(2**70), max_value=2**70), max_size=3),
    st.recursive(
        st.integers() | st.text(max_size=4),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
        max_leaves=8,
    ),
)
report_keys = st.sampled_from(
    [
        *sorted(h2d_report()),
        "cooling_fan_speed",
        "big_fan1_speed",
        "big_fan2_speed",
        "heatbreak_fan_speed",
        "lights_report",
        "upgrade_state",
        "chamber_temper",
        "mc_print_stage",
    ]
)
device_paths = st.sampled_from(
    [
        ("bed", "info", "temp"),
        ("ctc", "info", "temp"),
        ("extruder", "state"),
        ("extruder", "info"),
        ("nozzle", "info"),
    ]
)


def _set_path(report: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    if not isinstance(report.get("device"), dict):
        report["device"] = {}
    node = report["device"]
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value


@st.composite
def hostile_payloads(draw: st.DrawFn) -> bytes:
    """A full or delta report with hostile values, sometimes with broken bytes."""
    full = draw(st.booleans())
    report: dict[str, Any] = (
        h2d_report() if full else {"msg": 1, "command": "push_status", "sequence_id": "2"}
    )
    for key, value in draw(st.lists(st.tuples(report_keys, hostile_values), max_size=5)):
        report[key] = value
    for path, value in draw(st.lists(st.tuples(device_paths, hostile_values), max_size=3)):
        _set_path(report, path, value)
    raw = json.dumps({"print": report}, allow_nan=True).encode()
    if draw(st.booleans()):
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.sampled_from([b"\xff", b"\xe9", b"\xc3", b"\\ud800"])) + raw[at:]
    return raw


def assert_state_in_range(state: PrinterState) -> None:
    """No value in a state outside its documented range (parse.py's table)."""
    for temp in (
        state.nozzle_temp,
        state.nozzle_target,
        state.bed_temp,
        state.bed_target,
        state.chamber_temp,
        state.extra.get("chamber_target"),
    ):
        assert temp is None or -50 <= temp <= 500
    assert 0 <= state.progress <= 100
    assert state.remaining_seconds is None or 0 <= state.remaining_seconds <= 525_600 * 60
    datetime.now(UTC) + timedelta(seconds=state.remaining_seconds or 0)
    assert state.layer is None or 0 <= state.layer <= 1_000_000
    assert state.total_layers is None or 0 <= state.total_layers <= 1_000_000
    if state.layer is not None and state.total_layers:
        assert state.layer <= state.total_layers
    for text in (state.job_name, state.printer_job_id, state.error):
        assert text is None or (len(text) <= 255 and text.encode())
    for key in ("fan_part", "fan_aux", "fan_chamber", "fan_heatbreak"):
        assert state.extra.get(key) is None or 0 <= state.extra[key] <= 100
    assert state.extra.get("speed_level") in (None, 1, 2, 3, 4)
    tray = state.extra.get("ams_active_tray")
    assert tray is None or 0 <= tray <= 255
    orjson.dumps(state_as_dict(state))


@settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(payloads=st.lists(hostile_payloads(), min_size=1, max_size=5), with_version=st.booleans())
def test_fuzz_message_handler(payloads: list[bytes], with_version: bool) -> None:
    """No exception escapes, no out-of-range value in a state, diagnostics serialise."""
    first = [payload(h2d_report())]
    if with_version:
        first.append(version("Bambu Lab H2D", "O1D"))
    client, states = client_with(*first)
    for item in payloads:
        client._handle_payload(item)
    assert states
    for state in states:
        assert_state_in_range(state)
    orjson.dumps(client.diagnostics())
    json.dumps(client.diagnostics())


@settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    base=hostile_payloads(),
    delta=st.dictionaries(
        st.sampled_from(
            [
                "hms",
                "lights_report",
                "upgrade_state",
                "ams",
                "cooling_fan_speed",
                "big_fan2_speed",
                "wifi_signal",
                "nozzle_diameter",
                "spd_lvl",
                "mc_percent",
                "nozzle_temper",
                "stg_cur",
            ]
        ),
        plausible_values | hostile_values,
        max_size=4,
    ),
    sensor=st.sampled_from([True, False, None]),
)
def test_incremental_normalize_equals_full(
    base: bytes, delta: dict[str, Any], sensor: bool | None
) -> None:
    """normalize with ``changed`` (extras reused from the previous state) == without."""
    base_report = (decode_payload(base) or {}).get("print")
    if not isinstance(base_report, dict):
        return
    delta_report = decode_payload(json.dumps({"print": delta}, allow_nan=True).encode())
    assert delta_report is not None
    delta_report = delta_report["print"]
    merged_base = merge_report(h2d_report(), base_report)
    previous = normalize(merged_base, chamber_sensor=sensor)
    merged = merge_report(merged_base, delta_report)
    plain = plain_newer(delta_report, merged)
    assert normalize(
        merged, previous, chamber_sensor=sensor, plain=plain, changed=delta_report.keys()
    ) == normalize(merged, previous, chamber_sensor=sensor, plain=plain)


@pytest.mark.parametrize(
    "delta",
    [
        {"hms": [{"attr": 0x03000100, "code": 0x00010007}]},
        {"lights_report": [{"node": "chamber_light", "mode": "on"}]},
        {
            "upgrade_state": {
                "new_version_state": 1,
                "new_ver_list": [{"name": "ota", "new_ver": "2"}],
            }
        },
        {"ams": {"tray_now": "1"}, "device": {"extruder": {"state": 0x01}}},
        {"cooling_fan_speed": "7"},
        {"big_fan2_speed": "15"},
        {"wifi_signal": "-61dBm"},
        {"nozzle_diameter": "0.6"},
        {"spd_lvl": 3},
        {"device": {"extruder": {"state": 0x02}}},
        {"device": {"nozzle": {"info": [{"id": 1, "diameter": 0.8}]}}},
        {"device": {"ctc": {"info": {"temp": packed(30, 45)}}}},
    ],
)
def test_incremental_normalize_sees_every_source(delta: dict[str, Any]) -> None:
    """A delta touching any source of the extras changes them, with or without ``changed``."""
    full = h2d_report(lights_report=[{"node": "chamber_light", "mode": "off"}])
    previous = normalize(full)
    merged = merge_report(full, delta)
    plain = plain_newer(delta, merged)
    incremental = normalize(merged, previous, plain=plain, changed=delta.keys())
    assert incremental == normalize(merged, previous, plain=plain)
    assert incremental.extra != previous.extra
    # a delta touching none of them reuses the extras (same values)
    progress = {"mc_percent": 41, "nozzle_temper": 211.0}
    again = normalize(merge_report(full, progress), previous, changed=progress.keys())
    assert again.extra == previous.extra
    assert again.progress == 41
