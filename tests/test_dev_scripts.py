"""scripts/develop: requirements installed at set-up (not by Home Assistant), a metric instance."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import homeassistant
import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from packaging.requirements import Requirement
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

ROOT = Path(__file__).resolve().parents[1]
COMPONENTS = Path(homeassistant.__file__).parent / "components"


def _module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _manifest_requirements(domain: str) -> list[str]:
    return json.loads((COMPONENTS / domain / "manifest.json").read_text())["requirements"]


def test_develop_runs_home_assistant_without_pip() -> None:
    script = (ROOT / "scripts" / "develop").read_text()
    hass_line = next(line for line in script.splitlines() if "/hass " in line)
    assert "--skip-pip" in hass_line
    # installed at set-up, the test pins (pycares) as constraints
    assert '-r "$DEV/requirements_dev.txt" -c requirements_test.txt' in script
    assert script.index("requirements_dev.txt") < script.index("/hass ")
    assert '--state-dir "$DEV/bambu-simulator"' in script


def test_dev_requirements_match_the_installed_home_assistant(tmp_path: Path) -> None:
    out = tmp_path / "requirements_dev.txt"
    subprocess.run(  # noqa: S603 (our own script, with this interpreter)
        [sys.executable, str(ROOT / "scripts" / "dev_requirements.py"), "--output", str(out)],
        check=True,
        cwd=ROOT,
    )
    lines = [ln for ln in out.read_text().splitlines() if ln and not ln.startswith("#")]
    names = {Requirement(line).name.lower(): line for line in lines}
    # the frontend at the version the installed Home Assistant pins, and the dhcp helpers
    for requirement in _manifest_requirements("frontend") + _manifest_requirements("dhcp"):
        assert requirement in lines
    assert "home-assistant-frontend" in names
    # nothing here may move what requirements_test.txt pins against
    assert "pycares" not in names
    assert "aiodns" not in names


@pytest.fixture
def dev_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    module = _module("dev_config")

    def run() -> Path:
        config = tmp_path / "config"
        monkeypatch.setattr(
            sys,
            "argv",
            [
                "dev_config.py", "--config", str(config), "--bambu-port", "18883",
                "--bambu-serial", "01P00A000000001", "--bambu-access-code", "12345678",
                "--bambu-ca", str(tmp_path / "ca.pem"), "--prusa-port", "18080",
                "--prusa-password", "pw", "--prusa-serial", "SN-1",
            ],
        )  # fmt: skip
        module.main()
        return config

    return run


def test_dev_configuration_is_metric(dev_config: Any) -> None:
    config = dev_config()
    assert "  unit_system: metric\n" in (config / "configuration.yaml").read_text()
    done = json.loads((config / ".storage" / "onboarding").read_text())["data"]["done"]
    assert "core_config" in done
    assert "user" not in done  # the owner account is still created in the browser
    # a later run keeps what onboarding recorded since
    path = config / ".storage" / "onboarding"
    store = json.loads(path.read_text())
    store["data"]["done"] = ["user", "core_config", "analytics", "integration"]
    path.write_text(json.dumps(store))
    dev_config()
    assert json.loads(path.read_text())["data"]["done"] == store["data"]["done"]


async def test_onboarding_skips_the_location_step(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    hass_client_no_auth: ClientSessionGenerator,
    tmp_path: Path,
) -> None:
    """Home Assistant's onboarding reads the seeded store: only the owner account is asked,
    and the location step (which would set the browser's guess of units) is refused."""
    storage = tmp_path / ".storage"
    storage.mkdir()
    _module("dev_config").seed_onboarding(storage)
    hass_storage["onboarding"] = json.loads((storage / "onboarding").read_text())
    assert await async_setup_component(hass, "onboarding", {})
    await hass.async_block_till_done()
    client = await hass_client_no_auth()
    response = await client.get("/api/onboarding")
    steps = {step["step"]: step["done"] for step in await response.json()}
    assert steps["user"] is False
    assert steps["core_config"] is True
    assert steps["analytics"] is True
