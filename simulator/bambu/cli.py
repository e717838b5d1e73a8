"""``python -m simulator bambu ...``: run a simulated Bambu Lab printer until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal

from .simulator import MODELS, BambuSimulator


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m simulator bambu", description=__doc__)
    parser.add_argument("--serial", default="01P00A000000001")
    parser.add_argument("--access-code", default="12345678")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8883, help="MQTT/TLS port (0 = free port)")
    parser.add_argument("--ftps-port", type=int, default=990, help="implicit FTPS port (0 = free)")
    parser.add_argument("--model", default="P1P", choices=sorted(MODELS))
    parser.add_argument("--name", default=None, help="printer name in announcements")
    parser.add_argument("--autoplay", action="store_true", help="loop a print on the wall clock")
    parser.add_argument(
        "--announce",
        metavar="HOST:PORT",
        action="append",
        default=[],
        help="send the SSDP NOTIFY there every 5 s (repeatable)",
    )
    parser.add_argument("--full-updates", action="store_true", help="no deltas (X1 style)")
    parser.add_argument(
        "--deny-internal-retr",
        action="store_true",
        help="FTPS: answer 550 to RETR outside /sdcard (like P2S/H2D internal storage)",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser.parse_args(argv)


async def _run(args: argparse.Namespace) -> None:
    sim = BambuSimulator(
        serial=args.serial,
        access_code=args.access_code,
        model=args.model,
        host=args.host,
        mqtt_port=args.port,
        ftps_port=args.ftps_port,
        delta_updates=not args.full_updates,
        name=args.name,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await sim.start(autoplay=args.autoplay)
    sim.ftps.deny_internal_retr = args.deny_internal_retr
    print(
        json.dumps(
            {
                "simulator": "bambu",
                "serial": sim.serial,
                "model": sim.model,
                "host": sim.host,
                "mqtt_port": sim.mqtt_port,
                "ftps_port": sim.ftps_port,
                "ca_file": sim.ca_file,
            }
        ),
        flush=True,
    )
    targets = []
    for target in args.announce:
        host, _, port = target.rpartition(":")
        targets.append((host, int(port)))
    try:
        while not stop.is_set():
            for host, port in targets:
                try:
                    await sim.send_announcement(host, port)
                except OSError as err:
                    logging.getLogger(__name__).warning(
                        "Announce to %s:%s failed: %s", host, port, err
                    )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 5)
    finally:
        await sim.stop()


def main(argv: list[str]) -> None:
    """Entry point."""
    args = _parse(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO)
    asyncio.run(_run(args))
