"""Mutated real reports through the real message handlers (issue 9; script only, never in CI).

For each family, ``--cases`` mutated answers (default 20,000) built with a
fixed seed from the real captures:

* **Bambu Lab:** ``tests/fixtures/bambu/*.json``. Each case is a fresh
  ``BambuClient`` (never connected) fed, through ``_handle_payload`` (what
  paho's message callback runs for every MQTT message): sometimes the
  capture's ``get_version`` answer, the capture's full report, then one
  mutated message (a mutated full report, or a delta made of some of the
  capture's keys, mutated), in one case out of ten a mutated ``get_version``
  answer, then a plain progress delta. Declared error type:
  none (the handler must never raise).
* **PrusaLink:** ``tests/fixtures/prusalink/*.json``. Each case is a fresh
  ``PrusaLinkClient`` over httpx's mock transport (the HTTP layer, not our
  client) answering every endpoint with its capture, one of them mutated,
  then ``async_connect`` and two ``async_poll``. Declared error type:
  ``PrinterError`` (the client's own errors; the coordinator handles those).

Mutations (1-3 per case): type swaps, integers beyond 64 bits, NaN and
+-Infinity, deep nesting (30-3,000 levels), invalid UTF-8 bytes inside a
string, truncation, missing keys, out-of-range numbers, long strings, lone
surrogates.

Counted per family: **escapes** (an exception that is not the declared error
type), **out of range** (a state value outside parse.py's documented ranges)
(also a printer fact, ``client.info``, over 255 characters or with a lone
surrogate: the device registry keeps those) and **not serialisable**
(``orjson.dumps`` of the state, as the diagnostics write it, of the client's
diagnostics or of ``client.info`` raises). Exit status non-zero when
any of the three is not zero. The first few findings are printed with their
payload.

Run: ``.venv/bin/python -m benchmarks.bench_mutation [--cases N] [--seed S]
[--family bambu|prusalink]``
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import dataclasses
import json
import logging
import math
import random
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# after the sys.path line above
from custom_components.printernizer.api.bambu.client import BambuClient  # noqa: E402
from custom_components.printernizer.api.models import (  # noqa: E402
    PrinterError,
    PrinterInfo,
    PrinterState,
    state_as_dict,
)
from custom_components.printernizer.api.prusalink import PrusaLinkClient  # noqa: E402

BAMBU_FIXTURES = ROOT / "tests" / "fixtures" / "bambu"
PRUSA_FIXTURES = ROOT / "tests" / "fixtures" / "prusalink"
SEED = 9
CASES = 20_000

#: Placeholders replaced in the encoded bytes (what json.dumps cannot write).
_DEEP = "@@DEEP@@"
_BYTES = "@@BYTES@@"
_INVALID_UTF8 = [b"\xff", b"\xe9", b"\xc3", b"Caf\xe9", b"\xe7\xab", b"\xed\xa0\x80", b"\x80\x80"]

# --- mutations -------------------------------------------------------------------


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value in a JSON tree (keys and list indexes)."""
    result = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            result.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            result.extend(_paths(value, (*prefix, index)))
    return result


def _hostile_value(rng: random.Random, old: Any) -> Any:
    """A value of another type, out of range, huge, non-finite, long, deep or broken."""
    kind = rng.randrange(10)
    if kind == 0:  # type swap
        choices: list[Any] = [None, True, False, 0, -1, 1.5, "", "x", "12", [], {}, [1], {"a": 1}]
        return rng.choice([c for c in choices if type(c) is not type(old)] or choices)
    if kind == 1:  # integers beyond 64 bits
        return rng.choice([1, -1]) * 10 ** rng.randrange(19, 400)
    if kind == 2:  # NaN / Infinity
        return rng.choice([math.nan, math.inf, -math.inf])
    if kind == 3:  # deep nesting
        return _DEEP
    if kind == 4:  # invalid UTF-8 inside a string
        return _BYTES
    if kind == 5:  # out-of-range numbers
        return rng.choice(
            [
                65535,
                -1,
                -300,
                1_000_001,
                2**31,
                2**32 + 5,
                -(2**63),
                2**64 - 1,
                1e308,
                -1e308,
                1e-320,
            ]
        )
    if kind == 6:  # long strings
        return rng.choice(["A", "é", "立", "😀"]) * rng.choice([256, 1000, 70_000])
    if kind == 7:  # lone surrogates
        return rng.choice(["\ud800", "a\udfffb", "\udc00" * 300])
    if kind == 8:  # numbers as strings, odd strings
        return rng.choice(
            ["1e400", "-0", "NaN", "inf", " 12 ", "0x10", "9" * 50, "-52dBm", "12abc"]
        )
    return rng.choice([[old] * 3, {"": old}, [[[]]], {"a": {"b": {"c": old}}}])


def mutate(rng: random.Random, tree: Any, count: int) -> bytes:
    """``tree`` with ``count`` mutations, encoded (bytes-level ones applied last)."""
    tree = copy.deepcopy(tree)
    truncate = False
    for _ in range(count):
        action = rng.randrange(10)
        paths = _paths(tree)
        if action == 0:
            truncate = True
            continue
        if not paths:
            continue
        path = rng.choice(paths)
        parent = tree
        for step in path[:-1]:
            parent = parent[step]
        if action == 1:  # missing key / element
            del parent[path[-1]]
            continue
        parent[path[-1]] = _hostile_value(rng, parent[path[-1]])
    raw = json.dumps(tree, allow_nan=True, ensure_ascii=rng.random() < 0.5)
    while _DEEP in raw:
        depth = rng.choice([30, 33, 200, 1023, 1030, 3000])
        opener, closer = rng.choice([("[", "]"), ('{"a":', "}")])
        inner = opener * depth + "1" + closer * depth
        raw = raw.replace(f'"{_DEEP}"', inner, 1)
    data = raw.encode("utf-8", errors="surrogatepass")
    while _BYTES.encode() in data:
        data = data.replace(_BYTES.encode(), rng.choice(_INVALID_UTF8), 1)
    if truncate and data:
        data = data[: rng.randrange(len(data))]
    return data


# --- state checks ----------------------------------------------------------------


def out_of_range(state: PrinterState) -> list[str]:
    """Values outside the documented ranges (api/bambu/parse.py, api/prusalink/parse.py)."""
    problems: list[str] = []
    temps = {
        "nozzle_temp": state.nozzle_temp,
        "nozzle_target": state.nozzle_target,
        "bed_temp": state.bed_temp,
        "bed_target": state.bed_target,
        "chamber_temp": state.chamber_temp,
        "chamber_target": state.extra.get("chamber_target"),
    }
    for name, temp in temps.items():
        if temp is not None and not (
            isinstance(temp, float) and math.isfinite(temp) and -50 <= temp <= 500
        ):
            problems.append(f"{name}={temp!r}")
    if not 0 <= state.progress <= 100:
        problems.append(f"progress={state.progress!r}")
    if state.remaining_seconds is not None:
        if not 0 <= state.remaining_seconds <= 525_600 * 60:
            problems.append(f"remaining_seconds={state.remaining_seconds!r}")
        else:
            datetime.now(UTC) + timedelta(seconds=state.remaining_seconds)
    for name in ("layer", "total_layers"):
        value = getattr(state, name)
        if value is not None and not 0 <= value <= 1_000_000:
            problems.append(f"{name}={value!r}")
    if state.layer is not None and state.total_layers and state.layer > state.total_layers:
        problems.append(f"layer {state.layer} > total_layers {state.total_layers}")
    for name in ("job_name", "printer_job_id", "error"):
        text = getattr(state, name)
        if text is None:
            continue
        if len(text) > 255:
            problems.append(f"{name}: {len(text)} characters")
        try:
            text.encode()
        except UnicodeEncodeError:
            problems.append(f"{name}: lone surrogate")
    for key in ("fan_part", "fan_aux", "fan_chamber", "fan_heatbreak"):
        value = state.extra.get(key)
        if value is not None and not 0 <= value <= 100:
            problems.append(f"{key}={value!r}")
    if state.extra.get("speed_level") not in (None, 1, 2, 3, 4):
        problems.append(f"speed_level={state.extra['speed_level']!r}")
    tray = state.extra.get("ams_active_tray")
    if tray is not None and not 0 <= tray <= 255:
        problems.append(f"ams_active_tray={tray!r}")
    return problems


def _info(info: PrinterInfo | None) -> Any:
    return None if info is None else dataclasses.asdict(info)


def info_problems(info: PrinterInfo | None) -> list[str]:
    """Printer facts (device registry: name, model, serial, firmware) that HA cannot keep."""
    problems: list[str] = []
    for name, value in (_info(info) or {}).items():
        if not isinstance(value, str):
            continue
        if len(value) > 255:
            problems.append(f"info.{name}: {len(value)} characters")
        try:
            value.encode()
        except UnicodeEncodeError:
            problems.append(f"info.{name}: lone surrogate")
    return problems


def serialisable(*values: Any) -> str | None:
    """None when orjson (Home Assistant's encoder) writes every value, else the error."""
    for value in values:
        try:
            orjson.dumps(value)
        except (TypeError, orjson.JSONEncodeError) as err:
            return f"{type(err).__name__}: {err}"
    return None


@dataclass
class Tally:
    """What one family's run found."""

    family: str
    cases: int = 0
    rejected: int = 0  # declared errors (PrusaLink) / states never produced
    escapes: int = 0
    out_of_range: int = 0
    not_serialisable: int = 0
    findings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def note(self, kind: str, text: str, payload: bytes) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        if len(self.findings) < 8:
            self.findings.append(f"[{kind}] {text}\n    payload: {payload[:300]!r}")

    @property
    def failed(self) -> bool:
        return bool(self.escapes or self.out_of_range or self.not_serialisable)


# --- Bambu Lab -------------------------------------------------------------------


def _bambu_captures() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    captures = []
    for path in sorted(BAMBU_FIXTURES.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        report = data.get("pushall") or data.get("push_all") or {}
        report = report.get("print", report)
        version = data.get("get_version") or {}
        captures.append((report, version.get("info", version)))
    return captures


def run_bambu(cases: int, seed: int) -> Tally:
    rng = random.Random(seed)
    tally = Tally("bambu")
    captures = _bambu_captures()
    start = time.perf_counter()
    for _ in range(cases):
        report, version = rng.choice(captures)
        full = {**report, "command": "push_status", "msg": 0}
        if rng.random() < 0.5:
            message: Any = {"print": full}
        else:
            keys = rng.sample(sorted(report), rng.randint(1, 6))
            message = {
                "print": {"command": "push_status", "msg": 1, **{k: report[k] for k in keys}}
            }
        payload = mutate(rng, message, rng.randint(1, 3))
        client = BambuClient("127.0.0.1", "01P00A000000001", "12345678")
        states: list[PrinterState] = []
        client.set_listeners(states.append, None)
        tally.cases += 1
        try:
            if version and rng.random() < 0.7:
                info = {**version, "command": "get_version"}
                client._handle_payload(json.dumps({"info": info}).encode())
            client._handle_payload(json.dumps({"print": full}).encode())
            client._handle_payload(payload)
            if version and rng.random() < 0.1:  # a mutated get_version answer
                info = {**version, "command": "get_version"}
                payload = mutate(rng, {"info": info}, rng.randint(1, 3))
                client._handle_payload(payload)
            after = {"gcode_state": "RUNNING", "mc_percent": 50, "msg": 1}
            client._handle_payload(json.dumps({"print": after}).encode())
        except Exception as err:
            tally.note("escapes", "".join(traceback.format_exception_only(err)).strip(), payload)
            continue
        if not states:
            tally.rejected += 1
            continue
        for state in states:
            if problems := out_of_range(state):
                tally.note("out_of_range", ", ".join(problems), payload)
                break
        try:
            diagnostics = client.diagnostics()
        except Exception as err:
            tally.note("escapes", f"diagnostics: {err!r}", payload)
            continue
        if problems := info_problems(client.info):
            tally.note("out_of_range", ", ".join(problems), payload)
        if error := serialisable(state_as_dict(client._state), diagnostics, _info(client.info)):
            tally.note("not_serialisable", error, payload)
    tally.seconds = time.perf_counter() - start
    return tally


# --- PrusaLink -------------------------------------------------------------------

_PRUSA_ROUTES = {
    "/api/version": "version",
    "/api/v1/info": "info",
    "/api/v1/status": "status_printing",
    "/api/v1/job": "job_printing",
}


def _prusa_bodies() -> dict[str, Any]:
    return {
        path: json.loads((PRUSA_FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
        for path, name in _PRUSA_ROUTES.items()
    }


async def _prusa_case(bodies: dict[str, bytes], tally: Tally, payload: bytes) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = bodies.get(request.url.path)
        if body is None:
            return httpx.Response(404)
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = PrusaLinkClient(http, "prusa.local", password="pw")  # noqa: S106 (a mock transport)
        states: list[PrinterState] = []
        rejected = False
        try:
            await client.async_connect()
            for _ in range(2):
                try:
                    states.append(await client.async_poll())
                except PrinterError:
                    rejected = True
        except PrinterError:
            rejected = True
        except Exception as err:
            tally.note("escapes", "".join(traceback.format_exception_only(err)).strip(), payload)
            return
        tally.rejected += rejected
        for state in states:
            if problems := out_of_range(state):
                tally.note("out_of_range", ", ".join(problems), payload)
                break
        try:
            diagnostics = client.diagnostics()
        except Exception as err:
            tally.note("escapes", f"diagnostics: {err!r}", payload)
            return
        if problems := info_problems(client.info):
            tally.note("out_of_range", ", ".join(problems), payload)
        states_json = [state_as_dict(state) for state in states]
        if error := serialisable(*states_json, diagnostics, _info(client.info)):
            tally.note("not_serialisable", error, payload)


def run_prusalink(cases: int, seed: int) -> Tally:
    rng = random.Random(seed)
    tally = Tally("prusalink")
    originals = _prusa_bodies()
    encoded = {path: json.dumps(body).encode() for path, body in originals.items()}
    # the version check runs first and rejects most of its mutations: weight the rest
    weights = {"/api/version": 1, "/api/v1/info": 1, "/api/v1/status": 3, "/api/v1/job": 3}
    routes, route_weights = list(weights), list(weights.values())

    async def run() -> None:
        for _ in range(cases):
            path = rng.choices(routes, route_weights)[0]
            payload = mutate(rng, originals[path], rng.randint(1, 3))
            tally.cases += 1
            await _prusa_case({**encoded, path: payload}, tally, payload)

    start = time.perf_counter()
    asyncio.run(run())
    tally.seconds = time.perf_counter() - start
    return tally


# --- main ------------------------------------------------------------------------

RUNNERS: dict[str, Callable[[int, int], Tally]] = {"bambu": run_bambu, "prusalink": run_prusalink}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=CASES, help="cases per family")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--family", choices=sorted(RUNNERS), action="append")
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)  # the handlers log what they ignore
    failed = False
    print(
        "bench_mutation: mutated real reports through the real handlers  "
        f"(seed {args.seed}, {args.cases} cases per family)"
    )
    print(
        f"{'family':<10} {'cases':>6} {'rejected':>9} {'escapes':>8} "
        f"{'out of range':>13} {'not serialisable':>17} {'seconds':>8}"
    )
    for family in args.family or sorted(RUNNERS):
        tally = RUNNERS[family](args.cases, args.seed)
        print(
            f"{tally.family:<10} {tally.cases:>6} {tally.rejected:>9} {tally.escapes:>8} "
            f"{tally.out_of_range:>13} {tally.not_serialisable:>17} {tally.seconds:>8.1f}"
        )
        for finding in tally.findings:
            print(f"  {finding}")
        failed |= tally.failed
    print(
        "rejected: Bambu, no state at all from a case; PrusaLink, answers turned into the "
        "client's PrinterError (connect or poll). Exit status 1 on any escape, "
        "out-of-range value or unserialisable state/diagnostics."
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
