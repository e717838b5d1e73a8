"""Untrusted names and paths: made safe, and confined to a folder.

Names come from printers, users and watch folders and are hostile until made
safe here. :func:`safe_name` turns any string into one harmless file name
component (no separators, no ``..``, no NUL or control characters, no Windows
reserved names, bounded length). :func:`confine` joins relative parts under a
root and proves, by the *resolved* path and ``is_relative_to`` (never a string
prefix), that the result stays inside; a symlink on the way is refused.

:func:`safe_name` is pure; :func:`confine` touches the file system (resolve,
lstat): run it in the executor.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Final

#: Longest file name we create, in UTF-8 bytes (most file systems allow 255;
#: room is left for a clash suffix and a temporary-file prefix).
MAX_NAME_BYTES: Final = 180
#: Longest suffix (".gcode.3mf") kept whole when a long name is shortened.
_MAX_SUFFIX_BYTES: Final = 16

_WINDOWS_RESERVED: Final = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"COM{i}" for i in range(10)}
    | {f"LPT{i}" for i in range(10)}
    | {f"COM{c}" for c in "¹²³"}
    | {f"LPT{c}" for c in "¹²³"}
)
#: Characters Windows (and SMB shares) refuse in names, and both separators.
_FORBIDDEN: Final = re.compile(r'[<>:"/\\|?*]')
#: Prefix of our temporary files (hidden; removed at start-up if left behind).
TEMP_PREFIX: Final = ".printernizer-"


class UnsafePathError(ValueError):
    """A path would leave its folder, or passes through a symlink."""


def _is_control(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") or char == "\x7f"


def _truncate_utf8(text: str, limit: int) -> str:
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def safe_name(name: str, *, fallback: str = "file") -> str:
    """Return one safe file name component for an untrusted ``name``.

    Only the last component of a ``/`` or ``\\`` separated path is kept; NUL,
    control and format characters are dropped; characters Windows refuses
    become ``_``; leading and trailing dots and spaces go (so ``..`` and ``...``
    become the fallback); a Windows reserved device name (``CON``, ``nul.txt``,
    ``COM1.gcode``) gets a leading ``_``; a name longer than
    :data:`MAX_NAME_BYTES` is shortened keeping its suffix. Never returns an
    empty string, ``.`` or ``..``.
    """
    name = unicodedata.normalize("NFC", str(name))
    # The last component of either separator style.
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if not _is_control(ch))
    name = _FORBIDDEN.sub("_", name)
    name = name.strip(" .")
    if not name:
        name = fallback
    stem = name.split(".", 1)[0].rstrip(" ")
    if stem.upper() in _WINDOWS_RESERVED:
        name = f"_{name}"
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        suffix = ""
        dot = name.find(".", 1)
        if dot > 0 and len(name[dot:].encode("utf-8")) <= _MAX_SUFFIX_BYTES:
            suffix = name[dot:]
        keep = MAX_NAME_BYTES - len(suffix.encode("utf-8"))
        # The stem starts with neither a dot nor a space (stripped above) and keeps
        # at least 164 bytes: the shortened name is never empty.
        name = _truncate_utf8(name[: len(name) - len(suffix)], keep).rstrip(" .") + suffix
    return name


def numbered_name(name: str, number: int) -> str:
    """``benchy.gcode.3mf`` -> ``benchy (2).gcode.3mf`` (the first dot splits the suffix)."""
    if number < 2:
        return name
    dot = name.find(".", 1)
    if dot <= 0:
        return f"{name} ({number})"
    return f"{name[:dot]} ({number}){name[dot:]}"


def confine(root: Path, *parts: str) -> Path:
    """Return ``root / parts`` resolved, proven to lie inside ``root``; blocking.

    Each part must already be safe (see :func:`safe_name`); an absolute part, a
    ``..`` component, a path that resolves outside ``root`` or any symlink
    between ``root`` and the result raises :class:`UnsafePathError`.
    """
    base = root.resolve()
    candidate = base
    for part in parts:
        for piece in Path(part).parts:
            if piece in ("", ".", "..") or Path(piece).is_absolute() or "\x00" in piece:
                raise UnsafePathError(f"unsafe path component {piece!r}")
            candidate = candidate / piece
            if candidate.is_symlink():
                raise UnsafePathError(f"symlink in path: {piece!r}")
    resolved = candidate.resolve()
    if not resolved.is_relative_to(base):
        raise UnsafePathError("path leaves its folder")
    return resolved
