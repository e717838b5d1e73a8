"""Typed event firing: one overload of EventEmitter.fire per event, names are literals."""

from __future__ import annotations

import typing
from typing import Literal, get_args, get_type_hints

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printernizer import emitter as emitter_module
from custom_components.printernizer.contract import EVENTS, PRINTER_EVENTS, EventName
from custom_components.printernizer.emitter import EventEmitter, timestamp, with_extra


def test_event_name_literal_is_the_contract() -> None:
    assert get_args(EventName) == tuple(EVENTS)


def test_one_overload_per_event_with_its_payload_type() -> None:
    overloads = typing.get_overloads(EventEmitter.fire)
    seen: dict[str, object] = {}
    for overload in overloads:
        hints = get_type_hints(overload, vars(emitter_module))
        name_type = hints["name"]
        assert typing.get_origin(name_type) is Literal
        (name,) = get_args(name_type)
        assert name not in seen, name
        seen[name] = hints["payload"]
    assert set(seen) == set(EVENTS)
    for name, payload_type in seen.items():
        assert payload_type == EVENTS[name].payload_type, name


async def test_printer_events_carry_the_device_id(
    hass: HomeAssistant, fake_entry: MockConfigEntry
) -> None:
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=fake_entry.entry_id, identifiers={("printernizer", "FAKE0001")}
    )
    emitter = EventEmitter(hass, strict=True)
    assert "job_deleted" in PRINTER_EVENTS
    fired = emitter.fire(
        "job_deleted",
        {"job_id": "j1", "timestamp": timestamp()},
        extra={"printer_id": "FAKE0001"},
    )
    assert fired["device_id"] == device.id
    fired = emitter.fire("print_paused", {"printer_id": "FAKE0001", "timestamp": timestamp()})
    assert fired["device_id"] == device.id
    # no printer, or one without a device: no device_id
    fired = emitter.fire(
        "job_deleted", {"job_id": "j2", "timestamp": timestamp()}, extra={"printer_id": None}
    )
    assert "device_id" not in fired
    fired = emitter.fire("print_paused", {"printer_id": "OTHER", "timestamp": timestamp()})
    assert "device_id" not in fired


def test_with_extra_keeps_the_documented_keys() -> None:
    item = with_extra({"a": 1}, b=2)
    assert item == {"a": 1, "b": 2}
