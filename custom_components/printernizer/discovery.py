"""Bambu Lab discovery: printers announce themselves by SSDP NOTIFY on UDP 2021/1990.

Home Assistant's own SSDP listener (port 1900) never hears these, so
Printernizer listens itself while it is loaded, and starts an integration
discovery flow for each printer it hears (once per printer and address).
"""

from __future__ import annotations

import logging
import time

from homeassistant.config_entries import SOURCE_INTEGRATION_DISCOVERY
from homeassistant.const import CONF_HOST, EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import discovery_flow

from .api.bambu.discovery import BambuAnnouncement, BambuDiscoveryListener
from .const import CONF_SERIAL, DOMAIN

_LOGGER = logging.getLogger(__name__)

#: The ports printers send their announcements to, and the address to listen on.
DISCOVERY_PORTS: tuple[int, ...] = (2021, 1990)
DISCOVERY_HOST = "0.0.0.0"  # noqa: S104
#: Seconds after which an announcement of an already seen printer is handled again.
REOFFER_AFTER = 600.0


async def async_start_discovery(hass: HomeAssistant) -> BambuDiscoveryListener | None:
    """Listen for Bambu Lab announcements until Home Assistant stops."""
    if not DISCOVERY_PORTS:
        return None
    # serial -> (address, when): printers announce every few seconds; one flow
    # per printer and address, offered again after a while (e.g. after the
    # user deleted the printer's entry).
    seen: dict[str, tuple[str, float]] = {}

    @callback
    def _announced(announcement: BambuAnnouncement) -> None:
        now = time.monotonic()
        last = seen.get(announcement.serial)
        if last is not None and last[0] == announcement.host and now - last[1] < REOFFER_AFTER:
            return
        seen[announcement.serial] = (announcement.host, now)
        _LOGGER.debug("Bambu Lab printer %s announced at %s", announcement.model, announcement.host)
        discovery_flow.async_create_flow(
            hass,
            DOMAIN,
            context={"source": SOURCE_INTEGRATION_DISCOVERY},
            data={
                CONF_HOST: announcement.host,
                CONF_SERIAL: announcement.serial,
                "model": announcement.model,
                "name": announcement.name,
            },
        )

    listener = BambuDiscoveryListener(_announced, ports=DISCOVERY_PORTS, host=DISCOVERY_HOST)
    await listener.start()

    @callback
    def _stop(_event: Event) -> None:
        listener.stop()

    hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, _stop)
    return listener
