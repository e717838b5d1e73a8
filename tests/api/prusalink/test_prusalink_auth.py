"""Digest (with and without qop) and API-key auth against the simulator."""

from __future__ import annotations

import httpx
import pytest
from prusalink_helpers import ClientFactory, SimFactory

from custom_components.printernizer.api.models import (
    ConnectionPhase,
    ConnectionUpdate,
    PrinterAuthError,
)
from custom_components.printernizer.api.prusalink.auth import LegacyDigestAuth
from simulator.prusalink.digest import parse_authorization


async def test_digest_with_qop(make_sim: SimFactory, make_client: ClientFactory) -> None:
    """RFC 7616 digest (qop=auth): connect and poll work; the password never leaks."""
    sim = await make_sim(auth_mode="digest", password="s3cret-digest")
    client = make_client(sim)
    await client.async_connect()
    assert client.auth_mode == "digest"
    await client.async_poll()
    params = sim.digest.last_params
    assert params is not None
    assert params["qop"] == "auth"
    assert params["algorithm"] == "MD5"
    assert params["username"] == "maker"
    assert "s3cret-digest" not in repr(client.diagnostics())
    assert all("s3cret-digest" not in header for header in sim.auth_headers)


async def test_digest_without_qop_sends_no_algorithm(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    """Legacy challenge without qop: the answer carries no algorithm= (firmware quirk)."""
    sim = await make_sim(auth_mode="digest_no_qop")
    client = make_client(sim)
    await client.async_connect()
    state = await client.async_poll()
    assert state.status == "idle"
    assert client.auth_mode == "digest"
    digest_headers = [h for h in sim.auth_headers if h.startswith("Digest ")]
    assert digest_headers
    for header in digest_headers:
        params = parse_authorization(header)
        assert params is not None
        assert "algorithm" not in params
        assert "qop" not in params
        assert "algorithm=" not in header


async def test_plain_httpx_digest_fails_on_legacy_challenge(
    make_sim: SimFactory, http: httpx.AsyncClient
) -> None:
    """Why LegacyDigestAuth exists: httpx.DigestAuth sends algorithm= and is rejected."""
    sim = await make_sim(auth_mode="digest_no_qop")
    plain = await http.get(f"{sim.url}/api/version", auth=httpx.DigestAuth("maker", sim.password))
    assert plain.status_code == 401
    assert sim.digest.last_failure is not None
    assert "algorithm" in sim.digest.last_failure
    legacy = await http.get(f"{sim.url}/api/version", auth=LegacyDigestAuth("maker", sim.password))
    assert legacy.status_code == 200


async def test_api_key(make_sim: SimFactory, make_client: ClientFactory) -> None:
    """ApiKey challenge: the password field is sent as X-Api-Key."""
    sim = await make_sim(auth_mode="apikey", password="unused", api_key="KEY-1234")
    client = make_client(sim, password="KEY-1234")
    await client.async_connect()
    assert client.auth_mode == "apikey"
    await client.async_poll()
    assert sim.auth_headers
    assert all(header == "X-Api-Key: KEY-1234" for header in sim.auth_headers)
    assert "KEY-1234" not in repr(client.diagnostics())


@pytest.mark.parametrize("auth_mode", ["digest", "digest_no_qop", "apikey"])
async def test_wrong_password(
    make_sim: SimFactory, make_client: ClientFactory, auth_mode: str
) -> None:
    """A wrong password raises PrinterAuthError and reports ConnectionPhase.ERROR."""
    sim = await make_sim(auth_mode=auth_mode)
    client = make_client(sim, password="wrong")
    updates: list[ConnectionUpdate] = []
    client.set_listeners(None, updates.append)
    with pytest.raises(PrinterAuthError):
        await client.async_connect()
    assert updates
    assert updates[-1].phase is ConnectionPhase.ERROR
    assert client.info is None


async def test_password_changed_on_printer(
    make_sim: SimFactory, make_client: ClientFactory
) -> None:
    """After the printer's password changed, polling raises PrinterAuthError (reauth)."""
    sim = await make_sim()
    client = make_client(sim)
    await client.async_connect()
    await client.async_poll()
    sim.password = "changed"
    with pytest.raises(PrinterAuthError):
        await client.async_poll()
    # A new client with the new password works (what a reauth flow does).
    fresh = make_client(sim, password="changed")
    await fresh.async_connect()
    await fresh.async_poll()


async def test_fail_mode_401(make_sim: SimFactory, make_client: ClientFactory) -> None:
    """fail_mode '401' refuses everything."""
    sim = await make_sim()
    client = make_client(sim)
    await client.async_connect()
    sim.fail_mode = "401"
    with pytest.raises(PrinterAuthError):
        await client.async_poll()
    sim.fail_mode = None
    await client.async_poll()


@pytest.mark.parametrize("auth_mode", ["digest", "digest_no_qop"])
async def test_expired_nonce_is_renewed(
    make_sim: SimFactory, make_client: ClientFactory, auth_mode: str
) -> None:
    """When the printer forgets its nonces, the client answers the new challenge by itself."""
    sim = await make_sim(auth_mode=auth_mode)
    client = make_client(sim)
    await client.async_connect()
    await client.async_poll()
    assert sim.request_count["/api/v1/status"] == 1
    sim.digest.expire_nonces()
    state = await client.async_poll()
    assert state.status == "idle"
    assert sim.request_count["/api/v1/status"] == 3  # refused once, then answered
    await client.async_poll()
    assert sim.request_count["/api/v1/status"] == 4
