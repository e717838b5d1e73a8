"""The job store's per-printer look-ups (active job, newest job) stay right as jobs change.

They are asked on every printer report, so the store keeps them instead of
scanning every job; each test checks them against a plain scan.
"""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant

from custom_components.printernizer.core.jobs import (
    MAX_JOBS,
    SOURCE_PRINTER,
    STORAGE_KEY,
    Job,
    JobManager,
)
from custom_components.printernizer.emitter import EventEmitter


def _scan_active(jobs: JobManager, printer_id: str) -> Job | None:
    return next(
        (
            j
            for j in jobs.jobs()[::-1]
            if j.printer_id == printer_id and j.source == SOURCE_PRINTER and j.is_active
        ),
        None,
    )


def _check(jobs: JobManager, printers: tuple[str, ...] = ("a", "b", "c")) -> None:
    for printer_id in printers:
        assert jobs.printer_job(printer_id) is _scan_active(jobs, printer_id)
        mine = jobs.jobs(printer_id)
        expected = jobs.printer_job(printer_id) or (mine[0] if mine else None)
        assert jobs.current_or_last(printer_id) is expected


async def test_lookups_follow_create_status_and_delete(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    jobs = JobManager(hass, EventEmitter(hass))
    await jobs.async_load()
    _check(jobs)
    first = jobs.create("a", "one", source=SOURCE_PRINTER)
    freezer.tick(timedelta(seconds=1))
    manual = jobs.create("a", "by hand")  # the newest, but not printer-tracked
    _check(jobs)
    assert jobs.printer_job("a") is first and jobs.current_or_last("a") is first
    jobs.set_status(first, "running")
    jobs.set_progress(first, 40)
    _check(jobs)
    jobs.set_status(first, "completed")
    _check(jobs)
    assert jobs.printer_job("a") is None and jobs.current_or_last("a") is manual
    jobs.set_status(first, "running")  # an action can make it active again
    _check(jobs)
    assert jobs.printer_job("a") is first
    freezer.tick(timedelta(seconds=1))
    other = jobs.create("b", "two", source=SOURCE_PRINTER)
    _check(jobs)
    assert jobs.delete(first.job_id) is first
    _check(jobs)
    assert jobs.current_or_last("a") is manual
    jobs.delete(manual.job_id)
    assert jobs.current_or_last("a") is None
    jobs.set_status(other, "cancelled")
    _check(jobs)
    assert jobs.current_or_last("b") is other


async def test_lookups_after_load_and_prune(
    hass: HomeAssistant, hass_storage: dict, freezer: FrozenDateTimeFactory
) -> None:
    """Stored jobs build the look-ups; the oldest ended jobs pruned leave them right."""
    stored = [
        {
            "job_id": f"j{i}",
            "printer_id": "abc"[i % 3],
            "job_name": f"job {i}",
            "status": "running" if i == MAX_JOBS - 2 else "completed",
            "progress": 100,
            "created_at": f"2026-11-01T00:00:{i % 60:02d}.{i:06d}+00:00",
            "source": SOURCE_PRINTER,
        }
        for i in range(MAX_JOBS)
    ]
    hass_storage[STORAGE_KEY] = {"version": 2, "key": STORAGE_KEY, "data": {"jobs": stored}}
    jobs = JobManager(hass, EventEmitter(hass))
    await jobs.async_load()
    _check(jobs)
    running = jobs.get(f"j{MAX_JOBS - 2}")
    assert running is not None and jobs.printer_job(running.printer_id or "") is running
    freezer.move_to("2026-12-01T00:00:00+00:00")
    new = jobs.create("c", "new", source=SOURCE_PRINTER)  # one over MAX_JOBS: the oldest goes
    assert len(jobs.jobs()) == MAX_JOBS
    assert jobs.get("j0") is None
    _check(jobs)
    assert jobs.current_or_last("c") is (jobs.printer_job("c") or new)
