"""MakerWorld and Printables at the HTTP level (aiohttp), with switchable failure modes.

One server answers both sites' list endpoints and serves their images:

- ``GET /api/v1/search-service/select/design2`` (MakerWorld's design list),
- ``POST /graphql/`` (Printables' GraphQL; dispatched on ``operationName``),
- ``GET /img/makerworld/<id>.<ext>`` (MakerWorld's ``cover`` is an absolute URL) and
  ``GET /media/prints/<id>/images/<image id>_<uuid>/<slug>.<ext>`` (Printables' ``filePath``,
  relative, shaped like the real one: the client prefixes its media URL), generated PNG,
  JPEG and WebP images; any other path is a 404,
- ``POST /_sim/mode`` and ``GET /_sim/state``: the HTTP control endpoint
  (``scripts/develop`` and out-of-process tests); in-process tests call
  :meth:`TrendingSimulator.set_mode`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from aiohttp import web

from .data import CLOUDFLARE_HTML, SimModel, decompression_bomb, models, render_image

_LOGGER = logging.getLogger(__name__)

SiteMode = Literal[
    "ok",
    "cloudflare",
    "rate_limited",
    "graphql_errors",
    "missing_fields",
    "renamed_fields",
    "changed_shape",
    "wrong_types",
    "not_object",
    "empty",
    "slow",
    "hang",
    "oversized",
    "not_json",
    "server_error",
]
ImageMode = Literal["ok", "wrong_content_type", "corrupt", "bomb", "oversized", "slow", "hang"]
SITE_MODES: tuple[str, ...] = get_args(SiteMode)
IMAGE_MODES: tuple[str, ...] = get_args(ImageMode)
TARGETS = ("makerworld", "printables", "images")

MAKERWORLD_PATH = "/api/v1/search-service/select/design2"
PRINTABLES_PATH = "/graphql/"
#: How long a request hangs in mode "hang" (unless the simulator stops first).
HANG_SECONDS = 3600.0
#: Size of an "oversized" body (more than the clients accept).
OVERSIZE_BYTES = 3 * 1024 * 1024


@dataclass
class TargetState:
    """Mode and knobs of one target (a site or the image path)."""

    mode: str = "ok"
    retry_after: str | None = "120"
    slow_seconds: float = 0.2


@dataclass
class Request:
    """One request the simulator answered."""

    method: str
    path: str
    user_agent: str
    operation: str | None = None
    query: dict[str, str] = field(default_factory=dict)


class TrendingSimulator:
    """Both trending sites on ``host:port`` (``port=0`` picks a free one)."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, count: int = 60) -> None:
        """Configure; nothing runs until :meth:`start`."""
        self.host = host
        self._requested_port = port
        self.models = {p: models(p, count) for p in ("makerworld", "printables")}
        #: image path (no leading slash) -> (seed, extension) of every model's image
        self._images = {
            self.image_path(platform, model): (model.model_id, model.image_ext)
            for platform, listed in self.models.items()
            for model in listed
        }
        self.targets = {t: TargetState() for t in TARGETS}
        self.requests: list[Request] = []
        self.counts: Counter[str] = Counter()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._stopping = asyncio.Event()
        self._release = asyncio.Event()

    # --- control ------------------------------------------------------------

    def set_mode(
        self,
        target: str,
        mode: str,
        *,
        retry_after: str | None = "120",
        slow_seconds: float | None = None,
    ) -> None:
        """Switch ``target`` (makerworld, printables, images) to ``mode``."""
        if target not in TARGETS:
            raise ValueError(f"unknown target {target!r}")
        allowed = IMAGE_MODES if target == "images" else SITE_MODES
        if mode not in allowed:
            raise ValueError(f"unknown mode {mode!r} for {target}")
        state = self.targets[target]
        state.mode = mode
        state.retry_after = retry_after
        if slow_seconds is not None:
            state.slow_seconds = slow_seconds

    def reset(self) -> None:
        """Every target back to "ok"; request log cleared."""
        self.targets = {t: TargetState() for t in TARGETS}
        self.requests.clear()
        self.counts.clear()

    def release(self) -> None:
        """Answer the requests waiting in mode "slow" or "hang" now ("hang": HTTP 504)."""
        self._release.set()
        self._release = asyncio.Event()

    def requests_to(self, kind: str) -> list[Request]:
        """Requests to ``makerworld``, ``printables`` or ``images``."""
        return [r for r in self.requests if _kind(r.path) == kind]

    @property
    def port(self) -> int:
        """The bound port (after :meth:`start`)."""
        if self._port is None:
            raise RuntimeError("simulator not started")
        return self._port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    def image_url(self, platform: str, model: SimModel) -> str:
        """The absolute URL of ``model``'s image."""
        return f"{self.url}/{self.image_path(platform, model)}"

    def image_path(self, platform: str, model: SimModel) -> str:
        """Path (no leading slash) of ``model``'s image.

        For Printables this is the ``filePath`` the list carries, shaped like the
        real one (``media/prints/<print id>/images/<image id>_<uuid>/<file>``).
        """
        if platform == "makerworld":
            return f"img/makerworld/{model.model_id}.{model.image_ext}"
        image_id = model.model_id * 10 + 1
        folder = f"{image_id}_{uuid.uuid5(uuid.NAMESPACE_URL, f'printables:{model.model_id}')}"
        return f"media/prints/{model.model_id}/images/{folder}/{model.slug}.{model.image_ext}"

    # --- lifecycle ----------------------------------------------------------

    async def start(self) -> None:
        """Bind and serve."""
        app = web.Application(middlewares=[self._log_middleware])
        app.router.add_get(MAKERWORLD_PATH, self._makerworld)
        app.router.add_post(PRINTABLES_PATH, self._printables)
        app.router.add_get("/img/makerworld/{name}", self._image)
        app.router.add_get("/media/prints/{tail:.+}", self._image)
        app.router.add_post("/_sim/mode", self._control_mode)
        app.router.add_get("/_sim/state", self._control_state)
        self._stopping.clear()
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._requested_port)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        _LOGGER.info("Trending simulator on %s", self.url)

    async def stop(self) -> None:
        """Stop serving (hanging requests are released first)."""
        self._stopping.set()
        self.release()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> TrendingSimulator:
        """Start."""
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stop."""
        await self.stop()

    # --- handlers -----------------------------------------------------------

    @web.middleware
    async def _log_middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if not request.path.startswith("/_sim/"):
            operation = None
            if request.method == "POST" and request.path == PRINTABLES_PATH:
                try:
                    body = await request.json()
                    operation = body.get("operationName") if isinstance(body, dict) else None
                except ValueError:
                    operation = None
            self.requests.append(
                Request(
                    method=request.method,
                    path=request.path,
                    user_agent=request.headers.get("User-Agent", ""),
                    operation=operation,
                    query=dict(request.query),
                )
            )
            self.counts[_kind(request.path)] += 1
        response: web.StreamResponse = await handler(request)
        return response

    async def _common(self, request: web.Request, target: str) -> web.StreamResponse | None:
        """The failure modes both sites share; None means "answer normally"."""
        state = self.targets[target]
        match state.mode:
            case "cloudflare":
                return web.Response(
                    status=403,
                    text=CLOUDFLARE_HTML,
                    content_type="text/html",
                    headers={"Server": "cloudflare", "cf-mitigated": "challenge"},
                )
            case "rate_limited":
                headers = {"Retry-After": state.retry_after} if state.retry_after else {}
                return web.json_response(
                    {"message": "Too Many Requests"}, status=429, headers=headers
                )
            case "slow":
                await self._sleep(state.slow_seconds)
            case "hang":
                await self._sleep(HANG_SECONDS)
                return web.Response(status=504)
            case "server_error":
                return web.Response(status=500, text="Internal Server Error")
            case "not_json":
                return web.Response(text="<html>maintenance</html>", content_type="text/html")
            case "oversized":
                return await self._oversized(request)
        return None

    async def _makerworld(self, request: web.Request) -> web.StreamResponse:
        early = await self._common(request, "makerworld")
        if early is not None:
            return early
        mode = self.targets["makerworld"].mode
        try:
            limit = max(0, min(int(request.query.get("limit", "20")), 100))
            offset = max(0, int(request.query.get("offset", "0")))
        except ValueError:
            return web.json_response({"code": 400, "error": "bad paging"}, status=400)
        if mode == "not_object":
            return web.json_response([])
        all_models = [] if mode == "empty" else self.models["makerworld"]
        page = all_models[offset : offset + limit]
        hits = [_wrong_types(self._makerworld_hit(m, mode), m, mode) for m in page]
        if mode == "changed_shape":
            return web.json_response({"total": len(all_models), "designs": hits})
        return web.json_response({"total": len(all_models), "hits": hits})

    def _makerworld_hit(self, model: SimModel, mode: str) -> dict[str, Any]:
        hit: dict[str, Any] = {
            "id": model.model_id,
            "title": model.title,
            "cover": self.image_url("makerworld", model),
            "designCreator": {"name": model.creator.title(), "handle": model.creator},
            "likeCount": model.likes,
            "downloadCount": model.downloads,
            "printCount": model.downloads // 3,
            "collectionCount": model.likes // 4,
            "tags": [model.category, "trending"],
            "license": model.licence,
            "hotScore": 1000 - model.index,
        }
        if mode == "missing_fields":
            for key in ("cover", "designCreator", "likeCount", "tags", "license"):
                hit.pop(key)
            if model.index % 3 == 1:
                hit.pop("title")
        elif mode == "renamed_fields":
            hit["designId"] = hit.pop("id")
            hit["designTitle"] = hit.pop("title")
        return hit

    async def _printables(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"errors": [{"message": "Invalid JSON"}]}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"errors": [{"message": "Invalid body"}]}, status=400)
        operation = body.get("operationName")
        if operation != "PrintList":
            return web.json_response(
                {"errors": [{"message": f'Unknown operation named "{operation}".'}]}
            )
        early = await self._common(request, "printables")
        if early is not None:
            return early
        mode = self.targets["printables"].mode
        if mode == "graphql_errors":
            return web.json_response(
                {
                    "errors": [
                        {
                            "message": 'Cannot query field "morePrints" on type "Query".',
                            "locations": [{"line": 2, "column": 3}],
                        }
                    ],
                    "data": None,
                }
            )
        variables = body.get("variables") if isinstance(body.get("variables"), dict) else {}
        try:
            limit = max(0, min(int(variables.get("limit") or 20), 100))
            offset = int(variables.get("cursor") or 0)
        except (TypeError, ValueError):
            return web.json_response({"errors": [{"message": "Invalid cursor"}]})
        if mode == "not_object":
            return web.json_response([])
        all_models = [] if mode == "empty" else self.models["printables"]
        page = all_models[offset : offset + limit]
        items = [_wrong_types(self._printables_item(m, mode), m, mode) for m in page]
        end = offset + len(page)
        cursor = str(end) if end < len(all_models) else None
        if mode == "changed_shape":
            return web.json_response({"data": {"prints": {"cursor": cursor, "results": items}}})
        return web.json_response({"data": {"morePrints": {"cursor": cursor, "items": items}}})

    def _printables_item(self, model: SimModel, mode: str) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": str(model.model_id),
            "name": model.title,
            "slug": model.slug,
            "likesCount": model.likes,
            "downloadCount": model.downloads,
            "datePublished": f"2026-11-{1 + model.index % 28:02d}T10:00:00+00:00",
            "ratingAvg": 4.5,
            "images": [{"filePath": self.image_path("printables", model)}],
            "user": {"publicUsername": model.creator},
            "category": {"path": [{"name": "3D Models"}, {"name": model.category}]},
            "license": {
                "name": f"Creative Commons - {_CC_NAMES[model.licence]}",
                "abbreviation": f"CC {model.licence}",
            },
        }
        if mode == "missing_fields":
            for key in ("images", "user", "category", "likesCount"):
                item.pop(key)
            if model.index % 3 == 2:
                item["license"].pop("abbreviation")
            else:
                item.pop("license")
            if model.index % 3 == 1:
                item.pop("name")
        elif mode == "renamed_fields":
            item["printId"] = item.pop("id")
            item["title"] = item.pop("name")
        return item

    async def _image(self, request: web.Request) -> web.StreamResponse:
        state = self.targets["images"]
        known = self._images.get(request.path.lstrip("/"))
        if known is None:
            raise web.HTTPNotFound
        seed, ext = known
        match state.mode:
            case "slow":
                await self._sleep(state.slow_seconds)
            case "hang":
                await self._sleep(HANG_SECONDS)
                return web.Response(status=504)
            case "bomb":
                return web.Response(body=decompression_bomb(), content_type="image/png")
            case "corrupt":
                data, content_type = render_image(seed, ext)
                return web.Response(body=data[: len(data) // 3], content_type=content_type)
            case "oversized":
                return web.Response(
                    body=b"\x89PNG" + b"\0" * (5 * 1024 * 1024), content_type="image/png"
                )
        data, content_type = render_image(seed, ext)
        if state.mode == "wrong_content_type":
            content_type = "text/html"
        return web.Response(body=data, content_type=content_type)

    async def _oversized(self, request: web.Request) -> web.StreamResponse:
        """A valid JSON document bigger than any client limit, streamed without a length."""
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(b'{"padding": "')
        chunk = b"x" * 65536
        for _ in range(OVERSIZE_BYTES // len(chunk)):
            try:
                await response.write(chunk)
            except (ConnectionResetError, OSError):
                return response
        await response.write(b'", "hits": []}')
        await response.write_eof()
        return response

    async def _control_mode(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            self.set_mode(
                str(body["target"]),
                str(body["mode"]),
                retry_after=body.get("retry_after", "120"),
                slow_seconds=body.get("slow_seconds"),
            )
        except (ValueError, KeyError, TypeError) as err:
            return web.json_response({"error": str(err)}, status=400)
        return await self._control_state(request)

    async def _control_state(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "targets": {t: s.mode for t, s in self.targets.items()},
                "counts": dict(self.counts),
            }
        )

    async def _sleep(self, seconds: float) -> None:
        if self._stopping.is_set():
            return
        try:
            await asyncio.wait_for(self._release.wait(), seconds)
        except TimeoutError:
            return


def _wrong_types(entry: dict[str, Any], model: SimModel, mode: str) -> Any:
    """Mode "wrong_types": the entry with values of the wrong type (others: unchanged).

    By rank: 0 is not an object, 1 has a boolean id; from 2 on id and title stay
    and the rest is odd: boolean, negative or fractional counts, a relative or
    numeric cover, an unsafe or missing slug, images that are not a list or
    point outside the media host, a category path without usable names.
    """
    if mode != "wrong_types":
        return entry
    kind = model.index % 4
    if kind == 0:
        return f"model {model.index}"
    if kind == 1:
        return {**entry, "id": True}
    if "designCreator" in entry:  # MakerWorld
        return {
            **entry,
            "cover": "/img/relative.png" if kind == 2 else 42,
            "likeCount": True,
            "downloadCount": float(model.downloads),
            "designCreator": {"name": "", "handle": model.creator},
        }
    return {
        **entry,
        "slug": "../../../etc" if kind == 2 else None,
        "likesCount": -3,
        "downloadCount": model.downloads + 0.5,
        "images": "cover.png"
        if kind == 2
        else ["cover.png", {"filePath": "../../secrets.png"}, {"filePath": "https://x.test/a.png"}],
        "category": {"path": [{"name": ""}, "Tools"]} if kind == 2 else "Tools",
        "license": "CC BY",
    }


_CC_NAMES = {
    "BY": "Attribution",
    "BY-SA": "Attribution-ShareAlike",
    "BY-NC": "Attribution-NonCommercial",
    "BY-NC-SA": "Attribution-NonCommercial-ShareAlike",
    "BY-ND": "Attribution-NoDerivatives",
}


def _kind(path: str) -> str:
    if path == MAKERWORLD_PATH:
        return "makerworld"
    if path == PRINTABLES_PATH:
        return "printables"
    return "images"


def dumps_state(sim: TrendingSimulator) -> str:
    """One JSON line describing a running simulator (the CLI prints it)."""
    return json.dumps(
        {
            "simulator": "trending",
            "host": sim.host,
            "port": sim.port,
            "url": sim.url,
            "makerworld_api_url": sim.url,
            "makerworld_web_url": sim.url,
            "printables_api_url": sim.url,
            "printables_web_url": sim.url,
            "printables_media_url": sim.url,
        }
    )
