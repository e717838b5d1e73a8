"""Bambu Lab printers over LAN (MQTT over TLS, FTPS). No Home Assistant import."""
