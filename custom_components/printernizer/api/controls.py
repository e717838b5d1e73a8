"""Optional printer controls a client may implement (checked with ``isinstance``).

A client without one of these simply lacks the control: nothing is faked.
Each method returns once the printer confirmed and raises
:class:`~.models.CommandError` (or a subclass) otherwise.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

#: Speed levels and their names (Bambu Lab ``spd_lvl``).
SPEED_LEVELS: dict[int, str] = {1: "silent", 2: "standard", 3: "sport", 4: "ludicrous"}


@runtime_checkable
class SpeedLevelClient(Protocol):
    """Print speed levels (Bambu Lab ``spd_lvl``: 1 silent .. 4 ludicrous)."""

    async def async_set_speed_level(self, level: int) -> None:
        """Set the speed level."""


@runtime_checkable
class ChamberLightClient(Protocol):
    """A chamber light that can be switched."""

    async def async_set_chamber_light(self, on: bool) -> None:
        """Switch the chamber light on or off."""
