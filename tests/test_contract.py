"""The code's event definitions equal the contract (tests/fixtures/events.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from custom_components.printernizer.contract import (
    BUS_PREFIX,
    EVENTS,
    FieldSpec,
    Iso8601,
    _contract_type,
    validate,
)

CONTRACT = json.loads((Path(__file__).parent / "fixtures" / "events.json").read_text())


def _expected_fields(
    fields: dict[str, str], optional: list[str], values: dict[str, list[str]], prefix: str = ""
) -> dict[str, tuple[str, bool, tuple[str, ...] | None]]:
    out = {}
    for key, ctype in fields.items():
        opt = ctype.endswith("?") or key in optional
        vals = values.get(prefix + key)
        out[key] = (ctype.rstrip("?"), opt, tuple(vals) if vals else None)
    return out


def _actual(fields: dict[str, FieldSpec]) -> dict[str, tuple[str, bool, tuple[str, ...] | None]]:
    return {k: (f.type, f.optional, f.values) for k, f in fields.items()}


def test_bus_prefix_and_event_set() -> None:
    assert CONTRACT["bus_prefix"] == BUS_PREFIX
    assert [e["name"] for e in CONTRACT["events"]] == list(EVENTS)
    assert len(EVENTS) == 41


@pytest.mark.parametrize("event", CONTRACT["events"], ids=lambda e: e["name"])
def test_event_definition_matches_contract(event: dict[str, Any]) -> None:
    spec = EVENTS[event["name"]]
    assert spec.category == event["category"]
    assert spec.event_type == f"printernizer_{event['name']}"
    values = event.get("values", {})
    if "variants" in event:
        expected = [
            _expected_fields(v["fields"], v.get("optional", []), values)
            for v in event["variants"].values()
        ]
        assert [_actual(dict(v)) for v in spec.variants] == expected
        return
    assert len(spec.variants) == 1
    assert _actual(dict(spec.fields)) == _expected_fields(
        event["fields"], event.get("optional", []), values
    )
    for list_key, item_fields in event.get("items", {}).items():
        items = spec.fields[list_key].items
        assert items is not None, list_key
        assert _actual(dict(items)) == _expected_fields(
            item_fields,
            [],
            {
                k.split("[].")[1]: v
                for k, v in values.items()
                if "[]." in k and k.startswith(list_key)
            },
        )


def test_validate_reports_problems() -> None:
    ok = {"printer_id": "p", "name": "n", "type": "prusa", "timestamp": "2025-11-08T10:30:00Z"}
    assert validate("printer_connected", ok) == []
    assert validate("printer_connected", {**ok, "extra": 1}) == []  # superset allowed
    assert validate("printer_connected", {**ok, "type": "octoprint"}) != []
    assert validate("printer_connected", {**ok, "timestamp": "2025-11-08T10:30:00"}) != []
    assert validate("printer_connected", {k: v for k, v in ok.items() if k != "name"}) != []
    assert (
        validate(
            "job_progress_updated", {"job_id": "j", "progress": True, "timestamp": ok["timestamp"]}
        )
        != []
    )
    assert (
        validate(
            "material_low_stock",
            {
                "material_id": "m",
                "remaining_percentage": 12,
                "material_name": "PLA",
                "timestamp": ok["timestamp"],
            },
        )
        == []
    )
    assert validate("no_such_event", {}) != []
    # optional keys may be absent or None
    assert (
        validate(
            "printer_connection_progress",
            {"printer_id": "p", "status": "connecting", "timestamp": ok["timestamp"]},
        )
        == []
    )
    # both variants of files_discovered validate; a mix does not
    per_printer = {
        "printer_id": "all",
        "files": [{"filename": "a", "file_size": 1}],
        "total_found": 1,
        "new_files": 1,
        "existing_files": 0,
        "timestamp": ok["timestamp"],
    }
    background = {
        "timestamp": ok["timestamp"],
        "new_files": [],
        "discovery_results": {},
        "total_new_files": 0,
    }
    assert validate("files_discovered", per_printer) == []
    assert validate("files_discovered", background) == []
    assert validate("files_discovered", {**background, "new_files": 3}) != []
    # list entries are checked
    bad_status = {
        "timestamp": ok["timestamp"],
        "status_changes": [],
        "printers": [
            {
                "printer_id": "p",
                "name": "n",
                "type": "prusa",
                "status": "printing",
                "temperature": {},
                "progress": 0,
                "last_seen": ok["timestamp"],
            }
        ],
    }
    assert validate("printer_status", bad_status) == [
        "printers[0].status: 'printing' not in ['online', 'offline', 'unknown']"
    ]


def test_documented_extra_keys_are_checked() -> None:
    """``reason`` (printer_disconnected, printer_monitoring_stopped, job_completed) is allowed
    with its documented values only; other extra keys stay free."""
    ts = "2025-11-08T10:30:00Z"
    gone = {"printer_id": "p", "name": "n", "timestamp": ts}
    for reason in ("lost", "reload", "shutdown", "removed"):
        assert validate("printer_disconnected", {**gone, "reason": reason}) == []
        assert (
            validate(
                "printer_monitoring_stopped", {"printer_id": "p", "timestamp": ts, "reason": reason}
            )
            == []
        )
    assert validate("printer_disconnected", {**gone, "reason": "bored"}) != []
    assert (
        validate("printer_monitoring_stopped", {"printer_id": "p", "timestamp": ts, "reason": 1})
        != []
    )
    done = {"job_id": "j", "printer_id": "p", "job_name": "a", "status": "failed", "timestamp": ts}
    assert validate("job_completed", {**done, "reason": "interrupted"}) == []
    assert validate("job_completed", {**done, "reason": "lost"}) != []
    assert validate("printer_connected", {**gone, "type": "prusa", "reason": "anything"}) == []


@pytest.mark.parametrize(
    "annotation",
    [str | int, list[int], set[str], bytes],
    ids=["union", "list-of-int", "set", "bytes"],
)
def test_unsupported_annotation_is_refused(annotation: Any) -> None:
    """A payload field of a type the contract cannot check fails at import, not silently."""
    with pytest.raises(TypeError, match="unsupported"):
        _contract_type(annotation)


def test_supported_annotations_map_onto_contract_types() -> None:
    assert _contract_type(int | float) == ("number", None, None)
    assert _contract_type(float) == ("float", None, None)
    assert _contract_type(list[str]) == ("list[str]", None, None)
    assert _contract_type(Iso8601) == ("iso8601", None, None)


def test_validate_rejects_bad_timestamps_and_non_mappings() -> None:
    ok = {"printer_id": "p", "name": "n", "type": "prusa", "timestamp": "2025-11-08T10:30:00Z"}
    assert validate("printer_connected", [ok]) == ["payload is not a mapping"]  # type: ignore[arg-type]
    assert validate("printer_connected", {**ok, "timestamp": 1731061800}) == [
        "timestamp: expected iso8601, got int"
    ]
    assert validate("printer_connected", {**ok, "timestamp": "yesterday"}) == [
        "timestamp: expected iso8601, got str"
    ]
