"""Printernizer in Home Assistant's media browser: the library (and later trending items).

The root lists one folder per *section*; :data:`SECTIONS` maps a section's id
to an object with ``title``, ``available(hass)``, ``async_browse(hass, path)``
and ``async_resolve(hass, path)``. The library is the first section; another
(trending, ``media_trending.py``) is added by putting its object in
:data:`SECTIONS`.

Files are never served from ``www/``: a resolved item is a URL of
:class:`LibraryFileView`, an authenticated view (the media browser signs it).
Thumbnails come from the processing work (core/processing.py):
:func:`library_thumbnail` gives a processed file's medium preview.
"""

from __future__ import annotations

import mimetypes
import re
from collections import defaultdict
from pathlib import Path
from typing import Final, Protocol
from urllib.parse import quote

from aiohttp import web
from homeassistant.components.media_player.const import MediaClass
from homeassistant.components.media_source import (
    BrowseMediaSource,
    MediaSource,
    MediaSourceItem,
    PlayMedia,
    Unresolvable,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import HomeAssistantView

from .const import DOMAIN
from .core.library import Library, LibraryFile
from .media_trending import browse_trending, resolve_trending
from .runtime import DATA_KEY, LibraryRuntime

FILE_URL: Final = "/api/printernizer/library/{checksum}"
THUMBNAIL_URL: Final = "/api/printernizer/thumbnail/{checksum}"
_CHECKSUM: Final = re.compile(r"^[0-9a-f]{64}$")
_MIME: Final = {
    ".3mf": "model/3mf",
    ".gcode": "text/x.gcode",
    ".bgcode": "application/octet-stream",
    ".stl": "model/stl",
    ".mp4": "video/mp4",
    ".avi": "video/x-msvideo",
}


def library_thumbnail(hass: HomeAssistant, checksum: str) -> Path | None:
    """The medium (256 px) preview of a library file, or None before it was processed.

    Only a path under ``<library>/.thumbnails/<checksum>/`` is returned (no I/O here).
    """
    library = _library(hass)
    file = library.get(checksum) if library is not None else None
    if library is None or file is None or not file.thumbnails:
        return None
    candidate = file.thumbnails.get("medium") or file.thumbnails.get("large")
    if not candidate:
        return None
    path = Path(candidate)
    if not path.is_relative_to(library.thumbnails_folder / checksum):
        return None
    return path


def mime_type(name: str) -> str:
    """The MIME type of a file name."""
    suffix = Path(name.lower()).suffix
    return _MIME.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def _media_class(mime: str) -> MediaClass:
    if mime.startswith("video/"):
        return MediaClass.VIDEO
    if mime.startswith("image/"):
        return MediaClass.IMAGE
    return MediaClass.URL


def _library_runtime(hass: HomeAssistant) -> LibraryRuntime | None:
    return hass.data[DATA_KEY].library if DATA_KEY in hass.data else None


def _library(hass: HomeAssistant) -> Library | None:
    runtime = _library_runtime(hass)
    return runtime.library if runtime is not None else None


class Section(Protocol):
    """A top-level folder of Printernizer's media source."""

    title: str

    def available(self, hass: HomeAssistant) -> bool:
        """Whether the section is shown now."""

    async def async_browse(self, hass: HomeAssistant, path: str) -> BrowseMediaSource:
        """Browse ``path`` inside the section ("" for its top)."""

    async def async_resolve(self, hass: HomeAssistant, path: str) -> PlayMedia:
        """Resolve an item of the section."""


def _folder(identifier: str, title: str, children: list[BrowseMediaSource]) -> BrowseMediaSource:
    return BrowseMediaSource(
        domain=DOMAIN,
        identifier=identifier,
        media_class=MediaClass.DIRECTORY,
        media_content_type="",
        title=title,
        can_play=False,
        can_expand=True,
        children=children,
        children_media_class=MediaClass.DIRECTORY if not children else None,
    )


class LibrarySection:
    """The library: one folder per printer (the folder a file lies in), then its files."""

    title = "Library"

    def available(self, hass: HomeAssistant) -> bool:
        """Shown while the library entry is loaded."""
        return _library(hass) is not None

    def _file_item(self, hass: HomeAssistant, file: LibraryFile) -> BrowseMediaSource:
        mime = mime_type(file.filename)
        thumbnail = (
            THUMBNAIL_URL.format(checksum=file.checksum)
            if library_thumbnail(hass, file.checksum) is not None
            else None
        )
        return BrowseMediaSource(
            domain=DOMAIN,
            identifier=f"library/file/{file.checksum}",
            media_class=_media_class(mime),
            media_content_type=mime,
            title=file.filename,
            can_play=True,
            can_expand=False,
            thumbnail=thumbnail,
        )

    async def async_browse(self, hass: HomeAssistant, path: str) -> BrowseMediaSource:
        """The printer folders, or one folder's files."""
        library = _library(hass)
        if library is None:
            raise Unresolvable("The Printernizer library is not loaded")
        groups: dict[str, list[LibraryFile]] = defaultdict(list)
        for file in library.files():
            folder = "" if file.in_place else file.path.rpartition("/")[0]
            groups[folder or "Watch folders"].append(file)
        if not path:
            return _folder(
                "library",
                self.title,
                [
                    _folder(f"library/folder/{name}", name, [])
                    for name in sorted(groups, key=str.casefold)
                ],
            )
        kind, _, rest = path.partition("/")
        if kind == "folder" and rest in groups:
            files = sorted(groups[rest], key=lambda f: f.filename.casefold())
            browsed = _folder(
                f"library/folder/{rest}", rest, [self._file_item(hass, f) for f in files]
            )
            browsed.children_media_class = MediaClass.URL
            return browsed
        raise Unresolvable(f"Unknown library folder {rest}")

    async def async_resolve(self, hass: HomeAssistant, path: str) -> PlayMedia:
        """A file: the authenticated URL of :class:`LibraryFileView`."""
        library = _library(hass)
        kind, _, checksum = path.partition("/")
        if library is None or kind != "file" or (file := library.get(checksum)) is None:
            raise Unresolvable(f"Unknown library file {checksum}")
        return PlayMedia(FILE_URL.format(checksum=file.checksum), mime_type(file.filename))


class TrendingSection:
    """Trending models (media_trending.py): a folder per site with the cached thumbnails."""

    title = "Trending"

    def available(self, hass: HomeAssistant) -> bool:
        """Shown while a trending site is turned on (trending is opt-in)."""
        library = _library_runtime(hass)
        return (
            library is not None
            and library.trending is not None
            and (library.settings.trending_makerworld or library.settings.trending_printables)
        )

    async def async_browse(self, hass: HomeAssistant, path: str) -> BrowseMediaSource:
        """``trending``, a site, or one model."""
        return browse_trending(hass, f"trending/{path}" if path else "trending")

    async def async_resolve(self, hass: HomeAssistant, path: str) -> PlayMedia:
        """A model's cached thumbnail."""
        return resolve_trending(hass, f"trending/{path}")


#: Top-level sections, in browse order.
SECTIONS: dict[str, Section] = {"library": LibrarySection(), "trending": TrendingSection()}


class PrinternizerMediaSource(MediaSource):
    """Printernizer's files in the media browser."""

    name = "Printernizer"

    def __init__(self, hass: HomeAssistant) -> None:
        """Initialize the source."""
        super().__init__(DOMAIN)
        self.hass = hass

    async def async_browse_media(self, item: MediaSourceItem) -> BrowseMediaSource:
        """Browse the root (sections) or inside a section."""
        identifier = item.identifier or ""
        if not identifier:
            return _folder(
                "",
                "Printernizer",
                [
                    _folder(key, section.title, [])
                    for key, section in SECTIONS.items()
                    if section.available(self.hass)
                ],
            )
        key, _, rest = identifier.partition("/")
        section = SECTIONS.get(key)
        if section is None or not section.available(self.hass):
            raise Unresolvable(f"Unknown Printernizer media {identifier}")
        return await section.async_browse(self.hass, rest)

    async def async_resolve_media(self, item: MediaSourceItem) -> PlayMedia:
        """Resolve an item to an authenticated URL."""
        key, _, rest = (item.identifier or "").partition("/")
        section = SECTIONS.get(key)
        if section is None or not section.available(self.hass):
            raise Unresolvable(f"Unknown Printernizer media {item.identifier}")
        return await section.async_resolve(self.hass, rest)


class LibraryFileView(HomeAssistantView):
    """Serves a library file to an authenticated user (or a signed URL)."""

    url = "/api/printernizer/library/{checksum}"
    name = "api:printernizer:library"
    requires_auth = True

    async def get(self, request: web.Request, checksum: str) -> web.StreamResponse:
        """Send the file."""
        hass: HomeAssistant = request.app["hass"]
        library = _library(hass)
        if not _CHECKSUM.match(checksum) or library is None:
            raise web.HTTPNotFound
        file = library.get(checksum)
        if file is None:
            raise web.HTTPNotFound
        path = library.path_of(file)
        if not await hass.async_add_executor_job(path.is_file):
            raise web.HTTPNotFound
        return web.FileResponse(
            path,
            headers={
                "Content-Type": mime_type(file.filename),
                "Content-Disposition": f"attachment; filename*=UTF-8''{_quote(file.filename)}",
            },
        )


class LibraryThumbnailView(HomeAssistantView):
    """Serves a library file's thumbnail (see :func:`library_thumbnail`)."""

    url = "/api/printernizer/thumbnail/{checksum}"
    name = "api:printernizer:thumbnail"
    requires_auth = True

    async def get(self, request: web.Request, checksum: str) -> web.StreamResponse:
        """Send the thumbnail, or 404."""
        hass: HomeAssistant = request.app["hass"]
        if not _CHECKSUM.match(checksum):
            raise web.HTTPNotFound
        path = library_thumbnail(hass, checksum)
        if path is None or not await hass.async_add_executor_job(path.is_file):
            raise web.HTTPNotFound
        return web.FileResponse(path)


def _quote(name: str) -> str:
    return quote(name, safe="")


async def async_get_media_source(hass: HomeAssistant) -> PrinternizerMediaSource:
    """Set up Printernizer's media source (and its authenticated views)."""
    hass.http.register_view(LibraryFileView())
    hass.http.register_view(LibraryThumbnailView())
    return PrinternizerMediaSource(hass)
