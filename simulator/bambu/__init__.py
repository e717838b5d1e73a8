"""Bambu Lab printer simulator: MQTT over TLS, implicit FTPS, SSDP NOTIFY.

In tests::

    sim = BambuSimulator(serial="01P00A000000001", access_code="12345678", model="P1P")
    await sim.start()                    # ports picked when 0; sim.mqtt_port, sim.ftps_port
    client = BambuClient("127.0.0.1", sim.serial, sim.access_code,
                         port=sim.mqtt_port, ca_file=sim.ca_file)
    await sim.start_print("benchy.3mf", total_layers=100)
    await sim.set_progress(40)           # RUNNING, layer 40, remaining follows
    await sim.pause(); await sim.resume(); await sim.finish()  # or fail() / cancel()
    await sim.restart_broker()           # drop all MQTT sessions, same port
    await sim.stop()

From a shell: ``python -m simulator bambu --port 0 --ftps-port 0 --autoplay``
prints one JSON line (ports, CA file) and runs until SIGINT/SIGTERM.
"""

from __future__ import annotations

from .simulator import BambuSimulator, load_fixture

__all__ = ["BambuSimulator", "load_fixture"]
