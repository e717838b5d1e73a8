"""Print ideas: the to-do list entity, create_idea_from_trending, persistence."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.printernizer.const import DOMAIN
from custom_components.printernizer.core.ideas import IdeaValueError
from custom_components.printernizer.todo import parse_description
from simulator.trending import TrendingSimulator

from .conftest import EventRecorder
from .trending_helpers import ideas, list_trending, refresh, setup_library, trending

ENTITY = "todo.printernizer_library_print_ideas"


@pytest.fixture(autouse=True)
def _config_dir(hass: HomeAssistant, tmp_path: Path) -> None:
    """Caches and idea thumbnails go under a temporary configuration folder."""
    hass.config.config_dir = str(tmp_path)


@pytest.fixture
async def sim(socket_enabled: None) -> AsyncIterator[TrendingSimulator]:
    """The trending simulator on 127.0.0.1."""
    async with TrendingSimulator() as simulator:
        yield simulator


def _file(path: str) -> bytes | None:
    return Path(path).read_bytes() if Path(path).is_file() else None


async def _items(hass: HomeAssistant) -> list[dict[str, Any]]:
    response = await hass.services.async_call(
        "todo", "get_items", {}, target={"entity_id": ENTITY}, blocking=True, return_response=True
    )
    assert response is not None
    return list(response[ENTITY]["items"])  # type: ignore[index,call-overload]


async def _todo(hass: HomeAssistant, service: str, **data: Any) -> None:
    await hass.services.async_call(
        "todo", service, data, target={"entity_id": ENTITY}, blocking=True
    )
    await hass.async_block_till_done()


async def test_todo_create_rename_complete_delete(hass: HomeAssistant) -> None:
    """The standard todo actions on the Print ideas list, without trending."""
    await setup_library(hass, None, makerworld=False, printables=False)
    assert hass.states.get(ENTITY).state == "0"
    await _todo(
        hass, "add_item", item="Cable chain", description="for the X axis", due_date="2026-12-24"
    )
    await _todo(hass, "add_item", item="Spool holder")
    items = await _items(hass)
    assert [i["summary"] for i in items] == ["Spool holder", "Cable chain"]
    chain = items[1]
    assert chain["status"] == "needs_action"
    assert chain["due"] == "2026-12-24"
    assert chain["description"] == "for the X axis\n\nPriority: 3"
    idea = ideas(hass).get(chain["uid"])
    assert idea is not None
    assert (idea.source_type, idea.status, idea.planned_date) == ("manual", "idea", "2026-12-24")
    assert hass.states.get(ENTITY).state == "2"

    await _todo(
        hass,
        "update_item",
        item="Cable chain",
        rename="Cable chain v2",
        description="for the X axis, 20 links\n\nPriority: 5",
    )
    idea = ideas(hass).get(chain["uid"])
    assert idea is not None
    assert (idea.title, idea.description, idea.priority) == (
        "Cable chain v2",
        "for the X axis, 20 links",
        5,
    )
    await _todo(hass, "update_item", item=chain["uid"], status="completed")
    assert ideas(hass).get(chain["uid"]).status == "completed"  # type: ignore[union-attr]
    assert hass.states.get(ENTITY).state == "1"
    await _todo(hass, "update_item", item=chain["uid"], status="needs_action")
    assert ideas(hass).get(chain["uid"]).status == "planned"  # type: ignore[union-attr]

    spool = items[0]["uid"]
    await _todo(hass, "remove_item", item=[spool])
    assert ideas(hass).get(spool) is None
    assert [i["summary"] for i in await _items(hass)] == ["Cable chain v2"]


async def test_remove_completed_archives(hass: HomeAssistant) -> None:
    """todo.remove_completed_items archives: the idea is kept but no longer listed."""
    await setup_library(hass, None, makerworld=False, printables=False)
    await _todo(hass, "add_item", item="Done thing")
    await _todo(hass, "add_item", item="Open thing")
    await _todo(hass, "update_item", item="Done thing", status="completed")
    await _todo(hass, "remove_completed_items")
    assert [i["summary"] for i in await _items(hass)] == ["Open thing"]
    archived = [i for i in ideas(hass).ideas() if i.status == "archived"]
    assert [i.title for i in archived] == ["Done thing"]


async def test_move(hass: HomeAssistant, hass_ws_client: WebSocketGenerator) -> None:
    """The to-do websocket move reorders the ideas (and the order is stored)."""
    await setup_library(hass, None, makerworld=False, printables=False)
    for title in ("c", "b", "a"):
        await _todo(hass, "add_item", item=title)
    uids = {i["summary"]: i["uid"] for i in await _items(hass)}
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": "todo/item/move", "entity_id": ENTITY, "uid": uids["a"], "previous_uid": uids["c"]}
    )
    assert (await client.receive_json())["success"]
    assert [i["summary"] for i in await _items(hass)] == ["b", "c", "a"]
    await client.send_json_auto_id(
        {"type": "todo/item/move", "entity_id": ENTITY, "uid": uids["a"]}
    )
    assert (await client.receive_json())["success"]
    assert [i["summary"] for i in await _items(hass)] == ["a", "b", "c"]
    await client.send_json_auto_id(
        {"type": "todo/item/move", "entity_id": ENTITY, "uid": "nope", "previous_uid": uids["c"]}
    )
    assert not (await client.receive_json())["success"]
    assert [i["summary"] for i in await _items(hass)] == ["a", "b", "c"]


async def test_bad_values_change_nothing(hass: HomeAssistant) -> None:
    """A bad priority line or an unknown item is refused with a translated error."""
    await setup_library(hass, None, makerworld=False, printables=False)
    await _todo(hass, "add_item", item="Keep me", description="notes")
    before = [i.as_dict() for i in ideas(hass).ideas()]
    with pytest.raises(ServiceValidationError) as err:
        await _todo(hass, "update_item", item="Keep me", description="x\n\nPriority: 9")
    assert err.value.translation_key == "invalid_priority"
    with pytest.raises(ServiceValidationError) as err:
        await _todo(hass, "add_item", item="New", description="Priority: high")
    assert err.value.translation_key == "invalid_priority"
    assert [i.as_dict() for i in ideas(hass).ideas()] == before


def test_parse_description() -> None:
    """Our footer lines are split off; the user's text stays."""
    assert parse_description("notes\nmore\n\nSource: https://x\nCreator: a\nPriority: 2") == (
        "notes\nmore",
        2,
    )
    assert parse_description(None) == ("", None)
    assert parse_description("Priority: 4") == ("", 4)
    assert parse_description("Priority: is key\nnot last") == ("Priority: is key\nnot last", None)


async def test_create_idea_from_trending(
    hass: HomeAssistant, sim: TrendingSimulator, events: EventRecorder
) -> None:
    """The action adds an idea with its own thumbnail copy and fires the event."""
    await setup_library(hass, sim, items=3)
    await refresh(hass)
    item = (await list_trending(hass, platform="printables"))[1]
    response = await hass.services.async_call(
        DOMAIN,
        "create_idea_from_trending",
        {"trending_id": item["trending_id"], "notes": "print in PETG", "priority": 4},
        blocking=True,
        return_response=True,
    )
    await hass.async_block_till_done()
    idea = response["idea"]  # type: ignore[index]
    (event,) = events.of("idea_created_from_trending")
    assert event["idea_id"] == idea["idea_id"]  # type: ignore[index]
    assert event["trending_id"] == item["trending_id"]
    assert event["platform"] == "printables"
    assert idea["source_type"] == "printables"  # type: ignore[index]
    assert idea["source_url"] == item["url"]  # type: ignore[index]
    assert idea["priority"] == 4  # type: ignore[index]
    copy = idea["thumbnail"]  # type: ignore[index]
    assert copy.startswith(hass.config.path("printernizer/ideas"))
    assert await hass.async_add_executor_job(_file, copy) == await hass.async_add_executor_job(
        _file, item["local_thumbnail"]
    )
    (todo_item,) = await _items(hass)
    assert todo_item["summary"] == item["title"]
    assert todo_item["description"] == (
        f"print in PETG\n\nSource: {item['url']}\nCreator: {item['creator']}\n"
        f"Licence: {item['licence']}\nPriority: 4"
    )


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"trending_id": "printables:999"}, "unknown_trending_id"),
        ({"trending_id": "nothing"}, "unknown_trending_id"),
        ({"trending_id": "VALID", "priority": 6}, "invalid_priority"),
        ({"trending_id": "VALID", "priority": 2.5}, "invalid_priority"),
        ({"trending_id": "VALID", "priority": True}, "invalid_priority"),
    ],
)
async def test_create_idea_refused(
    hass: HomeAssistant,
    sim: TrendingSimulator,
    events: EventRecorder,
    data: dict[str, Any],
    key: str,
) -> None:
    """Unknown ids and bad priorities are refused; no idea, no event."""
    await setup_library(hass, sim, items=2)
    await refresh(hass)
    valid = (await list_trending(hass))[0]["trending_id"]
    data = {k: (valid if v == "VALID" else v) for k, v in data.items()}
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(DOMAIN, "create_idea_from_trending", data, blocking=True)
    assert err.value.translation_key == key
    assert ideas(hass).ideas() == []
    assert events.of("idea_created_from_trending") == []


async def test_ideas_persist_across_restart(
    hass: HomeAssistant, sim: TrendingSimulator, freezer: Any
) -> None:
    """Ideas, their order and statuses survive a reload; an idea's thumbnail never expires."""
    entry = await setup_library(hass, sim, items=2, printables=False)
    await refresh(hass)
    trending_id = (await list_trending(hass))[0]["trending_id"]
    await hass.services.async_call(
        DOMAIN, "create_idea_from_trending", {"trending_id": trending_id}, blocking=True
    )
    await _todo(hass, "add_item", item="Manual one")
    await _todo(hass, "update_item", item="Manual one", status="completed")
    before = [i.as_dict() for i in ideas(hass).ideas()]
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert [i.as_dict() for i in ideas(hass).ideas()] == before
    assert [i["status"] for i in await _items(hass)] == ["completed", "needs_action"]
    # 40 days later the trending cache has expired, the idea's copy has not
    freezer.tick(60 * 60 * 24 * 40)
    sim.set_mode("makerworld", "server_error")
    await refresh(hass)
    thumb = before[1]["thumbnail"]
    assert thumb
    assert await hass.async_add_executor_job(_file, thumb)
    assert all(i["local_thumbnail"] is None for i in await list_trending(hass))


async def test_titles_checked(hass: HomeAssistant) -> None:
    """A title over 255 characters is refused when adding and when renaming."""
    await setup_library(hass, None, makerworld=False, printables=False)
    await _todo(hass, "add_item", item="Short")
    with pytest.raises(ServiceValidationError) as err:
        await _todo(hass, "add_item", item="x" * 256)
    assert err.value.translation_key == "invalid_idea_title"
    with pytest.raises(ServiceValidationError) as err:
        await _todo(hass, "update_item", item="Short", rename="y" * 256)
    assert err.value.translation_key == "invalid_idea_title"
    assert [i.title for i in ideas(hass).ideas()] == ["Short"]
    # a blank title: refused by us (2025.4) or already by the to-do schema, which strips
    # it to "" (2026.2); either way nothing is added
    with pytest.raises((ServiceValidationError, vol.Invalid)):
        await _todo(hass, "add_item", item="   ")
    assert [i.title for i in ideas(hass).ideas()] == ["Short"]


async def test_manager_refuses_bad_calls(hass: HomeAssistant) -> None:
    """The manager's own checks (callers other than the to-do list): nothing changes on error."""
    await setup_library(hass, None, makerworld=False, printables=False)
    manager = ideas(hass)
    idea = manager.create("Keep", priority=2)
    before = [i.as_dict() for i in manager.ideas()]
    cases: list[tuple[Any, str]] = [
        (lambda: manager.create("New", source_type="thingiverse"), "invalid_source_type"),
        (lambda: manager.create("New", status="someday"), "invalid_idea_status"),
        (lambda: manager.update(idea.idea_id, status="someday"), "invalid_idea_status"),
        (lambda: manager.update("nope", title="x"), "unknown_idea"),
        (lambda: manager.move("nope", None), "unknown_idea"),
        (lambda: manager.move(idea.idea_id, "nope"), "unknown_idea"),
        (lambda: manager.delete("nope"), "unknown_idea"),
    ]
    for call, key in cases:
        with pytest.raises(IdeaValueError) as err:
            call()
        assert err.value.key == key
    with pytest.raises(ValueError, match="unknown idea fields"):
        manager.update(idea.idea_id, colour="red")
    manager.move(idea.idea_id, idea.idea_id)  # after itself: stays where it is
    assert [i.as_dict() for i in manager.ideas()] == before


async def test_diagnostics_counts(hass: HomeAssistant, sim: TrendingSimulator) -> None:
    """Diagnostics count ideas by status and source, without titles or notes."""
    await setup_library(hass, sim, items=1, printables=False)
    await refresh(hass)
    manager = ideas(hass)
    trending_id = (await list_trending(hass))[0]["trending_id"]
    await hass.services.async_call(
        DOMAIN, "create_idea_from_trending", {"trending_id": trending_id}, blocking=True
    )
    done = manager.create("Secret title", description="secret notes")
    manager.update(done.idea_id, status="completed")
    diagnostics = manager.diagnostics()
    assert diagnostics == {
        "total": 2,
        "by_status": {"idea": 1, "planned": 0, "printing": 0, "completed": 1, "archived": 0},
        "by_source": {"manual": 1, "makerworld": 1, "printables": 0},
    }
    assert "Secret" not in str(diagnostics)


async def test_damaged_store_keeps_the_good_ideas(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """Stored entries that are not ideas are dropped; unknown keys are ignored."""
    hass_storage["printernizer.ideas"] = {
        "version": 1,
        "minor_version": 1,
        "key": "printernizer.ideas",
        "data": {
            "ideas": [
                {"idea_id": "a", "title": "Good", "colour": "red"},
                {"title": "no id"},
                "not an idea",
                {"idea_id": "b", "title": "Also good", "status": "planned"},
            ]
        },
    }
    await setup_library(hass, None, makerworld=False, printables=False)
    assert [(i.idea_id, i.title, i.status) for i in ideas(hass).ideas()] == [
        ("a", "Good", "idea"),
        ("b", "Also good", "planned"),
    ]


async def test_removing_an_open_idea_deletes_its_thumbnail(
    hass: HomeAssistant, sim: TrendingSimulator
) -> None:
    """todo.remove_item on an open idea deletes it and its own thumbnail copy."""
    await setup_library(hass, sim, items=1, printables=False)
    await refresh(hass)
    trending_id = (await list_trending(hass))[0]["trending_id"]
    response = await hass.services.async_call(
        DOMAIN,
        "create_idea_from_trending",
        {"trending_id": trending_id},
        blocking=True,
        return_response=True,
    )
    copy = response["idea"]["thumbnail"]  # type: ignore[index]
    assert await hass.async_add_executor_job(_file, copy)
    (item,) = await _items(hass)
    await _todo(hass, "remove_item", item=item["uid"])
    assert ideas(hass).ideas() == []
    assert await hass.async_add_executor_job(_file, copy) is None
    # the trending cache keeps its own file
    assert (await list_trending(hass))[0]["local_thumbnail"]


async def test_idea_without_a_usable_thumbnail(
    hass: HomeAssistant, sim: TrendingSimulator, caplog: pytest.LogCaptureFixture, freezer: Any
) -> None:
    """A vanished cached file is logged; a refused cover is not fetched again for the idea."""
    await setup_library(hass, sim, items=2, printables=False)
    await refresh(hass)
    first, second = await list_trending(hass)
    await hass.async_add_executor_job(Path(first["local_thumbnail"]).unlink)  # behind its back

    async def _idea(trending_id: str) -> dict[str, Any]:
        response = await hass.services.async_call(
            DOMAIN,
            "create_idea_from_trending",
            {"trending_id": trending_id},
            blocking=True,
            return_response=True,
        )
        assert response is not None
        return response["idea"]  # type: ignore[return-value]

    assert (await _idea(first["trending_id"]))["thumbnail"] is None
    assert "Could not copy the thumbnail" in caplog.text

    # 30 days on the cache has expired; the covers are refused when fetched again
    freezer.tick(60 * 60 * 24 * 30)
    sim.set_mode("images", "corrupt")
    await refresh(hass)
    assert trending(hass).thumbnails.refused_count == 2
    fetched = len(sim.requests_to("images"))
    assert (await _idea(second["trending_id"]))["thumbnail"] is None
    assert len(sim.requests_to("images")) == fetched  # refused: not asked again
    assert [i.title for i in ideas(hass).ideas()] == [second["title"], first["title"]]
