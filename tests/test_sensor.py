"""Sensors users read: print stage and active tray in words, remaining time, end time."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printernizer.api.models import PrinterStatus
from custom_components.printernizer.sensor import (
    PRINT_STAGE_OPTIONS,
    TRAY_OPTIONS,
    _active_tray,
    _print_stage,
)

from .fake_client import IDLE, FakeClient

STAGE = "sensor.workshop_x1_print_stage"
TRAY = "sensor.workshop_x1_ams_active_tray"
REMAINING = "sensor.workshop_x1_remaining_time"
END = "sensor.workshop_x1_end_time"


@pytest.fixture
def bambu_fake() -> FakeClient:
    return FakeClient(state=replace(IDLE, extra={"print_stage": -1, "ams_active_tray": 255}))


async def _setup(hass: HomeAssistant, entry: MockConfigEntry, fake: FakeClient) -> None:
    with patch("custom_components.printernizer.clients.create_client", return_value=fake):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (-1, "idle"),
        (2, "heatbed_preheating"),
        (16, "paused_user"),
        (255, "idle"),
        (99, "unknown"),
        ("7", "heating_hotend"),
        ("paused_user", "paused_user"),  # already in words
        ("garbage", "unknown"),
        (None, None),
    ],
)
def test_print_stage_words(code: int | str | None, expected: str | None) -> None:
    assert _print_stage(replace(IDLE, extra={"print_stage": code})) == expected
    assert expected is None or expected in PRINT_STAGE_OPTIONS


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "none"),
        (255, "none"),
        (254, "external"),
        (0, "ams_1_tray_1"),
        (1, "ams_1_tray_2"),
        (6, "ams_2_tray_3"),
        (15, "ams_4_tray_4"),
        (128, "ams_ht_1"),
        (135, "ams_ht_8"),
        (200, "unknown"),
        ("ams_2_tray_1", "ams_2_tray_1"),
        ("bogus", "unknown"),
        (True, "unknown"),
        (2.5, "unknown"),
    ],
)
def test_active_tray_words(value: object, expected: str) -> None:
    assert _active_tray(replace(IDLE, extra={"ams_active_tray": value})) == expected
    assert expected in TRAY_OPTIONS


async def test_enum_sensors_show_translatable_states(
    hass: HomeAssistant, fake_entry: MockConfigEntry, bambu_fake: FakeClient
) -> None:
    await _setup(hass, fake_entry, bambu_fake)
    assert hass.states.get(STAGE).state == "idle"
    assert hass.states.get(STAGE).attributes["options"] == PRINT_STAGE_OPTIONS
    assert hass.states.get(TRAY).state == "none"
    bambu_fake.update(
        status=PrinterStatus.PAUSED,
        job_name="a.3mf",
        extra={"print_stage": 16, "ams_active_tray": 5},
    )
    await hass.async_block_till_done()
    assert hass.states.get(STAGE).state == "paused_user"
    assert hass.states.get(TRAY).state == "ams_2_tray_2"
    bambu_fake.update(extra={"print_stage": 77, "ams_active_tray": 254})
    await hass.async_block_till_done()
    assert hass.states.get(STAGE).state == "unknown"  # a code not in the table
    assert hass.states.get(TRAY).state == "external"


async def test_remaining_time_in_hours(
    hass: HomeAssistant, fake_entry: MockConfigEntry, bambu_fake: FakeClient
) -> None:
    await _setup(hass, fake_entry, bambu_fake)
    bambu_fake.update(status=PrinterStatus.PRINTING, job_name="a.3mf", remaining_seconds=65520)
    await hass.async_block_till_done()
    state = hass.states.get(REMAINING)
    assert state.attributes["unit_of_measurement"] == UnitOfTime.HOURS
    assert float(state.state) == pytest.approx(18.2)


async def test_remaining_time_of_an_existing_entity_moves_to_hours(
    hass: HomeAssistant, fake_entry: MockConfigEntry, bambu_fake: FakeClient
) -> None:
    registry = er.async_get(hass)
    old = registry.async_get_or_create(
        "sensor",
        "printernizer",
        "FAKE0001_remaining_time",
        config_entry=fake_entry,
        suggested_object_id="workshop_x1_remaining_time",
    )
    registry.async_update_entity_options(
        old.entity_id, "sensor.private", {"suggested_unit_of_measurement": UnitOfTime.MINUTES}
    )
    await _setup(hass, fake_entry, bambu_fake)
    entry = registry.async_get(old.entity_id)
    assert entry.options["sensor.private"]["suggested_unit_of_measurement"] == UnitOfTime.HOURS
    bambu_fake.update(status=PrinterStatus.PRINTING, job_name="a.3mf", remaining_seconds=7200)
    await hass.async_block_till_done()
    assert hass.states.get(old.entity_id).attributes["unit_of_measurement"] == UnitOfTime.HOURS


async def test_user_chosen_unit_is_kept(
    hass: HomeAssistant, fake_entry: MockConfigEntry, bambu_fake: FakeClient
) -> None:
    registry = er.async_get(hass)
    old = registry.async_get_or_create(
        "sensor",
        "printernizer",
        "FAKE0001_remaining_time",
        config_entry=fake_entry,
        suggested_object_id="workshop_x1_remaining_time",
    )
    registry.async_update_entity_options(
        old.entity_id, "sensor", {"unit_of_measurement": UnitOfTime.MINUTES}
    )
    await _setup(hass, fake_entry, bambu_fake)
    bambu_fake.update(status=PrinterStatus.PRINTING, job_name="a.3mf", remaining_seconds=7200)
    await hass.async_block_till_done()
    assert hass.states.get(old.entity_id).attributes["unit_of_measurement"] == UnitOfTime.MINUTES


async def test_end_time_moves_only_by_five_minutes_or_a_new_job(
    hass: HomeAssistant,
    fake_entry: MockConfigEntry,
    bambu_fake: FakeClient,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to("2026-12-01 10:00:00+00:00")
    await _setup(hass, fake_entry, bambu_fake)
    bambu_fake.update(status=PrinterStatus.PRINTING, job_name="a.3mf", remaining_seconds=3600)
    await hass.async_block_till_done()
    first = hass.states.get(END).state
    assert first == "2026-12-01T11:00:00+00:00"
    # the estimate wobbles by up to four minutes: no new state
    for remaining in (3660, 3840, 3420, 3600 - 239):
        bambu_fake.update(remaining_seconds=remaining)
        await hass.async_block_till_done()
        assert hass.states.get(END).state == first
    # five minutes later than shown: a new state
    bambu_fake.update(remaining_seconds=3900)
    await hass.async_block_till_done()
    assert hass.states.get(END).state == "2026-12-01T11:05:00+00:00"
    # a new job always shows its own end time
    bambu_fake.update(job_name="b.3mf", remaining_seconds=3960)
    await hass.async_block_till_done()
    assert hass.states.get(END).state == "2026-12-01T11:06:00+00:00"
    freezer.tick(timedelta(minutes=30))
    bambu_fake.update(status=PrinterStatus.IDLE, remaining_seconds=None)
    await hass.async_block_till_done()
    assert hass.states.get(END).state == "unknown"
