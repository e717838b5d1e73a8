"""Materials on the simulators: AMS trays and their entities over MQTT, the consumption seam.

The consumption tests here set the job's ``filament_used_g`` (the seam of
core/consumption.py, which wins over the file's estimate); the whole chain from
the print file's metadata is in test_chain_consumption.py.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.printernizer import clients
from custom_components.printernizer.api.bambu import tls
from custom_components.printernizer.api.bambu.client import BambuClient
from custom_components.printernizer.const import (
    CONF_ENTRY_KIND,
    DOMAIN,
    ENTRY_KIND_LIBRARY,
    LIBRARY_UNIQUE_ID,
    OPT_LIBRARY_FOLDER,
)
from custom_components.printernizer.core.materials import MaterialManager
from custom_components.printernizer.runtime import DATA_KEY
from simulator.bambu import BambuSimulator, load_fixture
from simulator.prusalink import PrusaLinkSimulator

from .conftest import EventRecorder, wait_for

BAMBU_SERIAL = "01P00A000000001"
FIXTURES = Path(__file__).parent / "fixtures" / "bambu"
CODE = "12345678"


@pytest.fixture(autouse=True)
def _fast(socket_enabled: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(BambuClient, "reconnect_min", 0.05)
    monkeypatch.setattr(BambuClient, "reconnect_max", 0.2)
    monkeypatch.setattr(clients, "PRUSALINK_TIMEOUT", 0.5)


def _library(hass: HomeAssistant, tmp_path: Path) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Printernizer library",
        unique_id=LIBRARY_UNIQUE_ID,
        data={CONF_ENTRY_KIND: ENTRY_KIND_LIBRARY},
        options={OPT_LIBRARY_FOLDER: str(tmp_path / "library")},
    )
    entry.add_to_hass(hass)
    return entry


def _materials(hass: HomeAssistant) -> MaterialManager:
    library = hass.data[DATA_KEY].library
    assert library is not None and library.materials is not None
    return library.materials


async def _unload_all(hass: HomeAssistant) -> None:
    for entry in hass.config_entries.async_entries(DOMAIN):
        await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


@pytest.fixture
async def bambu(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> AsyncIterator[BambuSimulator]:
    sim = BambuSimulator(serial=BAMBU_SERIAL, access_code=CODE, model="P1P", name="P1P")
    await sim.start()
    monkeypatch.setattr(tls, "shipped_ca_pem", lambda: sim.ca_pem)
    monkeypatch.setattr(clients, "DEFAULT_BAMBU_PORT", sim.mqtt_port)
    _library(hass, tmp_path)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="P1P",
        unique_id=BAMBU_SERIAL,
        data={
            "family": "bambu_lab",
            "host": f"127.0.0.1:{sim.mqtt_port}",
            "serial": BAMBU_SERIAL,
            "access_code": CODE,
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    yield sim
    await _unload_all(hass)
    await sim.stop()


@pytest.mark.parametrize(("end", "deducted"), [("finish", 30.0), ("cancel", 12.0)])
async def test_bambu_print_lowers_the_active_tray(
    hass: HomeAssistant, bambu: BambuSimulator, events: EventRecorder, end: str, deducted: float
) -> None:
    materials = _materials(hass)
    # P1P capture: four AMS trays and the external spool, no RFID, tray_now 0
    await wait_for(hass, lambda: len([m for m in materials.materials if m.loaded]) == 5)
    assert hass.states.get("sensor.p1p_ams_1_tray_1_remaining").state == "unknown"
    tray0 = materials.loaded_in(BAMBU_SERIAL, 0)
    assert tray0 is not None and tray0.remaining_weight == 1000
    await bambu.idle()
    await bambu.start_print("benchy.3mf", total_layers=50)
    await wait_for(hass, lambda: hass.data[DATA_KEY].jobs.printer_job(BAMBU_SERIAL) is not None)
    job = hass.data[DATA_KEY].jobs.printer_job(BAMBU_SERIAL)
    job.filament_used_g = 30.0  # the file metadata's grams (seam)
    events.clear()
    await bambu.set_progress(40)
    await wait_for(hass, lambda: job.progress == 40)
    # progress reports carry no AMS change: no material event
    assert events.of("material_updated") == []
    if end == "finish":
        await bambu.set_progress(100)
        await bambu.finish()
    else:
        await bambu.cancel()
    await wait_for(hass, lambda: not job.is_active)
    assert job.status == ("completed" if end == "finish" else "cancelled")
    assert materials.get(tray0.material_id).remaining_weight == 1000 - deducted
    assert job.material_ids == [tray0.material_id]
    assert job.consumed_g == deducted
    (updated,) = events.of("material_updated")
    assert updated["material"]["remaining_weight"] == 1000 - deducted


async def test_bambu_tray_change_over_mqtt(
    hass: HomeAssistant, bambu: BambuSimulator, events: EventRecorder
) -> None:
    materials = _materials(hass)
    await wait_for(hass, lambda: len(materials.materials) == 5)
    events.clear()
    ams = bambu.state["ams"]
    ams["ams"][0]["tray"][2] = {"id": "2"}  # spool taken out
    await bambu.update(ams=ams)
    await wait_for(hass, lambda: len([m for m in materials.materials if m.loaded]) == 4)
    assert len(events.of("material_updated")) == 1
    assert hass.states.get("sensor.p1p_ams_1_tray_3_filament_type").state == "unknown"


async def test_prusa_print_lowers_the_loaded_spool(
    hass: HomeAssistant, tmp_path: Path, freezer: FrozenDateTimeFactory
) -> None:
    sim = PrusaLinkSimulator(password="secret-pass", serial="SN-SIM-0001", hostname="prusa-mk4")
    await sim.start()
    try:
        _library(hass, tmp_path)
        entry = MockConfigEntry(
            domain=DOMAIN,
            title="Prusa MK4",
            unique_id="SN-SIM-0001",
            data={
                "family": "prusa",
                "host": sim.url,
                "username": "maker",
                "password": "secret-pass",
            },
        )
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "SN-SIM-0001")})
        created = await hass.services.async_call(
            DOMAIN,
            "create_material",
            {"material_type": "PETG", "weight": 1000, "cost_per_kg": 30, "device_id": device.id},
            blocking=True,
            return_response=True,
        )
        mid = created["material"]["material_id"]

        async def poll(seconds: float) -> None:
            freezer.tick(timedelta(seconds=seconds + 0.5))
            async_fire_time_changed(hass)
            await hass.async_block_till_done(wait_background_tasks=True)

        sim.start_print("benchy.bgcode")
        sim.set_progress(10)
        await poll(30)
        job = hass.data[DATA_KEY].jobs.printer_job("SN-SIM-0001")
        assert job is not None
        job.filament_used_g = 50.0  # the file metadata's grams (seam)
        sim.set_progress(60)
        await poll(5)
        sim.fail()
        await poll(5)
        assert job.status == "failed"
        assert _materials(hass).get(mid).remaining_weight == 1000 - 30.0  # 60 % of 50 g
        assert (job.material_ids, job.consumed_g, job.consumed_cost) == ([mid], 30.0, 0.9)
    finally:
        await _unload_all(hass)
        await sim.stop()


def _ams_entities(hass: HomeAssistant) -> list[str]:
    registry = er.async_get(hass)
    return sorted(
        e.unique_id
        for e in registry.entities.values()
        if e.platform == DOMAIN
        and e.unique_id.startswith(f"{BAMBU_SERIAL}_")
        and ("_ams" in e.unique_id or "_external_" in e.unique_id)
    )


async def test_ams_entities_follow_units_that_appear_later(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No AMS at set-up; an AMS, then a second unit, get their entities without a reload."""
    report, version = load_fixture(FIXTURES / "P1P.json")
    ams = copy.deepcopy(report.pop("ams"))
    vt_tray = report.pop("vt_tray")
    fixture = tmp_path / "P1P-no-ams.json"
    fixture.write_text(
        json.dumps({"push_all": {"print": report}, "get_version": {"info": version}})
    )
    sim = BambuSimulator(
        serial=BAMBU_SERIAL, access_code=CODE, model="P1P", name="P1P", fixture=fixture
    )
    await sim.start()
    try:
        monkeypatch.setattr(tls, "shipped_ca_pem", lambda: sim.ca_pem)
        monkeypatch.setattr(clients, "DEFAULT_BAMBU_PORT", sim.mqtt_port)
        entry = MockConfigEntry(
            domain=DOMAIN,
            title="P1P",
            unique_id=BAMBU_SERIAL,
            data={
                "family": "bambu_lab",
                "host": f"127.0.0.1:{sim.mqtt_port}",
                "serial": BAMBU_SERIAL,
                "access_code": CODE,
            },
        )
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        await wait_for(hass, lambda: hass.states.get("sensor.p1p_nozzle_temperature") is not None)
        assert _ams_entities(hass) == []

        # One AMS (four trays) and the external spool appear.
        await sim.update(ams=copy.deepcopy(ams), vt_tray=vt_tray)
        await wait_for(hass, lambda: hass.states.get("sensor.p1p_ams_1_humidity") is not None)
        one_unit = _ams_entities(hass)
        # per unit: humidity, temperature; per tray (4 + external): type, colour, remaining
        assert len(one_unit) == 2 + 5 * 3
        assert hass.states.get("sensor.p1p_ams_1_tray_4_filament_type").state == "PLA"
        assert hass.states.get("sensor.p1p_external_spool_remaining") is not None

        # A second unit is connected: its entities are added, none twice.
        second = copy.deepcopy(ams["ams"][0])
        second["id"] = "1"
        second["humidity"] = "4"
        for tray in second["tray"]:
            tray["tray_type"] = "PETG"
        two = copy.deepcopy(ams)
        two["ams"].append(second)
        await sim.update(ams=two)
        await wait_for(
            hass, lambda: hass.states.get("sensor.p1p_ams_2_tray_1_filament_type") is not None
        )
        both = _ams_entities(hass)
        assert len(both) == len(set(both)) == len(one_unit) + 2 + 4 * 3
        assert set(one_unit) < set(both)
        assert hass.states.get("sensor.p1p_ams_2_tray_1_filament_type").state == "PETG"
        assert hass.states.get("sensor.p1p_ams_2_humidity").attributes["humidity_level"] == 4
        assert hass.states.get("sensor.p1p_ams_1_tray_1_filament_type").state == "PLA"

        # The unit is taken away again: its entities stay, unknown; nothing is added.
        await sim.update(ams=copy.deepcopy(ams))
        await wait_for(
            hass,
            lambda: hass.states.get("sensor.p1p_ams_2_tray_1_filament_type").state == "unknown",
        )
        assert _ams_entities(hass) == both
        assert hass.states.get("sensor.p1p_ams_2_humidity").state == "unknown"
        assert hass.states.get("sensor.p1p_ams_1_tray_1_filament_type").state == "PLA"
    finally:
        await _unload_all(hass)
        await sim.stop()
