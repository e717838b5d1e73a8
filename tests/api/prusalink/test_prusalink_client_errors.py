"""PrusaLinkClient and its auth against a broken printer (the simulator's ``overrides``).

The answers break the OpenAPI spec on purpose, so these tests use their own
httpx client instead of the spec-checking ``http`` fixture.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from aiohttp import web

from custom_components.printernizer.api.models import (
    CommandError,
    ConnectionPhase,
    ConnectionUpdate,
    PrinterAuthError,
    PrinterConnectionError,
)
from custom_components.printernizer.api.prusalink.auth import challenge_scheme
from custom_components.printernizer.api.prusalink.client import (
    PrusaLinkClient,
    _bounded,
    async_probe,
)
from simulator.prusalink import PrusaLinkSimulator

pytestmark = pytest.mark.simulator

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def raw_http() -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client without the spec check."""
    async with httpx.AsyncClient() as client:
        yield client


def _answer(status: int, body: Any = None, **headers: str) -> Handler:
    headers = {key.replace("_", "-"): value for key, value in headers.items()}

    async def handler(request: web.Request) -> web.StreamResponse:
        if body is None:
            return web.Response(status=status, headers=headers)
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return web.Response(
            status=status, body=raw, content_type="application/json", headers=headers
        )

    return handler


def _client(sim: PrusaLinkSimulator, http: httpx.AsyncClient, **kwargs: Any) -> PrusaLinkClient:
    kwargs.setdefault("password", sim.password)
    return PrusaLinkClient(http, sim.url, **kwargs)


async def test_base_url_is_normalized(sim: PrusaLinkSimulator, raw_http: httpx.AsyncClient) -> None:
    """``base_url`` is the normalized form of what the user typed."""
    typed = f"  {sim.url}/some/path/  "
    client = PrusaLinkClient(raw_http, typed, password="p")
    assert client.base_url == sim.url


async def test_failing_listener_does_not_hide_the_error(
    sim: PrusaLinkSimulator, raw_http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A connection listener that raises is logged; the auth error still reaches the caller."""
    seen: list[ConnectionUpdate] = []

    def listener(update: ConnectionUpdate) -> None:
        seen.append(update)
        raise RuntimeError("listener bug")

    client = _client(sim, raw_http, password="wrong")
    client.set_listeners(None, listener)
    with pytest.raises(PrinterAuthError):
        await client.async_connect()
    assert [u.phase for u in seen] == [ConnectionPhase.ERROR]
    assert "Connection listener failed" in caplog.text


async def test_unsupported_digest_challenge(
    sim: PrusaLinkSimulator, raw_http: httpx.AsyncClient
) -> None:
    """A digest challenge httpx cannot answer (auth-int only): PrinterConnectionError."""
    sim.overrides["/api/version"] = _answer(
        401, WWW_Authenticate='Digest realm="x", nonce="abc", qop="auth-int"'
    )
    with pytest.raises(PrinterConnectionError, match="auth-int"):
        await _client(sim, raw_http).async_connect()


async def test_unknown_challenge(
    sim: PrusaLinkSimulator, raw_http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A challenge that is neither digest nor API key: PrinterAuthError, no auth mode."""
    caplog.set_level("DEBUG", logger="custom_components.printernizer.api.prusalink")
    sim.overrides["/api/version"] = _answer(401, WWW_Authenticate='Basic realm="x"')
    client = _client(sim, raw_http)
    with pytest.raises(PrinterAuthError):
        await client.async_connect()
    assert client.auth_mode is None
    assert "unknown auth challenge: basic" in caplog.text


def test_challenge_scheme() -> None:
    """Digest wins over an API key, an unknown scheme is named, none gives None."""

    def scheme(*values: str) -> str | None:
        headers = [("WWW-Authenticate", value) for value in values]
        return challenge_scheme(httpx.Response(401, headers=headers))

    assert scheme('ApiKey realm="x"', 'Digest realm="x"') == "digest"
    assert scheme('ApiKey realm="x"') == "apikey"
    assert scheme('Bearer realm="x"', "  ") == "bearer"
    assert scheme() is None
    assert scheme("   ") is None


async def test_job_vanishes_between_status_and_job(
    sim: PrusaLinkSimulator, raw_http: httpx.AsyncClient
) -> None:
    """Status names a job, /api/v1/job says 204: no job details, asked again next poll."""
    client = _client(sim, raw_http)
    await client.async_connect()
    sim.start_print("benchy.bgcode")
    sim.overrides["/api/v1/job"] = _answer(204)
    state = await client.async_poll()
    assert state.job_name is None
    del sim.overrides["/api/v1/job"]
    state = await client.async_poll()
    assert state.job_name == "benchy.bgcode"
    assert sim.request_count["/api/v1/job"] == 2


async def test_job_unexpected_status(sim: PrusaLinkSimulator, raw_http: httpx.AsyncClient) -> None:
    """/api/v1/job answering 403: PrinterConnectionError naming the status."""
    client = _client(sim, raw_http)
    await client.async_connect()
    sim.start_print("benchy.bgcode")
    sim.overrides["/api/v1/job"] = _answer(403)
    with pytest.raises(PrinterConnectionError, match="unexpected HTTP 403"):
        await client.async_poll()


async def test_command_with_unreadable_status(
    sim: PrusaLinkSimulator, raw_http: httpx.AsyncClient
) -> None:
    """A command before any poll reads the job id; an unreadable status: CommandError."""
    client = _client(sim, raw_http)
    sim.start_print("benchy.bgcode")
    sim.overrides["/api/v1/status"] = _answer(200, {"job": {"id": "not a number"}})
    with pytest.raises(CommandError, match="/api/v1/status"):
        await client.async_pause()
    assert sim.state == "PRINTING"


async def test_command_other_status(sim: PrusaLinkSimulator, raw_http: httpx.AsyncClient) -> None:
    """A command answered with a status that means nothing here: CommandError with it."""
    client = _client(sim, raw_http)
    job_id = sim.start_print("benchy.bgcode")
    sim.overrides[f"/api/v1/job/{job_id}/pause"] = _answer(400)
    with pytest.raises(CommandError, match="pause: HTTP 400"):
        await client.async_pause()
    assert sim.state == "PRINTING"


def test_bounded_cuts_deep_nesting() -> None:
    """Diagnostics cut objects and lists nested deeper than the limit."""
    assert _bounded({"a": {"b": {"c": 1}}}, depth=2) == {"a": {"b": None}}
    assert _bounded([[[1]]], depth=2) == [[None]]


# --- async_probe ---------------------------------------------------------------------


@pytest.mark.parametrize(("auth_mode", "expected"), [("digest", "digest"), ("apikey", "apikey")])
async def test_probe_auth_modes(
    make_sim: Callable[..., Awaitable[PrusaLinkSimulator]],
    raw_http: httpx.AsyncClient,
    auth_mode: str,
    expected: str,
) -> None:
    """Without credentials the printer's challenge tells the auth mode."""
    sim = await make_sim(auth_mode=auth_mode, api_key="key" if auth_mode == "apikey" else None)
    assert await async_probe(raw_http, sim.url) == expected


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        (_answer(200, {"api": "2.0.0", "printer": "MK4", "server": "x"}), "open"),
        (_answer(200, {"api": "2.0.0"}), None),  # another web server's JSON
        (_answer(200, b"<html>not json</html>"), None),
        (_answer(401, WWW_Authenticate='Basic realm="router"'), None),
        (_answer(404), None),
    ],
)
async def test_probe_answers(
    sim: PrusaLinkSimulator, raw_http: httpx.AsyncClient, handler: Handler, expected: str | None
) -> None:
    """Anonymous reads allowed: "open"; anything that is not PrusaLink: None."""
    sim.overrides["/api/version"] = handler
    assert await async_probe(raw_http, sim.url) == expected


async def test_probe_nothing_listening(
    sim: PrusaLinkSimulator, raw_http: httpx.AsyncClient
) -> None:
    """No server at the address: None."""
    url = sim.url
    await sim.stop()
    assert await async_probe(raw_http, url) is None
