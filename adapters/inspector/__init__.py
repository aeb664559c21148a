"""The Inspector adapter: typed client for the Inspector API, a sandbox of it, and the flows' actions."""

from adapters.inspector.client import InspectorClient
from adapters.inspector.errors import (
    InspectorBadResponse,
    InspectorConflict,
    InspectorError,
    InspectorNotFound,
    InspectorRejected,
    InspectorUnavailable,
)
from adapters.inspector.sandbox import create_sandbox_app, serve_sandbox
from adapters.inspector.wiring import build_inspector_client

__all__ = [
    "InspectorBadResponse",
    "InspectorClient",
    "InspectorConflict",
    "InspectorError",
    "InspectorNotFound",
    "InspectorRejected",
    "InspectorUnavailable",
    "build_inspector_client",
    "create_sandbox_app",
    "serve_sandbox",
]
