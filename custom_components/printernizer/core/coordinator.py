"""One coordinator per printer: connection, push or poll updates, and commands."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    HomeAssistantError,
    ServiceValidationError,
)
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from ..api.models import (
    CommandNotAllowedError,
    CommandTimeoutError,
    ConnectionPhase,
    ConnectionUpdate,
    PrinterAuthError,
    PrinterClient,
    PrinterError,
    PrinterIdentityError,
    PrinterState,
    PrinterStatus,
)
from ..const import DOMAIN
from .monitor import Command, PrinterMonitor

if TYPE_CHECKING:  # pragma: no cover
    from homeassistant.config_entries import ConfigEntry

_LOGGER = logging.getLogger(__name__)

#: A poll client is offline after this many failed polls in a row.
FAILED_POLLS_OFFLINE = 2
DEFAULT_POLL_INTERVAL = 30.0


class PrinterCoordinator(DataUpdateCoordinator[PrinterState]):
    """Keeps a printer's normalized state and its online flag."""

    config_entry: ConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        client: PrinterClient,
        monitor: PrinterMonitor,
    ) -> None:
        """Initialize the coordinator."""
        interval = None
        if not client.push:
            interval = timedelta(seconds=client.poll_interval or DEFAULT_POLL_INTERVAL)
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=interval,
            always_update=False,
        )
        self.client = client
        self.monitor = monitor
        self._failed_polls = 0
        self._auth_failed = False
        client.set_listeners(self._handle_push_state, self._handle_connection)

    @property
    def printer_id(self) -> str:
        """The printer's id in events (the entry's unique id)."""
        return self.monitor.printer_id

    @property
    def online(self) -> bool:
        """Whether the printer is reachable now."""
        return bool(self.monitor.online) and self.last_update_success

    # --- connecting ------------------------------------------------------------

    async def _async_setup(self) -> None:
        """Connect once before the first refresh."""
        self.monitor.connection_progress(ConnectionPhase.CONNECTING)
        try:
            await self.client.async_connect()
        except PrinterAuthError as err:
            self.monitor.connection_progress(ConnectionPhase.ERROR, str(err) or "not authorized")
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="invalid_auth"
            ) from err
        except PrinterIdentityError as err:
            self.monitor.connection_progress(ConnectionPhase.FAILED, str(err))
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="wrong_printer",
                translation_placeholders={"error": str(err)},
            ) from err
        except PrinterError as err:
            self.monitor.connection_progress(ConnectionPhase.FAILED, str(err) or "unreachable")
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="cannot_connect",
                translation_placeholders={"error": str(err)},
            ) from err
        if not self.client.push:
            # Push clients report CONNECTED themselves.
            self.monitor.connection_progress(ConnectionPhase.CONNECTED)
        self.monitor.set_online(True)

    async def _async_update_data(self) -> PrinterState:
        """Fetch (poll clients) or read (push clients) the state."""
        if self.client.push:
            return await self.client.async_poll()
        offline = self._failed_polls >= FAILED_POLLS_OFFLINE
        if offline:
            # Every poll of an offline printer is a reconnect attempt, reported
            # like a push client's: connecting, then failed or connected.
            self.monitor.connection_progress(ConnectionPhase.CONNECTING)
        try:
            state = await self.client.async_poll()
        except PrinterAuthError as err:
            self.monitor.connection_progress(ConnectionPhase.ERROR, str(err) or "not authorized")
            self._go_offline()
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="invalid_auth"
            ) from err
        except PrinterError as err:
            self._failed_polls += 1
            if self.data is None:
                # The first poll, right after connecting: the set-up fails (and is
                # retried); the printer connected, so it is reported gone again.
                self.monitor.connection_progress(ConnectionPhase.FAILED, str(err) or "unreachable")
                self.monitor.set_online(False)
                raise UpdateFailed(
                    translation_domain=DOMAIN,
                    translation_key="cannot_connect",
                    translation_placeholders={"error": str(err)},
                ) from err
            if self._failed_polls >= FAILED_POLLS_OFFLINE:
                self.monitor.connection_progress(ConnectionPhase.FAILED, str(err) or "unreachable")
                self.monitor.set_online(False)
                return replace(self.data, status=PrinterStatus.OFFLINE)
            return self.data
        finally:
            self._adjust_interval()
        self._failed_polls = 0
        if offline:
            self.monitor.connection_progress(ConnectionPhase.CONNECTED)
        self.monitor.set_online(True)
        if offline:
            self.monitor.connection_progress(ConnectionPhase.MONITORING)
        return state

    def _adjust_interval(self) -> None:
        if (interval := self.client.poll_interval) is not None:
            self.update_interval = timedelta(seconds=interval)

    # --- push clients --------------------------------------------------------

    @callback
    def _handle_push_state(self, state: PrinterState) -> None:
        if state == self.data:
            return
        if self.monitor.online is False and state.status is not PrinterStatus.OFFLINE:
            # A state only arrives over a live connection.
            self.monitor.set_online(True)
        self.async_set_updated_data(state)

    @callback
    def _handle_connection(self, update: ConnectionUpdate) -> None:
        self.monitor.connection_progress(update.phase, update.message)
        if update.phase in (ConnectionPhase.CONNECTED, ConnectionPhase.MONITORING):
            self.monitor.set_online(True)
            self.async_update_listeners()
        elif update.phase in (ConnectionPhase.FAILED, ConnectionPhase.ERROR):
            self._go_offline()
            if update.phase is ConnectionPhase.ERROR and not self._auth_failed:
                self._auth_failed = True
                self.config_entry.async_start_reauth(self.hass)

    @callback
    def _go_offline(self) -> None:
        self.monitor.set_online(False)
        if self.data is None:
            return  # still setting up: there is no state (and no entity) yet
        if self.data.status is not PrinterStatus.OFFLINE:
            self.data = replace(self.data, status=PrinterStatus.OFFLINE)
        self.async_update_listeners()

    @callback
    def async_update_listeners(self) -> None:
        """Hand every new state to the monitor, then update the entities."""
        if self.data is not None:
            self.monitor.process(self.data)
        super().async_update_listeners()

    # --- commands --------------------------------------------------------------

    async def async_command(self, command: Command) -> None:
        """Send pause/resume/stop; fire the print_* event once the printer confirmed."""
        if not self.online:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="printer_offline",
                translation_placeholders={"name": self.monitor.name},
            )
        placeholders = {"command": command, "name": self.monitor.name}
        try:
            await getattr(self.client, f"async_{command}")()
        except CommandNotAllowedError as err:
            # The user's request does not fit the printer's state (pause while
            # paused): a validation error, which Home Assistant shows without
            # logging a traceback.
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="command_not_allowed",
                translation_placeholders=placeholders,
            ) from err
        except CommandTimeoutError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="command_timeout",
                translation_placeholders={**placeholders, "error": str(err)},
            ) from err
        except PrinterError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="command_failed",
                translation_placeholders={**placeholders, "error": str(err)},
            ) from err
        self.monitor.command_confirmed(command)
        if not self.client.push:
            await self.async_request_refresh()

    async def async_shutdown(self) -> None:
        """Disconnect (the integration reports the end of monitoring, with its reason)."""
        await super().async_shutdown()
        await self.client.async_disconnect()
