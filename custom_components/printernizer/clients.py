"""Build the protocol client for a config entry (the one place that knows the families)."""

from __future__ import annotations

from typing import Any

import httpx
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.httpx_client import SERVER_SOFTWARE, USER_AGENT
from homeassistant.util.ssl import client_context

# Imported with the integration (in the executor, by Home Assistant's loader): a lazy
# import in async_setup_entry would read aioftp's and paho's files on the event loop.
from .api.bambu.client import BambuClient
from .api.models import PrinterClient
from .api.prusalink.client import PrusaLinkClient
from .const import (
    CONF_ACCESS_CODE,
    CONF_CA_FILE,
    CONF_FAMILY,
    CONF_FTPS_PORT,
    CONF_INSECURE_TLS,
    CONF_SERIAL,
    FAMILY_BAMBU,
    FAMILY_PRUSA,
)

DEFAULT_BAMBU_PORT = 8883
#: Seconds a Bambu Lab printer has to echo a command.
BAMBU_COMMAND_TIMEOUT = 10.0
#: Seconds for each PrusaLink request.
PRUSALINK_TIMEOUT = 10.0
#: A PrusaLink printer's own connection pool: Home Assistant's keep-alive time
#: (15 s, as its shared client), at most a few idle connections to the one host.
PRUSALINK_LIMITS = httpx.Limits(max_keepalive_connections=4, keepalive_expiry=15)


def prusalink_http() -> httpx.AsyncClient:
    """A new HTTP client (connection pool) for one PrusaLink printer.

    Configured like Home Assistant's shared client (its SSL context, built
    when Home Assistant starts, and its User-Agent), but one per printer:
    httpcore scans the whole pool on every request, so one pool holding a
    connection per printer cost the square of the number of printers
    (BENCHMARKS.md, bench_scale). The PrusaLink client owns it: it is closed
    when the client disconnects (entry unload or reload, Home Assistant's
    stop, the end of the config flow's check).
    """
    return httpx.AsyncClient(
        verify=client_context(),
        headers={USER_AGENT: SERVER_SOFTWARE},
        limits=PRUSALINK_LIMITS,
    )


def split_host_port(value: str, default_port: int) -> tuple[str, int]:
    """Split ``host`` or ``host:port`` (IPv6 in brackets) into host and port."""
    value = value.strip()
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port = rest.removeprefix(":")
        return host, int(port) if port else default_port
    if value.count(":") == 1:
        host, port = value.split(":")
        return host, int(port)
    return value, default_port


def create_client(
    hass: HomeAssistant, data: dict[str, Any], options: dict[str, Any]
) -> PrinterClient:
    """Return a client for entry data (also used by the config flow to validate)."""
    family = data[CONF_FAMILY]
    if family == FAMILY_BAMBU:
        host, port = split_host_port(data[CONF_HOST], DEFAULT_BAMBU_PORT)
        return BambuClient(
            host,
            data[CONF_SERIAL],
            data[CONF_ACCESS_CODE],
            port=port,
            insecure_tls=bool(options.get(CONF_INSECURE_TLS, False)),
            # Not a user option: scripts/develop and the tests point it at the
            # simulator's CA. Absent for real printers (Bambu Lab's CA is used).
            ca_file=data.get(CONF_CA_FILE),
            command_timeout=BAMBU_COMMAND_TIMEOUT,
            # Not a user option either: the simulator's FTPS port (990 otherwise).
            **({"ftps_port": int(data[CONF_FTPS_PORT])} if data.get(CONF_FTPS_PORT) else {}),
        )
    if family == FAMILY_PRUSA:
        return PrusaLinkClient(
            prusalink_http,  # a factory: the client owns (opens, closes) its pool
            data[CONF_HOST],
            username=data.get(CONF_USERNAME) or "maker",
            password=data[CONF_PASSWORD],
            timeout=PRUSALINK_TIMEOUT,
            # Downloads: aiohttp streams big files faster than httpx (BENCHMARKS.md).
            session=async_get_clientsession(hass),
        )
    raise ValueError(f"unknown printer family {family!r}")
