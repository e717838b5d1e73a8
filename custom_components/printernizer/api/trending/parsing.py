"""Tolerant field readers shared by the trending parsers (pure)."""

from __future__ import annotations

from typing import Any, Final

#: Longest text kept from a site (titles, names); longer is cut.
MAX_TEXT: Final = 300


def req_id(value: Any) -> str | None:
    """A model id (int or non-empty str of safe characters), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        return str(value)
    if isinstance(value, str) and 0 < len(value) <= 64 and value.replace("-", "").isalnum():
        return value
    return None


def req_text(value: Any) -> str | None:
    """Non-empty, stripped text (cut to :data:`MAX_TEXT`), else None."""
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    return text[:MAX_TEXT] or None


opt_text = req_text


def opt_count(value: Any) -> int | None:
    """A non-negative count, else None (bools and negative numbers are not counts)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    return None
