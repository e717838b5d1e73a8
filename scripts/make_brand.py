"""Draw Printernizer's brand images (custom_components/printernizer/brand/).

Run from the repository root: ``.venv/bin/python scripts/make_brand.py``. The images
are committed; this script is how they were made, so they can be redrawn.

The glyph is a 3D printer seen from the front: a frame, a print head with its
nozzle on the gantry, a part being printed on the bed. Each image is drawn at
four times its size and scaled down for smooth edges. Light variants suit a
light background, ``dark_`` variants a dark one; backgrounds are transparent.
"""

from __future__ import annotations

import pathlib

from PIL import Image, ImageDraw, ImageFont

BRAND = pathlib.Path(__file__).resolve().parent.parent / "custom_components/printernizer/brand"
SCALE = 4
ACCENT = (3, 169, 244, 255)  # Home Assistant blue
ORANGE = (255, 145, 0, 255)  # the filament
FRAME_LIGHT = (38, 50, 56, 255)
FRAME_DARK = (236, 239, 241, 255)
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def _glyph(size: int, frame: tuple[int, int, int, int]) -> Image.Image:
    """The square printer glyph, ``size`` pixels, transparent background."""
    big = size * SCALE
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    u = big / 64  # drawing grid: 64 units across

    def box(x0: float, y0: float, x1: float, y1: float) -> list[float]:
        return [x0 * u, y0 * u, x1 * u, y1 * u]

    # frame: two uprights, a top beam and a base
    draw.rounded_rectangle(box(6, 6, 58, 12), radius=2 * u, fill=frame)
    draw.rounded_rectangle(box(6, 6, 12, 58), radius=2 * u, fill=frame)
    draw.rounded_rectangle(box(52, 6, 58, 58), radius=2 * u, fill=frame)
    draw.rounded_rectangle(box(4, 52, 60, 60), radius=2 * u, fill=frame)
    # gantry rail and print head
    draw.rectangle(box(12, 20, 52, 23), fill=frame)
    draw.rounded_rectangle(box(24, 15, 40, 30), radius=2.5 * u, fill=ACCENT)
    # nozzle (a downward triangle) and a drop of filament
    draw.polygon([(28 * u, 30 * u), (36 * u, 30 * u), (32 * u, 36 * u)], fill=frame)
    draw.ellipse(box(30.5, 37, 33.5, 40), fill=ORANGE)
    # bed and the part on it
    draw.rounded_rectangle(box(14, 47, 50, 50), radius=1 * u, fill=ACCENT)
    draw.rounded_rectangle(box(23, 42, 41, 47), radius=1 * u, fill=ORANGE)
    return img.resize((size, size), Image.Resampling.LANCZOS)


def _logo(height: int, frame: tuple[int, int, int, int]) -> Image.Image:
    """The glyph followed by the name, ``height`` pixels high."""
    icon = _glyph(height * SCALE, frame)
    font = ImageFont.truetype(FONT, int(height * SCALE * 0.5))
    text = "Printernizer"
    probe = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    left, top, right, bottom = probe.textbbox((0, 0), text, font=font)
    gap = height * SCALE // 6
    width = icon.width + gap + (right - left) + gap
    img = Image.new("RGBA", (width, icon.height), (0, 0, 0, 0))
    img.paste(icon, (0, 0), icon)
    draw = ImageDraw.Draw(img)
    y = (icon.height - (bottom - top)) // 2 - top
    draw.text((icon.width + gap - left, y), text, font=font, fill=frame)
    return img.resize((width // SCALE, height), Image.Resampling.LANCZOS)


def main() -> None:
    """Write every brand image."""
    BRAND.mkdir(parents=True, exist_ok=True)
    for prefix, frame in (("", FRAME_LIGHT), ("dark_", FRAME_DARK)):
        _glyph(256, frame).save(BRAND / f"{prefix}icon.png", optimize=True)
        _glyph(512, frame).save(BRAND / f"{prefix}icon@2x.png", optimize=True)
        _logo(128, frame).save(BRAND / f"{prefix}logo.png", optimize=True)
        _logo(256, frame).save(BRAND / f"{prefix}logo@2x.png", optimize=True)


if __name__ == "__main__":
    main()
