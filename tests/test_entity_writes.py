"""Entities write their state only when what they show changed (issue 9, speed).

Against the Bambu Lab simulator (MQTT over TLS): a report that changes one
value writes that entity and no other; an unchanged entity's state is not
rewritten (its ``last_reported`` stays), and going offline still writes all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest
from homeassistant.const import EVENT_STATE_CHANGED, EVENT_STATE_REPORTED, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printernizer import clients
from custom_components.printernizer.ams_sensor import AmsTraySensor
from custom_components.printernizer.api.bambu import tls
from custom_components.printernizer.api.bambu.client import BambuClient
from simulator.bambu import BambuSimulator

from .conftest import wait_for

SERIAL = "01P00A000000001"
CODE = "12345678"
NOZZLE = "sensor.p1p_nozzle_temperature"
BED = "sensor.p1p_bed_temperature"
PROGRESS = "sensor.p1p_progress"
CONNECTION = "binary_sensor.p1p_connection"


@pytest.fixture(autouse=True)
def _fast(socket_enabled: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real sockets on 127.0.0.1; quick reconnects."""
    monkeypatch.setattr(BambuClient, "reconnect_min", 0.05)
    monkeypatch.setattr(BambuClient, "reconnect_max", 0.2)


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
    entry = MockConfigEntry(
        domain="printernizer",
        title="P1P",
        unique_id=SERIAL,
        data={
            "family": "bambu_lab",
            "host": f"127.0.0.1:{sim.mqtt_port}",
            "serial": SERIAL,
            "access_code": CODE,
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)


class Writes:
    """Counts state writes per entity: changed (``state_changed``) or not (``state_reported``)."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.changed: Counter[str] = Counter()
        self.reported: Counter[str] = Counter()
        self._unsubs = [
            hass.bus.async_listen(EVENT_STATE_CHANGED, self._on_changed),
            # Home Assistant requires a filter for this one (it is frequent).
            hass.bus.async_listen(EVENT_STATE_REPORTED, self._on_reported, event_filter=self._ours),
        ]

    @staticmethod
    @callback
    def _ours(data: Mapping[str, Any]) -> bool:
        return ".p1p_" in data["entity_id"]

    @callback
    def _on_changed(self, event: Event) -> None:
        self.changed[event.data["entity_id"]] += 1

    @callback
    def _on_reported(self, event: Event) -> None:
        self.reported[event.data["entity_id"]] += 1

    def clear(self) -> None:
        self.changed.clear()
        self.reported.clear()

    def stop(self) -> None:
        for unsub in self._unsubs:
            unsub()


async def test_only_the_changed_entity_is_written(
    hass: HomeAssistant, entry: MockConfigEntry, sim: BambuSimulator
) -> None:
    await sim.start_print()
    await sim.set_progress(10)
    await wait_for(hass, lambda: hass.states.get(PROGRESS).state == "10")
    await sim.update(nozzle_temper=200.0)
    await wait_for(hass, lambda: hass.states.get(NOZZLE).state == "200.0")
    bed_before = hass.states.get(BED)
    progress_before = hass.states.get(PROGRESS)
    assert bed_before is not None and progress_before is not None
    writes = Writes(hass)

    # A report that changes only the nozzle temperature.
    await sim.update(nozzle_temper=201.0)
    await wait_for(hass, lambda: hass.states.get(NOZZLE).state == "201.0")

    assert writes.changed == Counter({NOZZLE: 1})
    assert writes.reported == Counter()  # no entity rewritten unchanged
    bed_after, progress_after = hass.states.get(BED), hass.states.get(PROGRESS)
    assert bed_after is not None and progress_after is not None
    assert bed_after.last_reported == bed_before.last_reported
    assert progress_after.last_reported == progress_before.last_reported
    assert (bed_after.state, progress_after.state) == ("60.0", "10")

    # A report with the same values again (the printer repeats itself): no write at all.
    writes.clear()
    await sim.update(nozzle_temper=201.0, bed_temper=60.0)
    await sim.update(nozzle_temper=202.0)  # a later change shows the first one was handled
    await wait_for(hass, lambda: hass.states.get(NOZZLE).state == "202.0")
    assert writes.changed == Counter({NOZZLE: 1})
    assert writes.reported == Counter()

    # Progress moves several values (progress, layer, remaining time; not the end time's
    # 5-minute rule, nor the temperatures that stay): exactly those are written.
    writes.clear()
    await sim.set_progress(50)
    await wait_for(hass, lambda: hass.states.get(PROGRESS).state == "50")
    written = set(writes.changed)
    assert {PROGRESS, "sensor.p1p_current_layer", "sensor.p1p_remaining_time"} <= written
    assert NOZZLE in written  # set_progress reports 220 °C
    assert BED not in written  # and 60 °C, unchanged
    assert writes.reported == Counter()
    writes.stop()


async def test_going_offline_and_back_writes_the_unchanged_entities(
    hass: HomeAssistant, entry: MockConfigEntry, sim: BambuSimulator
) -> None:
    await sim.update(nozzle_temper=33.0)
    await wait_for(hass, lambda: hass.states.get(NOZZLE).state == "33.0")
    bed = hass.states.get(BED)
    assert bed is not None and bed.state != STATE_UNAVAILABLE
    shown: list[str] = []
    unsub = hass.bus.async_listen(
        EVENT_STATE_CHANGED,
        callback(
            lambda e: (
                shown.append(e.data["new_state"].state) if e.data["entity_id"] == BED else None
            )
        ),
    )

    # The connection drops and comes back; the printer's values are the same as before.
    await sim.restart_broker()
    await wait_for(hass, lambda: len(shown) >= 2)
    unsub()
    assert shown == [STATE_UNAVAILABLE, bed.state]  # unavailable, then its value again
    assert hass.states.get(NOZZLE).state == "33.0"
    assert hass.states.get(CONNECTION).state == "on"


async def test_ams_sensors_skip_reports_without_ams_changes(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    sim: BambuSimulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The parser keeps the AMS report object while it is unchanged: AMS sensors skip it."""
    looked: Counter[int] = Counter()
    original = AmsTraySensor._tray

    def counting(self: AmsTraySensor) -> Any:
        looked[self._index] += 1
        return original(self)

    remaining = "sensor.p1p_ams_1_tray_1_remaining"
    tray_type = "sensor.p1p_ams_1_tray_1_filament_type"
    assert hass.states.get(tray_type).state == "PLA"
    await sim.update(nozzle_temper=204.0)  # each sensor looks once after it was added
    await wait_for(hass, lambda: hass.states.get(NOZZLE).state == "204.0")
    monkeypatch.setattr(AmsTraySensor, "_tray", counting)
    await sim.update(nozzle_temper=205.0)
    await wait_for(hass, lambda: hass.states.get(NOZZLE).state == "205.0")
    assert looked == Counter()  # nothing to look at: the very same AMS report
    # an AMS change is looked at and shown
    ams = sim.state["ams"]
    ams["ams"][0]["tray"][0]["tray_type"] = "PETG"
    await sim.update(ams=ams)
    await wait_for(hass, lambda: hass.states.get(tray_type).state == "PETG")
    assert looked[0] > 0
    # offline and back: unavailable, then its value again
    shown: list[str] = []
    unsub = hass.bus.async_listen(
        EVENT_STATE_CHANGED,
        callback(
            lambda e: (
                shown.append(e.data["new_state"].state)
                if e.data["entity_id"] == remaining
                else None
            )
        ),
    )
    before = hass.states.get(remaining).state
    await sim.restart_broker()
    await wait_for(hass, lambda: len(shown) >= 2)
    unsub()
    assert shown == [STATE_UNAVAILABLE, before]
