"""Small / medium / large PNG previews from the largest embedded image.

Each image's own header is read before anything is decoded: an image of more than
MAX_PIXELS (or with a side over MAX_SIDE) is refused, per call, without touching Pillow's
process-wide `Image.MAX_IMAGE_PIXELS` (it is shared with the rest of Home Assistant).
Previews are never upscaled: a size larger than the source gets the source's size.
Pillow (shipped with Home Assistant) decodes PNG, JPEG and QOI.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from .images import probe
from .models import MetadataError, Thumbnail

SIZES: Mapping[str, int] = {"small": 128, "medium": 256, "large": 512}
MAX_PIXELS = 16 * 1024 * 1024  # 4096 x 4096; slicer thumbnails are far smaller
MAX_SIDE = 8192
REUSE_LIMIT = 2 * 1024 * 1024  # a fitting PNG source up to this size is kept as it is
_PILLOW_FORMATS = {"png": "PNG", "jpg": "JPEG", "qoi": "QOI"}


@dataclass(slots=True, frozen=True)
class Preview:
    """One rendered preview: PNG bytes of width x height."""

    name: str
    width: int
    height: int
    data: bytes = field(repr=False)


def largest(thumbnails: Iterable[Thumbnail]) -> Thumbnail | None:
    """The thumbnail with the most pixels (by its own header) within the limits, else None."""
    best: Thumbnail | None = None
    best_pixels = 0
    for thumb in thumbnails:
        found = probe(thumb.data)
        if found is None:
            continue
        _, width, height = found
        pixels = width * height
        if _within_limits(width, height) and pixels > best_pixels:
            best, best_pixels = thumb, pixels
    return best


def _within_limits(width: int, height: int, max_pixels: int = MAX_PIXELS) -> bool:
    return 0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE and width * height <= max_pixels


def decode(thumb: Thumbnail, *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """The decoded image (RGB or RGBA), its dimensions checked before decoding."""
    found = probe(thumb.data)
    if found is None or found[0] != thumb.format:
        raise MetadataError(f"the embedded {thumb.format.upper()} image is not readable")
    _, width, height = found
    if not _within_limits(width, height, max_pixels):
        raise MetadataError(
            f"the embedded image is {width}x{height} pixels: too big to decode safely"
        )
    try:
        # no warnings filter here (process-wide state): the limits above sit far below
        # Pillow's own DecompressionBomb thresholds, so they never fire
        image = Image.open(io.BytesIO(thumb.data), formats=[_PILLOW_FORMATS[thumb.format]])
        if image.size != (width, height):
            raise MetadataError("the embedded image's header is inconsistent")
        image.load()
        mode = (
            "RGBA" if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info else "RGB"
        )
        return image.convert(mode)
    except MetadataError:
        raise
    except Exception as err:
        # Pillow's decoders on hostile bytes raise many kinds (OSError, SyntaxError,
        # IndexError in the QOI plugin, DecompressionBomb*): all are a corrupt image here
        raise MetadataError(
            f"the embedded {thumb.format.upper()} image is corrupt ({err})"
        ) from err


def make_previews(
    thumbnails: Sequence[Thumbnail], *, max_pixels: int = MAX_PIXELS
) -> dict[str, Preview]:
    """small / medium / large PNG previews (128, 256, 512 px on the longest side)."""
    source = largest(thumbnails)
    if source is None:
        if thumbnails:
            raise MetadataError("no embedded image is readable within the size limits")
        raise MetadataError("the file has no embedded image")
    image = decode(source, max_pixels=max_pixels)
    out: dict[str, Preview] = {}
    current = image
    # largest first, each size made from the one before (cheaper, same quality)
    for name, side in sorted(SIZES.items(), key=lambda item: -item[1]):
        if current.width > side or current.height > side:
            current = current.copy()
            current.thumbnail((side, side), Image.Resampling.LANCZOS)  # never upscales
        if current is image and source.format == "png" and len(source.data) <= REUSE_LIMIT:
            data = source.data  # a PNG that fits: the decoded and checked original itself
        else:
            buffer = io.BytesIO()
            current.save(buffer, format="PNG", compress_level=3)
            data = buffer.getvalue()
        out[name] = Preview(name=name, width=current.width, height=current.height, data=data)
    return {name: out[name] for name in SIZES}


def save_previews(
    previews: Mapping[str, Preview], directory: str | os.PathLike[str]
) -> dict[str, str]:
    """Write `<directory>/<name>.png` atomically (temporary file, fsync, rename); name -> path."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, str] = {}
    for name, preview in previews.items():
        target = folder / f"{name}.png"
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as stream:
                stream.write(preview.data)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        paths[name] = str(target)
    return paths
