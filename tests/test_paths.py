"""Untrusted names never escape the library folder (core/paths.py)."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.printernizer.api.models import (
    FileError,
    PrinterConnectionError,
    RemoteFileNotFoundError,
)
from custom_components.printernizer.core.downloads import describe_error
from custom_components.printernizer.core.paths import (
    MAX_NAME_BYTES,
    UnsafePathError,
    confine,
    numbered_name,
    safe_name,
)

HOSTILE_PARTS = [
    "..",
    ".",
    "/",
    "\\",
    "\x00",
    "../../etc/passwd",
    "..\\..\\windows",
    "/etc/shadow",
    "C:\\boot.ini",
    "CON",
    "nul.txt",
    "com1.gcode",
    "LPT9",
    "\n",
    "\r",
    "\x7f",
    "\u202e",
    "...",
    " ",
    "~",
    "$HOME",
    "%2e%2e",
    "a" * 300,
    "é" * 200,
]

hostile_names = st.lists(
    st.one_of(st.sampled_from(HOSTILE_PARTS), st.text(max_size=40)), min_size=1, max_size=8
).map("".join)


@settings(
    max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=hostile_names, printer=hostile_names)
def test_hostile_names_never_escape(tmp_path: Path, name: str, printer: str) -> None:
    """Whatever a printer or user sends, the result is one safe component inside the folder."""
    for raw in (name, printer):
        safe = safe_name(raw)
        assert safe not in ("", ".", "..")
        assert "/" not in safe and "\\" not in safe and "\x00" not in safe
        assert all(ord(ch) >= 32 for ch in safe)
        assert len(safe.encode()) <= MAX_NAME_BYTES
        assert not safe.startswith((" ", ".")) or safe.startswith("_")
        assert safe.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT9"}
    target = confine(tmp_path, safe_name(printer), safe_name(name))
    assert target.is_relative_to(tmp_path.resolve())
    assert target != tmp_path.resolve()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("benchy.gcode.3mf", "benchy.gcode.3mf"),
        ("/cache/benchy.3mf", "benchy.3mf"),
        ("..\\..\\evil.gcode", "evil.gcode"),
        ("..", "file"),
        ("", "file"),
        ("CON", "_CON"),
        ("aux.3mf", "_aux.3mf"),
        ('a<b>c:"d|e?f*.gcode', "a_b_c__d_e_f_.gcode"),
        ("bad\x00name\x1f.3mf", "badname.3mf"),
    ],
)
def test_safe_name_examples(raw: str, expected: str) -> None:
    assert safe_name(raw) == expected


def test_long_name_keeps_suffix() -> None:
    name = safe_name("x" * 400 + ".gcode.3mf")
    assert name.endswith(".gcode.3mf")
    assert len(name.encode()) <= MAX_NAME_BYTES


def test_numbered_name() -> None:
    assert numbered_name("benchy.gcode.3mf", 2) == "benchy (2).gcode.3mf"
    assert numbered_name("benchy", 3) == "benchy (3)"
    assert numbered_name("benchy.3mf", 1) == "benchy.3mf"


def test_confine_refuses_escapes_and_symlinks(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    for parts in (("..",), ("/etc",), ("a/../../x",), ("a\x00",)):
        with pytest.raises(UnsafePathError):
            confine(root, *parts)
    os.symlink(outside, root / "link")
    with pytest.raises(UnsafePathError):
        confine(root, "link", "file.3mf")
    # A prefix that merely looks like the root is outside (no string prefix checks).
    sibling = tmp_path / "lib-evil"
    sibling.mkdir()
    os.symlink(sibling, root / "x")
    with pytest.raises(UnsafePathError):
        confine(root, "x")
    assert confine(root, "Printer", "a.3mf") == root.resolve() / "Printer" / "a.3mf"


def test_confine_checks_the_resolved_path(tmp_path: Path) -> None:
    """Even a symlink the per-component check misses (a race) cannot lead outside."""
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(tmp_path)
    with (
        patch.object(Path, "is_symlink", return_value=False),
        pytest.raises(UnsafePathError, match="leaves its folder"),
    ):
        confine(root, "link", "x")
    assert confine(root, "sub", "file.gcode") == root.resolve() / "sub" / "file.gcode"


@pytest.mark.parametrize(
    ("err", "expected"),
    [
        (RemoteFileNotFoundError("550 /a"), "the file is not on the printer: 550 /a"),
        (PrinterConnectionError("refused"), "the printer cannot be reached: refused"),
        (FileError("odd answer"), "download failed: odd answer"),
        (OSError(errno.EACCES, "Permission denied"), "cannot write the file: Permission denied"),
        (OSError(errno.EDQUOT, "Quota"), "no space left on the library's disk"),
        (TimeoutError(), "the printer stopped sending for 60 seconds"),
        (ValueError("bug"), "download failed: ValueError('bug')"),
    ],
)
def test_download_error_messages(err: BaseException, expected: str) -> None:
    assert describe_error(err) == expected
