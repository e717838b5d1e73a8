"""Thumbnail checks on the simulator's images: formats, resizing, refusals, cache key."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib

import aiohttp
import pytest
from PIL import Image

from custom_components.printernizer.api.trending import (
    BoundedHttp,
    ThumbnailError,
    TrendingResponseTooLargeError,
)
from custom_components.printernizer.api.trending.http import MAX_IMAGE_BYTES
from custom_components.printernizer.api.trending.thumbnails import cache_key, process_image
from simulator.trending import TrendingSimulator
from simulator.trending.data import decompression_bomb


async def _fetch(session: aiohttp.ClientSession, url: str) -> tuple[bytes, str]:
    result = await BoundedHttp(session, timeout=5.0).request(
        "GET", url, max_bytes=MAX_IMAGE_BYTES, accept="image/*"
    )
    return result.body, result.content_type


@pytest.mark.parametrize("index", [0, 1, 2])
async def test_formats_resized(
    sim: TrendingSimulator, session: aiohttp.ClientSession, index: int
) -> None:
    """PNG, JPEG and WebP (800x600) come out at most 512 px, as JPEG (no transparency)."""
    model = sim.models["makerworld"][index]
    data, content_type = await _fetch(session, sim.image_url("makerworld", model))
    assert (
        content_type
        == {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}[model.image_ext]
    )
    thumb = process_image(data, content_type)
    assert (thumb.width, thumb.height) == (512, 384)
    assert (thumb.content_type, thumb.extension) == ("image/jpeg", "jpg")
    with Image.open(io.BytesIO(thumb.data)) as decoded:
        assert decoded.format == "JPEG"
        assert decoded.size == (512, 384)


def test_transparency_kept_as_png() -> None:
    """An image with alpha is re-encoded as PNG; a small one is not enlarged."""
    out = io.BytesIO()
    Image.new("RGBA", (100, 50), (10, 20, 30, 0)).save(out, format="PNG")
    thumb = process_image(out.getvalue(), "image/png; charset=binary")
    assert (thumb.content_type, thumb.width, thumb.height) == ("image/png", 100, 50)


async def test_wrong_content_type(sim: TrendingSimulator, session: aiohttp.ClientSession) -> None:
    """A real image served as text/html is refused before decoding."""
    sim.set_mode("images", "wrong_content_type")
    model = sim.models["printables"][0]
    data, content_type = await _fetch(session, sim.image_url("printables", model))
    assert content_type == "text/html"
    with pytest.raises(ThumbnailError, match="not an image type"):
        process_image(data, content_type)


async def test_corrupt(sim: TrendingSimulator, session: aiohttp.ClientSession) -> None:
    """Truncated bytes under an image content type are refused."""
    sim.set_mode("images", "corrupt")
    for model in sim.models["makerworld"][:3]:
        data, content_type = await _fetch(session, sim.image_url("makerworld", model))
        with pytest.raises(ThumbnailError, match="not a readable image"):
            process_image(data, content_type)


async def test_decompression_bomb(sim: TrendingSimulator, session: aiohttp.ClientSession) -> None:
    """A few KB declaring 81 Mpx is refused on its header; Pillow's global limit untouched."""
    before = Image.MAX_IMAGE_PIXELS
    sim.set_mode("images", "bomb")
    data, content_type = await _fetch(
        session, sim.image_url("makerworld", sim.models["makerworld"][0])
    )
    assert len(data) < 100_000
    with pytest.raises(ThumbnailError, match="9000x9000"):
        process_image(data, content_type)
    assert before == Image.MAX_IMAGE_PIXELS
    # a lower per-call limit refuses even an ordinary image
    sim.set_mode("images", "ok")
    data, content_type = await _fetch(
        session, sim.image_url("makerworld", sim.models["makerworld"][0])
    )
    with pytest.raises(ThumbnailError, match="pixels"):
        process_image(data, content_type, max_pixels=1000)


async def test_oversized_image(sim: TrendingSimulator, session: aiohttp.ClientSession) -> None:
    """An image over the byte limit is aborted while reading."""
    sim.set_mode("images", "oversized")
    with pytest.raises(TrendingResponseTooLargeError):
        await _fetch(session, sim.image_url("makerworld", sim.models["makerworld"][0]))


def test_empty_and_garbage() -> None:
    """No bytes, or bytes that are no image at all."""
    with pytest.raises(ThumbnailError, match="empty"):
        process_image(b"", "image/png")
    with pytest.raises(ThumbnailError, match="not a readable image"):
        process_image(b"<html>nope</html>", "image/jpeg")


def test_zero_size_refused() -> None:
    """A PNG or JPEG declaring a zero width or height is not an image (Pillow refuses it)."""
    ihdr = b"IHDR" + struct.pack(">IIBBBBB", 0, 8, 8, 2, 0, 0, 0)  # width 0, valid CRC
    zero_png = (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr) - 4)
        + ihdr
        + struct.pack(">I", zlib.crc32(ihdr))
    )
    jpeg = io.BytesIO()
    Image.new("RGB", (8, 8)).save(jpeg, format="JPEG")
    zero_jpeg = bytearray(jpeg.getvalue())
    sof = zero_jpeg.find(b"\xff\xc0")
    zero_jpeg[sof + 5 : sof + 7] = b"\0\0"  # SOF0 height
    for data, content_type in ((zero_png, "image/png"), (zero_jpeg, "image/jpeg")):
        with pytest.raises(ThumbnailError, match="not a readable image"):
            process_image(bytes(data), content_type)


def test_huge_bomb_refused_by_pillow() -> None:
    """A bomb beyond Pillow's own hard limit (twice MAX_IMAGE_PIXELS) is refused as a bomb too."""
    assert Image.MAX_IMAGE_PIXELS is not None
    side = int((2 * Image.MAX_IMAGE_PIXELS) ** 0.5) + 100
    bomb = decompression_bomb(side, side)
    with pytest.raises(ThumbnailError, match="decompression bomb"):
        process_image(bomb, "image/png", max_pixels=side * side)


def test_cache_key() -> None:
    """SHA-256 of the URL: stable, distinct, safe as a file name."""
    url = "https://media.printables.com/media/prints/1/images/a.png"
    assert cache_key(url) == hashlib.sha256(url.encode()).hexdigest()
    assert cache_key(url) != cache_key(url + "?x")
    assert len(cache_key(url)) == 64
