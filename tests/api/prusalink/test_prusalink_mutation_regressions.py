"""Findings of ``benchmarks/bench_mutation.py`` (issue 9) on PrusaLink, one test each.

The 20,000-case run found ``/api/version`` and ``/api/v1/info`` texts taken
over as sent: a lone surrogate (from the escape ``\\ud800`` or the bytes of an
encoded surrogate) made the client's diagnostics unserialisable for orjson,
which Home Assistant's diagnostics use, and a capability that was a number
beyond 64 bits did the same; printer facts (serial, host name, name) of any
length and with lone surrogates went on to the device registry. The bodies are
served through httpx's mock transport (the HTTP layer, not our client).
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import httpx
import orjson
from prusalink_helpers import load_fixture

from custom_components.printernizer.api.models import PrinterInfo
from custom_components.printernizer.api.prusalink import PrusaLinkClient
from custom_components.printernizer.api.prusalink.parse import parse_info, parse_version


def _connect(version: bytes, info: bytes) -> tuple[PrinterInfo | None, dict[str, Any]]:
    """Connect a client to answers ``version`` and ``info``; its info and diagnostics."""
    bodies = {"/api/version": version, "/api/v1/info": info}

    def handler(request: httpx.Request) -> httpx.Response:
        body = bodies.get(request.url.path)
        if body is None:
            return httpx.Response(404)
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    async def run() -> tuple[PrinterInfo | None, dict[str, Any]]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            client = PrusaLinkClient(http, "prusa.local", password="pw")
            await client.async_connect()
            return client.info, client.diagnostics()

    return asyncio.run(run())


def test_version_texts_and_capabilities_serialise() -> None:
    """Surrogates in the version texts and a huge capability: diagnostics still serialise."""
    version = (
        b'{"api": "2.0.0", "server": "\xed\xa0\x80", "printer": "\\ud800", '
        b'"firmware": "6.5.3\\udfff", "text": "PrusaLink", "hostname": "prusa-core-one", '
        b'"capabilities": {"upload-by-put": true, "x": 1' + b"0" * 40 + b', "y": "\\ud800"}}'
    )
    info, diagnostics = _connect(version, orjson.dumps(load_fixture("info")))
    orjson.dumps(diagnostics)  # raised TypeError (surrogates, 64-bit range)
    assert diagnostics["server_version"] == "\ufffd"
    assert diagnostics["printer_type"] == "\ufffd"
    assert diagnostics["firmware"] == "6.5.3\ufffd"
    assert diagnostics["capabilities"] == {"upload-by-put": True}
    assert info is not None
    assert info.firmware == "6.5.3\ufffd"
    orjson.dumps(dataclasses.asdict(info))


def test_info_texts_are_cleaned_and_bounded() -> None:
    """Serial, host name and name: no lone surrogates, at most 255 characters."""
    info_body = (
        b'{"serial": "\xed\xb0\x80SN", "hostname": "' + b"a" * 1000 + b'", '
        b'"name": "\\ud83d\\ude00\\ud800", "nozzle_diameter": 0.4}'
    )
    info, _ = _connect(orjson.dumps(load_fixture("version")), info_body)
    assert info is not None
    assert info.serial == "\ufffdSN"
    assert info.hostname == "a" * 255
    assert info.name == "😀\ufffd"
    orjson.dumps(dataclasses.asdict(info))


def test_parse_functions_clean_directly() -> None:
    """The same rules in the parse functions themselves."""
    version = parse_version(
        {"api": "2.0.0", "hostname": "h\ud800", "capabilities": {"k\udc00": True, "n": 2**70}}
    )
    assert version.hostname == "h\ufffd"
    assert version.capabilities == {"k\ufffd": True}
    details = parse_info({"serial": "  ", "name": "n" * 300})
    assert details.serial is None
    assert details.name == "n" * 255
