"""The library in Home Assistant's media browser, served only to authenticated users."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.components import media_source
from homeassistant.components.media_player import MediaClass
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printernizer.media_source import SECTIONS, library_thumbnail

from .conftest import EventRecorder, wait_for
from .fake_client import FakeFileClient
from .files_helpers import device_id, library, library_entry, setup_entries
from .metadata import writers

CONTENT = b"; cube\n" * 100


@pytest.fixture
def use_files() -> Generator[FakeFileClient]:
    client = FakeFileClient()
    client.add("/cache/cube.gcode.3mf", CONTENT)
    with patch("custom_components.printernizer.clients.create_client", return_value=client):
        yield client


async def test_browse_resolve_and_serve(
    hass: HomeAssistant,
    fake_entry: MockConfigEntry,
    use_files: FakeFileClient,
    tmp_path: Path,
    hass_client: Any,
    hass_client_no_auth: Any,
) -> None:
    assert await async_setup_component(hass, "media_source", {})
    lib = library_entry(hass, tmp_path / "lib")
    await setup_entries(hass, fake_entry, lib)
    downloaded = await hass.services.async_call(
        "printernizer",
        "download_file",
        {"device_id": device_id(hass, "FAKE0001"), "path": "/cache/cube.gcode.3mf"},
        blocking=True,
        return_response=True,
    )
    root = await media_source.async_browse_media(hass, "media-source://printernizer")
    assert [c.title for c in root.children] == ["Library"]
    top = await media_source.async_browse_media(hass, "media-source://printernizer/library")
    assert [c.title for c in top.children] == ["Workshop X1"]
    folder = await media_source.async_browse_media(hass, top.children[0].media_content_id)
    (item,) = folder.children
    assert item.title == "cube.gcode.3mf"
    assert item.thumbnail is None  # no thumbnails before the processing work
    assert library_thumbnail(hass, downloaded["file_id"]) is None
    resolved = await media_source.async_resolve_media(hass, item.media_content_id, None)
    assert resolved.url == f"/api/printernizer/library/{downloaded['file_id']}"
    assert resolved.mime_type == "model/3mf"

    client = await hass_client()
    response = await client.get(resolved.url)
    assert response.status == 200
    assert await response.read() == CONTENT
    assert (await client.get("/api/printernizer/library/" + "0" * 64)).status == 404
    assert (await client.get("/api/printernizer/library/..%2F..%2Fsecrets.yaml")).status in (
        400,
        404,
    )
    anonymous = await hass_client_no_auth()
    assert (await anonymous.get(resolved.url)).status == 401

    with pytest.raises(media_source.Unresolvable):
        await media_source.async_resolve_media(
            hass, "media-source://printernizer/library/file/nope", None
        )
    # Trending is opt-in: its section is not there while no site is on.
    with pytest.raises(media_source.Unresolvable):
        await media_source.async_browse_media(hass, "media-source://printernizer/trending")
    assert list(SECTIONS) == ["library", "trending"]

    # Without the library entry the section is gone.
    assert await hass.config_entries.async_unload(lib.entry_id)
    root = await media_source.async_browse_media(hass, "media-source://printernizer")
    assert root.children == []


async def test_previews_media_classes_and_refusals(
    hass: HomeAssistant,
    fake_entry: MockConfigEntry,
    use_files: FakeFileClient,
    tmp_path: Path,
    hass_client: Any,
    events: EventRecorder,
) -> None:
    """A processed 3MF shows its preview; videos and images get their media class; 404s."""
    assert await async_setup_component(hass, "media_source", {})
    use_files.add("/cache/benchy.gcode.3mf", writers.threemf([writers.PlateSpec(1)]))
    use_files.add("/timelapse/benchy.mp4", b"\0\0\0\x18ftypmp42" + b"\0" * 100)
    use_files.add("/cache/photo.png", writers.png(8, 8))
    lib = library_entry(hass, tmp_path / "lib")
    await setup_entries(hass, fake_entry, lib)
    checksums = {}
    for path in ("/cache/benchy.gcode.3mf", "/timelapse/benchy.mp4", "/cache/photo.png"):
        downloaded = await hass.services.async_call(
            "printernizer",
            "download_file",
            {"device_id": device_id(hass, "FAKE0001"), "path": path},
            blocking=True,
            return_response=True,
        )
        checksums[path.rsplit("/", 1)[1]] = downloaded["file_id"]
    await wait_for(hass, lambda: events.of("file_thumbnails_processed"))
    top = await media_source.async_browse_media(hass, "media-source://printernizer/library")
    folder = await media_source.async_browse_media(hass, top.children[0].media_content_id)
    by_title = {c.title: c for c in folder.children}
    assert sorted(by_title) == ["benchy.gcode.3mf", "benchy.mp4", "photo.png"]
    model = by_title["benchy.gcode.3mf"]
    assert model.media_class == MediaClass.URL
    assert model.thumbnail == f"/api/printernizer/thumbnail/{checksums['benchy.gcode.3mf']}"
    assert by_title["benchy.mp4"].media_class == MediaClass.VIDEO
    assert by_title["benchy.mp4"].media_content_type == "video/mp4"
    assert by_title["photo.png"].media_class == MediaClass.IMAGE
    assert by_title["photo.png"].thumbnail is None  # only processed print files have previews

    client = await hass_client()
    response = await client.get(model.thumbnail)
    assert response.status == 200
    preview = library_thumbnail(hass, checksums["benchy.gcode.3mf"])
    assert preview is not None
    assert await response.read() == await hass.async_add_executor_job(preview.read_bytes)
    for bad in ("not-a-checksum", "0" * 64, checksums["photo.png"]):
        assert (await client.get(f"/api/printernizer/thumbnail/{bad}")).status == 404
    assert (await client.get("/api/printernizer/library/not-a-checksum")).status == 404

    # A damaged index: a preview outside the file's thumbnail folder, or none of the sizes
    # the browser shows, is never served.
    files = library(hass)
    checksum = checksums["benchy.gcode.3mf"]
    files.set_processing(checksum, thumbnails={"medium": str(tmp_path / "elsewhere.png")})
    assert library_thumbnail(hass, checksum) is None
    assert (await client.get(model.thumbnail)).status == 404
    files.set_processing(checksum, thumbnails={"small": str(preview)})
    assert library_thumbnail(hass, checksum) is None

    # The file gone from disk behind the library's back: 404, not an error.
    video = checksums["benchy.mp4"]
    resolved = await media_source.async_resolve_media(
        hass, by_title["benchy.mp4"].media_content_id, None
    )
    assert resolved.mime_type == "video/mp4"
    await hass.async_add_executor_job(files.path_of(files.get(video)).unlink)
    assert (await client.get(resolved.url)).status == 404

    for identifier in ("library/folder/nope", "nope", "nope/x"):
        with pytest.raises(media_source.Unresolvable):
            await media_source.async_browse_media(hass, f"media-source://printernizer/{identifier}")
    with pytest.raises(media_source.Unresolvable):
        await media_source.async_resolve_media(hass, "media-source://printernizer/nope/x", None)
