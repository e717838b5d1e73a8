"""Image entity of a printer: the preview of its current (or last) job's file.

The preview comes from the library (the large PNG the processor made under
``<library>/.thumbnails/<checksum>/``) when the job's file is there; otherwise,
for printers that render their own thumbnails (PrusaLink, the optional
``PrinterThumbnailClient``), from the printer, fetched once per job. The file's
slicer estimates (PrusaLink ``meta``) go onto the job record at the same time.
``image_last_updated`` changes when the job, its file or the file's previews
change, so the frontend loads the new image.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, Final, Protocol, runtime_checkable

from homeassistant.components.image import ImageEntity
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .api.models import (
    PrinterError,
    PrinterFileClient,
    PrinterJobPlateClient,
    PrinterState,
    PrinterThumbnailClient,
)
from .core.coordinator import PrinterCoordinator
from .core.jobs import Job
from .core.processing import estimates, job_estimates_from_library
from .entity import PrinternizerEntity
from .metadata import metadata_from_keys
from .runtime import DATA_KEY, LibraryConfigEntry, PrinternizerConfigEntry

_LOGGER = logging.getLogger(__name__)

PARALLEL_UPDATES = 0
#: Largest preview file read from disk.
MAX_PREVIEW_BYTES: Final = 8 * 1024**2
EVENT_THUMBNAILS_PROCESSED: Final = "printernizer_file_thumbnails_processed"


@runtime_checkable
class _RemotePreviewClient(PrinterFileClient, PrinterThumbnailClient, Protocol):
    """A printer that names the job's file and renders its thumbnails (PrusaLink)."""


def image_content_type(data: bytes) -> str | None:
    """The content type of PNG or JPEG bytes (None for anything else)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    return None


def _read_preview(path: Path) -> bytes | None:
    """Blocking: a preview file's bytes, bounded (None when missing or too large)."""
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_PREVIEW_BYTES + 1)
    except OSError:
        return None
    return data if len(data) <= MAX_PREVIEW_BYTES else None


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PrinternizerConfigEntry | LibraryConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One job preview per printer (the library entry does not forward this platform)."""
    coordinator = entry.runtime_data
    assert isinstance(coordinator, PrinterCoordinator)
    async_add_entities([JobPreviewImage(hass, coordinator)])


class JobPreviewImage(PrinternizerEntity, ImageEntity):
    """The preview image of the printer's current (or last) job."""

    _attr_translation_key = "job_preview"
    _attr_content_type = "image/png"

    def __init__(self, hass: HomeAssistant, coordinator: PrinterCoordinator) -> None:
        """Initialize the entity."""
        PrinternizerEntity.__init__(self, coordinator, "job_preview")
        ImageEntity.__init__(self, hass)
        #: (job id, library file id) the image belongs to.
        self._key: tuple[str, str | None] | None = None
        #: A preview fetched from the printer for the job ``_remote_for``.
        self._remote: bytes | None = None
        self._remote_for: str | None = None
        self._fetch: asyncio.Task[None] | None = None

    async def async_added_to_hass(self) -> None:
        """Follow the jobs (coordinator updates) and the processed previews."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.hass.bus.async_listen(EVENT_THUMBNAILS_PROCESSED, self._on_processed)
        )
        self.async_on_remove(self._cancel_fetch)
        self._update_job()

    @callback
    def _cancel_fetch(self) -> None:
        if self._fetch is not None:
            self._fetch.cancel()
            self._fetch = None

    @property
    def available(self) -> bool:
        """Available whenever there is a job (the last job's preview stays while offline)."""
        return self._job() is not None

    def _job(self) -> Job | None:
        return self.hass.data[DATA_KEY].jobs.current_or_last(self.coordinator.printer_id)

    def _output_values(self) -> Any:
        # The image's state; the access token in its attributes is Home Assistant's.
        return self._attr_image_last_updated

    @callback
    def _handle_coordinator_update(self) -> None:
        self._update_job()
        self._async_write_if_changed()

    @callback
    def _on_processed(self, event: Event) -> None:
        job = self._job()
        if job is not None and job.library_file_id == event.data.get("file_id"):
            self._attr_image_last_updated = dt_util.utcnow()
            self._key = (job.job_id, job.library_file_id)
            self._async_write_if_changed()

    @callback
    def _update_job(self) -> None:
        job = self._job()
        if job is not None:
            runtime = self.hass.data[DATA_KEY].library
            client = self.coordinator.client
            job_estimates_from_library(
                self.hass.data[DATA_KEY].jobs,
                runtime.library if runtime is not None else None,
                job,
                plate=(
                    client.job_plate()
                    if job.is_active and isinstance(client, PrinterJobPlateClient)
                    else None
                ),
            )
        key = (job.job_id, job.library_file_id) if job is not None else None
        if key != self._key:
            self._key = key
            self._attr_image_last_updated = dt_util.utcnow() if job is not None else None
            if job is not None and job.is_active and self._remote_for != job.job_id:
                self._remote, self._remote_for = None, None
                client, state = self.coordinator.client, self.coordinator.data
                if (
                    self._library_preview(job) is None
                    and isinstance(client, _RemotePreviewClient)
                    and state is not None
                ):
                    self._cancel_fetch()
                    self._fetch = self.hass.async_create_background_task(
                        self._async_fetch_remote(job.job_id, client, state),
                        f"printernizer job preview {self.coordinator.printer_id}",
                    )

    def _library_preview(self, job: Job) -> Path | None:
        runtime = self.hass.data[DATA_KEY].library
        if runtime is None or runtime.library is None or job.library_file_id is None:
            return None
        file = runtime.library.get(job.library_file_id)
        if file is None or not file.thumbnails or "large" not in file.thumbnails:
            return None
        return Path(file.thumbnails["large"])

    async def _async_fetch_remote(
        self, job_id: str, client: _RemotePreviewClient, state: PrinterState
    ) -> None:
        """The printer's own thumbnail and estimates of the job's file (once per job)."""
        try:
            remote = await client.async_job_file(state)
            if remote is None:
                return
            if remote.meta is None:
                remote = await client.async_stat(remote.path)
            data = await client.async_read_thumbnail(remote)
        except PrinterError as err:
            _LOGGER.debug("No preview of the job's file from the printer: %s", err)
            return
        job = self.hass.data[DATA_KEY].jobs.get(job_id)
        if job is not None and remote.meta and job.estimated_print_time is None:
            meta = await self.hass.async_add_executor_job(metadata_from_keys, remote.meta)
            print_time, grams = estimates(meta.as_dict())
            self.hass.data[DATA_KEY].jobs.set_estimates(
                job, print_time=print_time, filament_g=grams
            )
        if data is not None and image_content_type(data) is not None:
            self._remote, self._remote_for = data, job_id
            self._attr_image_last_updated = dt_util.utcnow()
        self._async_write_if_changed()

    async def async_image(self) -> bytes | None:
        """The preview's bytes (content type set to match)."""
        job = self._job()
        if job is None:
            return None
        if (path := self._library_preview(job)) is not None:
            data = await self.hass.async_add_executor_job(_read_preview, path)
            if data is not None and (content_type := image_content_type(data)) is not None:
                self._attr_content_type = content_type
                return data
        if self._remote is not None and self._remote_for == job.job_id:
            self._attr_content_type = image_content_type(self._remote) or "image/png"
            return self._remote
        return None
