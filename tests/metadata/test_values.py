"""The value parsers shared by the readers, and image headers (metadata/_values.py, images.py)."""

from __future__ import annotations

import struct

import pytest

from custom_components.printernizer.metadata._values import (
    filaments_from,
    parse_duration,
    parse_float,
    split_producer,
)
from custom_components.printernizer.metadata.images import probe
from custom_components.printernizer.metadata.models import Filament

from . import writers as w


@pytest.mark.parametrize(
    ("text", "number"),
    [("0.2", 0.2), ("15%", 15.0), ("1.84m", 1.84), ("1e13", None), ("1e999", None), ("", None)],
)
def test_parse_float_sane_numbers_only(text: str, number: float | None) -> None:
    assert parse_float(text) == number


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1d 2h 3m 4s", 93784),
        ("22m 46s", 1366),
        ("3600", 3600),  # Cura's ;TIME: is bare seconds
        (" 199.6 ", 200),
        ("soon", None),
        (None, None),
    ],
)
def test_parse_duration(text: str | None, seconds: int | None) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "split"),
    [
        ("PrusaSlicer 2.7.1+win64 on 2024-01-01 at 10:00:00 UTC", ("PrusaSlicer", "2.7.1+win64")),
        ("OrcaSlicer-2.1.1", ("OrcaSlicer", "2.1.1")),
        ("Homemade", ("Homemade", None)),
        ("   ", (None, None)),
        (None, (None, None)),
    ],
)
def test_split_producer(text: str | None, split: tuple[str | None, str | None]) -> None:
    assert split_producer(text) == split


def test_filaments_from() -> None:
    # per-extruder grams: unused extruders (0 g) are left out
    assert filaments_from(["PLA", "PETG"], ["#00ae42", "ffffffff"], [3.0, 0.0], 3.0) == [
        Filament(type="PLA", color="#00AE42", grams=3.0)
    ]
    # one filament and only a total: the total is its weight
    assert filaments_from(["PLA"], [], [], 12.5) == [Filament(type="PLA", color=None, grams=12.5)]
    # several and only a total: nobody knows the split
    assert filaments_from(["PLA", "PLA"], [], [], 12.5) == [
        Filament(type="PLA", color=None, grams=None),
        Filament(type="PLA", color=None, grams=None),
    ]


def _jpeg_with(segments: bytes, width: int, height: int) -> bytes:
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 8, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + segments + sof + b"\xff\xd9"


def test_probe_jpeg_markers() -> None:
    assert probe(w.jpg(40, 30)) == ("jpg", 40, 30)
    # fill bytes and standalone markers (TEM, RSTn) before the frame are skipped
    assert probe(_jpeg_with(b"\xff\xff\x01\xff\xd3", 7, 5)) == ("jpg", 7, 5)
    # a byte that is no marker where one must be (after an APP0 segment): not a JPEG we read
    assert probe(_jpeg_with(b"\xff\xe0\x00\x04ab\x00\x00", 7, 5)) is None
    # a start-of-frame cut short
    assert probe(b"\xff\xd8\xff\xc0\x00\x11\x08") is None
    assert probe(b"GIF89a") is None
