"""Building the Inspector client from Settings: real HTTP, or the embedded in-process sandbox."""

from __future__ import annotations

from pathlib import Path

import httpx

from adapters.inspector.client import InspectorClient
from adapters.inspector.sandbox import create_sandbox_app
from adapters.settings import Settings

SANDBOX_BASE_URL = "http://inspector-sandbox"


def build_inspector_client(settings: Settings) -> InspectorClient:
    """With no `inspector_api_base_url`, the client talks to an in-process sandbox through ASGITransport.

    The sandbox's Starlette app is then `client.sandbox_app` (its data in `client.sandbox_app.state.store`),
    so other in-process code can share the same data.
    """
    if settings.inspector_api_base_url:
        return InspectorClient(
            settings.inspector_api_base_url.rstrip("/"),
            settings.inspector_api_key,
            timeout=settings.inspector_timeout,
            retries=settings.inspector_retries,
        )
    data_path = Path(settings.sandbox_data) if settings.sandbox_data else None
    app = create_sandbox_app(data_path, api_key=settings.inspector_api_key)
    client = InspectorClient(
        SANDBOX_BASE_URL,
        settings.inspector_api_key,
        timeout=settings.inspector_timeout,
        retries=settings.inspector_retries,
        transport=httpx.ASGITransport(app=app),
    )
    client.sandbox_app = app
    return client
