"""clients.py: host[:port] parsing and the client for each family."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_socket
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers.httpx_client import get_async_client
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printernizer import clients
from custom_components.printernizer.api.bambu import tls
from custom_components.printernizer.clients import create_client, split_host_port
from custom_components.printernizer.config_flow import async_validate
from simulator.bambu import BambuSimulator
from simulator.prusalink import PrusaLinkSimulator

SERIAL = "01P00A000000001"
CODE = "12345678"
PASSWORD = "secret-pass"


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("192.0.2.10", ("192.0.2.10", 8883)),
        (" 192.0.2.10:18883 ", ("192.0.2.10", 18883)),
        ("printer.local", ("printer.local", 8883)),
        ("[fe80::1]:8884", ("fe80::1", 8884)),
        ("[::1]", ("::1", 8883)),
        ("[::1]:", ("::1", 8883)),
        # an IPv6 address without brackets has no port
        ("fe80::1", ("fe80::1", 8883)),
    ],
)
def test_split_host_port(value: str, expected: tuple[str, int]) -> None:
    assert split_host_port(value, 8883) == expected


@pytest.mark.parametrize("value", ["printer:port", "[::1]:x"])
def test_split_host_port_refuses_a_bad_port(value: str) -> None:
    """A ValueError, which the config flow shows as an invalid host."""
    with pytest.raises(ValueError, match="invalid literal"):
        split_host_port(value, 8883)


def test_unknown_family_is_refused(hass: HomeAssistant) -> None:
    with pytest.raises(ValueError, match="unknown printer family 'octoprint'"):
        create_client(hass, {"family": "octoprint", "host": "192.0.2.10"}, {})


@pytest.fixture
async def sim_ipv6(
    socket_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[BambuSimulator]:
    if not _ipv6_loopback():
        pytest.skip("no IPv6 loopback on this machine")
    # Home Assistant's test plugin allows connections to 127.0.0.1 only; the IPv6
    # loopback is this machine too (the plugin sets the list again for every test).
    pytest_socket.socket_allow_hosts(["127.0.0.1", "::1"], allow_unix_socket=True)
    simulator = BambuSimulator(serial=SERIAL, access_code=CODE, model="P1P", name="P1P", host="::1")
    await simulator.start()
    monkeypatch.setattr(tls, "shipped_ca_pem", lambda: simulator.ca_pem)
    yield simulator
    await simulator.stop()


async def test_bambu_printer_at_a_bracketed_ipv6_address(
    hass: HomeAssistant, sim_ipv6: BambuSimulator
) -> None:
    """``[::1]:port`` reaches the printer (the simulator listening on ::1 only)."""
    entry = MockConfigEntry(
        domain="printernizer",
        title="P1P",
        unique_id=SERIAL,
        data={
            "family": "bambu_lab",
            "host": f"[::1]:{sim_ipv6.mqtt_port}",
            "serial": SERIAL,
            "access_code": CODE,
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    # the simulator's report came over that connection (the P1P capture's state)
    assert hass.states.get("sensor.p1p_status").state == "failed"
    assert hass.states.get("binary_sensor.p1p_connection").state == "on"
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


def _prusa_data(sim: PrusaLinkSimulator) -> dict[str, str]:
    return {"family": "prusa", "host": sim.url, "username": "maker", "password": PASSWORD}


async def test_each_prusalink_printer_has_its_own_http_client_closed_on_unload(
    hass: HomeAssistant, socket_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One connection pool per PrusaLink printer (not Home Assistant's shared client),
    closed when its entry unloads or reloads, and after the config flow's check."""
    opened: list[httpx.AsyncClient] = []
    real = clients.prusalink_http

    def spy() -> httpx.AsyncClient:
        opened.append(http := real())
        return http

    monkeypatch.setattr(clients, "prusalink_http", spy)
    sims = [
        PrusaLinkSimulator(password=PASSWORD, serial=f"SN-POOL-{i}", hostname=f"prusa-{i}")
        for i in range(2)
    ]
    for sim in sims:
        await sim.start()
    try:
        # the config flow's check connects once and leaves nothing open
        info, error = await async_validate(hass, _prusa_data(sims[0]))
        assert error is None
        assert info is not None and info.serial == "SN-POOL-0"
        assert len(opened) == 1 and opened[0].is_closed
        opened.clear()

        entries = []
        for i, sim in enumerate(sims):
            entry = MockConfigEntry(
                domain="printernizer",
                title=f"Prusa {i}",
                unique_id=f"SN-POOL-{i}",
                data=_prusa_data(sim),
            )
            entry.add_to_hass(hass)
            assert await hass.config_entries.async_setup(entry.entry_id)
            entries.append(entry)
        await hass.async_block_till_done()
        assert hass.states.get("sensor.prusa_0_status").state == "idle"
        assert hass.states.get("sensor.prusa_1_status").state == "idle"
        shared = get_async_client(hass)
        assert len(opened) == 2
        assert opened[0] is not opened[1]
        assert shared not in opened
        assert not any(http.is_closed for http in opened)

        # a reload closes the old pool; the new entry set-up opens a new one
        assert await hass.config_entries.async_reload(entries[0].entry_id)
        await hass.async_block_till_done()
        assert opened[0].is_closed
        assert len(opened) == 3 and not opened[2].is_closed
        assert not opened[1].is_closed
        assert hass.states.get("sensor.prusa_0_status").state == "idle"

        for entry in entries:
            assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        assert all(http.is_closed for http in opened)
        assert not shared.is_closed  # Home Assistant's own client is left alone
    finally:
        for sim in sims:
            await sim.stop()
