"""Printer-agnostic core: coordinators, the monitor that turns state changes into
contract events, job tracking and background monitoring."""
