"""Protocol layer: printer clients with no Home Assistant import.

Everything below this package could live in a standalone library that Home
Assistant depends on. The core (``..core``) only sees :class:`PrinterClient`
and :class:`PrinterState`.
"""
