"""Bambu Lab extras end to end (issue 9): speed level select, chamber light, firmware update,
fans, Wi-Fi signal and HMS messages, against the Bambu simulator (MQTT over TLS)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printernizer import clients
from custom_components.printernizer.api.bambu import tls
from custom_components.printernizer.api.bambu.client import BambuClient
from simulator.bambu import BambuSimulator

from .conftest import wait_for

SERIAL = "01P00A000000001"
CODE = "12345678"
SPEED = "select.p1p_print_speed_level"
LIGHT = "light.p1p_chamber_light"
FIRMWARE = "update.p1p_firmware"
HMS = "sensor.p1p_hms_messages"


@pytest.fixture(autouse=True)
def _fast(socket_enabled: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real sockets on 127.0.0.1; quick retries and command timeouts."""
    monkeypatch.setattr(BambuClient, "reconnect_min", 0.05)
    monkeypatch.setattr(clients, "BAMBU_COMMAND_TIMEOUT", 0.5)


@pytest.fixture
async def sim(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[BambuSimulator]:
    simulator = BambuSimulator(serial=SERIAL, access_code=CODE, model="P1P", name="P1P")
    await simulator.start()
    monkeypatch.setattr(tls, "shipped_ca_pem", lambda: simulator.ca_pem)
    monkeypatch.setattr(clients, "DEFAULT_BAMBU_PORT", simulator.mqtt_port)
    yield simulator
    await simulator.stop()


@pytest.fixture
async def entry(hass: HomeAssistant, sim: BambuSimulator) -> AsyncIterator[MockConfigEntry]:
    data: dict[str, Any] = {
        "family": "bambu_lab",
        "host": f"127.0.0.1:{sim.mqtt_port}",
        "serial": SERIAL,
        "access_code": CODE,
    }
    entry = MockConfigEntry(domain="printernizer", title="P1P", unique_id=SERIAL, data=data)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)


def _requests(sim: BambuSimulator, section: str, command: str) -> list[dict[str, Any]]:
    return [
        r[section]
        for r in sim.requests
        if isinstance(r.get(section), dict) and r[section].get("command") == command
    ]


async def test_sensors_from_the_report(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Fans as percent, Wi-Fi signal, HMS count; no chamber target on a P1P."""
    assert hass.states.get("sensor.p1p_part_cooling_fan").state == "0"
    assert hass.states.get("sensor.p1p_auxiliary_fan").attributes["unit_of_measurement"] == "%"
    assert hass.states.get("sensor.p1p_chamber_fan").state == "0"
    assert hass.states.get("sensor.p1p_heatbreak_fan").state == "0"
    assert hass.states.get("sensor.p1p_wi_fi_signal").state == "-53"
    assert hass.states.get(HMS).state == "0"
    assert hass.states.get("sensor.p1p_chamber_target_temperature") is None


async def test_fans_and_hms(
    hass: HomeAssistant, entry: MockConfigEntry, sim: BambuSimulator
) -> None:
    """Fan speeds on the 0-15 scale; HMS messages with severity and wiki page."""
    await sim.update(cooling_fan_speed="15", big_fan1_speed="6", heatbreak_fan_speed="99")
    await wait_for(hass, lambda: hass.states.get("sensor.p1p_part_cooling_fan").state == "100")
    assert hass.states.get("sensor.p1p_auxiliary_fan").state == "40"
    assert hass.states.get("sensor.p1p_heatbreak_fan").state == "unknown"  # out of range
    await sim.set_hms([(0x03000100, 0x00010007), (0x07008000, 0x00030001)])
    await wait_for(hass, lambda: hass.states.get(HMS).state == "2")
    messages = hass.states.get(HMS).attributes["messages"]
    assert [(m["code"], m["severity"]) for m in messages] == [
        ("0300_0100_0001_0007", "fatal"),
        ("0700_8000_0003_0001", "common"),
    ]
    assert messages[0]["url"].endswith("/0300_0100_0001_0007")


async def test_speed_level_select(
    hass: HomeAssistant, entry: MockConfigEntry, sim: BambuSimulator
) -> None:
    """Choosing a level sends print_speed, waits for the echo; the report shows it."""
    state = hass.states.get(SPEED)
    assert state.state == "standard"
    assert state.attributes["options"] == ["silent", "standard", "sport", "ludicrous"]
    await hass.services.async_call(
        "select", "select_option", {"entity_id": SPEED, "option": "sport"}, blocking=True
    )
    assert [r["param"] for r in _requests(sim, "print", "print_speed")] == ["3"]
    await wait_for(hass, lambda: hass.states.get(SPEED).state == "sport")
    assert sim.state["spd_lvl"] == 3
    # a refused command is a translated error and changes nothing
    sim.command_result = "fail"
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "select", "select_option", {"entity_id": SPEED, "option": "silent"}, blocking=True
        )
    assert err.value.translation_key == "command_failed"
    assert hass.states.get(SPEED).state == "sport"
    sim.command_result = "success"
    sim.ignore_commands = True
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "select", "select_option", {"entity_id": SPEED, "option": "silent"}, blocking=True
        )
    assert err.value.translation_key == "command_timeout"


async def test_chamber_light(
    hass: HomeAssistant, entry: MockConfigEntry, sim: BambuSimulator
) -> None:
    """The light sends ledctrl (system section), waits for the echo; the report shows it."""
    assert hass.states.get(LIGHT).state == "off"
    await hass.services.async_call("light", "turn_on", {"entity_id": LIGHT}, blocking=True)
    (request,) = _requests(sim, "system", "ledctrl")
    assert request == {
        "sequence_id": request["sequence_id"],
        "command": "ledctrl",
        "led_node": "chamber_light",
        "led_mode": "on",
        "led_on_time": 500,
        "led_off_time": 500,
        "loop_times": 0,
        "interval_time": 0,
    }
    await wait_for(hass, lambda: hass.states.get(LIGHT).state == "on")
    await hass.services.async_call("light", "turn_off", {"entity_id": LIGHT}, blocking=True)
    await wait_for(hass, lambda: hass.states.get(LIGHT).state == "off")
    assert [r["led_mode"] for r in _requests(sim, "system", "ledctrl")] == ["on", "off"]
    # An offline printer's controls are unavailable: Home Assistant does not call them
    # (async_control has no offline check of its own), so no error and nothing sent.
    await sim.stop()
    await wait_for(hass, lambda: hass.states.get(LIGHT).state == STATE_UNAVAILABLE)
    await hass.services.async_call("light", "turn_on", {"entity_id": LIGHT}, blocking=True)
    await hass.services.async_call(
        "select", "select_option", {"entity_id": SPEED, "option": "sport"}, blocking=True
    )
    assert hass.states.get(LIGHT).state == STATE_UNAVAILABLE
    assert [r["led_mode"] for r in _requests(sim, "system", "ledctrl")] == ["on", "off"]
    assert _requests(sim, "print", "print_speed") == []


async def test_firmware_update_entity(
    hass: HomeAssistant, entry: MockConfigEntry, sim: BambuSimulator
) -> None:
    """The update entity reports a version the printer offers."""
    state = hass.states.get(FIRMWARE)
    assert state.state == "off"
    assert state.attributes["installed_version"] == "01.07.00.00"
    await sim.offer_firmware("01.08.01.00")
    await wait_for(hass, lambda: hass.states.get(FIRMWARE).state == "on")
    assert hass.states.get(FIRMWARE).attributes["latest_version"] == "01.08.01.00"
    await sim.offer_firmware(None)
    await wait_for(hass, lambda: hass.states.get(FIRMWARE).state == "off")
