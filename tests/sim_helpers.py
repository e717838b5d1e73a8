"""Set-up shared by the tests that run the integration against both printer simulators."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printernizer import clients
from custom_components.printernizer.api.bambu import tls
from custom_components.printernizer.api.bambu.client import BambuClient
from custom_components.printernizer.const import DOMAIN
from simulator.bambu import BambuSimulator
from simulator.prusalink import PrusaLinkSimulator

SERIAL = "01P00A000000001"
CODE = "12345678"
PRUSA_SERIAL = "SN-SIM-0001"
PASSWORD = "secret-pass"


def fast_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    """Quick Bambu reconnects and a short PrusaLink timeout (a test waits on them)."""
    monkeypatch.setattr(BambuClient, "reconnect_min", 0.05)
    monkeypatch.setattr(BambuClient, "reconnect_max", 0.2)
    monkeypatch.setattr(clients, "PRUSALINK_TIMEOUT", 2.0)


async def start_bambu(monkeypatch: pytest.MonkeyPatch, model: str = "P1P") -> BambuSimulator:
    """A started Bambu simulator whose CA the integration trusts (stop it when done)."""
    simulator = BambuSimulator(serial=SERIAL, access_code=CODE, model=model, name=model)
    await simulator.start()
    monkeypatch.setattr(tls, "shipped_ca_pem", lambda: simulator.ca_pem)
    return simulator


async def start_prusa() -> PrusaLinkSimulator:
    """A started PrusaLink simulator (stop it when done)."""
    simulator = PrusaLinkSimulator(password=PASSWORD, serial=PRUSA_SERIAL, hostname="prusa-mk4")
    await simulator.start()
    return simulator


def bambu_entry(hass: HomeAssistant, sim: BambuSimulator) -> MockConfigEntry:
    """The simulated Bambu printer's entry, with its FTPS port."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=sim.model,
        unique_id=SERIAL,
        data={
            "family": "bambu_lab",
            "host": f"127.0.0.1:{sim.mqtt_port}",
            "serial": SERIAL,
            "access_code": CODE,
            "ftps_port": sim.ftps_port,
        },
    )
    entry.add_to_hass(hass)
    return entry


def prusa_entry(hass: HomeAssistant, sim: PrusaLinkSimulator) -> MockConfigEntry:
    """The simulated PrusaLink printer's entry."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Prusa MK4",
        unique_id=PRUSA_SERIAL,
        data={"family": "prusa", "host": sim.url, "username": "maker", "password": PASSWORD},
    )
    entry.add_to_hass(hass)
    return entry


async def call(hass: HomeAssistant, service: str, data: dict[str, Any]) -> Any:
    """A Printernizer action, blocking, with its response."""
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=True
    )
