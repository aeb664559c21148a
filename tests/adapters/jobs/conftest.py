"""Fixtures for the jobs tests: one fake Graph API per session, a fresh jobs world per test."""

from __future__ import annotations

import uuid

import pytest

from tests.adapters.jobs.support import build_world, close_world
from tests.fakes.graph_api import FakeGraphAPI


@pytest.fixture(scope="session")
def graph_server():
    with FakeGraphAPI() as server:
        yield server


@pytest.fixture
def graph(graph_server):
    graph_server.reset()
    yield graph_server
    graph_server.reset()


@pytest.fixture
def namespace():
    return f"test:jobs:{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def world(tmp_path, graph, namespace):
    built = await build_world(tmp_path, graph.url, namespace)
    yield built
    await close_world(built)
