"""Bambu Lab printer simulator: MQTT over TLS, implicit FTPS, SSDP NOTIFY."""

from __future__ import annotations

from .simulator import BambuSimulator, load_fixture

__all__ = ["BambuSimulator", "load_fixture"]
