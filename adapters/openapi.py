"""OpenAPI 3.1 for the bot's own HTTP API, generated from the routes the app really mounts.

Each route is looked up by (method, path) in a catalog of `Operation`s (summary, auth, request and response
models with examples); schemas come from the pydantic models, so a field added to a model shows up here.
A mounted route missing from the catalog is still listed, marked `x-undocumented`, and the conformance
test fails on it: the document cannot silently drift from the routes.

`openapi_routes` serves `/openapi.json` and `/docs`, a self-contained HTML page (no CDN scripts).
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

Schema = type[BaseModel] | dict[str, Any] | None
SECURITY = {
    "admin": {"type": "http", "scheme": "bearer", "description": "ADMIN_TOKEN: staff routes"},
    "api_key": {"type": "http", "scheme": "bearer", "description": "API_KEY: the Inspector website's server"},
    "metrics": {"type": "http", "scheme": "bearer", "description": "METRICS_TOKEN, when it is set: the scraper"},
}


@dataclass(frozen=True)
class Param:
    name: str
    where: str = "query"  # query, path or header
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})
    required: bool = False
    description: str = ""


@dataclass(frozen=True)
class Answer:
    description: str
    schema: Schema = None
    example: Any = None
    media: str = "application/json"


@dataclass(frozen=True)
class Operation:
    summary: str
    tag: str
    responses: Mapping[int, Answer]
    auth: str | None = None  # a key of SECURITY
    request: Schema = None
    request_example: Any = None
    request_media: str = "application/json"
    params: tuple[Param, ...] = ()
    description: str = ""


class _Components:
    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def ref(self, schema: Schema) -> dict[str, Any] | None:
        if schema is None:
            return None
        if isinstance(schema, dict):
            return schema
        generated = schema.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, sub in generated.pop("$defs", {}).items():
            self.schemas.setdefault(name, sub)
        self.schemas.setdefault(schema.__name__, generated)
        return {"$ref": f"#/components/schemas/{schema.__name__}"}


def _content(components: _Components, schema: Schema, example: Any, media: str) -> dict[str, Any]:
    body: dict[str, Any] = {}
    ref = components.ref(schema)
    if ref is not None:
        body["schema"] = ref
    if example is not None:
        body["example"] = example
    return {media: body}


def mounted(routes: Iterable[BaseRoute]) -> list[tuple[str, str, Route]]:
    """(method, path, route) for every HTTP route, HEAD left out (Starlette adds it to GET)."""
    out = []
    for route in routes:
        if isinstance(route, Route):
            for method in sorted(route.methods or []):
                if method != "HEAD":
                    out.append((method, route.path, route))
    return out


def build_openapi(routes: Iterable[BaseRoute], catalog: Mapping[tuple[str, str], Operation], *,
                  title: str, version: str, description: str = "") -> dict[str, Any]:
    components = _Components()
    paths: dict[str, dict[str, Any]] = {}
    for method, path, route in mounted(routes):
        op = catalog.get((method, path))
        entry: dict[str, Any]
        if op is None:
            entry = {"summary": f"{method} {path}", "x-undocumented": True, "responses": {"default": {
                "description": "not documented"}}}
        else:
            entry = {"summary": op.summary, "tags": [op.tag], "operationId": _operation_id(method, path),
                     "responses": {}}
            if op.description:
                entry["description"] = op.description
            if op.auth:
                entry["security"] = [{op.auth: []}]
            params = list(op.params)
            declared = {p.name for p in params if p.where == "path"}
            params += [Param(name, "path", required=True) for name in route.param_convertors if name not in declared]
            if params:
                entry["parameters"] = [{"name": p.name, "in": p.where, "required": p.required or p.where == "path",
                                        "schema": p.schema, **({"description": p.description} if p.description
                                                               else {})} for p in params]
            if op.request is not None:
                entry["requestBody"] = {"required": True, "content": _content(components, op.request,
                                                                              op.request_example, op.request_media)}
            for status, answer in op.responses.items():
                response: dict[str, Any] = {"description": answer.description}
                if answer.schema is not None or answer.example is not None:
                    response["content"] = _content(components, answer.schema, answer.example, answer.media)
                entry["responses"][str(status)] = response
        paths.setdefault(_openapi_path(path), {})[method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": dict(sorted(components.schemas.items())), "securitySchemes": SECURITY},
    }


def _openapi_path(path: str) -> str:
    # Starlette's `{name:converter}` -> OpenAPI's `{name}`.
    out, depth, skip = [], 0, False
    for char in path:
        if char == "{":
            depth, skip = depth + 1, False
        elif char == "}":
            depth, skip = depth - 1, False
        elif char == ":" and depth:
            skip = True
            continue
        if not skip:
            out.append(char)
    return "".join(out)


def _operation_id(method: str, path: str) -> str:
    words = [w for w in _openapi_path(path).replace("{", "by_").replace("}", "").replace("-", "_").replace(".", "_")
             .split("/") if w]
    return "_".join([method.lower(), *words])


def openapi_routes(document: Callable[[], dict[str, Any]]) -> list[Route]:
    """`/openapi.json` and `/docs`; `document()` is built once, on first use (every route is mounted by then)."""
    cache: dict[str, Any] = {}

    def doc() -> dict[str, Any]:
        if "doc" not in cache:
            cache["doc"] = document()
        return cache["doc"]

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(doc())

    async def docs(request: Request) -> Response:
        return HTMLResponse(render_docs(doc()))

    return [Route("/openapi.json", openapi_json, methods=["GET"]), Route("/docs", docs, methods=["GET"])]


def render_docs(doc: dict[str, Any]) -> str:
    """A plain HTML reference: every operation with its auth, parameters and examples."""
    e = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{e(doc['info']['title'])}</title>",
             "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
             "pre{background:#f4f4f4;padding:.5rem;overflow:auto}code.m{font-weight:bold}section{margin:1.5rem 0;"
             "border-top:1px solid #ddd}</style></head><body>",
             f"<h1>{e(doc['info']['title'])} <small>{e(doc['info']['version'])}</small></h1>",
             f"<p>{e(doc['info'].get('description', ''))}</p><p><a href='/openapi.json'>openapi.json</a></p>"]
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            auth = ", ".join(next(iter(s)) for s in op.get("security", [])) or "none"
            parts.append(f"<section id='{e(op.get('operationId', ''))}'><h2><code class='m'>{method.upper()}</code> "
                         f"<code>{e(path)}</code></h2><p>{e(op['summary'])}</p><p>Auth: {e(auth)}</p>")
            for param in op.get("parameters", []):
                parts.append(f"<p>{e(param['in'])} <code>{e(param['name'])}</code>"
                             f"{' (required)' if param['required'] else ''} {e(param.get('description', ''))}</p>")
            for media, body in op.get("requestBody", {}).get("content", {}).items():
                if "example" in body:
                    parts.append(f"<h3>Request ({e(media)})</h3><pre>{e(_show(body['example']))}</pre>")
            for status, answer in op["responses"].items():
                parts.append(f"<h3>{e(status)}: {e(answer['description'])}</h3>")
                for body in answer.get("content", {}).values():
                    if "example" in body:
                        parts.append(f"<pre>{e(_show(body['example']))}</pre>")
            parts.append("</section>")
    parts.append("</body></html>")
    return "".join(parts)


def _show(example: Any) -> str:
    return example if isinstance(example, str) else json.dumps(example, indent=2, ensure_ascii=False)
