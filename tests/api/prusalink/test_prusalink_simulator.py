"""The simulator itself: every response against the OpenAPI spec, files, thumbnails, CLI."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
import zlib

import httpx
import pytest
from prusalink_helpers import ROOT, OpenApi, Recorded, SimFactory, load_fixture

from custom_components.printernizer.api.prusalink.auth import PrusaLinkAuth
from simulator.prusalink import PrusaLinkSimulator

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_real_fixtures_match_spec(openapi: OpenApi) -> None:
    """The validator accepts real printer bodies (so it checks the right thing)."""
    for name in ("status_printing", "status_idle"):
        openapi.validate_schema(
            "paths/~1api~1v1~1status/get/responses/200/content/application~1json/schema",
            load_fixture(name),
        )
    openapi.validate_component("Job", load_fixture("job_printing"))
    openapi.validate_component("Info", load_fixture("info"))
    # Buddy firmware sends "server" where the spec requires "version"; the
    # simulator sends both.
    version = load_fixture("version")
    version["version"] = version["server"]
    openapi.validate_component("Version", version)


def test_validator_rejects_drift(openapi: OpenApi) -> None:
    """Wrong types, enum values and missing required fields are caught."""
    import jsonschema

    bad = [
        ("StatusPrinter", {"state": "MELTING"}),
        ("StatusPrinter", {"state": "IDLE", "temp_bed": "hot"}),
        ("Job", {"id": 1, "state": "PRINTING", "progress": 1}),
        ("Version", {"api": "2.0.0"}),
        ("Storage", {"path": "/usb"}),
    ]
    for component, body in bad:
        with pytest.raises(jsonschema.ValidationError):
            openapi.validate_component(component, body)
    # Overlapping oneOf branches: the strict helpers still catch a bad file.
    job = load_fixture("job_printing")
    openapi.validate_job(job)
    del job["file"]["m_timestamp"]
    with pytest.raises((jsonschema.ValidationError, AssertionError)):
        openapi.validate_job(job)
    with pytest.raises(jsonschema.ValidationError):
        openapi.validate_file_info(
            {
                "name": "A.GCO",
                "type": "PRINT_FILE",
                "read_only": "no",
                "m_timestamp": 1,
                "refs": {"download": "/a", "icon": "/b", "thumbnail": "/c"},
            }
        )


def _auth(sim: PrusaLinkSimulator) -> PrusaLinkAuth:
    return PrusaLinkAuth(sim.username, sim.password)


async def _exercise(sim: PrusaLinkSimulator, http: httpx.AsyncClient) -> None:
    """Hit every simulated endpoint in every printer state."""
    auth = _auth(sim)
    base = sim.url

    async def get_all() -> None:
        for path in (
            "/api/version",
            "/api/v1/info",
            "/api/v1/status",
            "/api/v1/job",
            "/api/v1/storage",
            "/api/v1/transfer",
            "/api/v1/files/usb",
            "/api/v1/files/usb/",
            f"/api/v1/files/usb/{sim.files[0].name}",
            f"/api/v1/files/usb/{sim.files[1].name}",
            "/api/v1/files/usb/NOPE.GCO",
            "/api/v1/files/sd/x",
        ):
            response = await http.get(base + path, auth=auth)
            assert response.status_code in (200, 204, 404), path

    await http.get(base + "/api/version")  # unauthenticated: 401 with a JSON Error
    await get_all()
    # nested folders, ETag / If-None-Match -> 304, DELETE
    nested = await http.get(base + "/api/v1/files/usb/PROJECTS/TOOLS", auth=auth)
    assert nested.json()["children"][0]["display_name"] == "clip.gcode"
    cached = await http.get(
        base + "/api/v1/files/usb/PROJECTS/TOOLS",
        auth=auth,
        headers={"If-None-Match": nested.headers["ETag"]},
    )
    assert cached.status_code == 304
    doomed = sim.add_file("delete-me.gcode", folder="PROJECTS")
    assert (
        await http.delete(f"{base}/api/v1/files/usb/{doomed.rel_path}", auth=auth)
    ).status_code == 204
    assert (
        await http.delete(f"{base}/api/v1/files/usb/{doomed.rel_path}", auth=auth)
    ).status_code == 404
    job_id = sim.start_print()
    assert sim.job is not None
    busy = await http.delete(f"{base}/api/v1/files/usb/{sim.job.file.rel_path}", auth=auth)
    assert busy.status_code == 409
    sim.set_progress(33.3)
    await get_all()
    await http.put(f"{base}/api/v1/job/{job_id}/pause", auth=auth)
    await http.put(f"{base}/api/v1/job/{job_id}/pause", auth=auth)  # 409
    await get_all()
    await http.put(f"{base}/api/v1/job/{job_id}/resume", auth=auth)
    await http.put(f"{base}/api/v1/job/{job_id + 5}/resume", auth=auth)  # 404
    await http.put(f"{base}/api/v1/job/{job_id}/continue", auth=auth)  # 409
    await http.delete(f"{base}/api/v1/job/{job_id}", auth=auth)
    await get_all()
    sim.clear()
    sim.start_print("calibration-cube.gcode")
    sim.finish()
    await get_all()
    sim.clear()
    sim.start_print("new-file.gcode")
    sim.fail()
    await get_all()
    sim.attention()
    await get_all()
    sim.clear()
    sim.busy()
    await get_all()


@pytest.mark.parametrize("auth_mode", ["digest", "digest_no_qop", "apikey"])
async def test_every_response_matches_openapi(
    make_sim: SimFactory,
    http: httpx.AsyncClient,
    recorded: list[Recorded],
    openapi: OpenApi,
    auth_mode: str,
) -> None:
    """Every JSON response (and every empty 204) follows the OpenAPI spec.

    The ``http`` fixture checks all exchanges again at teardown; here the
    coverage of the spec's endpoints and statuses is asserted as well.
    """
    sim = await make_sim(auth_mode=auth_mode, serial=None if auth_mode == "apikey" else "SN-1")
    await _exercise(sim, http)
    seen: set[tuple[str, str, int]] = set()
    for exchange in recorded:
        template = openapi.check(exchange)
        seen.add((exchange.method, template, exchange.status))
    expected = {
        ("GET", "/api/version", 401),
        ("GET", "/api/version", 200),
        ("GET", "/api/v1/info", 200),
        ("GET", "/api/v1/status", 200),
        ("GET", "/api/v1/job", 200),
        ("GET", "/api/v1/job", 204),
        ("GET", "/api/v1/storage", 200),
        ("GET", "/api/v1/transfer", 204),
        ("GET", "/api/v1/files/{storage}/{path}", 200),
        ("GET", "/api/v1/files/{storage}/{path}", 404),
        ("GET", "/api/v1/files/{storage}/{path}", 304),
        ("DELETE", "/api/v1/files/{storage}/{path}", 204),
        ("DELETE", "/api/v1/files/{storage}/{path}", 404),
        ("DELETE", "/api/v1/files/{storage}/{path}", 409),
        ("PUT", "/api/v1/job/{id}/pause", 204),
        ("PUT", "/api/v1/job/{id}/pause", 409),
        ("PUT", "/api/v1/job/{id}/resume", 204),
        ("PUT", "/api/v1/job/{id}/resume", 404),
        ("PUT", "/api/v1/job/{id}/continue", 409),
        ("DELETE", "/api/v1/job/{id}", 204),
    }
    assert expected <= seen


async def test_storage_files_and_thumbnails(
    sim: PrusaLinkSimulator, http: httpx.AsyncClient
) -> None:
    """Folder listing, file metadata, downloads via refs.download, PNG thumbnails via refs."""
    auth = _auth(sim)
    listing = (await http.get(f"{sim.url}/api/v1/files/usb", auth=auth)).json()
    assert listing["type"] == "FOLDER"
    names = {child["display_name"] for child in listing["children"]}
    assert {"benchy.bgcode", "calibration-cube.gcode", "TabletStand3.bgcode"} <= names
    assert {"PROJECTS"} == {c["name"] for c in listing["children"] if c["type"] == "FOLDER"}
    for child in listing["children"]:
        if child["type"] == "FOLDER":
            continue
        detail = await http.get(f"{sim.url}/api/v1/files/usb/{child['name']}", auth=auth)
        assert detail.status_code == 200
        assert detail.json()["meta"]["estimated_print_time"] > 0
        download = await http.get(sim.url + child["refs"]["download"], auth=auth)
        assert download.status_code == 200
        assert len(download.content) == child["size"]
        if child["display_name"].endswith(".bgcode"):
            assert download.content.startswith(b"GCDE")
        else:
            assert download.content.startswith(b";")
        for ref in ("icon", "thumbnail"):
            thumb = await http.get(sim.url + child["refs"][ref], auth=auth)
            assert thumb.status_code == 200
            assert thumb.headers["content-type"] == "image/png"
            _assert_valid_png(thumb.content)
    missing = await http.get(f"{sim.url}/thumb/l/usb/NOPE.BGC", auth=auth)
    assert missing.status_code == 404
    unauthenticated = await http.get(sim.url + listing["children"][0]["refs"]["thumbnail"])
    assert unauthenticated.status_code == 401


def _assert_valid_png(data: bytes) -> None:
    """Walk the chunks, check CRCs and that IDAT decompresses to the right size."""
    assert data.startswith(PNG_SIGNATURE)
    pos = len(PNG_SIGNATURE)
    kinds = []
    idat = b""
    width = height = 0
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        crc = int.from_bytes(data[pos + 8 + length : pos + 12 + length], "big")
        assert zlib.crc32(kind + body) == crc
        if kind == b"IHDR":
            width = int.from_bytes(body[0:4], "big")
            height = int.from_bytes(body[4:8], "big")
        if kind == b"IDAT":
            idat += body
        kinds.append(kind)
        pos += 12 + length
    assert kinds[0] == b"IHDR"
    assert kinds[-1] == b"IEND"
    assert len(zlib.decompress(idat)) == height * (1 + 3 * width)


async def test_request_count_and_password_change(
    make_sim: SimFactory, http: httpx.AsyncClient
) -> None:
    """request_count counts per path; a changed password takes effect at once."""
    sim = await make_sim(auth_mode="apikey", password="one")
    ok = await http.get(f"{sim.url}/api/v1/status", headers={"X-Api-Key": "one"})
    assert ok.status_code == 200
    sim.password = "two"
    refused = await http.get(f"{sim.url}/api/v1/status", headers={"X-Api-Key": "one"})
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("ApiKey ")
    assert sim.request_count["/api/v1/status"] == 2


async def test_stop_is_instant_with_hanging_request(
    make_sim: SimFactory, http: httpx.AsyncClient
) -> None:
    """fail_mode 'timeout' hangs requests, and stop() still returns at once."""
    sim = await make_sim()
    sim.fail_mode = "timeout"
    with pytest.raises(httpx.ReadTimeout):
        await http.get(f"{sim.url}/api/version", timeout=0.2)
    started = time.monotonic()
    await sim.stop()
    assert time.monotonic() - started < 2.0


async def test_autoplay_runs_and_stops(make_sim: SimFactory) -> None:
    """Autoplay starts prints by itself and stop() ends its task."""
    sim = await make_sim()
    sim.start_autoplay(print_seconds=1.0, idle_seconds=0.0)
    for _ in range(200):
        if sim.job is not None and sim.job.progress > 0:
            break
        await _tick()
    assert sim.job is not None
    await sim.stop_autoplay()


async def _tick() -> None:
    import asyncio

    await asyncio.sleep(0.01)


def test_cli_prints_port_and_stops_on_sigterm() -> None:
    """``main(argv)`` prints one JSON line with the port, serves, and exits on SIGTERM."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = "import sys; from simulator.prusalink import main; main(sys.argv[1:])"
    proc = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-c",
            code,
            "--port",
            "0",
            "--password",
            "cli-pass",
            "--auth",
            "digest_no_qop",
            "--serial",
            "",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 15)
        assert ready, "simulator printed nothing"
        line = json.loads(proc.stdout.readline())
        assert line["port"] > 0
        assert line["auth"] == "digest_no_qop"
        assert line["serial"] is None
        assert "cli-pass" not in json.dumps(line)
        with httpx.Client() as http:
            from custom_components.printernizer.api.prusalink.auth import LegacyDigestAuth

            response = http.get(
                f"http://127.0.0.1:{line['port']}/api/v1/info",
                auth=LegacyDigestAuth("maker", "cli-pass"),
            )
            assert response.status_code == 200
            assert "serial" not in response.json()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
