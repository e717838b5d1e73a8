"""Previews: largest source, sizes never upscaled, PNG/JPEG/QOI, decompression bombs."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from custom_components.printernizer.metadata import (
    SIZES,
    MetadataError,
    Thumbnail,
    make_previews,
    save_previews,
)
from custom_components.printernizer.metadata.images import probe
from custom_components.printernizer.metadata.thumbnails import MAX_PIXELS, decode, largest

from . import writers as w


def _thumb(data: bytes) -> Thumbnail:
    found = probe(data)
    assert found is not None
    return Thumbnail(format=found[0], width=found[1], height=found[2], data=data)


def test_sizes_from_the_largest_image() -> None:
    thumbs = [_thumb(w.png(16, 16)), _thumb(w.png(600, 300)), _thumb(w.qoi(220, 124))]
    previews = make_previews(thumbs)
    assert {k: (p.width, p.height) for k, p in previews.items()} == {
        "small": (128, 64),
        "medium": (256, 128),
        "large": (512, 256),
    }
    for preview in previews.values():
        image = Image.open(io.BytesIO(preview.data))
        assert image.format == "PNG"
        assert image.size == (preview.width, preview.height)
        assert image.getpixel((1, 1)) == (200, 40, 40, 255)  # the 600x300 PNG's colour
    assert dict(SIZES) == {"small": 128, "medium": 256, "large": 512}


def test_never_upscaled() -> None:
    source = w.png(200, 100)
    previews = make_previews([_thumb(source)])
    assert previews["large"].data == source  # a fitting PNG is kept as it is (checked first)
    assert previews["medium"].data == source
    assert {k: (p.width, p.height) for k, p in previews.items()} == {
        "small": (128, 64),
        "medium": (200, 100),
        "large": (200, 100),
    }


@pytest.mark.parametrize(
    ("data", "pixel"),
    [(w.qoi(300, 300), (10, 200, 30, 255)), (w.jpg(300, 150), None)],
    ids=["qoi", "jpg"],
)
def test_qoi_and_jpeg_decoded(data: bytes, pixel: tuple[int, ...] | None) -> None:
    """Pillow (11.1 in HA 2025.4) decodes QOI: no decoder of our own needed."""
    previews = make_previews([_thumb(data)])
    large = Image.open(io.BytesIO(previews["large"].data))
    assert large.size == Image.open(io.BytesIO(data)).size
    if pixel is not None:
        assert large.getpixel((5, 5)) == pixel


def test_no_image() -> None:
    with pytest.raises(MetadataError, match="no embedded image"):
        make_previews([])


def test_decompression_bomb_refused_before_decoding() -> None:
    """A PNG claiming 20000x20000 (400 MP) is refused from its header, Pillow's global untouched."""
    before = Image.MAX_IMAGE_PIXELS
    bomb = _thumb(w.png_header_only(20000, 20000))
    assert largest([bomb]) is None
    with pytest.raises(MetadataError, match="within the size limits"):
        make_previews([bomb])
    with pytest.raises(MetadataError, match="too big to decode"):
        decode(bomb)
    # within the sides but over the per-call pixel limit
    with pytest.raises(MetadataError, match="too big to decode"):
        decode(_thumb(w.png(64, 64)), max_pixels=1000)
    assert before == Image.MAX_IMAGE_PIXELS
    assert MAX_PIXELS < 20000 * 20000


def test_bomb_skipped_when_a_sane_image_exists() -> None:
    previews = make_previews([_thumb(w.png_header_only(60000, 60000)), _thumb(w.png(64, 32))])
    assert (previews["large"].width, previews["large"].height) == (64, 32)


def test_huge_qoi_header() -> None:
    data = b"qoif" + struct.pack(">II", 0xFFFFFFFF, 0xFFFFFFFF) + b"\x04\x00" + b"\x00" * 8
    with pytest.raises(MetadataError, match="within the size limits"):
        make_previews([_thumb(data)])


def test_corrupt_images() -> None:
    png = bytearray(w.png(64, 64))
    png[40:60] = b"\xff" * 20  # inside IDAT
    with pytest.raises(MetadataError, match="corrupt"):
        make_previews([_thumb(bytes(png))])
    with pytest.raises(MetadataError, match="corrupt"):
        make_previews([_thumb(w.png_header_only(64, 64))])  # too little pixel data
    # a format mismatch between the declared and the real format
    with pytest.raises(MetadataError, match="not readable"):
        decode(Thumbnail(format="qoi", width=64, height=64, data=w.png(64, 64)))


def test_jpeg_probe() -> None:
    assert probe(w.jpg(123, 45)) == ("jpg", 123, 45)
    assert probe(b"\xff\xd8\xff\xe0" + b"\x00\x01") is None
    assert probe(b"not an image") is None
    png = w.png(3, 4)
    assert probe(png) == ("png", 3, 4)
    assert probe(png[:20]) is None
    assert zlib.crc32(png) != 0


def test_save_previews_atomic(tmp_path: Path) -> None:
    previews = make_previews([_thumb(w.png(300, 300))])
    paths = save_previews(previews, tmp_path / "abc")
    assert paths == {name: str(tmp_path / "abc" / f"{name}.png") for name in SIZES}
    assert sorted(p.name for p in (tmp_path / "abc").iterdir()) == [
        "large.png",
        "medium.png",
        "small.png",
    ]
    assert Image.open(paths["medium"]).size == (256, 256)


def _jpeg_with_false_frame(data: bytes, width: int, height: int) -> bytes:
    """A JPEG with an extra start-of-frame of another size before its own one."""
    fake = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 3) + b"\x01\x11\x00" * 3
    return data[:2] + fake + data[2:]


def test_header_that_lies_about_the_size() -> None:
    """Our header probe and Pillow disagree on the size: refused before the pixels are used."""
    data = _jpeg_with_false_frame(w.jpg(64, 48), 32, 16)
    assert probe(data) == ("jpg", 32, 16)
    with pytest.raises(MetadataError, match="header is inconsistent"):
        decode(_thumb(data))


def test_unreadable_image_is_skipped_for_the_next_best() -> None:
    broken = Thumbnail(format="png", width=512, height=512, data=b"\x89PNG broken")
    previews = make_previews([broken, _thumb(w.png(64, 32))])
    assert (previews["large"].width, previews["large"].height) == (64, 32)


def test_save_failure_leaves_no_temporary_file(tmp_path: Path) -> None:
    previews = make_previews([_thumb(w.png(64, 64))])
    (tmp_path / "large.png").mkdir()  # a folder where the file goes: the rename fails
    with pytest.raises(OSError):
        save_previews(previews, tmp_path)
    # written in order (small, medium); the failed one's temporary file is removed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["large.png", "medium.png", "small.png"]
