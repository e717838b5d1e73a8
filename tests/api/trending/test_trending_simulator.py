"""The simulator itself: the HTTP control endpoint, dispatch on operationName, the CLI."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from simulator.trending import IMAGE_MODES, SITE_MODES, TrendingSimulator

ROOT = Path(__file__).resolve().parents[3]


async def test_control_endpoint(sim: TrendingSimulator, session: aiohttp.ClientSession) -> None:
    """POST /_sim/mode switches a mode; bad requests are refused; GET /_sim/state reports."""
    async with session.post(
        f"{sim.url}/_sim/mode", json={"target": "makerworld", "mode": "cloudflare"}
    ) as response:
        assert response.status == 200
        assert (await response.json())["targets"]["makerworld"] == "cloudflare"
    assert sim.targets["makerworld"].mode == "cloudflare"
    async with session.get(f"{sim.url}/api/v1/search-service/select/design2") as response:
        assert response.status == 403
        assert "Just a moment..." in await response.text()
    for bad in ({"target": "x", "mode": "ok"}, {"target": "images", "mode": "cloudflare"}, {}):
        async with session.post(f"{sim.url}/_sim/mode", json=bad) as response:
            assert response.status == 400
    async with session.get(f"{sim.url}/_sim/state") as response:
        assert (await response.json())["counts"] == {"makerworld": 1}


async def test_unknown_operation(sim: TrendingSimulator, session: aiohttp.ClientSession) -> None:
    """GraphQL dispatches on operationName; an unknown one is a GraphQL error."""
    async with session.post(
        f"{sim.url}/graphql/", json={"operationName": "PrintDetail", "variables": {}}
    ) as response:
        body = await response.json()
    assert response.status == 200
    assert "Unknown operation" in body["errors"][0]["message"]


async def test_images_served_at_listed_paths_only(
    sim: TrendingSimulator, session: aiohttp.ClientSession
) -> None:
    """Each model's image is at the path its list names; any other path is a 404."""
    model = sim.models["printables"][1]
    async with session.get(sim.image_url("printables", model)) as response:
        assert response.status == 200
        assert response.content_type == "image/jpeg"  # index 1: a JPEG
    wrong_ext = sim.image_url("printables", model).rsplit(".", 1)[0] + ".gif"
    other = sim.image_url("makerworld", sim.models["makerworld"][0]).replace("1000000", "1000001")
    for url in (
        wrong_ext,
        other,
        f"{sim.url}/media/prints/{model.model_id}/images/{model.model_id}.png",
    ):
        async with session.get(url) as response:
            assert response.status == 404, url


def test_modes_validated() -> None:
    """set_mode refuses unknown targets and modes; every documented mode exists."""
    sim = TrendingSimulator()
    for mode in SITE_MODES:
        sim.set_mode("printables", mode)
    for mode in IMAGE_MODES:
        sim.set_mode("images", mode)
    with pytest.raises(ValueError, match="target"):
        sim.set_mode("thingiverse", "ok")
    with pytest.raises(ValueError, match="mode"):
        sim.set_mode("makerworld", "bomb")
    assert {
        "cloudflare",
        "rate_limited",
        "graphql_errors",
        "missing_fields",
        "renamed_fields",
        "empty",
        "slow",
        "hang",
        "oversized",
    } <= set(SITE_MODES)
    assert {"wrong_content_type", "corrupt", "bomb"} <= set(IMAGE_MODES)


def test_cli_prints_urls_and_stops_on_sigterm() -> None:
    """``python -m simulator trending`` prints one JSON line, serves, and exits on SIGTERM."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulator",
            "trending",
            "--port",
            "0",
            "--makerworld-mode",
            "empty",
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
        assert line["simulator"] == "trending"
        assert line["port"] > 0
        import urllib.request

        with urllib.request.urlopen(  # noqa: S310
            f"{line['url']}/api/v1/search-service/select/design2?limit=5", timeout=10
        ) as response:
            assert json.loads(response.read()) == {"total": 0, "hits": []}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
