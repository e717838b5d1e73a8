"""Generated models and images for the trending simulator (deterministic)."""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass

from PIL import Image

_WORDS = (
    "Articulated",
    "Cable",
    "Desk",
    "Dragon",
    "Filament",
    "Gridfinity",
    "Headphone",
    "Hook",
    "Lamp",
    "Planter",
    "Shelf",
    "Spool",
    "Tool",
    "Vase",
    "Wall",
    "Benchy",
)
_NOUNS = ("Holder", "Organizer", "Stand", "Box", "Clip", "Mount", "Bin", "Toy", "Tray", "Cover")
_CREATORS = ("ada_makes", "bambu_fan", "prusa_pete", "lena3d", "nozzle_ninja", "layerlord")
_LICENCES = ("BY", "BY-SA", "BY-NC", "BY-NC-SA", "BY-ND")
_CATEGORIES = ("Household", "Toys & Games", "Tools", "Art", "Gadgets", "Hobby & Makers")
IMAGE_FORMATS = ("png", "jpg", "webp")


@dataclass(frozen=True, slots=True)
class SimModel:
    """One generated model (both platforms use the same generator)."""

    index: int
    model_id: int
    title: str
    slug: str
    creator: str
    likes: int
    downloads: int
    licence: str
    category: str
    image_ext: str


def models(platform: str, count: int = 60) -> list[SimModel]:
    """``count`` models for ``platform``, hottest first."""
    base = 1_000_000 if platform == "makerworld" else 500_000
    out = []
    for i in range(count):
        title = f"{_WORDS[i % len(_WORDS)]} {_NOUNS[(i * 7) % len(_NOUNS)]} {i + 1}"
        out.append(
            SimModel(
                index=i,
                model_id=base + i * 37,
                title=title,
                slug=title.lower().replace(" ", "-"),
                creator=_CREATORS[i % len(_CREATORS)],
                likes=5000 - i * 61,
                downloads=20000 - i * 173,
                licence=_LICENCES[i % len(_LICENCES)],
                category=_CATEGORIES[i % len(_CATEGORIES)],
                image_ext=IMAGE_FORMATS[i % len(IMAGE_FORMATS)],
            )
        )
    return out


_FORMATS = {
    "png": ("PNG", "image/png"),
    "jpg": ("JPEG", "image/jpeg"),
    "webp": ("WEBP", "image/webp"),
}


def render_image(seed: int, ext: str, size: tuple[int, int] = (800, 600)) -> tuple[bytes, str]:
    """A generated image in ``ext`` (png/jpg/webp); returns (bytes, content type)."""
    fmt, content_type = _FORMATS[ext]
    colour = ((seed * 53) % 256, (seed * 97) % 256, (seed * 193) % 256)
    image = Image.new("RGB", size, colour)
    for x in range(0, size[0], 40):
        image.paste((255 - colour[0], colour[1], 255 - colour[2]), (x, 0, x + 10, size[1]))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue(), content_type


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def decompression_bomb(width: int = 9000, height: int = 9000) -> bytes:
    """A valid 1-bit PNG of ``width``x``height`` zeros: a few KB that decode to ~80 Mpx."""
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row) for _ in range(height)]
    parts.append(compressor.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", b"".join(parts))
        + _chunk(b"IEND", b"")
    )


CLOUDFLARE_HTML = """<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="refresh" content="390"></head><body><div class="main-wrapper" role="main">
<h1>makerworld.com</h1><p>Verifying you are human. This may take a few seconds.</p>
<noscript>Enable JavaScript and cookies to continue</noscript></div></body></html>"""
