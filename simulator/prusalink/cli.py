"""Command line of the PrusaLink simulator (called by ``python -m simulator prusalink``)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys

from .server import PrusaLinkSimulator


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulator prusalink", description="Simulated PrusaLink printer"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one (default)")
    parser.add_argument("--username", default="maker")
    parser.add_argument("--password", default="secret-pass", help="digest password / API key")
    parser.add_argument("--auth", choices=("digest", "digest_no_qop", "apikey"), default="digest")
    parser.add_argument("--serial", default="SN-SIM-0001", help="serial; empty for none")
    parser.add_argument("--hostname", default="prusa-mk4")
    parser.add_argument("--api-version", default="2.0.0")
    parser.add_argument("--autoplay", action="store_true", help="loop prints on the wall clock")
    parser.add_argument("--print-seconds", type=float, default=120.0, help="autoplay print length")
    parser.add_argument("--idle-seconds", type=float, default=15.0, help="autoplay pause")
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser


async def _run(args: argparse.Namespace) -> None:
    sim = PrusaLinkSimulator(
        username=args.username,
        password=args.password,
        auth_mode=args.auth,
        host=args.host,
        port=args.port,
        api_version=args.api_version,
        serial=args.serial or None,
        hostname=args.hostname,
    )
    await sim.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        if args.autoplay:
            sim.start_autoplay(print_seconds=args.print_seconds, idle_seconds=args.idle_seconds)
        print(
            json.dumps(
                {
                    "simulator": "prusalink",
                    "host": sim.host,
                    "port": sim.port,
                    "url": sim.url,
                    "auth": sim.auth_mode,
                    "username": sim.username,
                    "serial": sim.serial,
                    "autoplay": bool(args.autoplay),
                }
            ),
            flush=True,
        )
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await sim.stop()


def main(argv: list[str]) -> None:
    """Run the simulator until SIGINT/SIGTERM; print one JSON line with the port at start."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    asyncio.run(_run(args))


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
