"""Pure mapping of PrusaLink JSON (real fixtures) to the normalized model."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from prusalink_helpers import load_fixture

from custom_components.printernizer.api.models import PrinterInfo, PrinterStatus
from custom_components.printernizer.api.prusalink.parse import (
    PrusaLinkParseError,
    build_printer_info,
    map_state,
    parse_api_version,
    parse_info,
    parse_state,
    parse_version,
    status_job_id,
)


def test_status_printing_with_job() -> None:
    """status_printing.json + job_printing.json map to a printing state."""
    state = parse_state(
        load_fixture("status_printing"), load_fixture("job_printing"), nozzle_diameter=0.4
    )
    assert state.status is PrinterStatus.PRINTING
    assert state.is_active
    assert state.progress == 37
    assert state.remaining_seconds == 73020
    assert state.printer_job_id == "129"
    assert state.job_name == "TabletStand3.bgcode"
    assert state.nozzle_temp == 6.0
    assert state.nozzle_target == 0.0
    assert state.bed_temp == 53.9
    assert state.bed_target == 85.0
    assert state.chamber_temp is None
    assert state.layer is None
    assert state.total_layers is None
    assert state.error is None
    assert state.cancelled is False
    assert state.extra == {
        "prusalink_state": "PRINTING",
        "speed": 100,
        "flow": 100,
        "z_height": 5.0,
        "fan_hotend": 5000,
        "fan_print": 2500,
        "nozzle_diameter": 0.4,
        "thumbnail": "/thumb/l/usb/TabletStand3~4.BGC",
        "job_file_path": "/usb/TabletStand3~4.BGC",
        "time_printing": 43987,
    }


def test_status_printing_without_job_body() -> None:
    """Without the /api/v1/job body the job id and progress are still there."""
    state = parse_state(load_fixture("status_printing"))
    assert state.status is PrinterStatus.PRINTING
    assert state.printer_job_id == "129"
    assert state.progress == 37
    assert state.job_name is None
    assert "thumbnail" not in state.extra


def test_status_idle() -> None:
    """status_idle.json maps to idle with the temperatures and extras."""
    state = parse_state(load_fixture("status_idle"), nozzle_diameter=0.4)
    assert state.status is PrinterStatus.IDLE
    assert not state.is_active
    assert state.progress == 0
    assert state.printer_job_id is None
    assert state.job_name is None
    assert state.remaining_seconds is None
    assert state.nozzle_temp == 47.8
    assert state.nozzle_target == 210.1
    assert state.bed_temp == 41.9
    assert state.bed_target == 60.5
    assert state.chamber_temp is None
    assert state.error is None
    assert state.extra == {
        "prusalink_state": "IDLE",
        "speed": 100,
        "flow": 100,
        "z_height": 1.8,
        "fan_hotend": 100,
        "fan_print": 75,
        "nozzle_diameter": 0.4,
    }


def test_stale_job_body_is_ignored() -> None:
    """A job body for another job id does not name the current job."""
    job = load_fixture("job_printing")
    job["id"] = 128
    state = parse_state(load_fixture("status_printing"), job)
    assert state.job_name is None
    assert state.printer_job_id == "129"


def test_equal_inputs_give_equal_states() -> None:
    """Value equality: an unchanged printer gives an equal state."""
    first = parse_state(load_fixture("status_printing"), load_fixture("job_printing"))
    second = parse_state(load_fixture("status_printing"), load_fixture("job_printing"))
    assert first == second


def test_chamber_temperature_when_reported() -> None:
    """temp_chamber (where a printer reports it) fills chamber_temp."""
    status = load_fixture("status_idle")
    status["printer"]["temp_chamber"] = 31.5
    assert parse_state(status).chamber_temp == 31.5


def test_version_and_info() -> None:
    """version.json and info.json give the printer facts."""
    version = parse_version(load_fixture("version"))
    assert version.api == "2.0.0"
    assert version.api_tuple == (2, 0, 0)
    assert version.server == "2.1.2"
    assert version.text == "PrusaLink"
    assert version.hostname == "prusa-core-one"
    assert version.firmware == "6.5.3+12780"
    assert version.printer == "7.1.0"
    assert version.capabilities == {"upload-by-put": True}

    details = parse_info(load_fixture("info"))
    assert details.serial == "serial-1337"
    assert details.hostname == "PrusaXL"
    assert details.nozzle_diameter == 0.4
    assert details.mmu is False

    assert build_printer_info(version, details) == PrinterInfo(
        serial="serial-1337",
        model="CORE One",
        name="PrusaXL",
        firmware="6.5.3+12780",
        manufacturer="Prusa Research",
        hostname="PrusaXL",
    )


def test_info_without_serial() -> None:
    """Firmware that does not tell its serial gives serial None."""
    info = load_fixture("info")
    del info["serial"]
    details = parse_info(info)
    assert details.serial is None
    version = parse_version({"api": "2.0.0", "printer": "1.4.0", "hostname": "my-printer"})
    printer_info = build_printer_info(version, details)
    assert printer_info.serial is None
    assert printer_info.model == "XL"  # from the info hostname "PrusaXL"
    assert printer_info.name == "PrusaXL"


def test_model_fallback() -> None:
    """Without a recognizable hostname the model names the printer type version."""
    version = parse_version({"api": "2.0.0", "printer": "1.4.0", "hostname": "garage"})
    info = build_printer_info(version, None)
    assert info.model == "PrusaLink printer 1.4.0"
    assert info.name == "garage"
    assert info.serial is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2.0.0", (2, 0, 0)), ("2.1", (2, 1)), ("1.0.0-rc1", (1, 0, 0)), ("0.7.0", (0, 7, 0))],
)
def test_api_version(text: str, expected: tuple[int, ...]) -> None:
    """API versions parse into tuples."""
    assert parse_api_version(text) == expected


@pytest.mark.parametrize(
    ("raw", "has_job", "expected"),
    [
        ("IDLE", False, PrinterStatus.IDLE),
        ("READY", False, PrinterStatus.IDLE),
        ("BUSY", False, PrinterStatus.PREPARING),
        ("BUSY", True, PrinterStatus.PREPARING),
        ("PRINTING", True, PrinterStatus.PRINTING),
        ("PAUSED", True, PrinterStatus.PAUSED),
        ("ATTENTION", True, PrinterStatus.PAUSED),
        ("ATTENTION", False, PrinterStatus.ERROR),
        ("FINISHED", True, PrinterStatus.FINISHED),
        ("STOPPED", True, PrinterStatus.CANCELLED),
        ("ERROR", True, PrinterStatus.ERROR),
        ("ERROR", False, PrinterStatus.ERROR),
    ],
)
def test_state_mapping(raw: str, has_job: bool, expected: PrinterStatus) -> None:
    """Every PrusaLink state maps; BUSY and ATTENTION are never idle."""
    assert map_state(raw, has_job=has_job) is expected


def test_stopped_is_cancelled_and_error_has_text() -> None:
    """STOPPED → cancelled; ERROR/ATTENTION set error."""
    status = load_fixture("status_printing")
    status["printer"]["state"] = "STOPPED"
    stopped = parse_state(status)
    assert stopped.status is PrinterStatus.CANCELLED
    assert stopped.cancelled is True
    assert stopped.error is None

    status["printer"]["state"] = "ERROR"
    errored = parse_state(status)
    assert errored.status is PrinterStatus.ERROR
    assert errored.error == "ERROR"
    assert errored.cancelled is False

    status["printer"]["state"] = "ATTENTION"
    status["printer"]["status_printer"] = {"ok": False, "message": "Filament runout"}
    attention = parse_state(status)
    assert attention.status is PrinterStatus.PAUSED
    assert attention.error == "Filament runout"


def _broken(path: list[str], value: Any) -> dict[str, Any]:
    status = copy.deepcopy(load_fixture("status_printing"))
    node = status
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return status


@pytest.mark.parametrize(
    "status",
    [
        [],
        "PRINTING",
        {},
        {"printer": None},
        {"printer": {"temp_bed": 20}},
        _broken(["printer", "state"], "MELTING"),
        _broken(["printer", "state"], 3),
        _broken(["printer", "temp_nozzle"], "hot"),
        _broken(["printer", "speed"], True),
        _broken(["job"], "129"),
        _broken(["job", "id"], "129"),
        _broken(["job", "progress"], "37%"),
    ],
)
def test_malformed_status(status: Any) -> None:
    """Wrong shapes and types raise PrusaLinkParseError, nothing else."""
    with pytest.raises(PrusaLinkParseError):
        parse_state(status)


def test_malformed_job_and_version() -> None:
    """Malformed job file, version and info raise PrusaLinkParseError."""
    job = load_fixture("job_printing")
    job["file"] = ["not", "an", "object"]
    with pytest.raises(PrusaLinkParseError):
        parse_state(load_fixture("status_printing"), job)
    with pytest.raises(PrusaLinkParseError):
        parse_version({"server": "2.1.2"})
    with pytest.raises(PrusaLinkParseError):
        parse_version({"api": "x.y"})
    with pytest.raises(PrusaLinkParseError):
        parse_info({"serial": 1337})
    with pytest.raises(PrusaLinkParseError):
        status_job_id({"job": {"id": 1.5}})
