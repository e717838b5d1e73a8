"""Full reports normalized like deltas: ``adopt_full_report_changed`` and the client's path.

A full report's changed keys (``adopt_full_report_changed``) let ``normalize``
derive only what they touch; the state must be the one a from-scratch
``normalize`` of the merged report gives, report after report.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from bambu_helpers import load_report, values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.printernizer.api.bambu.client import BambuClient
from custom_components.printernizer.api.bambu.parse import (
    _PLAIN_KEY_GROUP,
    MAX_DEPTH,
    _depth_ok,
    adopt_full_report,
    adopt_full_report_changed,
    normalize,
    plain_newer,
)

keys = st.sampled_from(
    [
        "gcode_state",
        "mc_percent",
        "mc_remaining_time",
        "nozzle_temper",
        "nozzle_target_temper",
        "bed_temper",
        "bed_target_temper",
        "chamber_temper",
        "nozzle_diameter",
        "layer_num",
        "total_layer_num",
        "stg_cur",
        "mc_print_stage",
        "print_error",
        "subtask_name",
        "task_id",
        "wifi_signal",
        "spd_lvl",
        "cooling_fan_speed",
        "hms",
        "lights_report",
        "upgrade_state",
        "ams",
        "vt_tray",
        "device",
        "msg",
    ]
)
#: Values that differ only in JSON type (equal under ``==``).
lookalikes = st.sampled_from([0, 0.0, False, 1, 1.0, True, "1", None])

_FUZZ = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def _expected_changed(base: dict[str, Any], report: dict[str, Any]) -> list[str]:
    """The keys of ``report`` whose value is new, or differs in value or in type."""
    changed = []
    for key, value in report.items():
        if key in base:
            old = base[key]
            if old is value or (type(old) is type(value) and old == value):
                continue
        changed.append(key)
    return changed


@_FUZZ
@given(
    base=st.dictionaries(keys | st.text(max_size=4), values | lookalikes, max_size=12),
    report=st.dictionaries(keys | st.text(max_size=4), values | lookalikes, max_size=12),
    reuse=st.lists(keys, max_size=6),
)
def test_adopt_changed_lists_exactly_the_changed_keys(
    base: dict[str, Any], report: dict[str, Any], reuse: list[str]
) -> None:
    for key in reuse:  # some values equal to base's, as in a real full report
        if key in base:
            report[key] = copy.deepcopy(base[key])
    original = copy.deepcopy(report)
    expected_changed = _expected_changed(base, original)
    expected = adopt_full_report(copy.deepcopy(base), copy.deepcopy(report))

    adopted, changed = adopt_full_report_changed(base, report)

    assert adopted is report
    assert adopted == expected
    assert changed == (expected_changed if base else None)
    assert adopted.keys() == base.keys() | original.keys()
    for key, value in adopted.items():
        if key not in original:
            assert value is base[key]  # taken over from base, unchanged
        elif base and key not in changed and isinstance(value, dict | list):
            assert value is base[key]  # the equal object is base's (reused by identity)


def test_adopt_changed_bounds_a_changed_deep_value_and_lists_it() -> None:
    base = {"gcode_state": "RUNNING", "deep": [1], "same": {"a": [1, 2]}, "kept": "x"}
    report = {"gcode_state": "RUNNING", "deep": _nested(MAX_DEPTH + 8), "same": {"a": [1, 2]}}
    same = base["same"]
    adopted, changed = adopt_full_report_changed(base, report)
    assert changed == ["deep"]
    assert _depth_ok(adopted, MAX_DEPTH)
    assert adopted["same"] is same
    assert adopted["kept"] == "x"
    json.dumps(adopted)  # what is kept can always be serialised


def test_adopt_changed_of_nothing_is_unknown() -> None:
    report = {"gcode_state": "IDLE", "deep": _nested(MAX_DEPTH + 8)}
    adopted, changed = adopt_full_report_changed({}, report)
    assert changed is None
    assert _depth_ok(adopted, MAX_DEPTH)


def _payload(report: dict[str, Any]) -> bytes:
    return json.dumps({"print": report}).encode()


def _version(product: str) -> bytes:
    module = {"name": "ota", "product_name": product, "sw_ver": "01.00.00.00"}
    return json.dumps({"info": {"command": "get_version", "module": [module]}}).encode()


#: What a print changes between reports: values in range, one or two keys.
progress = st.dictionaries(
    st.sampled_from(
        [
            "mc_percent",
            "mc_remaining_time",
            "layer_num",
            "nozzle_temper",
            "nozzle_target_temper",
            "bed_temper",
            "chamber_temper",
            "nozzle_diameter",
            "stg_cur",
            "subtask_name",
            "print_error",
        ]
    ),
    st.integers(0, 300) | st.floats(0, 300) | st.sampled_from(["0.6", "a.gcode", 0x0300_4000]),
    min_size=1,
    max_size=2,
)
changes = progress | st.dictionaries(keys, values | lookalikes, max_size=5)
full_changes = st.tuples(
    st.just("full"), changes, st.lists(keys, max_size=3)
)  # (kind, keys set, keys dropped)
delta_changes = st.tuples(st.just("delta"), changes, st.just([]))
messages = st.lists(full_changes | delta_changes | st.just(("version", {}, [])), max_size=8)


@_FUZZ
@given(
    capture=st.sampled_from(["MOCK-X1CMULTIAMS.json", "P1P.json", "MOCK-A1.json"]),
    sequence=messages,
)
def test_client_full_reports_give_the_state_normalize_gives_from_scratch(
    capture: str, sequence: list[tuple[str, dict[str, Any], list[str]]]
) -> None:
    """Full reports after full reports and deltas, through the client's message handler:
    the state is, message after message, a from-scratch normalize of the merged report."""
    client = BambuClient("127.0.0.1", "01P00A000000001", "12345678")
    full = {**load_report(capture), "msg": 0}
    client._handle_payload(_payload(full))
    for kind, changed, dropped in sequence:
        before = client._state
        if kind == "version":
            client._handle_payload(_version("Bambu Lab P1P"))
        elif kind == "full":
            report = {**full, **changed, "gcode_state": changed.get("gcode_state", "RUNNING")}
            for key in dropped:
                if key != "gcode_state":
                    report.pop(key, None)
            client._handle_payload(_payload({**report, "msg": 0}))
        else:
            client._handle_payload(_payload({**changed, "msg": 1}))
        scratch = normalize(
            copy.deepcopy(client._report),
            before,
            chamber_sensor=client._chamber_sensor,
            plain=client._plain,
        )
        assert client._state == scratch


def test_a_full_report_changing_only_progress_keeps_the_extras() -> None:
    """Only what the changed keys touch is derived again: the extras are the same object."""
    client = BambuClient("127.0.0.1", "01P00A000000001", "12345678")
    full = {**load_report("P1P.json"), "msg": 0, "gcode_state": "RUNNING", "mc_percent": 10}
    client._handle_payload(_payload(full))
    first = client._state
    client._handle_payload(_payload({**full, "mc_percent": 11}))
    assert client._state.progress == 11
    assert client._state.extra is first.extra
    # a changed AMS is read again
    ams = copy.deepcopy(full["ams"])
    ams["ams"][0]["tray"][0]["remain"] = 3
    ams["ams"][0]["tray"][0]["tray_uuid"] = "A" * 32
    client._handle_payload(_payload({**full, "mc_percent": 11, "ams": ams}))
    assert client._state.extra is not first.extra
    assert client._state.extra["ams"].units[0].trays[0].remain == 3
    assert client._state == normalize(
        copy.deepcopy(client._report), first, chamber_sensor=None, plain=client._plain
    )


def test_a_full_report_after_a_plain_delta_shows_the_packed_temperature_again() -> None:
    """A delta of the plain nozzle temperature (its value unchanged) makes it the newer
    one; the next full report, equal to the last, carries the packed one: it wins again
    (the plain/packed answer changed, though no key of the report did)."""
    client = BambuClient("127.0.0.1", "01P00A000000001", "12345678")
    full = {**load_report("MOCK-X1CMULTIAMS.json"), "msg": 0}
    full["device"]["extruder"]["info"][0]["temp"] = (220 << 16) | 200
    client._handle_payload(_payload(full))
    assert client._state.nozzle_temp == 200.0
    client._handle_payload(_payload({"msg": 1, "nozzle_temper": full["nozzle_temper"]}))
    assert client._state.nozzle_temp == full["nozzle_temper"] != 200.0
    client._handle_payload(_payload(full))
    assert client._state.nozzle_temp == 200.0


@_FUZZ
@given(
    present=st.sets(st.sampled_from(sorted(_PLAIN_KEY_GROUP))),
    filler=st.integers(25, 70),
    device=st.sampled_from([None, "absent", {"bed": {"info": {"temp": 5}}}]),
    previous=st.sets(st.sampled_from(["nozzle", "bed", "chamber", "diameter"])),
)
def test_plain_newer_of_a_full_report_is_its_plain_groups(
    present: set[str], filler: int, device: Any, previous: set[str]
) -> None:
    """The table look-up for full reports without ``device`` gives what the groups give."""
    report: dict[str, Any] = {f"k{i}": i for i in range(filler)}
    report.update(dict.fromkeys(present, 1.0))
    if device != "absent":
        report["device"] = device
    groups = {_PLAIN_KEY_GROUP[key] for key in present}
    packed = {"bed"} if isinstance(device, dict) else set()
    assert plain_newer(report, report) == frozenset(groups - packed)
    assert plain_newer(report, report, frozenset(previous)) == frozenset(
        (previous | groups) - packed
    )
