"""Issue 9, PrusaLink: malformed answers become the client's errors, never poison later polls.

Hostile bodies are served through httpx's mock transport (the HTTP layer,
not our client); the fuzz test mutates the real fixtures.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import json
import math
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prusalink_helpers import load_fixture

from custom_components.printernizer.api.models import PrinterConnectionError, PrinterState
from custom_components.printernizer.api.prusalink import PrusaLinkClient
from custom_components.printernizer.api.prusalink.parse import PrusaLinkParseError, parse_state

Route = Callable[[httpx.Request], httpx.Response]


def _raw(content: bytes, status: int = 200) -> Route:
    return lambda request: httpx.Response(
        status, content=content, headers={"content-type": "application/json"}
    )


def _body(value: Any) -> Route:
    """``value`` as JSON, NaN/Infinity allowed (what a broken firmware could send)."""
    return _raw(json.dumps(value, allow_nan=True).encode())


def _routes(**overrides: Route) -> dict[str, Route]:
    routes = {
        "/api/version": _body(load_fixture("version")),
        "/api/v1/info": _body(load_fixture("info")),
        "/api/v1/status": _body(load_fixture("status_printing")),
        "/api/v1/job": _body(load_fixture("job_printing")),
    }
    routes.update({f"/api/v1/{key}": value for key, value in overrides.items()})
    return routes


def _transport(routes: dict[str, Route]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        route = routes.get(request.url.path)
        return route(request) if route else httpx.Response(404)

    return httpx.MockTransport(handler)


def _status(**printer: Any) -> dict[str, Any]:
    status: dict[str, Any] = copy.deepcopy(load_fixture("status_printing"))
    status["printer"].update(printer)
    return status


def assert_in_range(state: PrinterState) -> None:
    """Nothing out of range or unserialisable in a state."""
    for temp in (
        state.nozzle_temp,
        state.nozzle_target,
        state.bed_temp,
        state.bed_target,
        state.chamber_temp,
    ):
        assert temp is None or (math.isfinite(temp) and -50 <= temp <= 500)
    assert 0 <= state.progress <= 100
    assert state.remaining_seconds is None or 0 <= state.remaining_seconds <= 366 * 86400
    for text in (state.job_name, state.printer_job_id, state.error):
        assert text is None or (len(text) <= 255 and text.encode())
    orjson.dumps(dataclasses.asdict(state) | {"extra": dict(state.extra)})


# --- 7. no escaping exceptions --------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"job": {"id": 129, "time_remaining": 1'
        + b"0" * 400
        + b'}, "printer": {"state": "IDLE"}}',
        b'{"job": {"id": 129, "progress": NaN}, "printer": {"state": "PRINTING"}}',
        b'{"job": {"id": 129, "time_printing": Infinity}, "printer": {"state": "PRINTING"}}',
        b'{"printer": {"state": "IDLE", "temp_bed": 1' + b"0" * 400 + b"}}",
        b'{"printer": {"state": "IDLE", "speed": 1e999}}',
        b'{"printer": {"state": "IDLE", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}",
        b'{"job": {"id": 1' + b"0" * 30 + b'}, "printer": {"state": "PRINTING"}}',
    ],
    ids=["huge-remaining", "nan-progress", "inf-time", "huge-temp", "inf-speed", "deep", "huge-id"],
)
async def test_malformed_numbers_and_nesting_never_escape(body: bytes) -> None:
    """Huge numbers, NaN, Infinity and deep nesting: a state or PrinterConnectionError."""
    async with httpx.AsyncClient(transport=_transport(_routes(status=_raw(body)))) as http:
        client = PrusaLinkClient(http, "prusa.local", password="pw")
        await client.async_connect()
        try:
            state = await client.async_poll()
        except PrinterConnectionError:
            return
        assert_in_range(state)
        orjson.dumps(client.diagnostics())


# --- 8. NaN and ±Infinity temperatures -------------------------------------------------


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 65535.0, 2**70])
def test_non_finite_temperatures_rejected(value: float) -> None:
    """NaN, ±Infinity (and impossible values) are unknown, not a temperature."""
    state = parse_state(_status(temp_nozzle=value, target_bed=value, temp_chamber=value))
    assert state.nozzle_temp is None
    assert state.bed_target is None
    assert state.chamber_temp is None
    assert state.bed_temp == 53.9  # the others are kept


# --- 9. a bad /api/v1/job answer does not stick -----------------------------------------


async def test_bad_job_answer_does_not_poison_later_polls() -> None:
    """One wrong-shaped job answer fails one poll; the next poll fetches it again."""
    answers = [{"id": 129, "file": "not an object"}, load_fixture("job_printing")]

    def job(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=answers.pop(0) if len(answers) > 1 else answers[0])

    async with httpx.AsyncClient(transport=_transport(_routes(job=job))) as http:
        client = PrusaLinkClient(http, "prusa.local", password="pw")
        await client.async_connect()
        with pytest.raises(PrinterConnectionError):
            await client.async_poll()
        state = await client.async_poll()  # same job id, a valid answer now
        assert state.job_name == "TabletStand3.bgcode"
        assert (await client.async_poll()).job_name == "TabletStand3.bgcode"


# --- fuzz: mutated fixtures through parse_state and the client's poll -------------------

hostile = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=300),
    st.just("\ud800"),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=3),
)


def _mutate(body: Any, path: list[str | int], value: Any) -> Any:
    """Replace the value at ``path`` (as far as it exists) with ``value``."""
    body = copy.deepcopy(body)
    node = body
    for index, step in enumerate(path):
        keys = list(node) if isinstance(node, dict) else []
        if not keys:
            break
        key = keys[step % len(keys)] if isinstance(step, int) else step
        if index == len(path) - 1 or not isinstance(node.get(key), dict):
            node[key] = value
            break
        node = node[key]
    return body


mutations = st.lists(
    st.tuples(st.lists(st.integers(0, 20), min_size=1, max_size=3), hostile), max_size=4
)

_FUZZ = settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@_FUZZ
@given(status_changes=mutations, job_changes=mutations)
def test_fuzz_parse_state(
    status_changes: list[tuple[list[int], Any]], job_changes: list[tuple[list[int], Any]]
) -> None:
    """parse_state returns an in-range state or raises PrusaLinkParseError, nothing else."""
    status, job = load_fixture("status_printing"), load_fixture("job_printing")
    for path, value in status_changes:
        status = _mutate(status, list(path), value)
    for path, value in job_changes:
        job = _mutate(job, list(path), value)
    try:
        state = parse_state(status, job)
    except PrusaLinkParseError:
        return
    assert_in_range(state)


@settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(status_changes=mutations, job_changes=mutations, polls=st.integers(1, 3))
def test_fuzz_client_poll(
    status_changes: list[tuple[list[int], Any]],
    job_changes: list[tuple[list[int], Any]],
    polls: int,
) -> None:
    """The client's poll: a state or PrinterConnectionError; diagnostics always serialisable."""
    status, job = load_fixture("status_printing"), load_fixture("job_printing")
    for path, value in status_changes:
        status = _mutate(status, list(path), value)
    for path, value in job_changes:
        job = _mutate(job, list(path), value)

    async def run() -> None:
        routes = _routes(status=_body(status), job=_body(job))
        async with httpx.AsyncClient(transport=_transport(routes)) as http:
            client = PrusaLinkClient(http, "prusa.local", password="pw")
            await client.async_connect()
            for _ in range(polls):
                with contextlib.suppress(PrinterConnectionError):
                    assert_in_range(await client.async_poll())
            orjson.dumps(client.diagnostics())

    asyncio.run(run())
