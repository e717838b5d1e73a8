"""One persistence base for every collection (jobs, files, library, materials, trending, ideas).

A :class:`CollectionStore` is Home Assistant's ``Store`` with atomic writes
(temporary file, fsync, rename: a crash never leaves half a store), a delayed
save whose data is a snapshot taken on the event loop at save time, and
migrations by major version: ``migrations[n]`` turns version ``n`` data into
version ``n + 1`` data. Bump ``version`` and add a step whenever the stored
shape changes. Data of a newer major version (a downgrade) is refused, never
re-stamped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store

_LOGGER = logging.getLogger(__name__)

#: Seconds a change waits before it is written (changes in that time are batched).
DEFAULT_SAVE_DELAY: Final = 2.0

type StoreData = dict[str, Any]
type Migration = Callable[[StoreData], StoreData]


class StoreVersionError(NotImplementedError):
    """The store was written by a newer Printernizer (a higher major version).

    A ``NotImplementedError``, so Home Assistant's ``Store.async_load`` passes
    it on instead of re-saving the data under the older version: the data is
    left as it is and the entry fails to load with this message.
    """


class CollectionStore(Store[StoreData]):
    """A versioned, atomically written store of one collection."""

    def __init__(
        self,
        hass: HomeAssistant,
        key: str,
        version: int,
        *,
        migrations: Mapping[int, Migration] | None = None,
        save_delay: float = DEFAULT_SAVE_DELAY,
    ) -> None:
        """Initialize the store ``key`` (under ``.storage/``) at ``version``."""
        super().__init__(hass, version, key, atomic_writes=True)
        self._migrations = dict(migrations or {})
        self._save_delay = save_delay
        missing = [v for v in range(1, version) if v not in self._migrations]
        if missing:
            raise ValueError(f"{key}: no migration from version(s) {missing}")

    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: StoreData
    ) -> StoreData:
        """Run the migration steps from ``old_major_version`` up to the current one.

        Data of a newer major version is refused (:class:`StoreVersionError`):
        this version cannot know its shape, and saving it back stamped with
        the older version would lose or corrupt what the newer one stored.
        """
        if old_major_version > self.version:
            message = (
                f"{self.key} was saved by a newer Printernizer (storage version "
                f"{old_major_version}, this one reads up to {self.version}); "
                "update Printernizer or restore a backup"
            )
            _LOGGER.error("%s", message)
            raise StoreVersionError(message)
        data = old_data
        for version in range(old_major_version, self.version):
            _LOGGER.debug("Migrating %s from version %s", self.key, version)
            data = self._migrations[version](data)
        return data

    @callback
    def schedule_save(self, snapshot: Callable[[], StoreData]) -> None:
        """Save soon; ``snapshot`` runs on the event loop when the save happens."""
        self.async_delay_save(snapshot, self._save_delay)
