"""The library in Home Assistant's media browser, served only to authenticated users."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.components import media_source
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.printernizer.media_source import SECTIONS, library_thumbnail

from .fake_client import FakeFileClient
from .files_helpers import device_id, library_entry, setup_entries

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
