"""The blueprints load, validate and do what they say against a (fake) printer."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from homeassistant.components import automation
from homeassistant.components.blueprint import models
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from homeassistant.util.yaml import load_yaml_dict
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printernizer.api.models import PrinterStatus

from .fake_client import FakeClient

SOURCE = Path(__file__).parents[1] / "blueprints" / "automation" / "printernizer"
BLUEPRINTS = sorted(p.name for p in SOURCE.glob("*.yaml"))


def test_the_three_blueprints_exist() -> None:
    assert BLUEPRINTS == ["filament_low.yaml", "pause_on_smoke.yaml", "print_finished_notify.yaml"]


@pytest.mark.parametrize("name", BLUEPRINTS)
def test_blueprint_metadata_is_valid(name: str) -> None:
    blueprint = models.Blueprint(
        load_yaml_dict(str(SOURCE / name)),
        expected_domain=automation.DOMAIN,
        path=f"printernizer/{name}",
        schema=automation.config.AUTOMATION_BLUEPRINT_SCHEMA,
    )
    assert blueprint.domain == automation.DOMAIN
    assert blueprint.metadata["source_url"].endswith(f"/blueprints/automation/printernizer/{name}")


@pytest.fixture
def blueprint_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """The blueprints where Home Assistant looks for them (a private config folder)."""
    hass.config.config_dir = str(tmp_path)
    target = tmp_path / "blueprints" / "automation" / "printernizer"
    shutil.copytree(SOURCE, target)
    return target


def _use(name: str, inputs: dict[str, object]) -> dict[str, object]:
    return {"use_blueprint": {"path": f"printernizer/{name}", "input": inputs}}


async def _printer(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    device = dr.async_get(hass).async_get_device(identifiers={("printernizer", "FAKE0001")})
    assert device is not None
    return device.id


async def test_print_finished_notify(
    hass: HomeAssistant,
    blueprint_dir: Path,
    fake_entry: MockConfigEntry,
    use_fake: FakeClient,
    service_calls: list[ServiceCall],
) -> None:
    device_id = await _printer(hass, fake_entry)
    notify = [{"action": "test.automation", "data": {"message": "{{ job_name }} {{ status }}"}}]
    assert await async_setup_component(
        hass,
        automation.DOMAIN,
        {
            automation.DOMAIN: _use(
                "print_finished_notify.yaml",
                {"printer": device_id, "outcomes": ["failed"], "notify": notify},
            )
        },
    )
    for job, end in (("good.3mf", PrinterStatus.FINISHED), ("bad.3mf", PrinterStatus.FAILED)):
        use_fake.update(status=PrinterStatus.PRINTING, job_name=job, progress=0)
        await hass.async_block_till_done()
        use_fake.update(status=end)
        await hass.async_block_till_done()
    assert [c.data["message"] for c in service_calls if c.domain == "test"] == ["bad.3mf failed"]


async def test_pause_on_smoke(
    hass: HomeAssistant,
    blueprint_dir: Path,
    fake_entry: MockConfigEntry,
    use_fake: FakeClient,
) -> None:
    await _printer(hass, fake_entry)
    hass.states.async_set("binary_sensor.smoke", "off", {"device_class": "smoke"})
    assert await async_setup_component(
        hass,
        automation.DOMAIN,
        {automation.DOMAIN: _use("pause_on_smoke.yaml", {"detectors": ["binary_sensor.smoke"]})},
    )
    # idle: nothing to pause, nothing sent
    hass.states.async_set("binary_sensor.smoke", "on", {"device_class": "smoke"})
    await hass.async_block_till_done()
    assert use_fake.commands == []
    hass.states.async_set("binary_sensor.smoke", "off", {"device_class": "smoke"})
    use_fake.update(status=PrinterStatus.PRINTING, job_name="a.3mf")
    await hass.async_block_till_done()
    hass.states.async_set("binary_sensor.smoke", "on", {"device_class": "smoke"})
    await hass.async_block_till_done()
    assert use_fake.commands == ["pause"]


async def test_filament_low(
    hass: HomeAssistant, blueprint_dir: Path, service_calls: list[ServiceCall]
) -> None:
    notify = [
        {"action": "test.automation", "data": {"message": "{{ material_name }} {{ remaining }}"}}
    ]
    assert await async_setup_component(
        hass,
        automation.DOMAIN,
        {automation.DOMAIN: _use("filament_low.yaml", {"notify": notify})},
    )
    hass.bus.async_fire(
        "printernizer_material_low_stock",
        {
            "material_id": "m1",
            "remaining_percentage": 12.4,
            "material_name": "PLA black",
            "timestamp": "2026-12-01T10:00:00+00:00",
        },
    )
    await hass.async_block_till_done()
    assert [c.data["message"] for c in service_calls if c.domain == "test"] == ["PLA black 12"]
