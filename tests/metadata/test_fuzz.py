"""Bounded fuzzing: whatever the bytes, only MetadataError escapes the readers."""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.printernizer.metadata import MetadataError, Thumbnail, make_previews
from custom_components.printernizer.metadata.bgcode import parse_bgcode_stream
from custom_components.printernizer.metadata.gcode import parse_gcode_bytes
from custom_components.printernizer.metadata.threemf import read_3mf

from . import writers as w

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
BGCODE = w.bgcode(w.BgcodeSpec(thumbnails=[(w.png(16, 16), 16, 16, 0), (w.qoi(8, 8), 8, 8, 2)]))
BGCODE_PLAIN = w.bgcode(w.BgcodeSpec(compression=0, checksum=False))
THREEMF = w.threemf([w.PlateSpec(1), w.PlateSpec(2)])
GCODE = w.prusaslicer(thumbnails=[(w.png(16, 16), 16, 16, ""), (w.qoi(8, 8), 8, 8, "QOI")])


def _mutate(data: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    out = bytearray(data)
    for pos, value in edits:
        out[pos % len(out)] = value
    return bytes(out[:cut] if cut is not None else out)


EDITS = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=8)
CUT = st.none() | st.integers(0, 10**6)


@FUZZ
@given(edits=EDITS, cut=CUT, plain=st.booleans())
def test_bgcode_mutations(edits: list[tuple[int, int]], cut: int | None, plain: bool) -> None:
    data = _mutate(BGCODE_PLAIN if plain else BGCODE, edits, cut)
    try:
        _, thumbnails = parse_bgcode_stream(io.BytesIO(data))
        if thumbnails:
            make_previews(thumbnails)
    except MetadataError:
        pass


@FUZZ
@given(edits=EDITS, cut=CUT, plate=st.none() | st.integers(-3, 5))
def test_threemf_mutations(
    edits: list[tuple[int, int]], cut: int | None, plate: int | None
) -> None:
    data = _mutate(THREEMF, edits, cut)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.3mf"
        path.write_bytes(data)
        try:
            _, thumbnails = read_3mf(path, plate=plate)
            if thumbnails:
                make_previews(thumbnails)
        except MetadataError:
            pass


@FUZZ
@given(edits=EDITS, cut=CUT, junk=st.binary(max_size=2000))
def test_gcode_mutations(edits: list[tuple[int, int]], cut: int | None, junk: bytes) -> None:
    data = _mutate(GCODE.encode(), edits, cut) + junk
    meta, thumbnails = parse_gcode_bytes(data, junk)
    assert isinstance(meta.as_dict(), dict)
    if thumbnails:
        with contextlib.suppress(MetadataError):
            make_previews(thumbnails)


@FUZZ
@given(
    kind=st.sampled_from([b"\x89PNG\r\n\x1a\n", b"qoif", b"\xff\xd8\xff"]),
    body=st.binary(max_size=300),
)
def test_image_bytes(kind: bytes, body: bytes) -> None:
    data = kind + body
    with contextlib.suppress(MetadataError):
        make_previews([Thumbnail(format="png", width=1, height=1, data=data)])
