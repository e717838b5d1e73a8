"""Bambu Lab printers over LAN (MQTT over TLS, FTPS). No Home Assistant import.

Modules:

* ``client``: :class:`~.client.BambuClient`, the ``PrinterClient`` for Bambu
  printers (paho-mqtt driven from the event loop, reconnect with backoff).
* ``parse``: pure decode / delta merge / normalization of ``print`` reports,
  model-code table.
* ``tls``: SSL context against Bambu Lab's CA (``certs/*.cert``), CN = serial.
* ``discovery``: SSDP-like NOTIFY parsing and a UDP listener (ports 2021/1990).
"""
