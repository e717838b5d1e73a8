"""The one emitter: timestamps, validation, counting, isolation from listeners."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import pytest
from homeassistant.core import Event, HomeAssistant, callback

from custom_components.printernizer.emitter import ContractViolation, EventEmitter


def _recorder(seen: list[Event]) -> Callable[[Event], None]:
    """A bus listener (a @callback, so events arrive in order) that appends to ``seen``."""

    @callback
    def record(event: Event) -> None:
        seen.append(event)

    return record


async def test_fire_fills_timestamp_and_counts(hass: HomeAssistant) -> None:
    emitter = EventEmitter(hass)
    seen: list[Event] = []
    hass.bus.async_listen("printernizer_printer_monitoring_started", _recorder(seen))
    data = emitter.fire("printer_monitoring_started", {"printer_id": "p1"})
    await hass.async_block_till_done()
    assert len(seen) == 1
    assert seen[0].data == data
    ts = datetime.fromisoformat(data["timestamp"])
    assert ts.utcoffset() is not None and ts.utcoffset().total_seconds() == 0
    # events without a documented timestamp get none
    emitter.fire("material_deleted", {"material_id": "m1"})
    assert emitter.counts["printer_monitoring_started"] == 1
    assert emitter.counts["material_deleted"] == 1
    assert emitter.counts["job_created"] == 0
    assert len(emitter.counts) == 41
    assert emitter.total == 2
    assert emitter.status()["total_events"] == 2


async def test_given_timestamp_is_kept(hass: HomeAssistant) -> None:
    data = EventEmitter(hass).fire(
        "printer_monitoring_started", {"printer_id": "p", "timestamp": "2025-11-08T10:30:00+00:00"}
    )
    assert data["timestamp"] == "2025-11-08T10:30:00+00:00"


async def test_violation_raises_when_strict(hass: HomeAssistant) -> None:
    emitter = EventEmitter(hass, strict=True)
    with pytest.raises(ContractViolation, match="type"):
        emitter.fire("printer_connected", {"printer_id": "p", "name": "n", "type": "octoprint"})
    with pytest.raises(ContractViolation):
        emitter.fire("no_such_event", {})
    assert emitter.total == 0


async def test_violation_logs_and_fires_in_production(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    emitter = EventEmitter(hass, strict=False)
    seen: list[Event] = []
    hass.bus.async_listen("printernizer_job_progress_updated", _recorder(seen))
    with caplog.at_level(logging.ERROR):
        emitter.fire("job_progress_updated", {"job_id": "j", "progress": "half"})
    await hass.async_block_till_done()
    assert len(seen) == 1
    assert "Contract violation in job_progress_updated" in caplog.text
    assert emitter.counts["job_progress_updated"] == 1


async def test_raising_listener_does_not_break_emitter(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    emitter = EventEmitter(hass)
    seen: list[Event] = []

    @callback
    def broken(event: Event) -> None:
        raise RuntimeError("listener bug")

    hass.bus.async_listen("printernizer_material_deleted", broken)
    hass.bus.async_listen("printernizer_material_deleted", _recorder(seen))
    emitter.fire("material_deleted", {"material_id": "a"})
    emitter.fire("material_deleted", {"material_id": "b"})
    await hass.async_block_till_done()
    assert [e.data["material_id"] for e in seen] == ["a", "b"]
    assert emitter.counts["material_deleted"] == 2
    assert "listener bug" in caplog.text
