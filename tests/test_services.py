"""Actions: good calls and bad input (translated errors, nothing changed)."""

from __future__ import annotations

import pytest
import voluptuous as vol
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.printernizer.api.models import CommandNotAllowedError, PrinterStatus

from .conftest import EventRecorder
from .fake_client import FakeClient

DOMAIN = "printernizer"


@pytest.fixture
async def device_id(hass: HomeAssistant, fake_entry: MockConfigEntry, use_fake: FakeClient) -> str:
    assert await hass.config_entries.async_setup(fake_entry.entry_id)
    await hass.async_block_till_done()
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "FAKE0001")})
    assert device is not None
    return device.id


async def _call(hass: HomeAssistant, service: str, data: dict, response: bool = False):
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=response
    )


async def test_job_actions(hass: HomeAssistant, device_id: str, events: EventRecorder) -> None:
    created = await _call(
        hass, "create_job", {"device_id": device_id, "job_name": "vase.3mf"}, response=True
    )
    job = created["job"]
    assert job["status"] == "pending"
    assert job["printer_id"] == "FAKE0001"
    assert events.of("job_created")[0]["job_id"] == job["job_id"]

    await _call(hass, "update_job", {"job_id": job["job_id"], "status": "running", "progress": 12})
    assert events.of("job_progress_updated")[0]["progress"] == 12
    assert events.of("job_status_changed")[0]["status"] == "running"
    assert len(events.of("job_started")) == 1

    listed = await _call(hass, "list_jobs", {"device_id": device_id}, response=True)
    assert [(j["job_id"], j["status"], j["progress"]) for j in listed["jobs"]] == [
        (job["job_id"], "running", 12)
    ]
    listed = await _call(hass, "list_jobs", {"status": "completed"}, response=True)
    assert listed["jobs"] == []

    await _call(hass, "update_job", {"job_id": job["job_id"], "status": "completed"})
    assert events.of("job_completed")[0]["status"] == "completed"

    await _call(hass, "delete_job", {"job_id": job["job_id"]})
    assert events.of("job_deleted")[0]["job_id"] == job["job_id"]
    assert (await _call(hass, "list_jobs", {}, response=True))["jobs"] == []


async def test_get_event_status(hass: HomeAssistant, device_id: str) -> None:
    status = await _call(hass, "get_event_status", {}, response=True)
    counts = status["event_counts"]
    assert len(counts) == 41
    assert counts["printer_connected"] == 1
    assert counts["printer_monitoring_started"] == 1
    assert counts["job_created"] == 0
    assert status["total_events"] == sum(counts.values())


@pytest.mark.parametrize(
    ("service", "data", "key"),
    [
        ("pause_print", {"device_id": "no-such-device"}, "unknown_device"),
        ("create_job", {"device_id": "no-such-device", "job_name": "x"}, "unknown_device"),
        ("update_job", {"job_id": "nope", "status": "running"}, "unknown_job"),
        ("update_job", {"job_id": "JOB"}, "nothing_to_update"),
        ("delete_job", {"job_id": "nope"}, "unknown_job"),
        # static checks: the schema rejects them before the handler runs
        ("update_job", {"job_id": "JOB", "status": "exploded"}, None),
        ("update_job", {"job_id": "JOB", "status": "running", "progress": 140}, None),
        ("update_job", {"job_id": "JOB", "progress": -1}, None),
        ("update_job", {"job_id": "JOB", "progress": "lots"}, None),
        ("update_job", {"job_id": "JOB", "progress": True}, None),
        ("list_jobs", {"status": "exploded"}, None),
    ],
)
async def test_bad_input_is_rejected_and_changes_nothing(
    hass: HomeAssistant,
    device_id: str,
    events: EventRecorder,
    service: str,
    data: dict,
    key: str | None,
) -> None:
    job = (
        await _call(hass, "create_job", {"device_id": device_id, "job_name": "a"}, response=True)
    )["job"]
    data = {k: (job["job_id"] if v == "JOB" else v) for k, v in data.items()}
    events.clear()
    with pytest.raises(ServiceValidationError if key else vol.Invalid) as err:
        await _call(hass, service, data, response=service == "list_jobs")
    if key is not None:
        assert isinstance(err.value, ServiceValidationError)
        assert err.value.translation_key == key
        assert err.value.translation_domain == DOMAIN
    assert events.events == []
    listed = await _call(hass, "list_jobs", {}, response=True)
    assert [(j["status"], j["progress"]) for j in listed["jobs"]] == [("pending", 0)]


async def test_progress_as_text_is_accepted(hass: HomeAssistant, device_id: str) -> None:
    job = (
        await _call(hass, "create_job", {"device_id": device_id, "job_name": "a"}, response=True)
    )["job"]
    updated = await _call(
        hass, "update_job", {"job_id": job["job_id"], "progress": "42.7"}, response=True
    )
    assert updated["job"]["progress"] == 42


async def test_rest_api_answers_400_for_static_checks(
    hass: HomeAssistant, device_id: str, hass_client: ClientSessionGenerator
) -> None:
    assert await async_setup_component(hass, "api", {})
    client = await hass_client()
    job = (
        await _call(hass, "create_job", {"device_id": device_id, "job_name": "a"}, response=True)
    )["job"]
    for body in (
        {"job_id": job["job_id"], "progress": 140},
        {"job_id": job["job_id"], "status": "exploded"},
    ):
        response = await client.post(f"/api/services/{DOMAIN}/update_job", json=body)
        assert response.status == 400, body
    response = await client.post(
        f"/api/services/{DOMAIN}/update_job", json={"job_id": job["job_id"], "progress": 50}
    )
    assert response.status == 200


async def test_refused_command_is_a_validation_error_without_traceback(
    hass: HomeAssistant,
    device_id: str,
    use_fake: FakeClient,
    events: EventRecorder,
    hass_ws_client: WebSocketGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    use_fake.update(status=PrinterStatus.PAUSED, job_name="a")
    await hass.async_block_till_done()
    use_fake.command_error = CommandNotAllowedError("Cannot pause while paused")
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "pause_print", {"device_id": device_id})
    assert err.value.translation_key == "command_not_allowed"
    # through the websocket API, as the UI calls it: an error answer, nothing logged
    ws = await hass_ws_client(hass)
    await ws.send_json_auto_id(
        {
            "type": "call_service",
            "domain": DOMAIN,
            "service": "pause_print",
            "service_data": {"device_id": device_id},
        }
    )
    answer = await ws.receive_json()
    assert answer["success"] is False
    assert answer["error"]["code"] == "service_validation_error"
    assert answer["error"]["translation_key"] == "command_not_allowed"
    assert "Unexpected exception" not in caplog.text
    assert events.of("print_paused") == []


async def test_device_of_another_integration(
    hass: HomeAssistant, device_id: str, events: EventRecorder
) -> None:
    other = MockConfigEntry(domain="other")
    other.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=other.entry_id, identifiers={("other", "x")}
    )
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "stop_print", {"device_id": device.id})
    assert err.value.translation_key == "unknown_device"


async def test_command_on_unloaded_printer(
    hass: HomeAssistant, device_id: str, fake_entry: MockConfigEntry, use_fake: FakeClient
) -> None:
    use_fake.update(status=PrinterStatus.PRINTING, job_name="a")
    await hass.config_entries.async_unload(fake_entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "pause_print", {"device_id": device_id})
    assert err.value.translation_key == "printer_not_loaded"
    assert use_fake.commands == []


async def test_translations_cover_every_error_key() -> None:
    import json
    from pathlib import Path

    root = Path(__file__).parents[1] / "custom_components" / DOMAIN
    strings = json.loads((root / "strings.json").read_text())
    assert strings == json.loads((root / "translations" / "en.json").read_text())
    source = "".join(p.read_text() for p in root.rglob("*.py"))
    import re

    keys = set(re.findall(r'translation_domain=DOMAIN,\s*translation_key="([a-z_]+)"', source))
    keys |= set(re.findall(r'_validation_error\(\s*"([a-z_]+)"', source))
    keys |= set(re.findall(r'\bkey = "([a-z_]+)"', source))  # chosen in code, then raised
    assert {"command_not_allowed", "command_timeout", "command_failed"} <= keys
    assert keys <= set(strings["exceptions"]), keys - set(strings["exceptions"])
