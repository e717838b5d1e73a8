"""Prusa printers over PrusaLink (HTTP, digest or API-key auth). No Home Assistant import."""

from __future__ import annotations

from .client import PrusaLinkClient, PrusaLinkTimeoutError, normalize_host

__all__ = ["PrusaLinkClient", "PrusaLinkTimeoutError", "normalize_host"]
