"""clients.py: host[:port] parsing and the client for each family."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
import pytest_socket
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printernizer.api.bambu import tls
from custom_components.printernizer.clients import create_client, split_host_port
from simulator.bambu import BambuSimulator

SERIAL = "01P00A000000001"
CODE = "12345678"


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
