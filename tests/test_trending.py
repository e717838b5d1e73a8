"""Trending through the simulator: refresh, failure modes, backoff, thumbnails, persistence."""

from __future__ import annotations

import itertools
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from PIL import Image
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.printernizer.api.trending import MakerWorldClient, PrintablesClient
from custom_components.printernizer.const import DOMAIN
from custom_components.printernizer.core.thumbnail_cache import PARALLEL, copy_atomic, write_atomic
from custom_components.printernizer.core.trending import PlatformState, issue_id
from custom_components.printernizer.media_trending import browse_trending
from simulator.trending import TrendingSimulator

from .conftest import EventRecorder, wait_for
from .trending_helpers import list_trending, refresh, setup_library, trending


def _exists(path: str) -> bool:
    return Path(path).is_file()


def _listing(folder: str) -> list[Path]:
    return sorted(Path(folder).glob("*")) if Path(folder).is_dir() else []


@pytest.fixture(autouse=True)
def _config_dir(hass: HomeAssistant, tmp_path: Path) -> None:
    """Caches go under a temporary configuration folder."""
    hass.config.config_dir = str(tmp_path)


@pytest.fixture
async def sim(socket_enabled: None) -> AsyncIterator[TrendingSimulator]:
    """The trending simulator on 127.0.0.1."""
    async with TrendingSimulator() as simulator:
        yield simulator


async def test_refresh_both(
    hass: HomeAssistant, sim: TrendingSimulator, events: EventRecorder
) -> None:
    """Both sites refresh in one trending_updated; each thumbnail is cached once and announced."""
    await setup_library(hass, sim)
    assert await refresh(hass) == ["makerworld", "printables"]
    (updated,) = events.of("trending_updated")
    assert updated["platforms"] == ["makerworld", "printables"]
    assert len(sim.requests_to("makerworld")) == 1
    assert len(sim.requests_to("printables")) == 1
    cached = events.of("thumbnail_cached")
    assert len(cached) == 20
    assert {c["source_type"] for c in cached} == {"makerworld", "printables"}
    cache_dir = Path(hass.config.path("printernizer/cache/trending"))
    for event in cached:
        path = Path(event["cache_path"])
        assert path.parent == cache_dir
        with Image.open(path) as image:
            assert max(image.size) <= 512
    items = await list_trending(hass)
    assert len(items) == 20
    first = items[0]
    model = sim.models["makerworld"][0]
    assert first["trending_id"] == f"makerworld:{model.model_id}"
    assert first["title"] == model.title
    assert (
        first["creator"]
        and first["licence"]
        and first["url"].endswith(f"/en/models/{model.model_id}")
    )
    assert first["local_thumbnail"]
    assert _exists(first["local_thumbnail"])
    assert [i["platform"] for i in await list_trending(hass, platform="printables")] == [
        "printables"
    ] * 10


def _site_of(path: str) -> str:
    return "makerworld" if path.startswith("/img/makerworld/") else "printables"


async def test_thumbnails_take_turns(
    hass: HomeAssistant, sim: TrendingSimulator, events: EventRecorder
) -> None:
    """Both sites' hottest models get their thumbnails first; every Printables model gets one.

    A smoke run once browsed mid-refresh and saw 19/20 MakerWorld and 0/20
    Printables thumbnails: all of MakerWorld's were fetched before any of
    Printables'. The first images in flight now belong to both sites.
    """
    await setup_library(hass, sim, items=10)
    manager = trending(hass)
    sim.set_mode("images", "hang")
    task = hass.async_create_background_task(manager.async_refresh(), "test refresh")
    await wait_for(hass, lambda: len(sim.requests_to("images")) == PARALLEL)
    in_flight = sorted(_site_of(r.path) for r in sim.requests_to("images"))
    assert in_flight == ["makerworld"] * (PARALLEL // 2) + ["printables"] * (PARALLEL // 2)
    # the hanging ones fail (HTTP 504: not refused, fetched again next refresh), the rest arrive
    sim.set_mode("images", "ok")
    sim.release()
    assert await task == ["makerworld", "printables"]
    assert len(events.of("thumbnail_cached")) == 20 - PARALLEL
    assert manager.thumbnails.refused_count == 0
    events.clear()
    assert await refresh(hass) == ["makerworld", "printables"]
    assert sorted(_site_of(r.path) for r in sim.requests_to("images")[-PARALLEL:]) == in_flight
    assert len(events.of("thumbnail_cached")) == PARALLEL
    cached = [e for e in events.of("thumbnail_cached") if e["source_type"] == "printables"]
    assert cached
    # every Printables model's thumbnail: cached, on disk, shown in the media browser
    node = browse_trending(hass, "trending/printables")
    assert [c.title.split(" · ")[0] for c in node.children] == [
        m.title for m in sim.models["printables"][:10]
    ]
    assert all(c.thumbnail and c.can_play for c in node.children)
    for model in sim.models["printables"][:10]:
        path = manager.thumbnails.path_for(sim.image_url("printables", model))
        assert path is not None
        assert path.is_file()


@pytest.mark.parametrize(("makerworld", "printables"), [(True, False), (False, True)])
async def test_refresh_one_platform(
    hass: HomeAssistant,
    sim: TrendingSimulator,
    events: EventRecorder,
    makerworld: bool,
    printables: bool,
) -> None:
    """Only the enabled site is asked; the other is never contacted."""
    await setup_library(hass, sim, makerworld=makerworld, printables=printables)
    platform = "makerworld" if makerworld else "printables"
    other = "printables" if makerworld else "makerworld"
    assert await refresh(hass) == [platform]
    assert events.of("trending_updated")[0]["platforms"] == [platform]
    assert sim.requests_to(other) == []
    assert {i["platform"] for i in await list_trending(hass)} == {platform}


async def test_off_by_default(hass: HomeAssistant, sim: TrendingSimulator) -> None:
    """Without a site turned on nothing is fetched and refresh_trending says why."""
    await setup_library(hass, sim, makerworld=False, printables=False)
    with pytest.raises(ServiceValidationError) as err:
        await refresh(hass)
    assert err.value.translation_key == "trending_disabled"
    assert sim.requests == []
    assert trending(hass).next_refresh is None


FAILURES = [
    ("makerworld", "cloudflare"),
    ("makerworld", "rate_limited"),
    ("makerworld", "renamed_fields"),
    ("makerworld", "changed_shape"),
    ("makerworld", "empty"),
    ("makerworld", "oversized"),
    ("makerworld", "not_json"),
    ("makerworld", "server_error"),
    ("printables", "cloudflare"),
    ("printables", "rate_limited"),
    ("printables", "graphql_errors"),
    ("printables", "renamed_fields"),
    ("printables", "changed_shape"),
    ("printables", "empty"),
    ("printables", "oversized"),
    ("printables", "not_json"),
]


@pytest.mark.parametrize(("platform", "mode"), FAILURES)
async def test_failure_keeps_previous_items(
    hass: HomeAssistant,
    sim: TrendingSimulator,
    events: EventRecorder,
    caplog: pytest.LogCaptureFixture,
    platform: str,
    mode: str,
) -> None:
    """A failing site keeps its items, is left out of trending_updated, and is logged once."""
    await setup_library(hass, sim)
    await refresh(hass)
    before = await list_trending(hass, platform=platform)
    assert len(before) == 10
    events.clear()
    sim.set_mode(platform, mode)
    caplog.clear()
    other = "printables" if platform == "makerworld" else "makerworld"
    with caplog.at_level(logging.DEBUG, logger="custom_components.printernizer"):
        assert await refresh(hass) == [other]
        assert await refresh(hass) == [other]
    assert [e["platforms"] for e in events.of("trending_updated")] == [[other], [other]]
    assert await list_trending(hass, platform=platform) == before
    warnings = [
        r for r in caplog.records if r.levelno >= logging.WARNING and r.name.endswith("trending")
    ]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    name = {"makerworld": "MakerWorld", "printables": "Printables"}[platform]
    assert name in warnings[0].getMessage()
    state = trending(hass).state(platform)
    assert state.last_error
    # back to normal: refreshed again, error cleared
    sim.set_mode(platform, "ok")
    trending(hass).state(platform).blocked_until = None
    assert platform in await refresh(hass)
    assert trending(hass).state(platform).last_error is None


async def test_missing_fields_tolerated(
    hass: HomeAssistant, sim: TrendingSimulator, events: EventRecorder
) -> None:
    """Items without a title are skipped, the rest refresh (without thumbnails or creators)."""
    await setup_library(hass, sim, printables=False, items=9)
    sim.set_mode("makerworld", "missing_fields")
    assert await refresh(hass) == ["makerworld"]
    items = await list_trending(hass)
    # every third model has no title: 6 of the first 9, then 2 of the next 3 (second request)
    assert len(items) == 8
    assert len(sim.requests_to("makerworld")) == 2
    assert all(i["creator"] == "" and i["thumbnail_url"] is None for i in items)
    assert events.of("thumbnail_cached") == []


async def test_timeout_keeps_previous_items(
    hass: HomeAssistant, sim: TrendingSimulator, events: EventRecorder
) -> None:
    """A site that hangs times out (the loop's real time passes); its items stay."""
    await setup_library(hass, sim)
    await refresh(hass)
    manager = trending(hass)
    session = async_get_clientsession(hass)
    manager._sources["makerworld"] = MakerWorldClient(
        session, api_url=sim.url, web_url=sim.url, timeout=0.2
    )
    manager._sources["printables"] = PrintablesClient(
        session, api_url=sim.url, web_url=sim.url, media_url=sim.url, timeout=0.2
    )
    before = await list_trending(hass)
    events.clear()
    sim.set_mode("makerworld", "hang")
    sim.set_mode("printables", "slow", slow_seconds=0.05)
    assert await refresh(hass) == ["printables"]
    assert await list_trending(hass, platform="makerworld") == [
        i for i in before if i["platform"] == "makerworld"
    ]
    assert "timed out" in (manager.state("makerworld").last_error or "")


async def test_both_fail_no_event(
    hass: HomeAssistant, sim: TrendingSimulator, events: EventRecorder
) -> None:
    """When no site refreshed, trending_updated does not fire at all."""
    await setup_library(hass, sim)
    sim.set_mode("makerworld", "server_error")
    sim.set_mode("printables", "graphql_errors")
    assert await refresh(hass) == []
    assert events.of("trending_updated") == []
    assert await list_trending(hass) == []


async def _tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_schedule_and_retry_after(
    hass: HomeAssistant,
    sim: TrendingSimulator,
    events: EventRecorder,
    freezer: FrozenDateTimeFactory,
) -> None:
    """First refresh after ~30 s, then every interval; a 429's Retry-After is honoured."""
    await setup_library(hass, sim, printables=False, interval=1)
    await _tick(hass, freezer, timedelta(seconds=10))
    assert sim.requests_to("makerworld") == []
    await _tick(hass, freezer, timedelta(seconds=25))
    assert len(sim.requests_to("makerworld")) == 1
    assert events.of("trending_updated")[0]["platforms"] == ["makerworld"]
    sim.set_mode("makerworld", "rate_limited", retry_after="9000")  # 2.5 hours
    await _tick(hass, freezer, timedelta(minutes=70))
    assert len(sim.requests_to("makerworld")) == 2  # refused
    await _tick(hass, freezer, timedelta(minutes=70))
    await _tick(hass, freezer, timedelta(minutes=70))
    assert len(sim.requests_to("makerworld")) == 2  # 140 min < 150 min: left alone
    sim.set_mode("makerworld", "ok")
    await _tick(hass, freezer, timedelta(minutes=70))
    assert len(sim.requests_to("makerworld")) == 3
    assert [e["platforms"] for e in events.of("trending_updated")] == [["makerworld"]] * 2


async def test_backoff_doubles_and_repair_after_a_day(
    hass: HomeAssistant, sim: TrendingSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """403 without Retry-After: 1, 2, 4 ... hours; refusing for a day raises a repair issue."""
    await setup_library(hass, sim, makerworld=False, interval=1)
    sim.set_mode("printables", "cloudflare")
    registry = ir.async_get(hass)
    manager = trending(hass)
    await _tick(hass, freezer, timedelta(seconds=31))
    asked = [freezer.time_to_freeze]
    previous_until = manager.state("printables").blocked_until
    for _ in range(30):  # 35 hours
        count = len(sim.requests_to("printables"))
        await _tick(hass, freezer, timedelta(minutes=70))
        if len(sim.requests_to("printables")) > count:
            # asked again only after the backoff ended
            assert previous_until is not None
            assert freezer.time_to_freeze.isoformat() >= previous_until[:19]
            asked.append(freezer.time_to_freeze)
            previous_until = manager.state("printables").blocked_until
    gaps = [(b - a).total_seconds() / 3600 for a, b in itertools.pairwise(asked)]
    assert len(asked) == 6, gaps  # 0, ~1, ~3, ~7, ~15, ~31 hours
    assert all(g2 > g1 for g1, g2 in itertools.pairwise(gaps))
    assert registry.async_get_issue(DOMAIN, issue_id("printables")) is not None
    sim.set_mode("printables", "ok")
    for _ in range(22):  # the last backoff is the one-day cap
        await _tick(hass, freezer, timedelta(minutes=70))
    assert manager.state("printables").last_error is None
    assert registry.async_get_issue(DOMAIN, issue_id("printables")) is None


async def test_thumbnails_cached_once_and_expire(
    hass: HomeAssistant,
    sim: TrendingSimulator,
    events: EventRecorder,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A second refresh fetches no image again; after 30 days the cache is renewed."""
    await setup_library(hass, sim, printables=False, items=5)
    await refresh(hass)
    assert len(sim.requests_to("images")) == 5
    paths = [Path(e["cache_path"]) for e in events.of("thumbnail_cached")]
    events.clear()
    freezer.tick(timedelta(days=10))
    await refresh(hass)
    assert len(sim.requests_to("images")) == 5
    assert events.of("thumbnail_cached") == []
    freezer.tick(timedelta(days=21))
    sim.set_mode("makerworld", "server_error")
    await refresh(hass)  # no new list: the expired thumbnails are removed, not fetched
    assert not any(p.exists() for p in paths)
    assert all(i["local_thumbnail"] is None for i in await list_trending(hass))
    sim.set_mode("makerworld", "ok")
    await refresh(hass)
    assert len(sim.requests_to("images")) == 10
    assert len(events.of("thumbnail_cached")) == 5
    assert all(p.exists() for p in paths)


@pytest.mark.parametrize("mode", ["wrong_content_type", "corrupt", "bomb"])
async def test_bad_images_refused(
    hass: HomeAssistant,
    sim: TrendingSimulator,
    events: EventRecorder,
    caplog: pytest.LogCaptureFixture,
    mode: str,
) -> None:
    """Refused images are logged, not cached, and not fetched again."""
    await setup_library(hass, sim, printables=False, items=3)
    sim.set_mode("images", mode)
    before = Image.MAX_IMAGE_PIXELS
    assert await refresh(hass) == ["makerworld"]
    assert events.of("thumbnail_cached") == []
    refusals = [
        r.getMessage()
        for r in caplog.records
        if r.name.endswith("thumbnail_cache") and "refused" in r.getMessage()
    ]
    assert len(refusals) == 3, refusals
    assert all(i["local_thumbnail"] is None for i in await list_trending(hass))
    assert before == Image.MAX_IMAGE_PIXELS
    assert _listing(hass.config.path("printernizer/cache/trending")) == []
    sim.set_mode("images", "ok")
    await refresh(hass)
    assert len(sim.requests_to("images")) == 3
    assert trending(hass).diagnostics()["thumbnails"]["refused"] == 3


async def test_oversized_image_retried(
    hass: HomeAssistant, sim: TrendingSimulator, events: EventRecorder
) -> None:
    """An image over the size limit is not cached; the next refresh tries again."""
    await setup_library(hass, sim, printables=False, items=2)
    sim.set_mode("images", "oversized")
    await refresh(hass)
    assert events.of("thumbnail_cached") == []
    sim.set_mode("images", "ok")
    await refresh(hass)
    assert len(events.of("thumbnail_cached")) == 2


async def test_persistence_across_restart(
    hass: HomeAssistant, sim: TrendingSimulator, events: EventRecorder
) -> None:
    """Items, thumbnails and backoff survive a reload; nothing is fetched to show them."""
    entry = await setup_library(hass, sim, items=4)
    await refresh(hass)
    items = await list_trending(hass)
    sim.set_mode("makerworld", "rate_limited", retry_after="86400")
    await refresh(hass)
    until = trending(hass).state("makerworld").blocked_until
    assert until
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    sim.reset()
    assert await list_trending(hass) == [
        i | {"cached_at": i["cached_at"]} for i in items if i["platform"] == "makerworld"
    ] + [i for i in await list_trending(hass, platform="printables")]
    assert all(i["local_thumbnail"] for i in await list_trending(hass))
    assert sim.requests == []
    assert trending(hass).state("makerworld").blocked_until == until
    assert await refresh(hass) == ["printables"]
    assert sim.requests_to("makerworld") == []
    assert sim.requests_to("images") == []  # still cached


async def test_actions_refuse_bad_input(hass: HomeAssistant, sim: TrendingSimulator) -> None:
    """Unknown site; no library loaded."""
    assert await async_setup_component(hass, DOMAIN, {})
    with pytest.raises(ServiceValidationError) as err:
        await list_trending(hass)
    assert err.value.translation_key == "library_not_loaded"
    entry = await setup_library(hass, sim)
    with pytest.raises(ServiceValidationError) as err:
        await list_trending(hass, platform="thingiverse")
    assert err.value.translation_key == "invalid_platform"
    assert await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await refresh(hass)
    assert err.value.translation_key == "library_not_loaded"


async def test_diagnostics_state(hass: HomeAssistant, sim: TrendingSimulator) -> None:
    """The diagnostics function reports counts, refresh times and backoff."""
    await setup_library(hass, sim, items=3)
    sim.set_mode("printables", "rate_limited", retry_after="600")
    await refresh(hass)
    diag = trending(hass).diagnostics()
    assert diag["enabled"] == ["makerworld", "printables"]
    assert diag["platforms"]["makerworld"]["items"] == 3
    assert diag["platforms"]["makerworld"]["last_refresh"]
    assert diag["platforms"]["printables"]["items"] == 0
    assert diag["platforms"]["printables"]["blocked_until"]
    assert diag["platforms"]["printables"]["last_error"] == "HTTP 429"
    assert diag["thumbnails"]["cached"] == 3
    assert diag["next_refresh"]


async def test_turned_off_site_shows_nothing(hass: HomeAssistant, sim: TrendingSimulator) -> None:
    """Turning a site off hides its models (kept for later) and stops asking it."""
    entry = await setup_library(hass, sim, items=2)
    await refresh(hass)
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, "trending_makerworld": False}
    )
    await hass.async_block_till_done()
    assert {i["platform"] for i in await list_trending(hass)} == {"printables"}
    sim.reset()
    assert await refresh(hass) == ["printables"]
    assert sim.requests_to("makerworld") == []
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, "trending_makerworld": True}
    )
    await hass.async_block_till_done()
    sim.set_mode("makerworld", "server_error")
    await refresh(hass)
    assert len(await list_trending(hass, platform="makerworld")) == 2


async def test_restart_does_not_refresh_early(
    hass: HomeAssistant, sim: TrendingSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """After a reload the next refresh is one interval after the last one, plus jitter."""
    entry = await setup_library(hass, sim, printables=False, interval=0.25)
    manager = trending(hass)
    assert manager.interval == timedelta(hours=1)  # never under an hour
    await _tick(hass, freezer, timedelta(seconds=31))
    assert len(sim.requests_to("makerworld")) == 1
    next_refresh = manager.next_refresh
    assert next_refresh is not None
    wait = next_refresh - freezer.time_to_freeze.replace(tzinfo=next_refresh.tzinfo)
    assert timedelta(hours=1) <= wait <= timedelta(hours=1, minutes=6)
    await _tick(hass, freezer, timedelta(minutes=10))
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await _tick(hass, freezer, timedelta(minutes=5))
    assert len(sim.requests_to("makerworld")) == 1  # not 30 s after the reload
    await _tick(hass, freezer, timedelta(minutes=50))
    assert len(sim.requests_to("makerworld")) == 2


async def test_restore_tolerates_a_damaged_store(
    hass: HomeAssistant, sim: TrendingSimulator, hass_storage: dict[str, Any]
) -> None:
    """A hand-edited or damaged store: what is usable is kept, the rest dropped or defaulted."""
    kept = {
        "platform": "makerworld",
        "model_id": "1",
        "title": "Kept",
        "url": "https://makerworld.com/en/models/1",
        "thumbnail_url": "",
        "creator": None,
        "downloads": True,
        "likes": 7.0,
        "category": 5,
        "licence": "BY",
    }
    hass_storage["printernizer.trending"] = {
        "version": 1,
        "minor_version": 1,
        "key": "printernizer.trending",
        "data": {
            "items": {
                "makerworld": [
                    {"item": kept, "cached_at": "2026-11-30T00:00:00+00:00"},
                    {
                        "item": {**kept, "model_id": "2", "downloads": "12", "likes": 3},
                        "cached_at": "2026-11-30T00:00:00+00:00",
                    },
                    {"item": {"title": "no platform"}, "cached_at": "x"},
                    {"cached_at": "2026-11-30T00:00:00+00:00"},
                    "not an entry",
                ],
                "thingiverse": [{"item": {**kept, "platform": "thingiverse"}, "cached_at": "x"}],
                "printables": "not a list",
            },
            "platforms": {
                "makerworld": "broken",
                "printables": {"failures": True, "last_error": 5, "refusals": 2},
            },
            "thumbnails": {"entries": {"k": {"file": "x.png"}}, "refused": {"a": 5}},
        },
    }
    await setup_library(hass, sim)
    manager = trending(hass)
    item, second = await list_trending(hass)
    assert (second["model_id"], second["downloads"], second["likes"]) == ("2", None, 3)
    assert item == {
        "trending_id": "makerworld:1",
        **kept,
        "thumbnail_url": None,
        "creator": "",
        "downloads": None,
        "likes": 7,
        "category": None,
        "local_thumbnail": None,
        "cached_at": "2026-11-30T00:00:00+00:00",
    }
    assert manager.state("makerworld").as_dict() == PlatformState().as_dict()
    printables = manager.state("printables")
    assert (printables.failures, printables.last_error, printables.refusals) == (0, None, 2)
    assert (manager.thumbnails.count, manager.thumbnails.refused_count) == (0, 0)
    assert sim.requests == []


async def test_unload_during_refresh(
    hass: HomeAssistant, sim: TrendingSimulator, events: EventRecorder
) -> None:
    """Unloading while a scheduled refresh waits on a site cancels it; nothing is left behind."""
    entry = await setup_library(hass, sim, printables=False)
    manager = trending(hass)
    sim.set_mode("makerworld", "hang")
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=31))
    await wait_for(hass, lambda: len(sim.requests_to("makerworld")) == 1)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert manager.next_refresh is None
    assert events.of("trending_updated") == []
    # no timer was left behind: an hour later nobody asks the site again
    sim.set_mode("makerworld", "ok")
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(hours=7))
    await hass.async_block_till_done()
    assert len(sim.requests_to("makerworld")) == 1


async def test_refusal_forgotten_after_30_days(
    hass: HomeAssistant,
    sim: TrendingSimulator,
    events: EventRecorder,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A refused image is asked for again once its refusal is 30 days old."""
    await setup_library(hass, sim, printables=False, items=2)
    manager = trending(hass)
    sim.set_mode("images", "corrupt")
    assert await refresh(hass) == ["makerworld"]
    assert manager.thumbnails.refused_count == 2
    sim.set_mode("images", "ok")
    freezer.tick(timedelta(days=29))
    assert await refresh(hass) == ["makerworld"]
    assert events.of("thumbnail_cached") == []  # still refused
    freezer.tick(timedelta(days=1))
    assert await refresh(hass) == ["makerworld"]
    assert manager.thumbnails.refused_count == 0
    assert len(events.of("thumbnail_cached")) == 2


def test_atomic_writes_leave_nothing_behind(tmp_path: Path) -> None:
    """A failed write or copy raises and leaves neither a temporary file nor a target."""
    target = tmp_path / "cache" / "a.png"
    target.mkdir(parents=True)  # a folder where the file should go: the rename fails
    with pytest.raises(OSError):
        write_atomic(target, b"data")
    assert _listing(str(target.parent)) == [target]
    missing = tmp_path / "gone.png"
    copy_target = tmp_path / "ideas" / "b.png"
    with pytest.raises(FileNotFoundError):
        copy_atomic(missing, copy_target)
    assert _listing(str(copy_target.parent)) == []
    write_atomic(tmp_path / "ok.png", b"x")
    copy_atomic(tmp_path / "ok.png", copy_target)
    assert copy_target.read_bytes() == b"x"
    assert _listing(str(copy_target.parent)) == [copy_target]
