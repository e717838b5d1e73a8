"""Prusa printers end to end: the integration against the PrusaLink simulator (real HTTP)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_DHCP, SOURCE_USER, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.printernizer import clients, config_flow
from simulator.prusalink import PrusaLinkSimulator

from .conftest import EventRecorder, printer_flows

PASSWORD = "secret-pass"
SERIAL = "SN-SIM-0001"
STATUS = "sensor.prusa_mk4_status"
PROGRESS = "sensor.prusa_mk4_progress"


@pytest.fixture(autouse=True)
def _local_sockets(socket_enabled: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real sockets on 127.0.0.1; short request timeouts so 'timeout' tests stay fast."""
    monkeypatch.setattr(clients, "PRUSALINK_TIMEOUT", 0.5)


@pytest.fixture
async def sim() -> AsyncIterator[PrusaLinkSimulator]:
    simulator = PrusaLinkSimulator(password=PASSWORD, serial=SERIAL, hostname="prusa-mk4")
    await simulator.start()
    yield simulator
    await simulator.stop()


def _data(sim: PrusaLinkSimulator, **extra: Any) -> dict[str, Any]:
    return {"family": "prusa", "host": sim.url, "username": "maker", "password": PASSWORD, **extra}


async def _setup_entry(hass: HomeAssistant, sim: PrusaLinkSimulator) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain="printernizer", title="Prusa MK4", unique_id=SERIAL, data=_data(sim)
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


@pytest.fixture
async def entry(
    hass: HomeAssistant, sim: PrusaLinkSimulator, freezer: FrozenDateTimeFactory
) -> MockConfigEntry:
    """The simulator's entry, set up after the clock is frozen (timers share its base)."""
    return await _setup_entry(hass, sim)


async def _poll(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float = 30) -> None:
    # the coordinator schedules its refresh a fraction of a second past the interval
    freezer.tick(timedelta(seconds=seconds + 0.5))
    async_fire_time_changed(hass)
    # interval refreshes run as background tasks
    await hass.async_block_till_done(wait_background_tasks=True)


async def _start_flow(hass: HomeAssistant) -> dict:
    result = await hass.config_entries.flow.async_init(
        "printernizer", context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "prusa"}
    )


# --- config flow ---------------------------------------------------------------


@pytest.mark.parametrize("auth_mode", ["digest", "digest_no_qop", "apikey"])
async def test_user_flow_creates_entry(hass: HomeAssistant, auth_mode: str) -> None:
    sim = PrusaLinkSimulator(
        password=PASSWORD,
        api_key=PASSWORD,
        auth_mode=auth_mode,  # type: ignore[arg-type]
        serial=SERIAL,
        hostname="prusa-mk4",
    )
    await sim.start()
    try:
        result = await _start_flow(hass)
        assert result["step_id"] == "prusa"
        host = sim.url.removeprefix("http://") + "/"  # host:port/ is accepted and normalized
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"host": host, "username": "maker", "password": PASSWORD}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["result"].unique_id == SERIAL
        assert result["title"] == "prusa-mk4"
        assert result["data"]["host"] == sim.url
        await hass.async_block_till_done()
        assert hass.states.get("sensor.prusa_mk4_status").state == "idle"
    finally:
        for e in hass.config_entries.async_entries("printernizer"):
            await hass.config_entries.async_unload(e.entry_id)
        await sim.stop()


@pytest.mark.parametrize(
    ("change", "host", "error"),
    [
        ({"password": "wrong"}, None, {"base": "invalid_auth"}),
        ({"api_version": "1.0.0"}, None, {"base": "not_supported"}),
        ({}, "http://127.0.0.1:1", {"base": "cannot_connect"}),
        ({}, "ftp://printer", {"host": "invalid_host"}),
    ],
)
async def test_user_flow_errors(
    hass: HomeAssistant, change: dict, host: str | None, error: dict
) -> None:
    kwargs: dict[str, Any] = {"password": PASSWORD, "serial": SERIAL, **change}
    sim = PrusaLinkSimulator(**kwargs)
    await sim.start()
    try:
        result = await _start_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {"host": host or sim.url, "username": "maker", "password": PASSWORD},
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == error
        # the user can correct the input in the same flow
        sim.password = PASSWORD
        if "api_version" not in change and host is None:
            result = await hass.config_entries.flow.async_configure(
                result["flow_id"], {"host": sim.url, "username": "maker", "password": PASSWORD}
            )
            assert result["type"] is FlowResultType.CREATE_ENTRY
            await hass.async_block_till_done()
    finally:
        for e in hass.config_entries.async_entries("printernizer"):
            await hass.config_entries.async_unload(e.entry_id)
        await sim.stop()


async def test_duplicate_serial_aborted(
    hass: HomeAssistant, entry: MockConfigEntry, sim: PrusaLinkSimulator
) -> None:
    result = await _start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": sim.url, "username": "maker", "password": PASSWORD}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_printer_without_serial_gets_stable_id(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    sim = PrusaLinkSimulator(password=PASSWORD, serial=None, hostname="prusa-mini")
    await sim.start()
    try:
        result = await _start_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"host": sim.url, "username": "maker", "password": PASSWORD}
        )
        # the user is told how the printer is identified
        assert result["type"] is FlowResultType.FORM
        assert result["step_id"] == "prusa_no_serial"
        assert result["description_placeholders"]["id"] == "prusalink_prusa_mini"
        assert "reports no serial number" in caplog.text
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["result"].unique_id == "prusalink_prusa_mini"
        await hass.async_block_till_done()
    finally:
        for e in hass.config_entries.async_entries("printernizer"):
            await hass.config_entries.async_unload(e.entry_id)
        await sim.stop()


def _dhcp(ip: str = "127.0.0.1") -> DhcpServiceInfo:
    return DhcpServiceInfo(ip=ip, hostname="prusa-mk4", macaddress="109c70aabbcc")


async def test_dhcp_discovery(
    hass: HomeAssistant, sim: PrusaLinkSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(config_flow, "PRUSALINK_DHCP_PORT", sim.port)
    result = await hass.config_entries.flow.async_init(
        "printernizer", context={"source": SOURCE_DHCP}, data=_dhcp()
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "prusa_confirm"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"username": "maker", "password": PASSWORD}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == SERIAL
    assert result["data"]["mac"] == "109c70aabbcc"
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_dhcp_probe_fails_not_offered(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(config_flow, "PRUSALINK_DHCP_PORT", 1)  # nothing listens there
    result = await hass.config_entries.flow.async_init(
        "printernizer", context={"source": SOURCE_DHCP}, data=_dhcp()
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_prusalink"


async def test_dhcp_updates_address_of_known_printer(
    hass: HomeAssistant, sim: PrusaLinkSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(config_flow, "PRUSALINK_DHCP_PORT", sim.port)
    old = MockConfigEntry(
        domain="printernizer",
        title="Prusa MK4",
        unique_id=SERIAL,
        data=_data(sim, host="http://127.0.0.1:1"),
    )
    old.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        "printernizer", context={"source": SOURCE_DHCP}, data=_dhcp()
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert old.data["host"] == sim.url
    assert old.data["mac"] == "109c70aabbcc"
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(old.entry_id)


async def test_reconfigure(
    hass: HomeAssistant, entry: MockConfigEntry, sim: PrusaLinkSimulator
) -> None:
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": "127.0.0.1:1"}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": sim.url.removeprefix("http://")}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()


# --- running -------------------------------------------------------------------


async def test_reauth_after_password_change(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    sim: PrusaLinkSimulator,
    events: EventRecorder,
    freezer: FrozenDateTimeFactory,
) -> None:
    sim.password = "changed-on-printer"
    await _poll(hass, freezer)
    assert events.of("printer_connection_progress")[-1]["status"] == "error"
    flows = printer_flows(hass)
    assert [f["context"]["source"] for f in flows] == ["reauth"]
    status_polls = sim.request_count["/api/v1/status"]
    await _poll(hass, freezer)
    await _poll(hass, freezer)
    assert sim.request_count["/api/v1/status"] == status_polls  # no hammering
    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {"password": "wrong-again"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {"password": "changed-on-printer"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.data["password"] == "changed-on-printer"
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get(STATUS).state == "idle"


async def test_whole_print(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    sim: PrusaLinkSimulator,
    events: EventRecorder,
    freezer: FrozenDateTimeFactory,
) -> None:
    device = dr.async_get(hass).async_get_device(identifiers={("printernizer", SERIAL)})
    assert device is not None and device.manufacturer == "Prusa Research"
    assert hass.states.get("sensor.prusa_mk4_print_speed").state == "100"
    job_fetches = sim.request_count["/api/v1/job"]
    sim.start_print("benchy.bgcode")
    sim.set_progress(10)
    await _poll(hass, freezer)
    assert hass.states.get(STATUS).state == "printing"
    assert hass.states.get(PROGRESS).state == "10"
    assert hass.states.get("sensor.prusa_mk4_current_job").state == "benchy.bgcode"
    assert [e["job_name"] for e in events.of("job_started")] == ["benchy.bgcode"]
    for progress in (20, 30):
        sim.set_progress(progress)
        await _poll(hass, freezer, 5)  # 5 s while printing
    assert hass.states.get(PROGRESS).state == "30"
    # only when the job id changed: the monitor's fetch, and the job preview's one per job
    assert sim.request_count["/api/v1/job"] == job_fetches + 2

    await hass.services.async_call(
        "button", "press", {"entity_id": "button.prusa_mk4_pause_print"}, blocking=True
    )
    assert len(events.of("print_paused")) == 1
    await hass.async_block_till_done()
    assert hass.states.get(STATUS).state == "paused"
    # pausing a paused print: the printer says 409 -> translated error, no event
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "printernizer", "pause_print", {"device_id": device.id}, blocking=True
        )
    assert err.value.translation_key == "command_not_allowed"
    assert len(events.of("print_paused")) == 1

    await hass.services.async_call(
        "printernizer", "resume_print", {"device_id": device.id}, blocking=True
    )
    assert len(events.of("print_resumed")) == 1
    sim.set_progress(100)
    sim.finish()
    await _poll(hass, freezer, 5)
    assert hass.states.get(STATUS).state == "finished"
    assert [e["status"] for e in events.of("job_completed")] == ["completed"]

    sim.clear()  # no job: /api/v1/job answers 204
    await _poll(hass, freezer)
    assert hass.states.get(STATUS).state == "idle"
    assert len(events.of("job_completed")) == 1


async def test_stop_cancels_job(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    sim: PrusaLinkSimulator,
    events: EventRecorder,
    freezer: FrozenDateTimeFactory,
) -> None:
    sim.start_print("cube.bgcode")
    await _poll(hass, freezer)
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.prusa_mk4_stop_print"}, blocking=True
    )
    assert len(events.of("print_stopped")) == 1
    await _poll(hass, freezer, 2)
    assert [e["status"] for e in events.of("job_completed")] == ["cancelled"]
    assert hass.states.get(STATUS).state == "cancelled"  # PrusaLink STOPPED


@pytest.mark.parametrize("fail_mode", ["timeout", "500"])
async def test_unreachable_then_back_same_job(
    hass: HomeAssistant,
    sim: PrusaLinkSimulator,
    events: EventRecorder,
    fail_mode: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="custom_components.printernizer")
    # No frozen clock here: a request timeout needs the loop's time to pass
    # (0.5 s, see _local_sockets); polls are driven directly.
    entry = await _setup_entry(hass, sim)
    coordinator = entry.runtime_data

    async def poll() -> None:
        await coordinator.async_refresh()
        await hass.async_block_till_done()

    sim.start_print("long.bgcode")
    sim.set_progress(40)
    await poll()
    assert len(events.of("job_created")) == 1
    sim.fail_mode = fail_mode  # type: ignore[assignment]
    await poll()
    assert hass.states.get(STATUS).state == "printing"  # one failed poll is not offline
    await poll()
    assert hass.states.get(STATUS).state == STATE_UNAVAILABLE
    assert hass.states.get("binary_sensor.prusa_mk4_connection").state == "off"
    assert len(events.of("printer_disconnected")) == 1
    assert events.of("printer_disconnected")[0]["reason"] == "lost"
    await poll()
    assert len(events.of("printer_disconnected")) == 1
    sim.fail_mode = None
    sim.set_progress(45)
    events.clear()
    await poll()
    # the same sequence as Bambu Lab's reconnects
    assert [e["status"] for e in events.of("printer_connection_progress")] == [
        "connecting",
        "connected",
        "monitoring",
    ]
    assert hass.states.get(STATUS).state == "printing"
    assert hass.states.get(PROGRESS).state == "45"
    assert len(events.of("printer_connected")) == 1
    assert events.of("job_created") == []
    # log-when-unavailable: one info line each way, however many polls failed
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert lines.count("Printer Prusa MK4 is unavailable") == 1
    assert lines.count("Printer Prusa MK4 is back online") == 1
    assert events.of("job_progress_updated")[-1]["progress"] == 45


async def test_diagnostics_redacted(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, sim: PrusaLinkSimulator
) -> None:
    # no frozen clock: the diagnostics endpoint imports modules that freezegun trips
    entry = await _setup_entry(hass, sim)
    diag = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = json.dumps(diag)
    assert PASSWORD not in text
    assert SERIAL not in text
    assert sim.url not in text
    assert diag["entry"]["data"]["password"] == "**REDACTED**"
    assert diag["client"]["auth_mode"] == "digest"
    assert diag["state"]["status"] == "idle"


async def test_password_never_logged(
    hass: HomeAssistant, sim: PrusaLinkSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    entry = await _setup_entry(hass, sim)
    sim.password = "changed-on-printer"
    await entry.runtime_data.async_refresh()
    await hass.async_block_till_done()
    assert "printernizer" in caplog.text  # debug logging really was on
    assert PASSWORD not in caplog.text
    assert "changed-on-printer" not in caplog.text


async def test_busy_without_job_is_not_a_print(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    sim: PrusaLinkSimulator,
    events: EventRecorder,
    freezer: FrozenDateTimeFactory,
) -> None:
    """BUSY with no job (calibration, preheat): preparing, but no job and no job buttons."""
    sim.busy()
    await _poll(hass, freezer)
    assert hass.states.get(STATUS).state == "preparing"
    assert hass.states.get("button.prusa_mk4_pause_print").state == STATE_UNAVAILABLE
    assert hass.states.get("button.prusa_mk4_stop_print").state == STATE_UNAVAILABLE
    sim.clear()
    await _poll(hass, freezer, 5)
    assert hass.states.get(STATUS).state == "idle"
    assert events.of("job_created") == []
    assert events.of("job_completed") == []


async def test_dhcp_never_sends_an_api_key_to_an_unknown_device(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new device that asks for an API key is not sent the key of a known printer."""
    stranger = PrusaLinkSimulator(auth_mode="apikey", api_key="strangers-key", serial="OTHER")
    await stranger.start()
    try:
        monkeypatch.setattr(config_flow, "PRUSALINK_DHCP_PORT", stranger.port)
        known = MockConfigEntry(
            domain="printernizer",
            title="Prusa MK4",
            unique_id=SERIAL,
            data={
                "family": "prusa",
                "host": "http://192.0.2.5",
                "username": "maker",
                "password": "my-secret-key",
            },
        )
        known.add_to_hass(hass)
        result = await hass.config_entries.flow.async_init(
            "printernizer", context={"source": SOURCE_DHCP}, data=_dhcp()
        )
        assert result["type"] is FlowResultType.FORM  # offered as a new printer
        assert not any("my-secret-key" in header for header in stranger.auth_headers)
        assert known.data["host"] == "http://192.0.2.5"
    finally:
        await stranger.stop()


async def test_device_has_configuration_url_and_dhcp_mac(
    hass: HomeAssistant, sim: PrusaLinkSimulator
) -> None:
    entry = MockConfigEntry(
        domain="printernizer",
        title="Prusa MK4",
        unique_id=SERIAL,
        data=_data(sim, mac="109c70aabbcc"),
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    device = dr.async_get(hass).async_get_device(identifiers={("printernizer", SERIAL)})
    assert device is not None
    assert device.configuration_url == sim.url
    assert (dr.CONNECTION_NETWORK_MAC, "10:9c:70:aa:bb:cc") in device.connections
    assert device.serial_number == SERIAL
    assert device.model
    await hass.config_entries.async_unload(entry.entry_id)


async def test_problem_sensor_on_attention(
    hass: HomeAssistant, sim: PrusaLinkSimulator, entry: MockConfigEntry
) -> None:
    problem = "binary_sensor.prusa_mk4_printer_error"
    assert hass.states.get(problem).state == "off"
    sim.start_print("long.bgcode")
    sim.attention()
    await entry.runtime_data.async_refresh()
    await hass.async_block_till_done()
    state = hass.states.get(problem)
    assert state.state == "on"
    assert state.attributes["prusalink_state"] == "ATTENTION"
    sim.clear()
    await entry.runtime_data.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get(problem).state == "off"
