"""Digest (with and without qop) and API-key auth against the simulator."""

from __future__ import annotations

import hashlib
import os

import httpx
import pytest
from prusalink_helpers import ClientFactory, SimFactory

from custom_components.printernizer.api.models import (
    ConnectionPhase,
    ConnectionUpdate,
    PrinterAuthError,
)
from custom_components.printernizer.api.prusalink.auth import (
    LegacyDigestAuth,
    PrusaLinkAuth,
    digest_authorization,
)
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


AIOHTTP = pytest.mark.parametrize("download_session", ["aiohttp"], indirect=True)


@AIOHTTP
@pytest.mark.parametrize("connect_first", [False, True])
@pytest.mark.parametrize("auth_mode", ["digest", "digest_no_qop", "apikey"])
async def test_aiohttp_download_auth(
    make_sim: SimFactory, make_client: ClientFactory, auth_mode: str, connect_first: bool
) -> None:
    """Downloads through aiohttp answer the printer's challenge (digest with and without
    qop, API key) with the same code as httpx; two downloads, checksums right."""
    sim = await make_sim(auth_mode=auth_mode, password="s3cret")
    file = sim.add_file("big.bgcode", content=os.urandom(3 * 1024 * 1024 + 17))
    path = f"/usb/{file.rel_path}"
    client = make_client(sim)
    if connect_first:  # the scheme is known from httpx requests already
        await client.async_connect()
    sim.auth_headers.clear()
    for _ in range(2):
        sha = hashlib.sha256()
        async with client.async_open(path) as chunks:
            async for chunk in chunks:
                sha.update(chunk)
        assert sha.hexdigest() == hashlib.sha256(file.content).hexdigest()
    if auth_mode == "apikey":
        assert client.auth_mode == "apikey"
        # a challenge only for the first download of a client that never connected
        assert sim.request_count[path] == (2 if connect_first else 3)
        assert sim.auth_headers == ["X-Api-Key: s3cret"] * 2
        return
    assert client.auth_mode == "digest"
    assert sim.request_count[path] == 4  # each download: the 401 with a fresh nonce, the answer
    assert len(sim.auth_headers) == 2
    for header in sim.auth_headers:
        params = parse_authorization(header)
        assert params is not None
        assert params["uri"] == path
        assert "s3cret" not in header
        if auth_mode == "digest":
            assert params["qop"] == "auth" and params["algorithm"] == "MD5"
        else:  # the firmware quirk: no algorithm= for a challenge without qop
            assert "qop" not in params and "algorithm" not in params


@AIOHTTP
@pytest.mark.parametrize("auth_mode", ["digest", "digest_no_qop", "apikey"])
async def test_aiohttp_download_wrong_password(
    make_sim: SimFactory, make_client: ClientFactory, auth_mode: str
) -> None:
    """Wrong credentials: one answered retry, then PrinterAuthError as the httpx path raises."""
    sim = await make_sim(auth_mode=auth_mode)
    file = sim.add_file("part.bgcode", content=b"G28\n")
    path = f"/usb/{file.rel_path}"
    client = make_client(sim, password="wrong")
    with pytest.raises(PrinterAuthError, match="HTTP 401"):
        async with client.async_open(path):
            pass
    assert sim.request_count[path] == 2


def test_digest_authorization_is_httpx_digest() -> None:
    """The pure function answers as LegacyDigestAuth; not a digest challenge: None."""
    qop = 'Digest realm="r", qop="auth", algorithm=MD5, nonce="n1"'
    header = digest_authorization("maker", "pw", "GET", "http://p/usb/A%20B.BGC", qop)
    assert header is not None
    params = parse_authorization(header)
    assert params is not None
    assert params["uri"] == "/usb/A%20B.BGC"
    assert params["nonce"] == "n1" and params["qop"] == "auth" and params["nc"] == "00000001"
    legacy = digest_authorization("maker", "pw", "GET", "http://p/x", 'Digest realm="r", nonce="n"')
    assert legacy is not None
    assert "algorithm" not in legacy and "qop" not in legacy
    assert digest_authorization("maker", "pw", "GET", "http://p/x", 'Basic realm="r"') is None


def test_answer_challenge_headers() -> None:
    """answer_challenge picks digest over API key and records the mode; unknown: no headers."""
    auth = PrusaLinkAuth("maker", "pw")
    assert auth.initial_headers() == {}
    assert auth.answer_challenge("GET", "http://p/x", ['Basic realm="r"']) == {}
    assert auth.mode is None
    both = ['ApiKey realm="r"', 'Digest realm="r", nonce="n"']
    assert set(auth.answer_challenge("GET", "http://p/x", both)) == {"Authorization"}
    assert auth.mode == "digest"
    assert auth.initial_headers() == {}  # a digest answer needs the next nonce
    assert auth.answer_challenge("GET", "http://p/x", ['ApiKey realm="r"']) == {"X-Api-Key": "pw"}
    assert auth.mode == "apikey"
    assert auth.initial_headers() == {"X-Api-Key": "pw"}
