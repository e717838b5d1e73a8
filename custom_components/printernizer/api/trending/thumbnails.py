"""The pure part of the thumbnail cache: check, shrink and re-encode an image (synchronous).

Call :func:`process_image` in an executor: it decodes. Images are hostile
until proven otherwise: the declared content type must be an image type, the
dimensions are checked against a per-call pixel limit *before* anything is
decoded (Pillow's global ``Image.MAX_IMAGE_PIXELS`` is never changed), and the
image must decode completely. The result is at most 512 px on its longer side,
re-encoded as PNG (with transparency) or JPEG.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Final

from PIL import Image, UnidentifiedImageError

from .models import ThumbnailError

MAX_SIZE: Final = 512
#: Largest source image accepted (pixels); a decompression bomb is far larger.
MAX_PIXELS: Final = 40_000_000
ALLOWED_CONTENT_TYPES: Final = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})
_ALLOWED_FORMATS: Final = frozenset({"PNG", "JPEG", "WEBP", "GIF"})
JPEG_QUALITY: Final = 85


@dataclass(frozen=True, slots=True)
class Thumbnail:
    """A checked, resized, re-encoded image."""

    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def cache_key(url: str) -> str:
    """The cache key of ``url``: SHA-256 hex digest of its UTF-8 bytes."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def process_image(
    data: bytes,
    content_type: str | None,
    *,
    max_size: int = MAX_SIZE,
    max_pixels: int = MAX_PIXELS,
) -> Thumbnail:
    """Validate ``data`` and return it as a thumbnail; :class:`ThumbnailError` when refused."""
    declared = (content_type or "").split(";", 1)[0].strip().lower()
    if declared not in ALLOWED_CONTENT_TYPES:
        raise ThumbnailError(f"content type {declared or 'none'!r} is not an image type")
    if not data:
        raise ThumbnailError("empty body")
    try:
        with Image.open(io.BytesIO(data), formats=sorted(_ALLOWED_FORMATS)) as image:
            # Pillow refuses a zero width or height when opening (not identified).
            width, height = image.size
            if width * height > max_pixels:
                raise ThumbnailError(
                    f"{width}x{height} is over {max_pixels} pixels (decompression bomb?)"
                )
            image.seek(0)
            image.draft("RGB", (max_size, max_size))
            image.load()
            return _encode(image, max_size)
    except ThumbnailError:
        raise
    except Image.DecompressionBombError as err:
        raise ThumbnailError(f"decompression bomb: {err}") from err
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as err:
        raise ThumbnailError(f"not a readable image: {type(err).__name__}: {err}") from err


def _encode(image: Image.Image, max_size: int) -> Thumbnail:
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    converted = image.convert("RGBA" if has_alpha else "RGB")
    converted.thumbnail((max_size, max_size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if has_alpha:
        converted.save(out, format="PNG", optimize=True)
        content_type, extension = "image/png", "png"
    else:
        converted.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
        content_type, extension = "image/jpeg", "jpg"
    return Thumbnail(
        data=out.getvalue(),
        content_type=content_type,
        extension=extension,
        width=converted.width,
        height=converted.height,
    )
