"""PrusaLinkClient against the simulator (real sockets on 127.0.0.1) and mocked transports."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from prusalink_helpers import ClientFactory, SimFactory, load_fixture

from custom_components.printernizer.api.models import (
    CommandError,
    CommandNotAllowedError,
    CommandTimeoutError,
    PrinterClient,
    PrinterConnectionError,
    PrinterInfo,
    PrinterNotSupportedError,
    PrinterStatus,
)
from custom_components.printernizer.api.prusalink import PrusaLinkClient
from custom_components.printernizer.api.prusalink import client as client_module
from simulator.prusalink import PrusaLinkSimulator


async def test_connect_reads_info(sim: PrusaLinkSimulator, make_client: ClientFactory) -> None:
    """Connect fills info, api_version, nozzle_diameter; the client is a PrinterClient."""
    client = make_client(sim)
    as_protocol: PrinterClient = client  # statically a PrinterClient ...
    assert isinstance(as_protocol, PrinterClient)  # ... and at run time
    assert client.family == "prusa"
    assert client.push is False
    assert client.info is None
    await client.async_connect()
    assert client.info == PrinterInfo(
        serial="SN-SIM-0001",
        model="MK4",
        name="prusa-mk4",
        firmware="6.2.4+sim",
        manufacturer="Prusa Research",
        hostname="prusa-mk4",
    )
    assert client.api_version == "2.0.0"
    assert client.nozzle_diameter == 0.4
    assert client.auth_mode == "digest"
    diagnostics = client.diagnostics()
    assert diagnostics["api_version"] == "2.0.0"
    assert diagnostics["auth_mode"] == "digest"
    assert sim.password not in json.dumps(diagnostics)
    await client.async_disconnect()


async def test_connect_without_serial(make_sim: SimFactory, make_client: ClientFactory) -> None:
    """A printer without serial in /api/v1/info gives info.serial None."""
    sim = await make_sim(serial=None)
    client = make_client(sim)
    await client.async_connect()
    assert client.info is not None
    assert client.info.serial is None


@pytest.mark.parametrize("api_version", ["1.0.0", "0.7.0"])
async def test_old_api_not_supported(
    make_sim: SimFactory, make_client: ClientFactory, api_version: str
) -> None:
    """api < 2.0 raises PrinterNotSupportedError."""
    sim = await make_sim(api_version=api_version)
    with pytest.raises(PrinterNotSupportedError):
        await make_client(sim).async_connect()


async def test_timeout(make_sim: SimFactory, make_client: ClientFactory) -> None:
    """A printer that does not answer raises PrinterConnectionError (and commands time out)."""
    sim = await make_sim()
    client = make_client(sim, timeout=0.2)
    await client.async_connect()
    sim.start_print()
    await client.async_poll()
    sim.fail_mode = "timeout"
    with pytest.raises(PrinterConnectionError):
        await client.async_poll()
    with pytest.raises(CommandTimeoutError):
        await client.async_pause()
    sim.fail_mode = None
    state = await client.async_poll()
    assert state.status is PrinterStatus.PRINTING


async def test_server_error(make_sim: SimFactory, make_client: ClientFactory) -> None:
    """HTTP 500 raises PrinterConnectionError on connect and poll; commands raise CommandError."""
    sim = await make_sim()
    sim.fail_mode = "500"
    client = make_client(sim)
    with pytest.raises(PrinterConnectionError):
        await client.async_connect()
    sim.fail_mode = None
    await client.async_connect()
    sim.start_print()
    await client.async_poll()
    sim.fail_mode = "500"
    with pytest.raises(PrinterConnectionError):
        await client.async_poll()
    with pytest.raises(CommandError):
        await client.async_stop()


async def test_connection_refused(http: httpx.AsyncClient) -> None:
    """Nothing listening raises PrinterConnectionError."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = PrusaLinkClient(http, f"127.0.0.1:{port}", password="x", timeout=2)
    with pytest.raises(PrinterConnectionError):
        await client.async_connect()
    with pytest.raises(PrinterConnectionError):
        await client.async_poll()


async def test_print_scenario(sim: PrusaLinkSimulator, client: PrusaLinkClient) -> None:
    """Start, progress, pause (204), pause again (409), resume, stop, then a finished print."""
    state = await client.async_poll()
    assert state.status is PrinterStatus.IDLE
    assert state.printer_job_id is None
    with pytest.raises(CommandNotAllowedError):
        await client.async_pause()  # no job

    job_id = sim.start_print("benchy.bgcode")
    state = await client.async_poll()
    assert state.status is PrinterStatus.PRINTING
    assert state.printer_job_id == str(job_id)
    assert state.job_name == "benchy.bgcode"
    assert state.progress == 0
    assert state.nozzle_target == 215.0
    assert state.bed_target == 60.0
    assert state.extra["thumbnail"] == f"/thumb/l/usb/{sim.job.file.name}"  # type: ignore[union-attr]
    assert state.extra["job_file_path"] == f"/usb/{sim.job.file.name}"  # type: ignore[union-attr]
    assert state.extra["nozzle_diameter"] == 0.4

    sim.set_progress(42.7)
    state = await client.async_poll()
    assert state.progress == 42
    assert state.remaining_seconds == sim.job.time_remaining  # type: ignore[union-attr]
    assert state.remaining_seconds == round(2820 * (100 - 42.7) / 100)
    assert state.nozzle_temp == 215.0

    await client.async_pause()
    assert sim.state == "PAUSED"
    state = await client.async_poll()
    assert state.status is PrinterStatus.PAUSED
    with pytest.raises(CommandNotAllowedError):
        await client.async_pause()  # 409: already paused

    await client.async_resume()
    state = await client.async_poll()
    assert state.status is PrinterStatus.PRINTING
    with pytest.raises(CommandNotAllowedError):
        await client.async_resume()  # 409: not paused

    await client.async_stop()
    state = await client.async_poll()
    assert state.status is PrinterStatus.CANCELLED
    assert state.cancelled is True
    assert state.printer_job_id == str(job_id)
    with pytest.raises(CommandNotAllowedError):
        await client.async_stop()  # 409: already stopped

    second = sim.start_print("calibration-cube.gcode")
    assert second != job_id
    sim.set_progress(60)
    state = await client.async_poll()
    assert state.job_name == "calibration-cube.gcode"
    assert state.printer_job_id == str(second)
    sim.finish()
    state = await client.async_poll()
    assert state.status is PrinterStatus.FINISHED
    assert state.progress == 100
    assert state.remaining_seconds == 0
    assert state.cancelled is False
    assert state.job_name == "calibration-cube.gcode"

    sim.clear()
    state = await client.async_poll()
    assert state.status is PrinterStatus.IDLE
    assert state.job_name is None
    assert state.printer_job_id is None


async def test_error_and_printer_side_states(
    sim: PrusaLinkSimulator, client: PrusaLinkClient
) -> None:
    """ERROR, STOPPED on the printer, ATTENTION and BUSY as the client sees them."""
    sim.start_print()
    sim.set_progress(10)
    sim.fail()
    state = await client.async_poll()
    assert state.status is PrinterStatus.ERROR
    assert state.error
    sim.clear()
    sim.start_print()
    sim.attention()
    state = await client.async_poll()
    assert state.status is PrinterStatus.PAUSED
    sim.stop_job()
    state = await client.async_poll()
    assert state.status is PrinterStatus.CANCELLED
    assert state.cancelled
    sim.clear()
    sim.busy()
    state = await client.async_poll()
    assert state.status is PrinterStatus.PREPARING


async def test_job_204(
    sim: PrusaLinkSimulator, client: PrusaLinkClient, http: httpx.AsyncClient
) -> None:
    """/api/v1/job answers 204 without a job; the client then does not ask for it."""
    response = await http.get(f"{sim.url}/api/v1/job", auth=client._auth)
    assert response.status_code == 204
    assert response.content == b""
    state = await client.async_poll()
    assert state.status is PrinterStatus.IDLE
    assert sim.request_count["/api/v1/job"] == 1  # only the direct request above


async def test_job_fetched_only_when_job_id_changes(
    sim: PrusaLinkSimulator, client: PrusaLinkClient
) -> None:
    """GET /api/v1/job happens once per job id, /api/v1/status on every poll."""
    sim.start_print("benchy.bgcode")
    for progress in (1, 5, 10, 20):
        sim.set_progress(progress)
        await client.async_poll()
    assert sim.request_count["/api/v1/status"] == 4
    assert sim.request_count["/api/v1/job"] == 1

    sim.pause()
    await client.async_poll()
    sim.resume()
    sim.finish()
    state = await client.async_poll()
    assert state.job_name == "benchy.bgcode"
    assert sim.request_count["/api/v1/job"] == 1

    sim.clear()
    await client.async_poll()
    sim.start_print("TabletStand3.bgcode")
    state = await client.async_poll()
    assert state.job_name == "TabletStand3.bgcode"
    assert sim.request_count["/api/v1/job"] == 2
    await client.async_poll()
    assert sim.request_count["/api/v1/job"] == 2
    assert sim.request_count["/api/v1/status"] == 9


async def test_command_with_stale_job_id(sim: PrusaLinkSimulator, client: PrusaLinkClient) -> None:
    """A job id the printer no longer knows → 404 → CommandError; the next try uses the new id."""
    sim.start_print()
    await client.async_poll()
    sim.clear()
    sim.start_print()
    with pytest.raises(CommandError) as err:
        await client.async_pause()
    assert not isinstance(err.value, CommandNotAllowedError)
    await client.async_pause()  # looks the id up again
    assert sim.state == "PAUSED"


async def test_command_before_first_poll(sim: PrusaLinkSimulator, client: PrusaLinkClient) -> None:
    """Without a poll the client reads the job id from /api/v1/status."""
    sim.start_print()
    await client.async_pause()
    assert sim.state == "PAUSED"


async def test_wrong_job_id_404_via_http(
    sim: PrusaLinkSimulator, client: PrusaLinkClient, http: httpx.AsyncClient
) -> None:
    """The simulator answers 404 for a wrong job id and 409 for disallowed commands."""
    job_id = sim.start_print()
    auth = client._auth
    assert (
        await http.put(f"{sim.url}/api/v1/job/{job_id + 1}/pause", auth=auth)
    ).status_code == 404
    assert (await http.put(f"{sim.url}/api/v1/job/abc/pause", auth=auth)).status_code == 404
    assert (await http.put(f"{sim.url}/api/v1/job/{job_id}/resume", auth=auth)).status_code == 409
    assert (await http.put(f"{sim.url}/api/v1/job/{job_id}/continue", auth=auth)).status_code == 409
    assert (await http.put(f"{sim.url}/api/v1/job/{job_id}/pause", auth=auth)).status_code == 204
    assert (await http.delete(f"{sim.url}/api/v1/job/{job_id}", auth=auth)).status_code == 204
    assert (await http.delete(f"{sim.url}/api/v1/job/{job_id}", auth=auth)).status_code == 409
    assert sim.state == "STOPPED"


async def test_poll_interval(
    sim: PrusaLinkSimulator, client: PrusaLinkClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """30 s idle, 5 s during a job, 2 s for 30 s after a command (frozen clock)."""
    now = [1000.0]
    monkeypatch.setattr(client_module, "_now", lambda: now[0])
    await client.async_poll()
    assert client.poll_interval == 30.0
    sim.start_print()
    await client.async_poll()
    assert client.poll_interval == 5.0
    await client.async_pause()
    assert client.poll_interval == 2.0
    now[0] += 29.9
    assert client.poll_interval == 2.0
    now[0] += 0.2
    assert client.poll_interval == 5.0  # still a job (paused, last poll said printing)
    await client.async_poll()
    assert client.last_state is not None
    assert client.last_state.status is PrinterStatus.PAUSED
    assert client.poll_interval == 5.0
    sim.clear()
    await client.async_poll()
    assert client.poll_interval == 30.0


# --- malformed responses (mocked transport, no sockets) -----------------------------


def _mock_client(
    routes: dict[str, Callable[[httpx.Request], httpx.Response]],
) -> httpx.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        route = routes.get(request.url.path)
        if route is None:
            return httpx.Response(404)
        return route(request)

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


def _json(body: Any, status: int = 200) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, json=body)


def _raw(content: bytes, status: int = 200) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(
        status, content=content, headers={"content-type": "application/json"}
    )


GOOD = {
    "/api/version": _json(load_fixture("version")),
    "/api/v1/info": _json(load_fixture("info")),
    "/api/v1/status": _json(load_fixture("status_printing")),
    "/api/v1/job": _json(load_fixture("job_printing")),
}


async def test_mocked_fixtures_end_to_end() -> None:
    """The real fixtures through the whole client."""
    async with _mock_client(GOOD) as http:
        client = PrusaLinkClient(http, "prusa.local", password="pw")
        await client.async_connect()
        assert client.info is not None
        assert client.info.serial == "serial-1337"
        state = await client.async_poll()
        assert state.status is PrinterStatus.PRINTING
        assert state.job_name == "TabletStand3.bgcode"
        assert state.extra["nozzle_diameter"] == 0.4
        assert client.diagnostics()["last_job"] == load_fixture("job_printing")


@pytest.mark.parametrize(
    ("path", "route", "error"),
    [
        ("/api/version", _raw(b"{not json"), PrinterConnectionError),
        ("/api/version", _json(["a"]), PrinterConnectionError),
        ("/api/version", _json({"api": 2}), PrinterConnectionError),
        ("/api/version", _json({}, status=404), PrinterNotSupportedError),
        ("/api/v1/info", _json({}, status=404), PrinterNotSupportedError),
        ("/api/v1/info", _json({"serial": 5}), PrinterConnectionError),
        ("/api/v1/info", _raw(b""), PrinterConnectionError),
        ("/api/version", _json({}, status=503), PrinterConnectionError),
    ],
)
async def test_malformed_connect(
    path: str, route: Callable[[httpx.Request], httpx.Response], error: type[Exception]
) -> None:
    """Malformed connect responses raise the mapped error, never anything else."""
    async with _mock_client({**GOOD, path: route}) as http:
        client = PrusaLinkClient(http, "prusa.local", password="pw")
        with pytest.raises(error):
            await client.async_connect()


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/api/v1/status", _raw(b"<html>")),
        ("/api/v1/status", _json({"printer": {"state": 7}})),
        ("/api/v1/status", _json({"printer": {"state": "PRINTING", "temp_bed": "x"}})),
        ("/api/v1/status", _json({"job": {"id": "1"}, "printer": {"state": "PRINTING"}})),
        ("/api/v1/status", _json(None)),
        ("/api/v1/status", _json({}, status=418)),
        ("/api/v1/job", _raw(b"garbage")),
        ("/api/v1/job", _json([1, 2])),
        ("/api/v1/job", _json({"id": 129, "file": "x"})),
    ],
)
async def test_malformed_poll(path: str, route: Callable[[httpx.Request], httpx.Response]) -> None:
    """Malformed poll responses raise PrinterConnectionError."""
    async with _mock_client({**GOOD, path: route}) as http:
        client = PrusaLinkClient(http, "prusa.local", password="pw")
        await client.async_connect()
        with pytest.raises(PrinterConnectionError):
            await client.async_poll()


async def test_transport_errors_mapped() -> None:
    """httpx transport errors map to PrinterConnectionError / CommandTimeoutError."""

    def boom(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            raise httpx.ReadTimeout("slow", request=request)
        raise httpx.ConnectError("refused", request=request)

    async with _mock_client(
        {
            "/api/version": boom,
            "/api/v1/status": GOOD["/api/v1/status"],
            "/api/v1/job/129/pause": boom,
        }
    ) as http:
        client = PrusaLinkClient(http, "prusa.local", password="pw")
        with pytest.raises(PrinterConnectionError):
            await client.async_connect()
        with pytest.raises(CommandTimeoutError):
            await client.async_pause()


async def test_injected_client_not_closed(sim: PrusaLinkSimulator, http: httpx.AsyncClient) -> None:
    """Disconnect leaves the injected httpx client open."""
    client = PrusaLinkClient(http, sim.url, password=sim.password)
    await client.async_connect()
    await client.async_poll()
    await client.async_disconnect()
    assert not http.is_closed
    assert client.last_state is None
