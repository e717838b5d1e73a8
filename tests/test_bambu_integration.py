"""Bambu Lab printers end to end: the integration against the Bambu simulator (MQTT over TLS)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from homeassistant.config_entries import (
    SOURCE_IGNORE,
    SOURCE_INTEGRATION_DISCOVERY,
    SOURCE_USER,
    ConfigEntryState,
)
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.printernizer import clients, discovery
from custom_components.printernizer.api.bambu import tls
from custom_components.printernizer.api.bambu.client import BambuClient
from custom_components.printernizer.runtime import DATA_KEY
from simulator.bambu import BambuSimulator

from .conftest import EventRecorder, printer_flows, wait_for

SERIAL = "01P00A000000001"
CODE = "12345678"
REAL_SHIPPED_CA_PEM = tls.shipped_ca_pem
STATUS = "sensor.p1p_status"
PROGRESS = "sensor.p1p_progress"
CONNECTION = "binary_sensor.p1p_connection"


@pytest.fixture(autouse=True)
def _fast(socket_enabled: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real sockets on 127.0.0.1; quick retries and command timeouts."""
    monkeypatch.setattr(BambuClient, "reconnect_min", 0.05)
    monkeypatch.setattr(BambuClient, "reconnect_max", 0.2)
    monkeypatch.setattr(clients, "BAMBU_COMMAND_TIMEOUT", 0.5)


@pytest.fixture
async def sim(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[BambuSimulator]:
    simulator = BambuSimulator(serial=SERIAL, access_code=CODE, model="P1P", name="P1P")
    await simulator.start()
    # The simulator's test CA plays Bambu Lab's CA.
    monkeypatch.setattr(tls, "shipped_ca_pem", lambda: simulator.ca_pem)
    monkeypatch.setattr(clients, "DEFAULT_BAMBU_PORT", simulator.mqtt_port)
    yield simulator
    await simulator.stop()


def _data(sim: BambuSimulator, **extra: Any) -> dict[str, Any]:
    return {
        "family": "bambu_lab",
        "host": f"127.0.0.1:{sim.mqtt_port}",
        "serial": SERIAL,
        "access_code": CODE,
        **extra,
    }


@pytest.fixture
async def entry(hass: HomeAssistant, sim: BambuSimulator) -> AsyncIterator[MockConfigEntry]:
    entry = MockConfigEntry(domain="printernizer", title="P1P", unique_id=SERIAL, data=_data(sim))
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)


async def _bambu_form(hass: HomeAssistant) -> dict:
    result = await hass.config_entries.flow.async_init(
        "printernizer", context={"source": SOURCE_USER}
    )
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "bambu"}
    )


async def _unload_all(hass: HomeAssistant) -> None:
    for e in hass.config_entries.async_entries("printernizer"):
        await hass.config_entries.async_unload(e.entry_id)


# --- config flow ---------------------------------------------------------------


async def test_user_flow(hass: HomeAssistant, sim: BambuSimulator) -> None:
    result = await _bambu_form(hass)
    assert result["step_id"] == "bambu"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"host": f"127.0.0.1:{sim.mqtt_port}", "serial": SERIAL.lower(), "access_code": CODE},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == SERIAL
    assert result["data"] == {
        "family": "bambu_lab",
        "host": f"127.0.0.1:{sim.mqtt_port}",
        "serial": SERIAL,
        "access_code": CODE,
    }
    await hass.async_block_till_done()
    device = dr.async_get(hass).async_get_device(identifiers={("printernizer", SERIAL)})
    assert device.manufacturer == "Bambu Lab"
    assert device.model == "P1P"
    assert device.sw_version  # from get_version
    await _unload_all(hass)


@pytest.mark.parametrize(
    ("user_input", "error"),
    [
        ({"access_code": "wrong"}, "invalid_auth"),
        ({"serial": "01P00A000000999"}, "wrong_serial"),
        ({"host": "127.0.0.1:1"}, "cannot_connect"),
    ],
)
async def test_user_flow_errors(
    hass: HomeAssistant, sim: BambuSimulator, user_input: dict, error: str
) -> None:
    result = await _bambu_form(hass)
    data = {"host": f"127.0.0.1:{sim.mqtt_port}", "serial": SERIAL, "access_code": CODE}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**data, **user_input}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], data)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    await _unload_all(hass)


async def test_certificate_from_another_ca_offers_unverified_connection(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A certificate that is not from Bambu Lab: the form says so, logs why, and offers
    the unverified connection; the entry then has it in its options, with the repair issue."""
    other = BambuSimulator(serial=SERIAL, access_code=CODE, other_ca=True)
    await other.start()
    try:
        monkeypatch.setattr(tls, "shipped_ca_pem", lambda: other.ca_pem)
        result = await _bambu_form(hass)
        assert "insecure_tls" not in result["data_schema"].schema  # not before it is needed
        data = {"host": f"127.0.0.1:{other.mqtt_port}", "serial": SERIAL, "access_code": CODE}
        with caplog.at_level(logging.DEBUG, logger="custom_components.printernizer"):
            result = await hass.config_entries.flow.async_configure(result["flow_id"], data)
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"base": "untrusted_certificate"}
        assert "not issued by Bambu Lab's CA" in caplog.text
        assert "insecure_tls" in result["data_schema"].schema
        # left unticked: the same answer
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {**data, "insecure_tls": False}
        )
        assert result["errors"] == {"base": "untrusted_certificate"}
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {**data, "insecure_tls": True}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["options"] == {"insecure_tls": True}
        assert "insecure_tls" not in result["data"]
        await hass.async_block_till_done()
        entry = result["result"]
        assert entry.state is ConfigEntryState.LOADED
        issue = ir.async_get(hass).async_get_issue("printernizer", f"insecure_tls_{entry.entry_id}")
        assert issue is not None
        await _unload_all(hass)
    finally:
        await other.stop()


async def test_wrong_serial_is_not_a_certificate_problem(
    hass: HomeAssistant, sim: BambuSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    result = await _bambu_form(hass)
    with caplog.at_level(logging.DEBUG, logger="custom_components.printernizer"):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {
                "host": f"127.0.0.1:{sim.mqtt_port}",
                "serial": "01P00A000000999",
                "access_code": CODE,
            },
        )
    assert result["errors"] == {"base": "wrong_serial"}
    assert "presents serial '01P00A000000001', expected '01P00A000000999'" in caplog.text
    assert "insecure_tls" not in result["data_schema"].schema  # would not help


async def test_tls_handshake_failure_is_told_apart(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """Something that is not a TLS server answers (e.g. a wrong port)."""

    async def plain_text(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(plain_text, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        result = await _bambu_form(hass)
        with caplog.at_level(logging.DEBUG, logger="custom_components.printernizer"):
            result = await hass.config_entries.flow.async_configure(
                result["flow_id"],
                {"host": f"127.0.0.1:{port}", "serial": SERIAL, "access_code": CODE},
            )
        assert result["errors"] == {"base": "tls_failed"}
        assert f"TLS handshake with 127.0.0.1:{port} failed" in caplog.text
        assert "insecure_tls" not in result["data_schema"].schema
    finally:
        server.close()
        await server.wait_closed()


async def test_duplicate_serial_aborted(
    hass: HomeAssistant, entry: MockConfigEntry, sim: BambuSimulator
) -> None:
    result = await _bambu_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": "192.0.2.1", "serial": SERIAL, "access_code": CODE}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


# --- discovery -----------------------------------------------------------------


@pytest.fixture
async def listener_port(hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch) -> int:
    """Printernizer loaded with its announcement listener on a free port of 127.0.0.1."""
    monkeypatch.setattr(discovery, "DISCOVERY_PORTS", (0,))
    monkeypatch.setattr(discovery, "DISCOVERY_HOST", "127.0.0.1")
    assert await async_setup_component(hass, "printernizer", {"printernizer": None})
    listener = hass.data[DATA_KEY].discovery
    assert listener is not None
    return listener.bound_ports[0]


def _discovery_flows(hass: HomeAssistant) -> list[dict]:
    return [
        f
        for f in hass.config_entries.flow.async_progress_by_handler("printernizer")
        if f["context"]["source"] == SOURCE_INTEGRATION_DISCOVERY
        # the library entry is offered once a printer is set up (tests/test_library_entry.py)
        and f["context"].get("unique_id") != "printernizer_library"
    ]


async def test_discovery_from_announcement(
    hass: HomeAssistant, sim: BambuSimulator, listener_port: int
) -> None:
    await sim.send_announcement("127.0.0.1", listener_port)
    await wait_for(hass, lambda: len(_discovery_flows(hass)) == 1)
    # a repeated announcement does not start another flow
    await sim.send_announcement("127.0.0.1", listener_port)
    await hass.async_block_till_done()
    flow = _discovery_flows(hass)[0]
    assert flow["step_id"] == "bambu_confirm"
    assert flow["context"]["unique_id"] == SERIAL
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {"access_code": "wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {"access_code": CODE})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["host"] == "127.0.0.1"
    assert result["data"]["serial"] == SERIAL
    await hass.async_block_till_done()
    assert hass.states.get(STATUS).state == "failed"  # the P1P capture's state
    assert _discovery_flows(hass) == []
    await _unload_all(hass)


async def test_discovery_updates_address_of_known_printer(
    hass: HomeAssistant, sim: BambuSimulator, listener_port: int
) -> None:
    known = MockConfigEntry(
        domain="printernizer", title="P1P", unique_id=SERIAL, data=_data(sim, host="192.0.2.77")
    )
    known.add_to_hass(hass)
    await sim.send_announcement("127.0.0.1", listener_port)
    await wait_for(hass, lambda: known.data["host"] == "127.0.0.1")
    assert _discovery_flows(hass) == []
    await hass.async_block_till_done()
    await _unload_all(hass)


async def test_ignored_printer_stays_ignored(
    hass: HomeAssistant, sim: BambuSimulator, listener_port: int
) -> None:
    ignored = MockConfigEntry(
        domain="printernizer", unique_id=SERIAL, source=SOURCE_IGNORE, data={}
    )
    ignored.add_to_hass(hass)
    await sim.send_announcement("127.0.0.1", listener_port)
    # A second printer announces after it: once its flow exists, the ignored
    # printer's announcement (sent first, same socket) was handled too.
    other = sim.announcement().replace(SERIAL.encode(), b"01P00A000000002")
    transport, _ = await hass.loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, remote_addr=("127.0.0.1", listener_port)
    )
    transport.sendto(other)
    transport.close()
    await wait_for(hass, lambda: len(_discovery_flows(hass)) == 1)
    assert _discovery_flows(hass)[0]["context"]["unique_id"] == "01P00A000000002"
    assert ignored.source == SOURCE_IGNORE


# --- running -------------------------------------------------------------------


async def test_whole_print(
    hass: HomeAssistant, entry: MockConfigEntry, sim: BambuSimulator, events: EventRecorder
) -> None:
    # the P1P capture holds a failed print (gcode_state FAILED)
    assert hass.states.get(STATUS).state == "failed"
    # P1 and A1 printers send a placeholder chamber_temper (5) but have no sensor
    assert hass.states.get("sensor.p1p_chamber_temperature") is None
    await sim.idle()
    await wait_for(hass, lambda: hass.states.get(STATUS).state == "idle")
    await sim.start_print("benchy.3mf", total_layers=50)
    await sim.set_progress(10)
    await wait_for(hass, lambda: hass.states.get(PROGRESS).state == "10")
    assert hass.states.get(STATUS).state == "printing"
    assert hass.states.get("sensor.p1p_current_job").state == "benchy"
    assert hass.states.get("sensor.p1p_current_layer").state == "5"
    assert [e["job_name"] for e in events.of("job_started")] == ["benchy"]

    await hass.services.async_call(
        "button", "press", {"entity_id": "button.p1p_pause_print"}, blocking=True
    )
    assert len(events.of("print_paused")) == 1
    await wait_for(hass, lambda: hass.states.get(STATUS).state == "paused")
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.p1p_resume_print"}, blocking=True
    )
    assert len(events.of("print_resumed")) == 1
    await wait_for(hass, lambda: hass.states.get(STATUS).state == "printing")
    await sim.set_progress(100)
    await sim.finish()
    await wait_for(hass, lambda: hass.states.get(STATUS).state == "finished")
    assert [e["status"] for e in events.of("job_completed")] == ["completed"]
    assert [e["status"] for e in events.of("job_status_changed")] == [
        "running",
        "paused",
        "running",
        "completed",
    ]


async def test_stop_cancels(
    hass: HomeAssistant, entry: MockConfigEntry, sim: BambuSimulator, events: EventRecorder
) -> None:
    await sim.start_print("cube.3mf", total_layers=10)
    await sim.set_progress(5)
    await wait_for(hass, lambda: hass.states.get(STATUS).state == "printing")
    device = dr.async_get(hass).async_get_device(identifiers={("printernizer", SERIAL)})
    await hass.services.async_call(
        "printernizer", "stop_print", {"device_id": device.id}, blocking=True
    )
    assert len(events.of("print_stopped")) == 1
    await wait_for(hass, lambda: len(events.of("job_completed")) == 1)
    assert events.of("job_completed")[0]["status"] == "cancelled"
    assert "reason" not in events.of("job_completed")[0]
    # Bambu keeps FAILED with the cancel code until the next print: not "failed"
    await wait_for(hass, lambda: hass.states.get(STATUS).state == "cancelled")
    assert events.of("printer_status_update")[-1]["status"] == "cancelled"


async def test_ignored_command_times_out(
    hass: HomeAssistant, entry: MockConfigEntry, sim: BambuSimulator, events: EventRecorder
) -> None:
    await sim.start_print("cube.3mf", total_layers=10)
    await wait_for(hass, lambda: hass.states.get(STATUS).state in ("printing", "preparing"))
    sim.ignore_commands = True
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "button", "press", {"entity_id": "button.p1p_pause_print"}, blocking=True
        )
    assert err.value.translation_key == "command_timeout"
    assert events.of("print_paused") == []


async def test_broker_restart_mid_print(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    sim: BambuSimulator,
    events: EventRecorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="custom_components.printernizer")
    await sim.start_print("long.3mf", total_layers=100)
    await sim.set_progress(30)
    await wait_for(hass, lambda: hass.states.get(PROGRESS).state == "30")
    events.clear()
    unavailable_seen: list[bool] = []
    hass.bus.async_listen(
        "state_changed",
        callback(
            lambda e: (
                unavailable_seen.append(True)
                if e.data["entity_id"] == STATUS and e.data["new_state"].state == STATE_UNAVAILABLE
                else None
            )
        ),
    )
    await sim.restart_broker()
    await wait_for(hass, lambda: len(events.of("printer_connected")) == 1)
    await sim.set_progress(31)
    await wait_for(hass, lambda: hass.states.get(PROGRESS).state == "31")
    assert len(events.of("printer_disconnected")) == 1
    assert len(events.of("printer_connected")) == 1
    assert unavailable_seen  # entities went unavailable in between
    assert hass.states.get(CONNECTION).state == "on"
    assert events.of("job_created") == []  # the same job continues
    assert events.of("job_progress_updated")[-1]["progress"] == 31
    assert sim.pushall_count >= 2  # asked for the full state again
    # log-when-unavailable: one info line each way
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert lines.count(f"Printer {entry.title} is unavailable") == 1
    assert lines.count(f"Printer {entry.title} is back online") == 1


async def test_malformed_reports_are_ignored(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    sim: BambuSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await sim.idle()
    for payload in (
        b"not json",
        b"[1,2]",
        json.dumps({"print": "x"}).encode(),
        json.dumps({"print": {"mc_percent": "lots", "gcode_state": 7}}).encode(),
    ):
        await sim.publish_raw(payload)
    await sim.update(nozzle_temper=33.0)
    await wait_for(hass, lambda: hass.states.get("sensor.p1p_nozzle_temperature").state == "33.0")
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get(STATUS).state == "idle"
    assert "Traceback" not in caplog.text


async def test_wrong_access_code_starts_reauth(
    hass: HomeAssistant, entry: MockConfigEntry, sim: BambuSimulator, events: EventRecorder
) -> None:
    sim.access_code = "87654321"  # changed on the printer
    await sim.restart_broker()
    await wait_for(
        hass,
        lambda: any(f["context"]["source"] == "reauth" for f in printer_flows(hass)),
    )
    assert events.of("printer_connection_progress")[-1]["status"] == "error"
    flow = printer_flows(hass)[0]
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {"access_code": "87654321"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.data["access_code"] == "87654321"
    await wait_for(hass, lambda: hass.states.get(STATUS).state == "failed")


async def test_options_insecure_tls_raises_repair_issue(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    issue_id = f"insecure_tls_{entry.entry_id}"
    registry = ir.async_get(hass)
    assert registry.async_get_issue("printernizer", issue_id) is None
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"insecure_tls": True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert registry.async_get_issue("printernizer", issue_id) is not None
    result = await hass.config_entries.options.async_init(entry.entry_id)
    await hass.config_entries.options.async_configure(result["flow_id"], {"insecure_tls": False})
    await hass.async_block_till_done()
    assert registry.async_get_issue("printernizer", issue_id) is None


async def test_reconfigure(
    hass: HomeAssistant, entry: MockConfigEntry, sim: BambuSimulator
) -> None:
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": "127.0.0.1:1"}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": f"localhost:{sim.mqtt_port}"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["host"] == f"localhost:{sim.mqtt_port}"
    await hass.async_block_till_done()


async def test_diagnostics(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, entry: MockConfigEntry
) -> None:
    diag = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = json.dumps(diag)
    assert CODE not in text
    assert SERIAL not in text
    assert f"127.0.0.1:{entry.data['host'].split(':')[1]}" not in text
    assert diag["client"]["host"] == "**REDACTED**"
    assert diag["client"]["connected"] is True
    assert diag["client"]["serial"] == "**REDACTED**"
    # the last raw (merged) report is included
    assert diag["client"]["last_report"]["gcode_state"] == "FAILED"


async def test_x1c_has_chamber_sensor(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch, events: EventRecorder
) -> None:
    x1c = BambuSimulator(serial="00M00A000000001", access_code=CODE, model="X1C", name="X1C")
    await x1c.start()
    try:
        monkeypatch.setattr(tls, "shipped_ca_pem", lambda: x1c.ca_pem)
        entry = MockConfigEntry(
            domain="printernizer",
            title="X1C",
            unique_id="00M00A000000001",
            data={
                "family": "bambu_lab",
                "host": f"127.0.0.1:{x1c.mqtt_port}",
                "serial": "00M00A000000001",
                "access_code": CODE,
            },
        )
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        # the X1C capture reports the chamber in device.ctc (25 degrees C)
        assert hass.states.get("sensor.x1c_chamber_temperature").state == "25.0"
        assert events.of("printer_status_update")[0]["temperature"]["chamber"] == 25.0
        # its target is the high half of the same packed value (0: not heating)
        assert hass.states.get("sensor.x1c_chamber_target_temperature").state == "0.0"
        assert hass.states.get("light.x1c_chamber_light").state == "on"
        await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await x1c.stop()


async def test_access_code_never_logged(
    hass: HomeAssistant, sim: BambuSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    entry = MockConfigEntry(domain="printernizer", title="P1P", unique_id=SERIAL, data=_data(sim))
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    sim.access_code = "87654321"
    await sim.restart_broker()
    await wait_for(
        hass,
        lambda: bool(printer_flows(hass)),
    )
    assert "printernizer" in caplog.text  # debug logging really was on
    assert CODE not in caplog.text
    assert "87654321" not in caplog.text
    await hass.config_entries.async_unload(entry.entry_id)


def _progress(events: EventRecorder) -> list[str]:
    return [e["status"] for e in events.of("printer_connection_progress")]


async def test_connection_progress_once_per_transition(
    hass: HomeAssistant, sim: BambuSimulator, events: EventRecorder
) -> None:
    entry = MockConfigEntry(domain="printernizer", title="P1P", unique_id=SERIAL, data=_data(sim))
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert _progress(events) == ["connecting", "connected", "monitoring"]
    assert events.names().index("printer_monitoring_started") > events.names().index(
        "printer_connected"
    )
    await sim.restart_broker()
    await wait_for(hass, lambda: len(events.of("printer_connected")) == 2)
    await wait_for(hass, lambda: _progress(events)[-1] == "monitoring")
    first = ["connecting", "connected", "monitoring"]
    assert _progress(events) == [*first, "failed", *first]
    await hass.config_entries.async_unload(entry.entry_id)


async def test_wrong_access_code_at_setup(
    hass: HomeAssistant, sim: BambuSimulator, events: EventRecorder
) -> None:
    entry = MockConfigEntry(
        domain="printernizer", title="P1P", unique_id=SERIAL, data=_data(sim, access_code="bad")
    )
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert _progress(events) == ["connecting", "error"]
    assert events.of("printer_status_update") == []
    assert events.of("printer_monitoring_started") == []


async def test_reconnect_with_nothing_changed(
    hass: HomeAssistant, entry: MockConfigEntry, sim: BambuSimulator, events: EventRecorder
) -> None:
    """After a lost connection the same state comes back: entities must follow."""
    await sim.start_print("long.3mf", total_layers=100)
    await sim.set_progress(30)
    await sim.pause()
    await wait_for(hass, lambda: hass.states.get(STATUS).state == "paused")
    await sim.restart_broker()
    await wait_for(hass, lambda: len(events.of("printer_connected")) == 1)
    await wait_for(hass, lambda: hass.states.get(STATUS).state == "paused")
    assert hass.states.get(PROGRESS).state == "30"
    assert hass.states.get("button.p1p_resume_print").state != STATE_UNAVAILABLE


async def test_discovered_printer_with_unverifiable_certificate(
    hass: HomeAssistant, sim: BambuSimulator, listener_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The confirm step of a discovered printer offers the unverified connection as well."""
    monkeypatch.setattr(tls, "shipped_ca_pem", REAL_SHIPPED_CA_PEM)  # Bambu Lab's own CA
    await sim.send_announcement("127.0.0.1", listener_port)
    await wait_for(hass, lambda: len(_discovery_flows(hass)) == 1)
    flow = _discovery_flows(hass)[0]
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {"access_code": CODE})
    assert result["errors"] == {"base": "untrusted_certificate"}
    assert "insecure_tls" in result["data_schema"].schema
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {"access_code": CODE, "insecure_tls": True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"] == {"insecure_tls": True}
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED
    await _unload_all(hass)


async def test_simulator_restart_with_state_dir_reconnects(
    hass: HomeAssistant, events: EventRecorder, tmp_path: Path
) -> None:
    """The simulator keeps its CA (like a real printer its certificate): after a restart the
    integration, trusting the CA file of the first start, connects again."""
    first = BambuSimulator(serial=SERIAL, access_code=CODE, name="P1P", state_dir=tmp_path)
    await first.start()
    port = first.mqtt_port
    entry = MockConfigEntry(
        domain="printernizer",
        title="P1P",
        unique_id=SERIAL,
        data={**_data(first), "host": f"127.0.0.1:{port}", "ca_file": first.ca_file},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await first.stop()
    await wait_for(hass, lambda: len(events.of("printer_disconnected")) == 1)
    again = BambuSimulator(
        serial=SERIAL, access_code=CODE, name="P1P", state_dir=tmp_path, mqtt_port=port
    )
    await again.start()
    try:
        await wait_for(hass, lambda: len(events.of("printer_connected")) == 2)
        assert hass.states.get(CONNECTION).state == "on"
        messages = [e.get("message") or "" for e in events.of("printer_connection_progress")]
        assert not any("not issued" in m for m in messages)
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await again.stop()
