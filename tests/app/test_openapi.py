"""OpenAPI 3.1: every mounted route is documented, the document is valid, every example matches its schema."""

from __future__ import annotations

from pathlib import Path

import httpx
import jsonschema
import pytest
from openapi_spec_validator import validate

from adapters.openapi import mounted
from adapters.settings import Settings
from adapters.whatsapp.outbound import LogSender
from app.reload import FlowsReloader
from app.runtime import action_signatures, build_runtime
from app.web import create_app, staff_routes

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def served(tmp_path):
    settings = Settings().model_copy(update=dict(flows_path=ROOT / "flows.yaml", database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
                       admin_token="admin-token", api_key="api-key"))
    runtime = build_runtime(settings)
    reloader = FlowsReloader(settings.flows_path, action_signatures(runtime.actions), runtime.engine)
    app = create_app(runtime, sender=LogSender(), routes=staff_routes(runtime, reloader))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as client:
        yield app, client
    await runtime.aclose()


def check(doc: dict, schema: dict, value) -> None:
    """Validate `value` against `schema`, resolving `#/components/...` in the whole document."""
    jsonschema.Draft202012Validator({"components": doc["components"], **schema}).validate(value)


async def test_every_mounted_route_is_documented_and_the_document_is_valid(served):
    app, client = served
    doc = (await client.get("/openapi.json")).json()
    validate(doc)  # the OpenAPI 3.1 meta-schema
    assert doc["openapi"] == "3.1.0"
    routes = mounted(app.routes)
    assert len(routes) >= 16
    for method, path, _ in routes:
        operation = doc["paths"][path][method.lower()]
        assert not operation.get("x-undocumented"), f"{method} {path} is mounted but not in app/api_docs.py"
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert documented == {(m, p) for m, p, _ in routes}  # and nothing is documented that is not served


async def test_every_request_and_answer_example_validates(served):
    _, client = served
    doc = (await client.get("/openapi.json")).json()
    checked = 0
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            for body in operation.get("requestBody", {}).get("content", {}).values():
                assert "example" in body, f"{method} {path} has no request example"
                check(doc, body["schema"], body["example"])
                checked += 1
            for answer in operation["responses"].values():
                for body in answer.get("content", {}).values():
                    if "example" in body and "schema" in body:
                        check(doc, body["schema"], body["example"])
                        checked += 1
            protected = operation.get("security")
            if protected:
                assert "401" in operation["responses"], f"{method} {path} is protected but documents no 401"
    assert checked >= 40


async def test_a_broken_example_would_be_caught(served):
    _, client = served
    doc = (await client.get("/openapi.json")).json()
    schema = doc["paths"]["/api/v1/inspections"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    with pytest.raises(jsonschema.ValidationError):
        check(doc, schema, {"user_id": "usr_ada", "property_id": "prop_001"})  # no slot_id


async def test_docs_page_lists_every_operation(served):
    _, client = served
    doc = (await client.get("/openapi.json")).json()
    page = await client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for path in doc["paths"]:
        assert f"<code>{path}</code>" in page.text


@pytest.mark.parametrize("path", ["/health", "/api/v1/status", "/api/v1/metrics"])
async def test_real_answers_of_the_open_routes_match_the_document(served, path):
    _, client = served
    doc = (await client.get("/openapi.json")).json()
    response = await client.get(path)
    answer = doc["paths"][path]["get"]["responses"][str(response.status_code)]
    check(doc, answer["content"]["application/json"]["schema"], response.json())
