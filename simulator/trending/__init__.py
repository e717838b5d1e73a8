"""MakerWorld and Printables simulator (HTTP, generated models and images, failure modes).

``python -m simulator trending --port 0`` runs one; tests use :class:`TrendingSimulator` directly.
"""

from __future__ import annotations

from .cli import main
from .server import IMAGE_MODES, SITE_MODES, TrendingSimulator

__all__ = ["IMAGE_MODES", "SITE_MODES", "TrendingSimulator", "main"]
