"""Helpers for the Bambu protocol-layer tests (imported by the test modules)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from custom_components.printernizer.api.bambu.client import BambuClient
from custom_components.printernizer.api.models import ConnectionUpdate, PrinterState
from simulator.bambu import BambuSimulator

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bambu"
SERIAL = "01P00A000000001"
CODE = "12345678"


def load_report(name: str) -> dict[str, Any]:
    """Return the ``print`` report of a capture file."""
    data = json.loads((FIXTURES / name).read_text())
    report = data.get("pushall") or data.get("push_all")
    return report.get("print", report)


async def wait_for(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``cond`` until true; fail after ``timeout`` seconds (a bounded wait)."""
    async with asyncio.timeout(timeout):
        while not cond():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


class Recorder:
    """Collects listener calls."""

    def __init__(self) -> None:
        self.states: list[PrinterState] = []
        self.updates: list[ConnectionUpdate] = []

    def on_state(self, state: PrinterState) -> None:
        self.states.append(state)

    def on_connection(self, update: ConnectionUpdate) -> None:
        self.updates.append(update)

    @property
    def phases(self) -> list[str]:
        return [u.phase.value for u in self.updates]


def make_client(sim: BambuSimulator, **kwargs: Any) -> BambuClient:
    """A client for the simulator, trusting its CA."""
    options: dict[str, Any] = {
        "port": sim.mqtt_port,
        "ca_file": sim.ca_file,
        "command_timeout": 2.0,
        "connect_timeout": 5.0,
    }
    options.update(kwargs)
    return BambuClient(
        "127.0.0.1",
        kwargs.pop("serial", sim.serial),
        kwargs.pop("access_code", CODE),
        **{k: v for k, v in options.items() if k not in ("serial", "access_code")},
    )


#: Hypothesis strategies for report values: JSON scalars, and small nested lists/objects.
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=12,
)
