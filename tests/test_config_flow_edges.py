"""Config flow paths the family tests do not walk: unusual errors, DHCP confirm, options."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.config_entries import SOURCE_DHCP, SOURCE_INTEGRATION_DISCOVERY
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printernizer import clients, config_flow
from custom_components.printernizer.api.models import PrinterInfo
from simulator.prusalink import PrusaLinkSimulator

PASSWORD = "secret-pass"


@pytest.fixture(autouse=True)
def _local_sockets(socket_enabled: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clients, "PRUSALINK_TIMEOUT", 0.5)


@pytest.fixture
async def no_serial_sim() -> AsyncIterator[PrusaLinkSimulator]:
    simulator = PrusaLinkSimulator(password=PASSWORD, serial=None, hostname="prusa-mini")
    await simulator.start()
    yield simulator
    await simulator.stop()


async def _unload_all(hass: HomeAssistant) -> None:
    for entry in hass.config_entries.async_entries("printernizer"):
        await hass.config_entries.async_unload(entry.entry_id)


class _Broken:
    """A client whose connect fails in a way no client should (a bug)."""

    info = None

    async def async_connect(self) -> None:
        raise RuntimeError("bug")

    async def async_disconnect(self) -> None:
        return None


async def test_validate_maps_unexpected_failures(hass: HomeAssistant) -> None:
    data = {"family": "prusa", "host": "http://192.0.2.1", "username": "maker", "password": "x"}
    with patch.object(clients, "create_client", return_value=_Broken()):
        assert await config_flow.async_validate(hass, data) == (None, "unknown")
    with patch.object(clients, "create_client", side_effect=ValueError("bad host")):
        assert await config_flow.async_validate(hass, data) == (None, "invalid_host")


def test_options_only_for_bambu() -> None:
    bambu = MockConfigEntry(domain="printernizer", data={"family": "bambu_lab"})
    prusa = MockConfigEntry(domain="printernizer", data={"family": "prusa"})
    assert config_flow.PrinternizerConfigFlow.async_supports_options_flow(bambu)
    assert not config_flow.PrinternizerConfigFlow.async_supports_options_flow(prusa)


def test_bambu_title_prefers_the_printer_name() -> None:
    info = PrinterInfo(serial="01P00A000000001", model="P1S", name="Workshop")
    assert config_flow._bambu_title(info, "01P00A000000001") == "Workshop"
    info = PrinterInfo(serial="01P00A000000001", model="P1S")
    assert config_flow._bambu_title(info, "01P00A000000001") == "P1S 0001"


async def test_dhcp_confirm_without_serial_and_with_a_wrong_password(
    hass: HomeAssistant, no_serial_sim: PrusaLinkSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # another family's entry is skipped when looking for a printer that moved
    MockConfigEntry(
        domain="printernizer", unique_id="01P00A000000001", data={"family": "bambu_lab"}
    ).add_to_hass(hass)
    monkeypatch.setattr(config_flow, "PRUSALINK_DHCP_PORT", no_serial_sim.port)
    result: dict[str, Any] = await hass.config_entries.flow.async_init(
        "printernizer",
        context={"source": SOURCE_DHCP},
        data=DhcpServiceInfo(ip="127.0.0.1", hostname="prusa-mini", macaddress="109c70000001"),
    )
    assert result["step_id"] == "prusa_confirm"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"username": "maker", "password": "wrong"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"username": "maker", "password": PASSWORD}
    )
    assert result["step_id"] == "prusa_no_serial"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["mac"] == "109c70000001"
    await hass.async_block_till_done()
    await _unload_all(hass)


async def test_reconfigure_refuses_an_invalid_host(
    hass: HomeAssistant, no_serial_sim: PrusaLinkSimulator
) -> None:
    entry = MockConfigEntry(
        domain="printernizer",
        title="Prusa MINI",
        unique_id="prusalink_prusa_mini",
        data={
            "family": "prusa",
            "host": no_serial_sim.url,
            "username": "maker",
            "password": PASSWORD,
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": "ftp://printer"}
    )
    assert result["errors"] == {"host": "invalid_host"}
    assert entry.data["host"] == no_serial_sim.url  # nothing changed
    await _unload_all(hass)


async def test_bambu_discovery_keeps_a_non_standard_port(hass: HomeAssistant) -> None:
    known = MockConfigEntry(
        domain="printernizer",
        unique_id="01P00A000000001",
        data={"family": "bambu_lab", "host": "192.0.2.77:18883", "serial": "01P00A000000001"},
    )
    known.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        "printernizer",
        context={"source": SOURCE_INTEGRATION_DISCOVERY},
        data={"serial": "01p00a000000001", "host": "192.0.2.80"},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert known.data["host"] == "192.0.2.80:18883"
