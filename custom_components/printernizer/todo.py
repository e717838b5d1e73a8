"""The "Print ideas" to-do list of the library entry.

Each idea is a to-do item: summary = title; description = the notes, then the
source link, creator, licence and priority; due = the planned date. Ideas with
status idea, planned or printing are "needs action", completed ones
"completed"; archived ideas are not listed. Removing a completed item (as
``todo.remove_completed_items`` does) archives the idea instead of deleting it;
removing an open item deletes it.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Final

from homeassistant.components.todo import TodoItem, TodoListEntity
from homeassistant.components.todo.const import TodoItemStatus, TodoListEntityFeature
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import LIBRARY_UNIQUE_ID
from .core.ideas import OPEN_STATUSES, Idea, IdeaManager, IdeaValueError, check_priority
from .library_entry import library_device_info_identifier
from .runtime import LibraryConfigEntry
from .services.helpers import validation_error

PARALLEL_UPDATES = 0

SOURCE_LABEL: Final = "Source: "
CREATOR_LABEL: Final = "Creator: "
LICENCE_LABEL: Final = "Licence: "
PRIORITY_LABEL: Final = "Priority: "
_FOOTER_LABELS: Final = (SOURCE_LABEL, CREATOR_LABEL, LICENCE_LABEL, PRIORITY_LABEL)
_PRIORITY_RE: Final = re.compile(r"^Priority:\s*(\S+)\s*$")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LibraryConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the Print ideas list."""
    ideas = entry.runtime_data.ideas
    assert ideas is not None
    async_add_entities([PrintIdeasTodoList(ideas)])


def item_description(idea: Idea) -> str:
    """The to-do description: notes, then source, creator, licence and priority lines."""
    footer = []
    if idea.source_url:
        footer.append(f"{SOURCE_LABEL}{idea.source_url}")
    if idea.creator:
        footer.append(f"{CREATOR_LABEL}{idea.creator}")
    if idea.licence:
        footer.append(f"{LICENCE_LABEL}{idea.licence}")
    footer.append(f"{PRIORITY_LABEL}{idea.priority}")
    notes = idea.description.strip()
    return f"{notes}\n\n" + "\n".join(footer) if notes else "\n".join(footer)


def parse_description(text: str | None) -> tuple[str, int | None]:
    """Split a to-do description into (notes, priority); the footer lines are ours."""
    lines = (text or "").rstrip().splitlines()
    priority: int | None = None
    while lines and lines[-1].startswith(_FOOTER_LABELS):
        line = lines.pop()
        if match := _PRIORITY_RE.match(line):
            try:
                priority = check_priority(match.group(1))
            except IdeaValueError as err:
                raise validation_error(err.key, value=err.value) from err
    return "\n".join(lines).strip(), priority


class PrintIdeasTodoList(TodoListEntity):
    """Print ideas as a Home Assistant to-do list."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    _attr_translation_key = "print_ideas"
    _attr_supported_features = (
        TodoListEntityFeature.CREATE_TODO_ITEM
        | TodoListEntityFeature.UPDATE_TODO_ITEM
        | TodoListEntityFeature.DELETE_TODO_ITEM
        | TodoListEntityFeature.MOVE_TODO_ITEM
        # a date only: without SET_DUE_DATETIME_ON_ITEM Home Assistant refuses a due time
        | TodoListEntityFeature.SET_DUE_DATE_ON_ITEM
        | TodoListEntityFeature.SET_DESCRIPTION_ON_ITEM
    )

    def __init__(self, ideas: IdeaManager) -> None:
        """Initialize on the library's service device."""
        self._ideas = ideas
        self._attr_unique_id = f"{LIBRARY_UNIQUE_ID}_print_ideas"
        self._attr_device_info = DeviceInfo(identifiers={library_device_info_identifier()})

    async def async_added_to_hass(self) -> None:
        """Follow changes made anywhere (actions, other clients)."""
        self.async_on_remove(self._ideas.async_add_listener(self._changed))

    @callback
    def _changed(self) -> None:
        self.async_write_ha_state()

    @property
    def todo_items(self) -> list[TodoItem]:
        """Every idea that is not archived, in list order."""
        return [
            TodoItem(
                uid=idea.idea_id,
                summary=idea.title,
                status=TodoItemStatus.NEEDS_ACTION
                if idea.status in OPEN_STATUSES
                else TodoItemStatus.COMPLETED,
                description=item_description(idea),
                due=date.fromisoformat(idea.planned_date) if idea.planned_date else None,
            )
            for idea in self._ideas.ideas(include_archived=False)
        ]

    def _require(self, uid: str | None) -> Idea:
        idea = self._ideas.get(uid or "")
        if idea is None or idea.status == "archived":
            raise validation_error("unknown_idea", value=str(uid))
        return idea

    async def async_create_todo_item(self, item: TodoItem) -> None:
        """A new manual idea."""
        notes, priority = parse_description(item.description)
        extra: dict[str, Any] = {} if priority is None else {"priority": priority}
        try:
            self._ideas.create(
                item.summary or "",
                description=notes,
                status="completed" if item.status == TodoItemStatus.COMPLETED else "idea",
                planned_date=item.due,
                **extra,
            )
        except IdeaValueError as err:
            raise validation_error(err.key, value=err.value) from err

    async def async_update_todo_item(self, item: TodoItem) -> None:
        """Rename, complete or reopen, change notes, priority or planned date."""
        idea = self._require(item.uid)
        notes, priority = parse_description(item.description)
        changes: dict[str, Any] = {
            "title": item.summary or "",
            "description": notes,
            "planned_date": item.due,
        }
        if priority is not None:
            changes["priority"] = priority
        if item.status == TodoItemStatus.COMPLETED and idea.status != "completed":
            changes["status"] = "completed"
        elif item.status == TodoItemStatus.NEEDS_ACTION and idea.status == "completed":
            changes["status"] = "planned" if changes["planned_date"] else "idea"
        try:
            self._ideas.update(idea.idea_id, **changes)
        except IdeaValueError as err:
            raise validation_error(err.key, value=err.value) from err

    async def async_delete_todo_items(self, uids: list[str]) -> None:
        """Archive completed ideas, delete open ones (all uids checked first)."""
        ideas = [self._require(uid) for uid in uids]
        for idea in ideas:
            if idea.status == "completed":
                self._ideas.update(idea.idea_id, status="archived")
            else:
                await self._ideas.async_remove(idea.idea_id)

    async def async_move_todo_item(self, uid: str, previous_uid: str | None = None) -> None:
        """Reorder (the to-do list's drag and drop)."""
        self._require(uid)
        if previous_uid is not None:
            self._require(previous_uid)
        self._ideas.move(uid, previous_uid)
