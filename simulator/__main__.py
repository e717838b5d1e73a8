"""``python -m simulator {bambu|prusalink|trending} ...``: run a protocol-level simulator."""

from __future__ import annotations

import sys

USAGE = "usage: python -m simulator {bambu|prusalink|trending} [options]  (--help per simulator)"


def main(argv: list[str] | None = None) -> int:
    """Dispatch to a simulator's ``main(argv)`` (imported lazily)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    kind, rest = argv[0], argv[1:]
    if kind == "bambu":
        from simulator.bambu.cli import main as bambu_main  # noqa: PLC0415

        bambu_main(rest)
    elif kind == "prusalink":
        from simulator import prusalink  # noqa: PLC0415

        prusalink.main(rest)
    elif kind == "trending":
        from simulator import trending  # noqa: PLC0415

        trending.main(rest)
    else:
        print(USAGE, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
