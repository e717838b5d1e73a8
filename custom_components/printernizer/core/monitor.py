"""The monitor: turns a printer's connection and state changes into contract events."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Literal, cast

from homeassistant.core import HassJob, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.util import dt as dt_util

from .. import contract as c
from ..api.models import ConnectionPhase, PrinterState, PrinterStatus
from ..const import TEMPERATURE_EVENT_INTERVAL
from ..emitter import EventEmitter, timestamp
from .jobs import JobManager

_LOGGER = logging.getLogger(__name__)

Command = Literal["pause", "resume", "stop"]

#: Why a printer went away or its monitoring stopped (the extra key ``reason``
#: of printer_disconnected and printer_monitoring_stopped): the connection
#: was lost, the entry is reloading, Home Assistant is stopping, or the entry
#: was removed (deleted, disabled or unloaded).
StopReason = Literal["lost", "reload", "shutdown", "removed"]

_COMMAND_EVENTS: dict[str, Literal["print_paused", "print_resumed", "print_stopped"]] = {
    "pause": "print_paused",
    "resume": "print_resumed",
    "stop": "print_stopped",
}


def temperature_payload(state: PrinterState) -> dict[str, float]:
    """Temperatures for events: nozzle, bed, chamber (where reported), targets."""
    temps: dict[str, float] = {}
    for key, value in (
        ("nozzle", state.nozzle_temp),
        ("bed", state.bed_temp),
        ("chamber", state.chamber_temp),
        ("nozzle_target", state.nozzle_target),
        ("bed_target", state.bed_target),
    ):
        if value is not None:
            temps[key] = round(float(value), 1)
    return temps


def _same_status(a: c.PrinterStatusUpdate, b: c.PrinterStatusUpdate) -> bool:
    """Whether two status updates say the same (their timestamps aside)."""
    return all(
        a.get(key) == b.get(key)
        for key in ("printer_id", "status", "temperature", "progress", "current_job")
    )


class PrinterMonitor:
    """Per-printer event source; one per config entry."""

    def __init__(
        self,
        hass: HomeAssistant,
        emitter: EventEmitter,
        jobs: JobManager,
        *,
        printer_id: str,
        name: str,
        family: str,
        temperature_interval: float = TEMPERATURE_EVENT_INTERVAL,
    ) -> None:
        """Initialize the monitor."""
        self._hass = hass
        self._emitter = emitter
        self._jobs = jobs
        self.printer_id = printer_id
        self.name = name
        self.family = family
        self._temperature_interval = temperature_interval
        #: None until the first connection outcome is known
        self.online: bool | None = None
        self.last_seen: datetime | None = None
        self.state: PrinterState | None = None
        self._last_status_payload: c.PrinterStatusUpdate | None = None
        self._last_status_fired = 0.0
        self._pending_status: c.PrinterStatusUpdate | None = None
        self._cancel_flush: Callable[[], None] | None = None
        self._monitoring = False
        self._stopped = False
        self._last_phase: ConnectionPhase | None = None

    # --- lifecycle -----------------------------------------------------------

    @callback
    def started(self) -> None:
        """Monitoring began (entry set up; called once per monitor)."""
        self._monitoring = True
        self._emitter.fire(
            "printer_monitoring_started", {"printer_id": self.printer_id, "timestamp": timestamp()}
        )
        self.connection_progress(ConnectionPhase.MONITORING)

    @callback
    def stopped(self, reason: StopReason) -> None:
        """Monitoring stopped (entry unloaded or reloading, Home Assistant stopping).

        Fires printer_monitoring_stopped and, for a printer that was
        connected, printer_disconnected, both with ``reason``; so connected
        and disconnected alternate across reloads and restarts. Afterwards
        the monitor fires nothing.
        """
        if self._cancel_flush is not None:
            self._cancel_flush()
            self._cancel_flush = None
        if self._stopped:
            return
        self._stopped = True
        if self._monitoring:
            self._monitoring = False
            self._emitter.fire(
                "printer_monitoring_stopped",
                {"printer_id": self.printer_id, "timestamp": timestamp()},
                extra={"reason": reason},
            )
        if self.online:
            self._emitter.fire(
                "printer_disconnected",
                {"printer_id": self.printer_id, "name": self.name, "timestamp": timestamp()},
                extra={"reason": reason},
            )
        self.online = False

    # --- connection ----------------------------------------------------------

    @callback
    def connection_progress(self, phase: ConnectionPhase, message: str | None = None) -> None:
        """Report a step of a connection attempt, once per transition.

        Clients and the coordinator may both report a phase (a push client
        says "connecting" for every attempt, the coordinator for the first);
        a phase equal to the last one reported is not repeated.
        """
        if phase is self._last_phase or self._stopped:
            return
        self._last_phase = phase
        payload: c.PrinterConnectionProgress = {
            "printer_id": self.printer_id,
            "status": phase.value,
            "timestamp": timestamp(),
        }
        if message:
            payload["message"] = message
        elif phase in (ConnectionPhase.FAILED, ConnectionPhase.ERROR):
            payload["message"] = "connection failed"
        self._emitter.fire("printer_connection_progress", payload)

    @callback
    def set_online(self, online: bool) -> None:
        """Fire printer_connected / printer_disconnected once per transition."""
        if self._stopped:
            return
        if online:
            self.last_seen = dt_util.utcnow()
        if online == self.online:
            return
        was_known = self.online is not None
        self.online = online
        # log-when-unavailable: one line when lost, one when back.
        if not online and was_known:
            _LOGGER.info("Printer %s is unavailable", self.name)
        elif online and was_known:
            _LOGGER.info("Printer %s is back online", self.name)
        if online:
            self._emitter.fire(
                "printer_connected",
                {
                    "printer_id": self.printer_id,
                    "name": self.name,
                    "type": cast(c.PrinterType, self.family),  # a config entry's family
                    "timestamp": timestamp(),
                },
            )
        elif was_known:
            self._emitter.fire(
                "printer_disconnected",
                {"printer_id": self.printer_id, "name": self.name, "timestamp": timestamp()},
                extra={"reason": "lost"},
            )

    # --- state ---------------------------------------------------------------

    @callback
    def process(self, state: PrinterState) -> None:
        """Handle a new normalized state."""
        if self._stopped:
            return
        if state.status is not PrinterStatus.OFFLINE:
            self.last_seen = dt_util.utcnow()
        if state == self.state:
            return
        self.state = state
        self._status_update(state)
        self._jobs.track(self.printer_id, state)

    def _status_update(self, state: PrinterState) -> None:
        payload: c.PrinterStatusUpdate = {
            "printer_id": self.printer_id,
            "status": state.status.value,
            "temperature": temperature_payload(state),
            "progress": int(state.progress),
            "current_job": state.job_name if state.is_active else None,
            "timestamp": timestamp(),  # set again when fired
        }
        last = self._last_status_payload
        if last is not None and _same_status(payload, last):
            self._pending_status = None
            return
        only_temperature = last is not None and all(
            payload.get(k) == last.get(k) for k in ("status", "progress", "current_job")
        )
        now = time.monotonic()
        wait = self._last_status_fired + self._temperature_interval - now
        if only_temperature and wait > 0:
            self._pending_status = payload
            if self._cancel_flush is None:
                self._cancel_flush = async_call_later(
                    self._hass, wait, HassJob(self._flush, cancel_on_shutdown=True)
                )
            return
        self._fire_status(payload)

    @callback
    def _flush(self, _now: datetime) -> None:
        self._cancel_flush = None
        if self._pending_status is not None:
            self._fire_status(self._pending_status)

    def _fire_status(self, payload: c.PrinterStatusUpdate) -> None:
        if self._cancel_flush is not None:
            self._cancel_flush()
            self._cancel_flush = None
        self._pending_status = None
        self._last_status_payload = payload
        self._last_status_fired = time.monotonic()
        payload["timestamp"] = timestamp()
        self._emitter.fire("printer_status_update", payload)

    # --- control -------------------------------------------------------------

    @callback
    def command_confirmed(self, command: Command) -> None:
        """Fire print_paused / print_resumed / print_stopped after the printer confirmed."""
        # The three events share one payload shape.
        payload: c.PrintPaused = {"printer_id": self.printer_id, "timestamp": timestamp()}
        self._emitter.fire(_COMMAND_EVENTS[command], payload)
