"""The seam that says how much filament a job used (grams per tray).

Materials deduct what this returns when a job ends; the files and processing
work fills the job record from the print file's metadata. In order:

1. ``job.filament_used_g_by_tray``: ``{tray: grams}`` with the tray as a string
   (the AMS ``tray_now`` numbering, "254"/"255" the external spool).
   Else a 3MF's per-filament ``used_g`` (``job.estimated_filament_g_by_slot``,
   by the slicer's filament number) mapped to trays through the job's tray
   mapping (``job.tray_mapping``: Bambu's ``ams_mapping``, index = filament
   number - 1, -1 none). A filament the mapping does not place counts for the
   tray active during the print (None).
2. ``job.filament_used_g``: the whole print's grams (G-code ``filament used [g]``,
   a 3MF plate's ``weight``, PrusaLink file ``meta``); the tray is unknown (None).
3. ``job.estimated_filament_g``: the slicer's estimate the processor copied from
   the job's file in the library (processing), or from PrusaLink's file ``meta``.

Figures are for the whole print; the caller scales them by progress for a
failed or cancelled job. Nothing known: an empty dict (nothing is deducted).
"""

from __future__ import annotations

import math
from typing import Any

from .jobs import Job

#: A figure above this is not a print's filament (grams).
MAX_JOB_GRAMS = 100_000.0
#: Trays are numbered 0..255 (``tray_now``); -1 in a mapping: no tray.
MAX_TRAY = 255


def _grams(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        grams = float(value)
    except ValueError:
        return None
    return grams if math.isfinite(grams) and 0 < grams <= MAX_JOB_GRAMS else None


def _mapped(job: Job) -> dict[int | None, float]:
    """The file's grams per filament, placed on trays by the job's tray mapping."""
    mapping, by_slot = job.tray_mapping, job.estimated_filament_g_by_slot
    if not isinstance(mapping, list) or not mapping or not isinstance(by_slot, dict):
        return {}
    by_tray: dict[int | None, float] = {}
    placed = False
    for slot, value in by_slot.items():
        grams = _grams(value)
        try:
            index = int(slot) - 1
        except (TypeError, ValueError):
            continue
        if grams is None or index < 0:
            continue
        tray = mapping[index] if index < len(mapping) else None
        if type(tray) is not int or not 0 <= tray <= MAX_TRAY:
            tray = None
        placed = placed or tray is not None
        by_tray[tray] = by_tray.get(tray, 0.0) + grams
    return by_tray if placed else {}


def job_filament_grams(job: Job) -> dict[int | None, float]:
    """Grams a whole print of ``job`` uses, per tray (None: the tray is not known)."""
    by_tray: dict[int | None, float] = {}
    for tray, value in (job.filament_used_g_by_tray or {}).items():
        try:
            index = int(tray)
        except (TypeError, ValueError):
            continue
        if (grams := _grams(value)) is not None:
            by_tray[index] = by_tray.get(index, 0.0) + grams
    if by_tray or (by_tray := _mapped(job)):
        return by_tray
    if (grams := _grams(job.filament_used_g)) is not None:
        return {None: grams}
    if (grams := _grams(job.estimated_filament_g)) is not None:
        return {None: grams}
    return {}
