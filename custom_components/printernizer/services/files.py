"""Actions on files: list, discover, download, delete.

``list_files`` and ``discover_files`` work for every printer with file access,
with or without the library entry; ``download_file`` and deleting a library
file need the library. Bad input raises a translated ``ServiceValidationError``
and changes nothing; a printer that fails raises ``HomeAssistantError``.
"""

from __future__ import annotations

from typing import Any, Final

import voluptuous as vol
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv

from ..api.models import PrinterError, PrinterFileClient, RemoteFileNotFoundError
from ..const import ATTR_DEVICE_ID, DOMAIN, LIBRARY_UNIQUE_ID
from ..core.coordinator import PrinterCoordinator
from ..core.downloads import DownloadError
from ..core.file_service import FileService, async_delete_printer_file
from ..core.files import IndexedFile, file_id
from ..core.library import LibraryFile
from ..runtime import DATA_KEY
from .helpers import coordinator_for_device, printer_id_for_device, validation_error

SERVICE_LIST_FILES: Final = "list_files"
SERVICE_DISCOVER_FILES: Final = "discover_files"
SERVICE_DOWNLOAD_FILE: Final = "download_file"
SERVICE_DELETE_FILE: Final = "delete_file"

ATTR_PATH: Final = "path"
ATTR_FILE_ID: Final = "file_id"
ATTR_LIMIT: Final = "limit"
ATTR_OFFSET: Final = "offset"
DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 1000
MAX_PATH: Final = 1024

LIST_FILES_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_DEVICE_ID): cv.string,
        vol.Optional(ATTR_LIMIT, default=DEFAULT_LIMIT): vol.Any(int, float, str),
        vol.Optional(ATTR_OFFSET, default=0): vol.Any(int, float, str),
    }
)
DISCOVER_FILES_SCHEMA = vol.Schema({vol.Optional(ATTR_DEVICE_ID): cv.string})
DOWNLOAD_FILE_SCHEMA = vol.Schema(
    {vol.Required(ATTR_DEVICE_ID): cv.string, vol.Required(ATTR_PATH): cv.string}
)
DELETE_FILE_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_FILE_ID): cv.string,
        vol.Optional(ATTR_DEVICE_ID): cv.string,
        vol.Optional(ATTR_PATH): cv.string,
    }
)


def _int_field(value: Any, name: str, minimum: int, maximum: int) -> int:
    if isinstance(value, bool):
        raise validation_error("invalid_number", field=name, value=str(value))
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise validation_error("invalid_number", field=name, value=str(value)) from None
    if not number.is_integer() or not minimum <= number <= maximum:
        raise validation_error("invalid_number", field=name, value=str(value))
    return int(number)


def _check_path(path: str) -> str:
    path = path.strip()
    if (
        not path
        or not path.startswith("/")
        or len(path) > MAX_PATH
        or any(ord(ch) < 32 or ch == "\x7f" for ch in path)
        or ".." in path.split("/")
    ):
        raise validation_error("invalid_path", path=path[:100])
    return path


def _is_library_device(hass: HomeAssistant, device_id: str) -> bool:
    return printer_id_for_device(hass, device_id) == LIBRARY_UNIQUE_ID


def _file_coordinator(hass: HomeAssistant, device_id: str) -> PrinterCoordinator:
    coordinator = coordinator_for_device(hass, device_id)
    if not isinstance(coordinator.client, PrinterFileClient):
        raise validation_error("no_file_access", name=coordinator.monitor.name)
    return coordinator


def _file_service(hass: HomeAssistant) -> FileService:
    library = hass.data[DATA_KEY].library
    if library is None or library.files is None:
        raise validation_error("library_not_loaded")
    return library.files


def _library_entry(file: LibraryFile, path: str) -> dict[str, Any]:
    return {
        "file_id": file.checksum,
        "filename": file.filename,
        "file_size": file.file_size,
        "file_path": path,
        "added_at": file.added_at,
        "auto_downloaded": file.auto,
        "sources": [
            {
                "kind": s.kind,
                "printer_id": s.printer_id,
                "printer_name": s.printer_name,
                "path": s.path,
                "added_at": s.added_at,
            }
            for s in file.sources
        ],
    }


def _printer_entry(hass: HomeAssistant, printer_id: str, file: IndexedFile) -> dict[str, Any]:
    runtime = hass.data[DATA_KEY].library
    library = runtime.library if runtime is not None else None
    in_library = library.by_source(printer_id, file.path) if library is not None else None
    return {
        "file_id": file_id(printer_id, file.path),
        "filename": file.name,
        "path": file.path,
        "file_size": file.size,
        "modified": file.modified,
        "storage": file.storage,
        "kind": file.kind,
        "metadata": file.metadata or None,
        "library_file_id": in_library.checksum if in_library is not None else None,
    }


def _printer_error(err: PrinterError, name: str) -> HomeAssistantError:
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="file_operation_failed",
        translation_placeholders={"name": name, "error": str(err) or type(err).__name__},
    )


def async_register_file_services(hass: HomeAssistant) -> None:
    """Register the file actions."""

    async def list_files(call: ServiceCall) -> ServiceResponse:
        limit = _int_field(call.data[ATTR_LIMIT], ATTR_LIMIT, 1, MAX_LIMIT)
        offset = _int_field(call.data[ATTR_OFFSET], ATTR_OFFSET, 0, 10**9)
        device_id = call.data.get(ATTR_DEVICE_ID)
        if device_id is None or _is_library_device(hass, device_id):
            runtime = hass.data[DATA_KEY].library
            if runtime is None or runtime.library is None:
                raise validation_error("library_not_loaded")
            library = runtime.library
            return {
                "source": "library",
                "total": len(library),
                "offset": offset,
                "limit": limit,
                "files": [
                    _library_entry(f, str(library.path_of(f))) for f in library.page(limit, offset)
                ],
            }
        coordinator = _file_coordinator(hass, device_id)
        data = hass.data[DATA_KEY]
        printer_id = coordinator.printer_id
        if not data.file_index.known(printer_id):
            result = await data.file_discovery.async_discover_printer(coordinator)
            if not result.success:
                raise HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key="printer_offline",
                    translation_placeholders={"name": coordinator.monitor.name},
                )
        files = data.file_index.files(printer_id)
        return {
            "source": "printer",
            "printer_id": printer_id,
            "total": len(files),
            "offset": offset,
            "limit": limit,
            "last_discovery": data.file_index.last_discovery(printer_id),
            "files": [_printer_entry(hass, printer_id, f) for f in files[offset : offset + limit]],
        }

    async def discover_files(call: ServiceCall) -> ServiceResponse:
        data = hass.data[DATA_KEY]
        device_id = call.data.get(ATTR_DEVICE_ID)
        if device_id is not None:
            coordinator = _file_coordinator(hass, device_id)
            results = [await data.file_discovery.async_discover_printer(coordinator)]
        else:
            results = await data.file_discovery.async_discover_all(data.coordinators)
        return {
            "results": {
                r.printer_id: {
                    "printer_name": r.printer_name,
                    "success": r.success,
                    "total_files": r.diff.total if r.diff else None,
                    "files_added": len(r.diff.added) if r.diff else 0,
                    "files_removed": len(r.diff.removed) if r.diff else 0,
                    "error": r.error,
                }
                for r in results
            }
        }

    async def download_file(call: ServiceCall) -> ServiceResponse:
        path = _check_path(call.data[ATTR_PATH])
        coordinator = _file_coordinator(hass, call.data[ATTR_DEVICE_ID])
        service = _file_service(hass)
        if not coordinator.online:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="printer_offline",
                translation_placeholders={"name": coordinator.monitor.name},
            )
        try:
            result = await service.async_download(coordinator, path)
        except RemoteFileNotFoundError:
            raise validation_error(
                "file_not_found", path=path, name=coordinator.monitor.name
            ) from None
        except PrinterError as err:
            raise _printer_error(err, coordinator.monitor.name) from err
        except DownloadError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="download_failed",
                translation_placeholders={"path": path, "error": str(err)},
            ) from err
        return {
            **_library_entry(result.file, str(result.path)),
            "new": result.new,
            "download_time": result.download_time,
        }

    async def delete_file(call: ServiceCall) -> ServiceResponse:
        data = hass.data[DATA_KEY]
        identifier = call.data.get(ATTR_FILE_ID)
        device_id = call.data.get(ATTR_DEVICE_ID)
        raw_path = call.data.get(ATTR_PATH)
        if identifier is not None and (device_id is not None or raw_path is not None):
            raise validation_error("delete_file_target")
        if identifier is None:
            if device_id is None or raw_path is None:
                raise validation_error("delete_file_target")
            coordinator = _file_coordinator(hass, device_id)
            path = _check_path(raw_path)
        else:
            identifier = identifier.strip()
            printer_id, sep, rest = identifier.partition(":")
            if not sep:
                service = _file_service(hass)
                if service.library.get(identifier) is None:
                    raise validation_error("unknown_file", file_id=identifier[:100])
                await service.async_delete_library_file(identifier)
                return {"file_id": identifier, "deleted": "library"}
            found = data.coordinators.get(printer_id)
            if found is None or not isinstance(found.client, PrinterFileClient):
                raise validation_error("unknown_file", file_id=identifier[:100])
            coordinator = found
            path = _check_path(rest)
        if data.file_index.known(coordinator.printer_id) and (
            data.file_index.get(coordinator.printer_id, path) is None
        ):
            raise validation_error("file_not_found", path=path, name=coordinator.monitor.name)
        runtime = data.library
        try:
            deleted_id = await async_delete_printer_file(
                data.emitter,
                data.file_index,
                runtime.library if runtime is not None else None,
                coordinator,
                path,
            )
        except RemoteFileNotFoundError:
            raise validation_error(
                "file_not_found", path=path, name=coordinator.monitor.name
            ) from None
        except PrinterError as err:
            raise _printer_error(err, coordinator.monitor.name) from err
        return {"file_id": deleted_id, "deleted": "printer"}

    for name, handler, schema, response in (
        (SERVICE_LIST_FILES, list_files, LIST_FILES_SCHEMA, SupportsResponse.ONLY),
        (SERVICE_DISCOVER_FILES, discover_files, DISCOVER_FILES_SCHEMA, SupportsResponse.OPTIONAL),
        (SERVICE_DOWNLOAD_FILE, download_file, DOWNLOAD_FILE_SCHEMA, SupportsResponse.OPTIONAL),
        (SERVICE_DELETE_FILE, delete_file, DELETE_FILE_SCHEMA, SupportsResponse.OPTIONAL),
    ):
        hass.services.async_register(
            DOMAIN, name, handler, schema=schema, supports_response=response
        )
