"""Prusa printers over PrusaLink (HTTP, digest or API-key auth). No Home Assistant import."""
