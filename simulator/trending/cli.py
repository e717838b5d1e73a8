"""Command line of the trending simulator (called by ``python -m simulator trending``)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from .server import SITE_MODES, TrendingSimulator, dumps_state


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulator trending",
        description="Simulated MakerWorld and Printables list endpoints and images",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one (default)")
    parser.add_argument("--count", type=int, default=60, help="models per platform")
    parser.add_argument("--makerworld-mode", choices=SITE_MODES, default="ok")
    parser.add_argument("--printables-mode", choices=SITE_MODES, default="ok")
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser


async def _run(args: argparse.Namespace) -> None:
    sim = TrendingSimulator(host=args.host, port=args.port, count=args.count)
    sim.set_mode("makerworld", args.makerworld_mode)
    sim.set_mode("printables", args.printables_mode)
    await sim.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        print(dumps_state(sim), flush=True)
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await sim.stop()


def main(argv: list[str]) -> None:
    """Run until SIGINT/SIGTERM; print one JSON line with the URLs at start."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    asyncio.run(_run(args))


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
