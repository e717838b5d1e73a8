"""The one emitter: every Printernizer event reaches the bus through here."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.util import dt as dt_util

from .contract import EVENTS, validate

_LOGGER = logging.getLogger(__name__)


class ContractViolation(Exception):
    """A payload does not match the contract (a bug in Printernizer)."""


class EventEmitter:
    """Fire contract events on the Home Assistant bus and count them.

    ``strict`` makes a contract violation raise (the test suite turns it on);
    in production a violation is logged as an error and the event still fires,
    so automations keep working while the bug is reported.
    """

    #: Class-wide default; the tests set it to True.
    strict_default = False

    def __init__(self, hass: HomeAssistant, *, strict: bool | None = None) -> None:
        """Initialize the emitter."""
        self._hass = hass
        self._strict = self.strict_default if strict is None else strict
        self._counts: Counter[str] = Counter()
        self.started = dt_util.utcnow()

    @callback
    def fire(self, name: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Fire ``printernizer_<name>`` with ``payload``; return the data fired.

        Fills ``timestamp`` (UTC, ISO 8601 with offset) where the contract has
        one and the caller gave none. Must be called from the event loop.
        """
        spec = EVENTS.get(name)
        if spec is None:
            raise ContractViolation(f"unknown event {name!r}")
        data = dict(payload)
        if spec.has_timestamp and data.get("timestamp") is None:
            data["timestamp"] = dt_util.utcnow().isoformat()
        if problems := validate(name, data):
            if self._strict:
                raise ContractViolation(f"{name}: {'; '.join(problems)}")
            _LOGGER.error("Contract violation in %s (please report): %s", name, problems)
        self._counts[name] += 1
        self._hass.bus.async_fire(spec.event_type, data)
        return data

    @property
    def counts(self) -> dict[str, int]:
        """Events fired per type since start (every contract event, zeros included)."""
        return {name: self._counts.get(name, 0) for name in EVENTS}

    @property
    def total(self) -> int:
        """All events fired since start."""
        return sum(self._counts.values())

    def status(self) -> dict[str, Any]:
        """The counts as the document's ``get_status()`` reports them."""
        return {
            "started": self.started.isoformat(),
            "total_events": self.total,
            "event_counts": self.counts,
            "event_types": len(EVENTS),
        }
