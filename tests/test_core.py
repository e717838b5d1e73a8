"""The printer-agnostic core with a fake printer: connection, status, jobs, control, background."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.printernizer.api.models import (
    CommandError,
    CommandNotAllowedError,
    CommandTimeoutError,
    ConnectionPhase,
    PrinterAuthError,
    PrinterConnectionError,
    PrinterIdentityError,
    PrinterStatus,
)

from .conftest import EventRecorder, printer_flows
from .fake_client import FakeClient

STATUS = "sensor.workshop_x1_status"
PROGRESS = "sensor.workshop_x1_progress"
CONNECTION = "binary_sensor.workshop_x1_connection"
PAUSE = "button.workshop_x1_pause_print"
RESUME = "button.workshop_x1_resume_print"
STOP = "button.workshop_x1_stop_print"


async def _setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def _press(hass: HomeAssistant, entity_id: str) -> None:
    await hass.services.async_call("button", "press", {"entity_id": entity_id}, blocking=True)


async def test_setup_fires_connection_and_monitoring_events(
    hass: HomeAssistant, fake_entry: MockConfigEntry, use_fake: FakeClient, events: EventRecorder
) -> None:
    await _setup(hass, fake_entry)
    assert fake_entry.state is ConfigEntryState.LOADED
    progress = [e["status"] for e in events.of("printer_connection_progress")]
    assert progress == ["connecting", "connected", "monitoring"]
    assert events.of("printer_connected") == [
        {
            "printer_id": "FAKE0001",
            "name": "Workshop X1",
            "type": "bambu_lab",
            "timestamp": events.of("printer_connected")[0]["timestamp"],
            "device_id": _device_id(hass),  # known before the first event
        }
    ]
    assert len(events.of("printer_monitoring_started")) == 1
    update = events.of("printer_status_update")[0]
    assert update["status"] == "idle"
    assert update["temperature"]["nozzle"] == 25.0
    assert update["temperature"]["chamber"] == 22.0
    assert hass.states.get(STATUS).state == "idle"
    assert hass.states.get(CONNECTION).state == "on"
    # nothing to pause, resume or stop while idle
    for button in (PAUSE, RESUME, STOP):
        assert hass.states.get(button).state == STATE_UNAVAILABLE


async def test_whole_print(
    hass: HomeAssistant, fake_entry: MockConfigEntry, use_fake: FakeClient, events: EventRecorder
) -> None:
    await _setup(hass, fake_entry)
    events.clear()
    fake = use_fake
    fake.update(status=PrinterStatus.PREPARING, job_name="benchy.3mf", printer_job_id="77")
    await hass.async_block_till_done()
    assert events.names()[:2] == ["printer_status_update", "job_created"]
    job_id = events.of("job_created")[0]["job_id"]
    assert events.of("job_created")[0]["job_name"] == "benchy.3mf"
    assert hass.states.get(PAUSE).state != STATE_UNAVAILABLE

    fake.update(
        status=PrinterStatus.PRINTING, progress=1, remaining_seconds=3600, layer=1, total_layers=100
    )
    await hass.async_block_till_done()
    assert [e["status"] for e in events.of("job_status_changed")] == ["running"]
    assert events.of("job_started") == [
        {
            "job_id": job_id,
            "printer_id": "FAKE0001",
            "job_name": "benchy.3mf",
            "timestamp": events.of("job_started")[0]["timestamp"],
            # extra key: the printer's device, for the device page's logbook
            "device_id": _device_id(hass),
        }
    ]
    assert hass.states.get(STATUS).state == "printing"
    assert hass.states.get("sensor.workshop_x1_current_job").state == "benchy.3mf"
    assert hass.states.get("sensor.workshop_x1_current_layer").state == "1"

    for progress in (1, 2, 2, 3):
        fake.update(progress=progress)
    await hass.async_block_till_done()
    assert [e["progress"] for e in events.of("job_progress_updated")] == [1, 2, 3]
    assert hass.states.get(PROGRESS).state == "3"

    # pause from the button: confirmed -> print_paused, job paused
    await _press(hass, PAUSE)
    await hass.async_block_till_done()
    assert fake.commands == ["pause"]
    assert len(events.of("print_paused")) == 1
    assert events.of("job_status_changed")[-1]["status"] == "paused"
    assert hass.states.get(PAUSE).state == STATE_UNAVAILABLE
    assert hass.states.get(RESUME).state != STATE_UNAVAILABLE

    # resume through the action
    device_id = _device_id(hass)
    await hass.services.async_call(
        "printernizer", "resume_print", {"device_id": device_id}, blocking=True
    )
    await hass.async_block_till_done()
    assert len(events.of("print_resumed")) == 1
    assert events.of("job_status_changed")[-1]["status"] == "running"
    assert len(events.of("job_started")) == 1  # started once

    fake.update(status=PrinterStatus.FINISHED, progress=100)
    await hass.async_block_till_done()
    completed = events.of("job_completed")
    assert len(completed) == 1
    assert completed[0]["status"] == "completed"
    assert completed[0]["job_id"] == job_id
    assert hass.states.get(STATUS).state == "finished"


@pytest.mark.parametrize(
    ("status", "cancelled", "outcome", "reason"),
    [
        (PrinterStatus.FAILED, False, "failed", None),
        (PrinterStatus.ERROR, False, "failed", None),
        (PrinterStatus.CANCELLED, True, "cancelled", None),
        # back without that print: nobody cancelled it
        (PrinterStatus.IDLE, False, "failed", "interrupted"),
    ],
)
async def test_job_outcomes(
    hass: HomeAssistant,
    fake_entry: MockConfigEntry,
    use_fake: FakeClient,
    events: EventRecorder,
    status: PrinterStatus,
    cancelled: bool,
    outcome: str,
    reason: str | None,
) -> None:
    await _setup(hass, fake_entry)
    use_fake.update(status=PrinterStatus.PRINTING, job_name="a.gcode", progress=40)
    use_fake.update(status=status, cancelled=cancelled)
    await hass.async_block_till_done()
    assert [e["status"] for e in events.of("job_completed")] == [outcome]
    assert [e.get("reason") for e in events.of("job_completed")] == [reason]
    assert hass.states.get(STATUS).state == status.value


async def test_drop_mid_print_and_back_without_it_is_interrupted(
    hass: HomeAssistant, fake_entry: MockConfigEntry, use_fake: FakeClient, events: EventRecorder
) -> None:
    await _setup(hass, fake_entry)
    use_fake.update(status=PrinterStatus.PRINTING, job_name="a.gcode", progress=40)
    await hass.async_block_till_done()
    use_fake.connection(ConnectionPhase.FAILED, "lost")
    await hass.async_block_till_done()
    assert events.of("job_completed") == []
    use_fake.connection(ConnectionPhase.CONNECTED)
    use_fake.update(status=PrinterStatus.PRINTING, job_name="b.gcode", progress=1)
    await hass.async_block_till_done()
    completed = events.of("job_completed")
    assert [(e["job_name"], e["status"], e.get("reason")) for e in completed] == [
        ("a.gcode", "failed", "interrupted")
    ]


async def test_stop_command(
    hass: HomeAssistant, fake_entry: MockConfigEntry, use_fake: FakeClient, events: EventRecorder
) -> None:
    await _setup(hass, fake_entry)
    use_fake.update(status=PrinterStatus.PRINTING, job_name="a.gcode", progress=40)
    await hass.async_block_till_done()
    await _press(hass, STOP)
    assert len(events.of("print_stopped")) == 1
    use_fake.update(status=PrinterStatus.CANCELLED, cancelled=True)
    await hass.async_block_till_done()
    assert events.of("job_completed")[0]["status"] == "cancelled"
    assert hass.states.get(STATUS).state == "cancelled"


@pytest.mark.parametrize(
    ("error", "key"),
    [
        (CommandNotAllowedError("409"), "command_not_allowed"),
        (CommandTimeoutError("no echo"), "command_timeout"),
        (CommandError("printer rejected pause"), "command_failed"),
    ],
)
async def test_unconfirmed_command_raises_and_fires_nothing(
    hass: HomeAssistant,
    fake_entry: MockConfigEntry,
    use_fake: FakeClient,
    events: EventRecorder,
    error: Exception,
    key: str,
) -> None:
    await _setup(hass, fake_entry)
    use_fake.update(status=PrinterStatus.PRINTING, job_name="a.gcode")
    await hass.async_block_till_done()
    use_fake.command_error = error  # type: ignore[assignment]
    with pytest.raises(HomeAssistantError) as err:
        await _press(hass, PAUSE)
    assert err.value.translation_key == key
    # a refused command is the user's bad request (no traceback), a timeout a failure
    assert isinstance(err.value, ServiceValidationError) is (key == "command_not_allowed")
    assert err.value.translation_placeholders["command"] == "pause"
    assert events.of("print_paused") == []


async def test_disconnect_and_reconnect_push(
    hass: HomeAssistant, fake_entry: MockConfigEntry, use_fake: FakeClient, events: EventRecorder
) -> None:
    await _setup(hass, fake_entry)
    use_fake.update(status=PrinterStatus.PRINTING, job_name="a.gcode", progress=10)
    await hass.async_block_till_done()
    events.clear()
    use_fake.connection(ConnectionPhase.FAILED, "connection lost")
    use_fake.connection(ConnectionPhase.FAILED, "retry failed")
    await hass.async_block_till_done()
    assert len(events.of("printer_disconnected")) == 1
    assert events.of("printer_disconnected")[0]["reason"] == "lost"
    assert hass.states.get(STATUS).state == STATE_UNAVAILABLE
    assert hass.states.get(CONNECTION).state == "off"
    assert events.of("job_completed") == []  # the job survives a disconnect

    use_fake.connection(ConnectionPhase.CONNECTED)
    use_fake.connection(ConnectionPhase.MONITORING)
    use_fake.update(progress=11)
    await hass.async_block_till_done()
    assert len(events.of("printer_connected")) == 1
    assert hass.states.get(STATUS).state == "printing"
    assert hass.states.get(PROGRESS).state == "11"
    assert events.of("job_created") == []
    assert [e["progress"] for e in events.of("job_progress_updated")] == [11]
    # a state arrives only over a live connection: it brings the printer back
    use_fake.connection(ConnectionPhase.FAILED)
    await hass.async_block_till_done()
    assert events.of("printer_connection_progress")[-1]["message"] == "connection failed"
    assert hass.states.get(STATUS).state == STATE_UNAVAILABLE
    use_fake.update(progress=12)
    await hass.async_block_till_done()
    assert len(events.of("printer_connected")) == 2
    assert hass.states.get(PROGRESS).state == "12"
    use_fake.connection(ConnectionPhase.FAILED, "gone")
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "printernizer", "pause_print", {"device_id": _device_id(hass)}, blocking=True
        )
    assert err.value.translation_key == "printer_offline"
    assert use_fake.commands == []


async def test_auth_error_while_running_starts_reauth(
    hass: HomeAssistant, fake_entry: MockConfigEntry, use_fake: FakeClient, events: EventRecorder
) -> None:
    await _setup(hass, fake_entry)
    use_fake.connection(ConnectionPhase.ERROR, "not authorized")
    await hass.async_block_till_done()
    assert events.of("printer_connection_progress")[-1]["status"] == "error"
    assert events.of("printer_connection_progress")[-1]["message"] == "not authorized"
    flows = printer_flows(hass)
    assert [f["context"]["source"] for f in flows] == ["reauth"]


async def test_setup_errors(
    hass: HomeAssistant, fake_entry: MockConfigEntry, use_fake: FakeClient, events: EventRecorder
) -> None:
    use_fake.connect_error = PrinterConnectionError("timed out")
    assert not await hass.config_entries.async_setup(fake_entry.entry_id)
    assert fake_entry.state is ConfigEntryState.SETUP_RETRY
    assert events.of("printer_connection_progress")[-1] == {
        "printer_id": "FAKE0001",
        "status": "failed",
        "message": "timed out",
        "timestamp": events.of("printer_connection_progress")[-1]["timestamp"],
        "device_id": _device_id(hass),
    }
    assert events.of("printer_monitoring_started") == []
    await hass.config_entries.async_unload(fake_entry.entry_id)


async def test_setup_wrong_printer(
    hass: HomeAssistant, fake_entry: MockConfigEntry, use_fake: FakeClient, events: EventRecorder
) -> None:
    """A printer that is not the configured one (serial, certificate): retried, never monitored."""
    use_fake.connect_error = PrinterIdentityError("certificate CN is 01S00C000000002")
    assert not await hass.config_entries.async_setup(fake_entry.entry_id)
    assert fake_entry.state is ConfigEntryState.SETUP_RETRY
    assert [(e["status"], e.get("message")) for e in events.of("printer_connection_progress")] == [
        ("connecting", None),
        ("failed", "certificate CN is 01S00C000000002"),
    ]
    assert events.of("printer_connected") == []
    assert events.of("printer_monitoring_started") == []
    await hass.config_entries.async_unload(fake_entry.entry_id)


async def test_poll_client_first_poll_fails(
    hass: HomeAssistant, fake_entry: MockConfigEntry, events: EventRecorder
) -> None:
    """Connected, but the first poll fails: set-up retried, and the printer reported gone."""
    from unittest.mock import patch

    fake = FakeClient(push=False, family="prusa")
    fake.go_away()
    hass.config_entries.async_update_entry(fake_entry, data={**fake_entry.data, "family": "prusa"})
    with patch("custom_components.printernizer.clients.create_client", return_value=fake):
        assert not await hass.config_entries.async_setup(fake_entry.entry_id)
    assert fake_entry.state is ConfigEntryState.SETUP_RETRY
    assert fake.polls == 1
    assert [(e["status"], e.get("message")) for e in events.of("printer_connection_progress")] == [
        ("connecting", None),
        ("connected", None),
        ("failed", "timed out"),
    ]
    # connected and disconnected alternate, also across set-up retries
    assert [n for n in events.names() if n in ("printer_connected", "printer_disconnected")] == [
        "printer_connected",
        "printer_disconnected",
    ]
    assert events.of("printer_disconnected")[0]["reason"] == "lost"
    assert events.of("printer_monitoring_started") == []
    await hass.config_entries.async_unload(fake_entry.entry_id)


async def test_setup_auth_error(
    hass: HomeAssistant, fake_entry: MockConfigEntry, use_fake: FakeClient
) -> None:
    use_fake.connect_error = PrinterAuthError("bad access code")
    assert not await hass.config_entries.async_setup(fake_entry.entry_id)
    assert fake_entry.state is ConfigEntryState.SETUP_ERROR
    flows = printer_flows(hass)
    assert [f["context"]["source"] for f in flows] == ["reauth"]


async def test_poll_client_offline_after_two_failures(
    hass: HomeAssistant,
    fake_entry: MockConfigEntry,
    events: EventRecorder,
    freezer: FrozenDateTimeFactory,
) -> None:
    from unittest.mock import patch

    fake = FakeClient(push=False, family="prusa")
    with patch("custom_components.printernizer.clients.create_client", return_value=fake):
        hass.config_entries.async_update_entry(
            fake_entry, data={**fake_entry.data, "family": "prusa"}
        )
        await _setup(hass, fake_entry)
    assert hass.states.get(STATUS).state == "idle"
    fake.state = fake.state.__class__(
        status=PrinterStatus.PRINTING, job_name="x.bgcode", progress=5, printer_job_id="9"
    )

    async def tick() -> None:
        freezer.tick(timedelta(seconds=fake.interval or 5))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()

    await tick()
    assert hass.states.get(STATUS).state == "printing"
    assert len(events.of("job_created")) == 1
    fake.go_away()
    await tick()
    assert hass.states.get(STATUS).state == "printing"  # one failed poll is not offline
    assert events.of("printer_disconnected") == []
    await tick()
    assert hass.states.get(STATUS).state == STATE_UNAVAILABLE
    assert len(events.of("printer_disconnected")) == 1
    await tick()
    assert len(events.of("printer_disconnected")) == 1
    fake.poll_error = None
    await tick()
    assert hass.states.get(STATUS).state == "printing"
    assert len(events.of("printer_connected")) == 2  # setup + back
    assert len(events.of("job_created")) == 1  # the same job continues
    # 401 while polling: error, reauth, no more polling
    fake.poll_error = PrinterAuthError("401")
    await tick()
    polls = fake.polls
    await tick()
    await tick()
    assert fake.polls == polls
    assert events.of("printer_connection_progress")[-1]["status"] == "error"
    flows = printer_flows(hass)
    assert [f["context"]["source"] for f in flows] == ["reauth"]


async def test_temperature_jitter_is_rate_limited(
    hass: HomeAssistant,
    fake_entry: MockConfigEntry,
    use_fake: FakeClient,
    events: EventRecorder,
    freezer: FrozenDateTimeFactory,
) -> None:
    await _setup(hass, fake_entry)
    events.clear()
    use_fake.update(nozzle_temp=25.5)
    use_fake.update(nozzle_temp=26.0)
    use_fake.update(nozzle_temp=26.5)
    await hass.async_block_till_done()
    assert events.of("printer_status_update") == []  # held back (< 5 s since the last one)
    # a status change is never held back
    use_fake.update(status=PrinterStatus.PREPARING, job_name="j")
    await hass.async_block_till_done()
    updates = events.of("printer_status_update")
    assert [u["status"] for u in updates] == ["preparing"]
    assert updates[0]["temperature"]["nozzle"] == 26.5
    use_fake.update(nozzle_temp=30.0)
    await hass.async_block_till_done()
    assert len(events.of("printer_status_update")) == 1
    freezer.tick(timedelta(seconds=6))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    updates = events.of("printer_status_update")
    assert len(updates) == 2
    assert updates[1]["temperature"]["nozzle"] == 30.0


async def test_background_monitoring(
    hass: HomeAssistant,
    fake_entry: MockConfigEntry,
    use_fake: FakeClient,
    events: EventRecorder,
    freezer: FrozenDateTimeFactory,
) -> None:
    await _setup(hass, fake_entry)
    events.clear()

    async def advance(seconds: int) -> None:
        for _ in range(seconds // 10):
            freezer.tick(timedelta(seconds=10))
            async_fire_time_changed(hass)
            await hass.async_block_till_done()

    await advance(10)
    assert events.of("job_update")[0]["active_jobs"] == 0
    assert events.of("job_update")[0]["job_updates"] == []
    use_fake.update(status=PrinterStatus.PRINTING, job_name="a.gcode", progress=5)
    await advance(10)
    update = events.of("job_update")[-1]
    assert update["active_jobs"] == 1
    assert len(update["job_updates"]) == 1
    assert update["job_updates"][0]["new_status"] == "running"
    assert update["job_updates"][0]["new_progress"] == 5
    await advance(10)
    assert events.of("job_update")[-1]["job_updates"] == []  # nothing changed
    assert len(events.of("printer_status")) == 1
    status = events.of("printer_status")[0]
    assert [(c["old_status"], c["new_status"]) for c in status["status_changes"]] == [
        ("unknown", "online")
    ]
    assert status["printers"][0]["status"] == "online"
    assert status["printers"][0]["current_job"] == "a.gcode"
    use_fake.connection(ConnectionPhase.FAILED, "lost")
    await advance(30)
    status = events.of("printer_status")[-1]
    assert status["printers"][0]["status"] == "offline"
    assert [(c["old_status"], c["new_status"]) for c in status["status_changes"]] == [
        ("online", "offline")
    ]
    use_fake.connection(ConnectionPhase.CONNECTED)
    use_fake.update(status=PrinterStatus.FINISHED, progress=100)
    await advance(10)
    ended = events.of("job_update")[-1]["job_updates"]
    assert [(u["old_status"], u["new_status"]) for u in ended] == [("running", "completed")]
    assert events.of("job_update")[-1]["active_jobs"] == 0

    # unloading the last printer stops background monitoring
    assert await hass.config_entries.async_unload(fake_entry.entry_id)
    await hass.async_block_till_done()
    assert len(events.of("printer_monitoring_stopped")) == 1
    assert events.of("printer_monitoring_stopped")[0]["reason"] == "removed"
    count = len(events.of("job_update"))
    await advance(30)
    assert len(events.of("job_update")) == count


async def test_restart_mid_print_continues_job(
    hass: HomeAssistant,
    fake_entry: MockConfigEntry,
    use_fake: FakeClient,
    events: EventRecorder,
    hass_storage: dict,
) -> None:
    hass_storage["printernizer.jobs"] = {
        "version": 1,
        "key": "printernizer.jobs",
        "data": {
            "jobs": [
                {
                    "job_id": "job-before-restart",
                    "printer_id": "FAKE0001",
                    "job_name": "a.gcode",
                    "status": "running",
                    "progress": 40,
                    "created_at": "2025-11-08T10:00:00+00:00",
                    "source": "printer",
                    "started_at": "2025-11-08T10:01:00+00:00",
                    "ended_at": None,
                    "printer_job_id": "5",
                }
            ]
        },
    }
    use_fake.state = use_fake.state.__class__(
        status=PrinterStatus.PRINTING, job_name="a.gcode", printer_job_id="5", progress=41
    )
    await _setup(hass, fake_entry)
    assert events.of("job_created") == []
    assert events.of("job_progress_updated")[0]["job_id"] == "job-before-restart"
    use_fake.update(status=PrinterStatus.FINISHED, progress=100)
    await hass.async_block_till_done()
    assert events.of("job_completed")[0]["job_id"] == "job-before-restart"


async def test_jobs_are_saved(
    hass: HomeAssistant,
    fake_entry: MockConfigEntry,
    use_fake: FakeClient,
    hass_storage: dict,
    freezer: FrozenDateTimeFactory,
) -> None:
    await _setup(hass, fake_entry)
    use_fake.update(status=PrinterStatus.PRINTING, job_name="saved.gcode", progress=3)
    await hass.async_block_till_done()
    freezer.tick(timedelta(seconds=5))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    jobs = hass_storage["printernizer.jobs"]["data"]["jobs"]
    assert [(j["job_name"], j["status"], j["progress"]) for j in jobs] == [
        ("saved.gcode", "running", 3)
    ]


def _device_id(hass: HomeAssistant) -> str:
    device = dr.async_get(hass).async_get_device(identifiers={("printernizer", "FAKE0001")})
    assert device is not None
    return device.id


async def test_job_closed_by_hand_is_not_recreated(
    hass: HomeAssistant, fake_entry: MockConfigEntry, use_fake: FakeClient, events: EventRecorder
) -> None:
    await _setup(hass, fake_entry)
    use_fake.update(status=PrinterStatus.PRINTING, job_name="a.gcode", progress=10)
    await hass.async_block_till_done()
    job_id = events.of("job_created")[0]["job_id"]
    await hass.services.async_call(
        "printernizer", "update_job", {"job_id": job_id, "status": "cancelled"}, blocking=True
    )
    use_fake.update(progress=11)  # the printer is still on that print
    await hass.async_block_till_done()
    assert len(events.of("job_created")) == 1
    # the same file printed again after the printer left that print: a new job
    use_fake.update(status=PrinterStatus.FINISHED, progress=100)
    use_fake.update(status=PrinterStatus.PRINTING, progress=1)
    await hass.async_block_till_done()
    assert len(events.of("job_created")) == 2


async def test_reprint_of_the_same_file_is_a_new_job(
    hass: HomeAssistant, fake_entry: MockConfigEntry, use_fake: FakeClient, events: EventRecorder
) -> None:
    await _setup(hass, fake_entry)
    for _ in range(2):
        use_fake.update(status=PrinterStatus.PREPARING, job_name="same.3mf", progress=0)
        use_fake.update(status=PrinterStatus.PRINTING, progress=50)
        use_fake.update(status=PrinterStatus.FINISHED, progress=100)
    await hass.async_block_till_done()
    assert [e["status"] for e in events.of("job_completed")] == ["completed", "completed"]
    assert len(events.of("job_created")) == 2


# --- stop of monitoring: reasons, and connected/disconnected alternate ---------


def _pairs(events: EventRecorder) -> list[tuple[str, str | None]]:
    wanted = ("printer_connected", "printer_disconnected", "printer_monitoring_stopped")
    return [(name, data.get("reason")) for name, data in events.events if name in wanted]


async def test_reload_fires_stop_events_between_connections(
    hass: HomeAssistant, fake_entry: MockConfigEntry, use_fake: FakeClient, events: EventRecorder
) -> None:
    await _setup(hass, fake_entry)
    hass.config_entries.async_update_entry(fake_entry, options={"insecure_tls": True})
    await hass.async_block_till_done()
    assert fake_entry.state is ConfigEntryState.LOADED
    assert _pairs(events) == [
        ("printer_connected", None),
        ("printer_monitoring_stopped", "reload"),
        ("printer_disconnected", "reload"),
        ("printer_connected", None),
    ]
    assert len(events.of("printer_monitoring_started")) == 2
    # a reload from the UI (not an options change) is a reload too
    events.clear()
    assert await hass.config_entries.async_reload(fake_entry.entry_id)
    await hass.async_block_till_done()
    assert _pairs(events) == [
        ("printer_monitoring_stopped", "reload"),
        ("printer_disconnected", "reload"),
        ("printer_connected", None),
    ]


async def test_removal_fires_stop_events(
    hass: HomeAssistant, fake_entry: MockConfigEntry, use_fake: FakeClient, events: EventRecorder
) -> None:
    await _setup(hass, fake_entry)
    await hass.config_entries.async_remove(fake_entry.entry_id)
    await hass.async_block_till_done()
    assert _pairs(events) == [
        ("printer_connected", None),
        ("printer_monitoring_stopped", "removed"),
        ("printer_disconnected", "removed"),
    ]
    assert not use_fake.connected


async def test_disabling_fires_stop_events(
    hass: HomeAssistant, fake_entry: MockConfigEntry, use_fake: FakeClient, events: EventRecorder
) -> None:
    from homeassistant.config_entries import ConfigEntryDisabler

    await _setup(hass, fake_entry)
    await hass.config_entries.async_set_disabled_by(fake_entry.entry_id, ConfigEntryDisabler.USER)
    await hass.async_block_till_done()
    assert _pairs(events)[1:] == [
        ("printer_monitoring_stopped", "removed"),
        ("printer_disconnected", "removed"),
    ]


async def test_home_assistant_stop_fires_stop_events(
    hass: HomeAssistant, fake_entry: MockConfigEntry, use_fake: FakeClient, events: EventRecorder
) -> None:
    from homeassistant.const import EVENT_HOMEASSISTANT_STOP

    await _setup(hass, fake_entry)
    use_fake.update(status=PrinterStatus.PRINTING, job_name="a.gcode", progress=10)
    await hass.async_block_till_done()
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    assert _pairs(events) == [
        ("printer_connected", None),
        ("printer_monitoring_stopped", "shutdown"),
        ("printer_disconnected", "shutdown"),
    ]
    assert not use_fake.connected
    assert events.of("job_completed") == []  # the print goes on; the job with it
    # nothing more from this monitor: not from a late report of the client ...
    events.clear()
    use_fake.update(status=PrinterStatus.FINISHED, progress=100)
    use_fake.connection(ConnectionPhase.FAILED, "closed")
    use_fake.update(progress=100, nozzle_temp=40.0)
    await hass.async_block_till_done()
    assert events.events == []
    # ... nor when the entry is unloaded later
    assert await hass.config_entries.async_unload(fake_entry.entry_id)
    await hass.async_block_till_done()
    assert _pairs(events) == []


async def test_unload_while_home_assistant_stops_is_a_shutdown(
    hass: HomeAssistant, fake_entry: MockConfigEntry, use_fake: FakeClient, events: EventRecorder
) -> None:
    """An entry unloaded once Home Assistant is stopping reports "shutdown" at once."""
    from homeassistant.core import CoreState

    await _setup(hass, fake_entry)
    hass.set_state(CoreState.stopping)
    try:
        assert await hass.config_entries.async_unload(fake_entry.entry_id)
        await hass.async_block_till_done()
    finally:
        hass.set_state(CoreState.running)
    assert _pairs(events) == [
        ("printer_connected", None),
        ("printer_monitoring_stopped", "shutdown"),
        ("printer_disconnected", "shutdown"),
    ]
    assert not use_fake.connected


async def test_not_connected_printer_stops_without_disconnected(
    hass: HomeAssistant, fake_entry: MockConfigEntry, use_fake: FakeClient, events: EventRecorder
) -> None:
    await _setup(hass, fake_entry)
    use_fake.connection(ConnectionPhase.FAILED, "lost")
    await hass.async_block_till_done()
    assert await hass.config_entries.async_reload(fake_entry.entry_id)
    await hass.async_block_till_done()
    assert _pairs(events) == [
        ("printer_connected", None),
        ("printer_disconnected", "lost"),
        ("printer_monitoring_stopped", "reload"),
        ("printer_connected", None),
    ]


async def test_first_printer_status_lists_every_printer(
    hass: HomeAssistant, events: EventRecorder, freezer: FrozenDateTimeFactory
) -> None:
    from unittest.mock import patch

    fakes = {"FAKE0001": FakeClient(serial="FAKE0001"), "FAKE0002": FakeClient(serial="FAKE0002")}
    entries = []
    for serial in fakes:
        entry = MockConfigEntry(
            domain="printernizer",
            title=serial,
            unique_id=serial,
            data={"family": "bambu_lab", "host": "192.0.2.1", "serial": serial, "access_code": "1"},
        )
        entry.add_to_hass(hass)
        entries.append(entry)

    def create(_hass: HomeAssistant, data: dict, _options: dict) -> FakeClient:
        return fakes[data["serial"]]

    with patch("custom_components.printernizer.clients.create_client", side_effect=create):
        await _setup(hass, entries[0])  # the integration sets up every entry
    assert [e.state for e in entries] == [ConfigEntryState.LOADED] * 2
    freezer.tick(timedelta(seconds=30))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    changes = events.of("printer_status")[0]["status_changes"]
    assert sorted((c["printer_id"], c["old_status"], c["new_status"]) for c in changes) == [
        ("FAKE0001", "unknown", "online"),
        ("FAKE0002", "unknown", "online"),
    ]


async def test_device_follows_reported_firmware_and_model(
    hass: HomeAssistant, fake_entry: MockConfigEntry, use_fake: FakeClient
) -> None:
    await _setup(hass, fake_entry)
    registry = dr.async_get(hass)
    device = registry.async_get(_device_id(hass))
    assert (device.model, device.sw_version, device.serial_number) == (
        "Fake X1",
        "1.2.3",
        "FAKE0001",
    )
    assert device.configuration_url is None  # Bambu Lab printers have no web interface
    # the printer updated its firmware (and reports a more precise model)
    use_fake._info = dataclasses.replace(use_fake._info, firmware="1.3.0", model="Fake X1 Carbon")
    use_fake.update(nozzle_temp=30.0)
    await hass.async_block_till_done()
    device = registry.async_get(_device_id(hass))
    assert (device.model, device.sw_version) == ("Fake X1 Carbon", "1.3.0")
    # a fact the printer stops reporting is not erased
    use_fake._info = dataclasses.replace(use_fake._info, firmware=None)
    use_fake.update(nozzle_temp=31.0)
    await hass.async_block_till_done()
    assert registry.async_get(_device_id(hass)).sw_version == "1.3.0"
