"""Bounds of the FTPS folder walk (api/bambu/ftps.py) against the simulator on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging

import pytest
from bambu_helpers import make_client

from custom_components.printernizer.api.bambu import ftps
from simulator.bambu import BambuSimulator

pytestmark = pytest.mark.simulator


async def test_walk_stops_after_max_folders(
    sim: BambuSimulator, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Many sibling folders: at most MAX_FOLDERS LISTs, a partial listing, one warning."""
    monkeypatch.setattr(ftps, "MAX_FOLDERS", 10)

    def make_folders() -> None:
        for i in range(60):
            sim.ftps.put_file_sync(f"/cache/d{i:03}/part.3mf", b"x")

    await asyncio.get_running_loop().run_in_executor(None, make_folders)
    client = make_client(sim, ftps_port=sim.ftps_port)
    caplog.set_level(logging.DEBUG, logger=ftps.__name__)
    files = await client.async_list_files()
    # "/" plus 10 folders: /cache, /model, /timelapse, /sdcard, then 6 of /cache's children
    assert len(sim.ftps.data_connections) == 11
    nested = sorted(f.path for f in files if f.path.startswith("/cache/d"))
    assert nested == [f"/cache/d{i:03}/part.3mf" for i in range(6)]
    assert "/cache/benchy.3mf" in {f.path for f in files}
    # the next discovery finds the same: no second warning
    assert await client.async_list_files() == files
    capped = [r for r in caplog.records if "more than 10 folders" in r.getMessage()]
    assert [r.levelno for r in capped] == [logging.WARNING, logging.DEBUG]
