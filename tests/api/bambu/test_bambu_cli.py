"""``python -m simulator bambu`` prints its ports, serves a client and exits on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import pytest
from bambu_helpers import CODE, SERIAL

from custom_components.printernizer.api.bambu.client import BambuClient
from custom_components.printernizer.api.models import PrinterStatus

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.simulator


@pytest.mark.parametrize("model", ["X1C", "A1"])
async def test_cli_runs_simulator(model: str) -> None:
    """The JSON line carries the ports and CA; a client connects; SIGTERM stops it."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simulator", "bambu", "--serial", SERIAL, "--access-code", CODE,
        "--port", "0", "--ftps-port", "0", "--model", model,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        async with asyncio.timeout(15):
            line = await proc.stdout.readline()
        info = json.loads(line)
        assert info["model"] == model
        assert info["mqtt_port"] > 0
        assert info["ftps_port"] > 0
        assert Path(info["ca_file"]).name == "ca.pem"
        client = BambuClient(
            "127.0.0.1", SERIAL, CODE, port=info["mqtt_port"], ca_file=info["ca_file"]
        )
        try:
            await client.async_connect()
            state = await client.async_poll()
        finally:
            await client.async_disconnect()
        if model == "X1C":
            assert state.status == PrinterStatus.FINISHED
            assert state.chamber_temp == 25.0
            assert state.job_name == "Garden Hose Healer: Male fitting"
        else:
            assert state.status == PrinterStatus.IDLE
            assert state.nozzle_temp == 27.8125
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(10):
            assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
