"""Fixtures for the Bambu protocol-layer tests: a simulator on 127.0.0.1 and clients."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import AsyncGenerator, Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

_ROOT = str(Path(__file__).resolve().parents[3])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
# keep hypothesis' cache out of the repository
set_hypothesis_home_dir(str(Path(tempfile.gettempdir()) / "printernizer-hypothesis"))

from bambu_helpers import CODE, SERIAL, make_client  # noqa: E402

from custom_components.printernizer.api.bambu.client import BambuClient  # noqa: E402
from simulator.bambu import BambuSimulator  # noqa: E402


@pytest.fixture(autouse=True)
def _loopback_sockets(socket_enabled: None) -> None:
    """Allow socket creation (pytest-socket still only lets 127.0.0.1 through)."""


@pytest.fixture
async def sim() -> AsyncGenerator[BambuSimulator]:
    """A started P1P simulator."""
    simulator = BambuSimulator(serial=SERIAL, access_code=CODE, model="P1P")
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


@pytest.fixture
async def client_factory(sim: BambuSimulator) -> AsyncGenerator[Callable[..., BambuClient]]:
    """Make clients for the simulator; all are disconnected at teardown."""
    clients: list[BambuClient] = []

    def factory(**kwargs: Any) -> BambuClient:
        client = make_client(sim, **kwargs)
        clients.append(client)
        return client

    try:
        yield factory
    finally:
        for client in clients:
            await client.async_disconnect()
