"""The Bambu simulator keeps its CA in a state folder, and its autoplay respects pause and stop."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from bambu_helpers import CODE, SERIAL, make_client, wait_for

from custom_components.printernizer.api.models import PrinterStatus
from simulator.bambu import BambuSimulator

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.simulator


def _exists(path: str) -> bool:
    return Path(path).exists()


def _read(path: str) -> str:
    return Path(path).read_text()


async def test_state_dir_keeps_the_ca_across_restarts(tmp_path: Path) -> None:
    """A client that trusts the CA of the first start connects after a restart."""
    first = BambuSimulator(serial=SERIAL, access_code=CODE, state_dir=tmp_path)
    await first.start()
    ca_pem, ca_file = first.ca_pem, first.ca_file
    trusted = tmp_path.parent / "trusted-ca.pem"  # what the integration was given
    trusted.write_text(ca_pem)
    await first.stop()
    assert _exists(ca_file)  # stop does not remove a state folder
    assert (tmp_path / "ca-key.pem").stat().st_mode & 0o077 == 0

    again = BambuSimulator(serial=SERIAL, access_code=CODE, state_dir=tmp_path)
    await again.start()
    try:
        assert again.ca_pem == ca_pem
        client = make_client(again, ca_file=str(trusted))
        try:
            await client.async_connect()
            assert (await client.async_poll()).status is PrinterStatus.FAILED
        finally:
            await client.async_disconnect()
    finally:
        await again.stop()

    # another serial: a new certificate from the same CA
    other = BambuSimulator(serial="01S00A000000002", access_code=CODE, state_dir=tmp_path)
    await other.start()
    try:
        assert other.ca_pem == ca_pem
        client = make_client(other, ca_file=str(trusted))
        try:
            await client.async_connect()
        finally:
            await client.async_disconnect()
    finally:
        await other.stop()


async def test_without_state_dir_every_start_has_a_new_ca() -> None:
    one = BambuSimulator(serial=SERIAL, access_code=CODE)
    await one.start()
    pem, ca_file = one.ca_pem, one.ca_file
    await one.stop()
    assert not _exists(ca_file)
    two = BambuSimulator(serial=SERIAL, access_code=CODE)
    await two.start()
    try:
        assert two.ca_pem != pem
    finally:
        await two.stop()


async def test_cli_state_dir(tmp_path: Path) -> None:
    """``--state-dir``: the CA file lies there, and the second run serves the same CA."""
    pems = []
    for _ in range(2):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "simulator", "bambu", "--serial", SERIAL,
            "--access-code", CODE, "--port", "0", "--ftps-port", "0",
            "--state-dir", str(tmp_path),
            cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        try:
            async with asyncio.timeout(15):
                line = await proc.stdout.readline()
            info = json.loads(line)
            assert Path(info["ca_file"]) == tmp_path / "ca.pem"
            pems.append(_read(info["ca_file"]))
            proc.send_signal(signal.SIGTERM)
            async with asyncio.timeout(10):
                assert await proc.wait() == 0
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert pems[0] == pems[1]


class _Trace:
    """Every state the simulator publishes: (gcode_state, task_id, mc_percent)."""

    def __init__(self, sim: BambuSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sim = sim
        self.states: list[tuple[Any, Any, Any]] = []
        update = sim.update

        async def traced(**changes: Any) -> None:
            await update(**changes)
            self.states.append(self.now())

        monkeypatch.setattr(sim, "update", traced)

    def now(self) -> tuple[Any, Any, Any]:
        state = self.sim.state
        return state.get("gcode_state"), state.get("task_id"), state.get("mc_percent")


@pytest.fixture
async def autoplay(monkeypatch: pytest.MonkeyPatch) -> Any:
    sim = BambuSimulator(serial=SERIAL, access_code=CODE, autoplay_step=0.01)
    trace = _Trace(sim, monkeypatch)
    await sim.start(autoplay=True)
    try:
        yield sim, trace
    finally:
        await sim.stop()


async def _ticks(sim: BambuSimulator, count: int) -> None:
    start = sim.autoplay_ticks
    await wait_for(lambda: sim.autoplay_ticks >= start + count)


# The tests change the print the way the simulator's command handler does
# (pause/resume/cancel; tests/api/bambu/test_bambu_client.py covers the MQTT
# command path), right when the condition holds: no race with the autoplay.


async def test_autoplay_holds_while_paused(autoplay: Any) -> None:
    sim, trace = autoplay
    await wait_for(lambda: trace.now()[0] == "RUNNING" and trace.now()[2] >= 10)
    await sim.pause()
    held = trace.now()
    assert held[0] == "PAUSE"
    await _ticks(sim, 20)  # far more than one progress step
    assert trace.now() == held
    mark = len(trace.states)
    await sim.resume()
    await wait_for(
        lambda: any(
            s[0] == "RUNNING" and s[1] == held[1] and s[2] > held[2] for s in trace.states[mark:]
        )
    )


async def test_autoplay_ends_a_stopped_print(autoplay: Any) -> None:
    sim, trace = autoplay
    await wait_for(lambda: trace.now()[0] == "RUNNING" and trace.now()[2] >= 10)
    await sim.cancel()
    stopped = trace.now()
    assert stopped[0] == "FAILED"
    assert sim.state["print_error"] == 50348044
    mark = len(trace.states) - 1
    await wait_for(lambda: trace.now()[1] != stopped[1])  # the next print began
    same_print = [s for s in trace.states[mark:] if s[1] == stopped[1]]
    assert {s[0] for s in same_print} == {"FAILED"}  # never RUNNING or FINISH again
    assert next(s[0] for s in trace.states[mark:] if s[1] != stopped[1]) == "PREPARE"
