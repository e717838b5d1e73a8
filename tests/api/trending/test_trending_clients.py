"""MakerWorld and Printables clients against the simulator: every mode, on 127.0.0.1."""

from __future__ import annotations

import email.utils
import time

import aiohttp
import pytest

from custom_components.printernizer.api.trending import (
    USER_AGENT,
    MakerWorldClient,
    PrintablesClient,
    TrendingApiError,
    TrendingBlockedError,
    TrendingConnectionError,
    TrendingParseError,
    TrendingResponseTooLargeError,
)
from custom_components.printernizer.api.trending.http import parse_retry_after
from simulator.trending import TrendingSimulator

type Client = MakerWorldClient | PrintablesClient


@pytest.fixture(params=["makerworld", "printables"])
def platform(request: pytest.FixtureRequest) -> str:
    """Each test runs for both sites."""
    return str(request.param)


@pytest.fixture
def client(platform: str, makerworld: MakerWorldClient, printables: PrintablesClient) -> Client:
    """The client of ``platform``."""
    return makerworld if platform == "makerworld" else printables


async def test_makerworld_items(sim: TrendingSimulator, makerworld: MakerWorldClient) -> None:
    """One GET with the documented query; every field mapped; page URL and cover absolute."""
    items = await makerworld.async_fetch_trending(20)
    assert len(items) == 20
    first = sim.models["makerworld"][0]
    item = items[0]
    assert item.platform == "makerworld"
    assert item.model_id == str(first.model_id)
    assert item.trending_id == f"makerworld:{first.model_id}"
    assert item.title == first.title
    assert item.url == f"{sim.url}/en/models/{first.model_id}"
    assert item.thumbnail_url == sim.image_url("makerworld", first)
    assert item.creator == first.creator.title()
    assert (item.likes, item.downloads) == (first.likes, first.downloads)
    assert item.licence == first.licence
    assert item.category == first.category
    (request,) = sim.requests_to("makerworld")
    assert request.method == "GET"
    assert request.query == {"orderBy": "hotScore", "designType": "0", "limit": "20", "offset": "0"}
    assert request.user_agent == USER_AGENT
    assert "Printernizer" in request.user_agent


async def test_printables_items(sim: TrendingSimulator, printables: PrintablesClient) -> None:
    """One POST of operation PrintList; page URL id-slug; image under the media URL."""
    items = await printables.async_fetch_trending(20)
    assert len(items) == 20
    first = sim.models["printables"][0]
    item = items[0]
    assert item.platform == "printables"
    assert item.model_id == str(first.model_id)
    assert item.url == f"{sim.url}/model/{first.model_id}-{first.slug}"
    assert item.thumbnail_url == sim.image_url("printables", first)
    assert item.creator == first.creator
    assert item.category == first.category
    assert item.licence == f"CC {first.licence}"
    (request,) = sim.requests_to("printables")
    assert (request.method, request.operation) == ("POST", "PrintList")
    assert request.user_agent == USER_AGENT


async def test_printables_image_under_media_url(
    sim: TrendingSimulator, session: aiohttp.ClientSession
) -> None:
    """The thumbnail is the media host + the image's ``filePath`` (media.printables.com's way)."""
    client = PrintablesClient(session, api_url=sim.url, web_url=sim.url, timeout=5.0)
    items = await client.async_fetch_trending(3)
    assert len(items) == 3
    for item, model in zip(items, sim.models["printables"][:3], strict=True):
        file_path = sim.image_path("printables", model)
        # the real shape: media/prints/<print id>/images/<image id>_<uuid>/<file>
        folder = f"media/prints/{model.model_id}/images/{model.model_id * 10 + 1}_"
        assert file_path.startswith(folder)
        assert item.thumbnail_url == f"https://media.printables.com/{file_path}"


async def test_at_most_two_requests(sim: TrendingSimulator, client: Client, platform: str) -> None:
    """A count larger than a page takes a second request, never a third; no duplicates."""
    items = await client.async_fetch_trending(500)
    assert len(items) == 60
    assert len({i.model_id for i in items}) == 60
    assert len(sim.requests_to(platform)) == 2
    sim.reset()
    assert len(await client.async_fetch_trending(5)) == 5
    assert len(sim.requests_to(platform)) == 1


async def test_printables_follows_cursor(
    sim: TrendingSimulator, printables: PrintablesClient
) -> None:
    """The second page starts at the cursor the first returned."""
    items = await printables.async_fetch_trending(45)
    assert [i.model_id for i in items] == [str(m.model_id) for m in sim.models["printables"][:45]]


async def test_cloudflare_block(sim: TrendingSimulator, client: Client, platform: str) -> None:
    """403 with Cloudflare's HTML page: blocked, no Retry-After."""
    sim.set_mode(platform, "cloudflare")
    with pytest.raises(TrendingBlockedError) as err:
        await client.async_fetch_trending()
    assert err.value.status == 403
    assert err.value.retry_after is None
    assert "Cloudflare" in str(err.value)
    assert len(sim.requests_to(platform)) == 1


async def test_rate_limited(sim: TrendingSimulator, client: Client, platform: str) -> None:
    """429 carries the Retry-After seconds; a missing header gives None."""
    sim.set_mode(platform, "rate_limited", retry_after="3600")
    with pytest.raises(TrendingBlockedError) as err:
        await client.async_fetch_trending()
    assert (err.value.status, err.value.retry_after) == (429, 3600.0)
    sim.set_mode(platform, "rate_limited", retry_after=None)
    with pytest.raises(TrendingBlockedError) as err:
        await client.async_fetch_trending()
    assert err.value.retry_after is None


async def test_rate_limited_http_date(
    sim: TrendingSimulator, client: Client, platform: str
) -> None:
    """Retry-After as an HTTP date becomes the seconds until then."""
    sim.set_mode(
        platform, "rate_limited", retry_after=email.utils.formatdate(time.time() + 600, usegmt=True)
    )
    with pytest.raises(TrendingBlockedError) as err:
        await client.async_fetch_trending()
    assert err.value.retry_after is not None
    assert 590 <= err.value.retry_after <= 600


def test_parse_retry_after() -> None:
    """Seconds, dates, garbage and the one-week clamp."""
    now = 1_800_000_000.0
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-5") is None
    assert parse_retry_after("99999999") == 7 * 24 * 3600.0
    assert parse_retry_after(email.utils.formatdate(now + 60, usegmt=True), now=now) == 60.0
    assert parse_retry_after(email.utils.formatdate(now - 60, usegmt=True), now=now) == 0.0


async def test_graphql_errors(sim: TrendingSimulator, printables: PrintablesClient) -> None:
    """HTTP 200 with ``errors``: an API error naming the message."""
    sim.set_mode("printables", "graphql_errors")
    with pytest.raises(TrendingApiError, match="Cannot query field"):
        await printables.async_fetch_trending()


async def test_missing_fields(sim: TrendingSimulator, client: Client, platform: str) -> None:
    """Items without a title/name are skipped; missing optional fields become None/empty."""
    sim.set_mode(platform, "missing_fields")
    items = await client.async_fetch_trending(30)
    # every third model lacks its title: 20 of the first 30, so a second request
    # fills up with 7 of the next 10
    assert len(items) == 27
    assert len(sim.requests_to(platform)) == 2
    assert all(i.title for i in items)
    assert all(i.thumbnail_url is None and i.creator == "" and i.likes is None for i in items)
    assert all(i.category is None for i in items)
    assert all(i.downloads is not None for i in items)
    by_id = {str(m.model_id): m for m in sim.models[platform]}
    for item in items:
        model = by_id[item.model_id]
        if platform == "printables" and model.index % 3 == 2:
            # a licence without its abbreviation: the long name is kept
            assert item.licence is not None
            assert item.licence.startswith("Creative Commons - Attribution")
        else:
            assert item.licence is None, item


async def test_wrong_types(sim: TrendingSimulator, client: Client, platform: str) -> None:
    """Non-objects and boolean ids are skipped; odd values become None, never errors."""
    sim.set_mode(platform, "wrong_types")
    items = await client.async_fetch_trending(4)
    by_id = {str(m.model_id): m for m in sim.models[platform]}
    models = [by_id[i.model_id] for i in items]
    # ranks 0 (a string) and 1 (id true) of every 4 are skipped
    assert [m.index for m in models] == [2, 3]
    for item, model in zip(items, models, strict=True):
        assert item.title == model.title
        assert item.thumbnail_url is None  # relative/numeric cover, or no usable image
        assert item.likes is None  # a boolean or negative count
        if platform == "makerworld":
            assert item.downloads == model.downloads  # 1234.0 is a count
            assert item.creator == model.creator  # the handle when the name is empty
        else:
            assert item.downloads is None  # 1234.5 is not
            assert item.url == f"{sim.url}/model/{model.model_id}"  # unsafe/missing slug
            assert item.category is None
            assert item.licence is None


@pytest.mark.parametrize("mode", ["renamed_fields", "changed_shape", "not_json", "not_object"])
async def test_changed_site_is_a_parse_error(
    sim: TrendingSimulator, client: Client, platform: str, mode: str
) -> None:
    """Renamed item fields, a different document or HTML instead of JSON: one parse error."""
    sim.set_mode(platform, mode)
    with pytest.raises(TrendingParseError):
        await client.async_fetch_trending()
    assert len(sim.requests_to(platform)) == 1


async def test_empty(sim: TrendingSimulator, client: Client, platform: str) -> None:
    """An empty list is no items, not an error."""
    sim.set_mode(platform, "empty")
    assert await client.async_fetch_trending() == []


async def test_slow_within_timeout(sim: TrendingSimulator, client: Client, platform: str) -> None:
    """A slow answer inside the timeout is fine."""
    sim.set_mode(platform, "slow", slow_seconds=0.2)
    assert len(await client.async_fetch_trending(3)) == 3


async def test_timeout(
    sim: TrendingSimulator, session: aiohttp.ClientSession, platform: str
) -> None:
    """A hanging site ends in a connection error after the client's timeout."""
    sim.set_mode(platform, "hang")
    client: Client
    if platform == "makerworld":
        client = MakerWorldClient(session, api_url=sim.url, web_url=sim.url, timeout=0.3)
    else:
        client = PrintablesClient(session, api_url=sim.url, timeout=0.3)
    with pytest.raises(TrendingConnectionError, match="timed out"):
        await client.async_fetch_trending()


async def test_oversized(sim: TrendingSimulator, client: Client, platform: str) -> None:
    """A body over the limit (chunked, no length) is aborted."""
    sim.set_mode(platform, "oversized")
    with pytest.raises(TrendingResponseTooLargeError):
        await client.async_fetch_trending()


async def test_server_error(sim: TrendingSimulator, client: Client, platform: str) -> None:
    """HTTP 500: a connection error."""
    sim.set_mode(platform, "server_error")
    with pytest.raises(TrendingConnectionError, match="HTTP 500"):
        await client.async_fetch_trending()


async def test_unreachable(session: aiohttp.ClientSession) -> None:
    """Nothing listening: a connection error, not an aiohttp exception."""
    async with TrendingSimulator() as stopped:
        url = stopped.url
    client = MakerWorldClient(session, api_url=url, timeout=2.0)
    with pytest.raises(TrendingConnectionError):
        await client.async_fetch_trending()


async def test_bad_ordering(makerworld: MakerWorldClient, printables: PrintablesClient) -> None:
    """An unknown ordering is a programming error (ValueError), nothing is sent."""
    with pytest.raises(ValueError, match="ordering"):
        await makerworld.async_fetch_trending(ordering="random")
    with pytest.raises(ValueError, match="ordering"):
        await printables.async_fetch_trending(ordering="random")
