"""Helpers for the PrusaLink tests: fixture loading and OpenAPI validation of responses."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import pytest
import yaml
from referencing import Registry
from referencing.jsonschema import DRAFT7

if TYPE_CHECKING:
    from custom_components.printernizer.api.prusalink import PrusaLinkClient
    from simulator.prusalink import PrusaLinkSimulator

ROOT = Path(__file__).resolve().parents[3]

#: ``make_sim(**kwargs)`` fixture type: starts a simulator, stopped at teardown.
SimFactory = Callable[..., Awaitable["PrusaLinkSimulator"]]
#: ``make_client(sim, **kwargs)`` fixture type.
ClientFactory = Callable[..., "PrusaLinkClient"]
FIXTURES = ROOT / "tests" / "fixtures" / "prusalink"
SPEC_PATH = ROOT / "tests" / "fixtures" / "reference" / "prusalink-openapi.yaml"
SPEC_URI = "urn:prusalink-openapi"


def load_fixture(name: str) -> Any:
    """Load ``tests/fixtures/prusalink/<name>.json``."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


def _one_of_to_any_of(node: Any) -> Any:
    """Replace ``oneOf`` by ``anyOf`` throughout the spec.

    The spec's ``oneOf`` alternatives do not exclude each other (e.g. ``Job`` is
    ``oneOf`` JobSerialPrint/JobFilePrint, neither with required properties, and
    the file schemas only differ in optional properties), so every valid body
    matches several branches and a strict ``oneOf`` would reject all of them.
    Keys become strings (YAML reads status codes as ints) so JSON pointers work.
    """
    if isinstance(node, dict):
        return {
            ("anyOf" if key == "oneOf" else str(key)): _one_of_to_any_of(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_one_of_to_any_of(value) for value in node]
    return node


def _pointer(*parts: str | int) -> str:
    return "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


@dataclass
class Recorded:
    """One HTTP exchange seen by the test client."""

    method: str
    path: str
    status: int
    content_type: str
    body: bytes


class OpenApi:
    """Validates simulator responses against the PrusaLink OpenAPI spec."""

    def __init__(self) -> None:
        """Load the spec once."""
        raw = yaml.safe_load(SPEC_PATH.read_text())
        self.spec: dict[str, Any] = _one_of_to_any_of(raw)
        self.registry: Registry = Registry().with_resource(
            SPEC_URI, DRAFT7.create_resource(self.spec)
        )
        self._templates: list[tuple[re.Pattern[str], str]] = []
        for template in self.spec["paths"]:
            pattern = re.escape(template)
            pattern = pattern.replace(re.escape("{path}"), "(?:.*)")
            pattern = re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", pattern)
            self._templates.append((re.compile(f"^{pattern}$"), template))

    def template_for(self, path: str) -> str | None:
        """Return the spec's path template matching ``path``."""
        if re.fullmatch(r"/api/v1/files/[^/]+/?", path):
            return "/api/v1/files/{storage}/{path}"
        for pattern, template in self._templates:
            if pattern.match(path):
                return template
        return None

    def validate_schema(self, pointer: str, body: Any) -> None:
        """Validate ``body`` against the schema at ``#<pointer>`` of the spec."""
        validator = jsonschema.Draft7Validator(
            {"$ref": f"{SPEC_URI}#/{pointer}"}, registry=self.registry
        )
        validator.validate(body)

    def validate_component(self, name: str, body: Any) -> None:
        """Validate ``body`` against ``components/schemas/<name>``."""
        self.validate_schema(_pointer("components", "schemas", name), body)

    def _sibling_response(self, template: str, status: str) -> dict[str, Any] | None:
        """A component response (``$ref``) for ``status`` on another method of the path."""
        for key, operation in self.spec["paths"][template].items():
            if key == "parameters" or not isinstance(operation, dict):
                continue
            response = operation.get("responses", {}).get(status)
            if isinstance(response, dict) and "$ref" in response:
                return response
        return None

    def check(self, exchange: Recorded) -> str:
        """Validate one exchange; return the template it matched (raise on mismatch)."""
        template = self.template_for(exchange.path)
        assert template is not None, f"{exchange.path} is not in the OpenAPI spec"
        operation = self.spec["paths"][template].get(exchange.method.lower())
        if operation is None and exchange.method == "HEAD":
            operation = self.spec["paths"][template]["get"]
        assert operation is not None, f"{exchange.method} {template} is not in the spec"
        responses = operation["responses"]
        status = str(exchange.status)
        if exchange.status == 304 and template == "/api/v1/files/{storage}/{path}":
            # The firmware answers If-None-Match with 304 (ETag); the spec lists
            # NotModified only for the camera snapshots. No body, as HTTP requires.
            assert exchange.body == b"", f"{exchange.path}: 304 must have no body"
            return template
        if status in responses:
            response = responses[status]
            pointer_base: tuple[str | int, ...] = (
                "paths",
                template,
                exchange.method.lower(),
                "responses",
                status,
            )
        elif exchange.status == 401:
            # Every operation is behind the spec's global digest security scheme.
            response = {"$ref": "#/components/responses/Unauthorized"}
        elif (sibling := self._sibling_response(template, status)) is not None:
            # e.g. GET /api/v1/files/... lists no 404 while HEAD/PUT/DELETE on the
            # same path do (NotFound); the firmware answers 404 for GET as well.
            response = sibling
        else:
            raise AssertionError(
                f"{exchange.method} {exchange.path}: status {exchange.status} not in the spec"
            )
        if "$ref" in response:
            name = response["$ref"].rsplit("/", 1)[1]
            response = self.spec["components"]["responses"][name]
            pointer_base = ("components", "responses", name)
        content = response.get("content")
        if not content:
            assert exchange.body == b"", f"{exchange.path}: {exchange.status} must have no body"
            return template
        if "application/json" in exchange.content_type:
            assert "application/json" in content, f"{exchange.path}: JSON not documented"
            body = json.loads(exchange.body)
            self.validate_schema(
                _pointer(*pointer_base, "content", "application/json", "schema"), body
            )
            if exchange.status == 200 and template == "/api/v1/files/{storage}/{path}":
                self.validate_file_info(body)
            if exchange.status == 200 and template == "/api/v1/job":
                self.validate_job(body)
        else:
            assert exchange.content_type.split(";")[0] in content, (
                f"{exchange.path}: content type {exchange.content_type} not documented"
            )
        return template

    # The spec's oneOf branches overlap (see _one_of_to_any_of); these pick the
    # branch a body must match from what it says it is, so anyOf loses nothing.

    _FILE_SCHEMAS = {
        "PRINT_FILE": ("PrintFileInfoBasic", "PrintFileInfo"),
        "FIRMWARE": ("FirmwareFileInfoBasic", "FirmwareFileInfo"),
        "FILE": ("FileInfo", "FileInfo"),
        "FOLDER": ("FolderInfo", "FolderInfo"),
    }

    def validate_file_info(self, body: dict[str, Any], *, child: bool = False) -> None:
        """Validate a file/folder info against the branch its ``type`` names."""
        basic, full = self._FILE_SCHEMAS[body["type"]]
        self.validate_component(basic if child else full, body)
        if body["type"] == "FOLDER":
            for item in body.get("children", []):
                self.validate_file_info(item, child=True)
        else:
            assert "children" not in body
        if body["type"] == "PRINT_FILE":
            assert {"download", "icon", "thumbnail"} <= set(body["refs"])

    def validate_job(self, body: dict[str, Any]) -> None:
        """Validate a job against Job and, when it has a file, strictly against JobFilePrint."""
        self.validate_component("Job", body)
        if "file" in body:
            file_schema = self.spec["components"]["schemas"]["JobFilePrint"]["properties"]["file"]
            jsonschema.Draft7Validator(
                {"$ref": f"{SPEC_URI}#/components/schemas/JobFilePrint/properties/file"},
                registry=self.registry,
            ).validate(body["file"])
            assert set(file_schema["required"]) <= set(body["file"])
        else:
            self.validate_component("JobSerialPrint", body)


#: Parametrize a download test over both download transports: httpx (no
#: session, the fallback) and aiohttp (the ``download_session`` fixture).
BOTH_TRANSPORTS = pytest.mark.parametrize("download_session", ["httpx", "aiohttp"], indirect=True)
