"""The delta fast paths of parse.py give what the plain paths give.

``merge_delta`` (in place for deltas of scalars) against ``merge_report``;
the incremental ``normalize`` (``changed``, with the packed temperatures of an
unchanged ``device`` object reused) against ``normalize`` from scratch.
"""

from __future__ import annotations

import copy
from typing import Any

from bambu_helpers import load_report, scalars, values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.printernizer.api.bambu import parse as parse_module
from custom_components.printernizer.api.bambu.parse import (
    adopt_full_report,
    merge_delta,
    merge_report,
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
        "layer_num",
        "total_layer_num",
        "stg_cur",
        "mc_print_stage",
        "print_error",
        "subtask_name",
        "wifi_signal",
        "msg",
    ]
)
temps = st.integers(min_value=-5, max_value=2**32) | scalars
device_deltas = st.fixed_dictionaries(
    {
        "device": st.fixed_dictionaries(
            {
                "bed": st.fixed_dictionaries({"info": st.fixed_dictionaries({"temp": temps})}),
                "extruder": st.fixed_dictionaries(
                    {
                        "state": st.sampled_from([0x01, 0x02, 0x12]) | scalars,
                        "info": st.lists(
                            st.fixed_dictionaries(
                                {"id": st.integers(0, 1), "temp": temps, "snow": temps}
                            ),
                            max_size=2,
                        ),
                    }
                ),
                "ctc": st.fixed_dictionaries({"info": st.fixed_dictionaries({"temp": temps})}),
            }
        )
    }
)
scalar_deltas = st.dictionaries(keys | st.text(max_size=4), scalars, max_size=10)
deltas = scalar_deltas | st.dictionaries(keys, values, max_size=6) | device_deltas

_FUZZ = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@_FUZZ
@given(base=st.dictionaries(keys | st.text(max_size=4), values, max_size=10), delta=deltas)
def test_merge_delta_equals_merge_report(base: dict[str, Any], delta: dict[str, Any]) -> None:
    expected = merge_report(base, delta)
    mine = copy.deepcopy(base)
    merged = merge_delta(mine, delta)
    assert merged == expected
    if all(not isinstance(value, dict | list) for value in delta.values()):
        assert merged is mine  # in place: no copy of the report per delta
    else:
        assert mine == base  # a nested delta leaves the caller's report as it was


@_FUZZ
@given(
    capture=st.sampled_from(["MOCK-X1CMULTIAMS.json", "P1P.json", "MOCK-A1.json"]),
    sequence=st.lists(deltas, min_size=1, max_size=6),
    chamber_sensor=st.sampled_from([True, False, None]),
)
def test_incremental_normalize_equals_normalize_from_scratch(
    capture: str, sequence: list[dict[str, Any]], chamber_sensor: bool | None
) -> None:
    """The client's path (merge_delta, plain_newer, normalize with ``changed``) gives,
    delta after delta, the state a from-scratch normalize of the merged report gives."""
    report = adopt_full_report({}, load_report(capture))
    plain = plain_newer(report, report)
    state = normalize(report, chamber_sensor=chamber_sensor, plain=plain)
    for delta in sequence:
        report = merge_delta(report, delta)
        plain = plain_newer(delta, report, plain)
        state_before = state
        state = normalize(
            report, state, chamber_sensor=chamber_sensor, plain=plain, changed=delta.keys()
        )
        scratch = normalize(
            copy.deepcopy(report), state_before, chamber_sensor=chamber_sensor, plain=plain
        )
        assert state == scratch


def test_packed_temperatures_of_an_unchanged_device_are_reused_only_with_previous() -> None:
    report = adopt_full_report({}, load_report("MOCK-X1CMULTIAMS.json"))
    first = normalize(report)
    device = report["device"]
    old_bed = first.bed_temp
    # the next full report: equal objects are the old ones, read once
    again = adopt_full_report(report, load_report("MOCK-X1CMULTIAMS.json"))
    assert again["device"] is device
    assert normalize(again, first) == normalize(copy.deepcopy(again), first)
    # changed in place: normalize without a previous state reads it again ...
    device["bed"] = {**device["bed"], "info": {**device["bed"]["info"], "temp": (90 << 16) | 88}}
    fresh = normalize(report)
    assert (fresh.bed_temp, fresh.bed_target) == (88.0, 90.0)
    assert fresh.bed_temp != old_bed
    # ... and so does a delta that carries the device (a new object from the merge)
    delta = {"device": {"bed": {"info": {"temp": (70 << 16) | 66}}}}
    report = merge_delta(report, delta)
    assert report["device"] is not device
    state = normalize(report, fresh, plain=plain_newer(delta, report), changed=delta.keys())
    assert (state.bed_temp, state.bed_target) == (66.0, 70.0)
    # a delta without it: the same device object, the same packed values
    delta2 = {"mc_percent": 51}
    report = merge_delta(report, delta2)
    state = normalize(report, state, plain=plain_newer(delta2, report), changed=delta2.keys())
    assert (state.bed_temp, state.bed_target, state.progress) == (66.0, 70.0, 51)


def test_device_cache_is_bounded() -> None:
    for temp in range(300):
        report = {"gcode_state": "RUNNING", "device": {"bed": {"info": {"temp": temp}}}}
        assert normalize(report, changed=None).bed_temp == float(temp)
        normalize(report, normalize(report), changed={"mc_percent"})
    assert 0 < len(parse_module._DEVICE_FACTS) <= 256
