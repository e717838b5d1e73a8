"""PrusaLink printer simulator (HTTP, digest/API-key auth, scripted or autoplay prints).

``python -m simulator prusalink --port 0 --password secret-pass [--auth digest|digest_no_qop|apikey]
[--serial SN] [--autoplay]`` runs one; tests use :class:`PrusaLinkSimulator` directly.
"""

from __future__ import annotations

from .cli import main
from .server import PrusaLinkSimulator, SimJob

__all__ = ["PrusaLinkSimulator", "SimJob", "main"]
