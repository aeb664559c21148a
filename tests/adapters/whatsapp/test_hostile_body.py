"""Hostile bodies at the webhook: size caps (declared and chunked), deep nesting, malformed signed fields,
other objects; then a hypothesis fuzz of whole bodies around one valid message that must not be lost."""

from __future__ import annotations

import asyncio
import copy
import json
import re
import time
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.whatsapp.body import MAX_DEPTH, decode_json, prune_depth
from adapters.whatsapp.inbound import parse_body
from adapters.whatsapp.signature import sign
from tests.adapters.whatsapp import payloads as p
from tests.adapters.whatsapp.conftest import SECRET, EchoEngine, make_app, make_settings, post_signed, running, settle

U1, U2 = "2348012345671", "2348012345672"


def strict_inbound(seen: list):
    """What the real on_inbound does with a field (a datetime, a UTF-8 database row), failing like it."""

    async def hook(event) -> None:
        if event.timestamp:
            datetime.fromtimestamp(event.timestamp, UTC)
        (event.profile_name or "").encode("utf-8")
        event.text.encode("utf-8")
        seen.append(event)

    return hook


def nested(depth: int, leaf=1):
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def deep(depth: int) -> str:
    """A placeholder for JSON nested `depth` deep (json.dumps itself cannot write it), see `dumps`."""
    return f"__deep_{depth}__"


def dumps(body) -> bytes:
    """json.dumps, with every `deep(n)` placeholder replaced by n nested arrays and objects."""
    text = json.dumps(body)
    while "\"__deep_" in text:
        start = text.index("\"__deep_")
        end = text.index("__\"", start + 8) + 3
        depth = int(text[start + 8:end - 3])
        text = text[:start] + '[{"a":' * (depth // 2) + "1" + "}]" * (depth // 2) + text[end:]
    return text.encode()


async def test_a_declared_body_over_the_cap_is_413_before_anything_is_read(fake_graph, redis, prefix):
    app = make_app(make_settings(fake_graph.url, webhook_max_body=1000), EchoEngine(), redis, prefix)
    async with running(app) as client:
        r = await client.post("/api/v1/webhook", content=b"x" * 1001, headers={"Content-Type": "application/json"})
        assert r.status_code == 413
        ok = await post_signed(client, p.body([p.text(U1, "small")], [p.contact(U1)]))
        assert ok.status_code == 200


async def test_a_chunked_body_over_the_cap_is_413_too(fake_graph, redis, prefix):
    app = make_app(make_settings(fake_graph.url, webhook_max_body=1000), EchoEngine(), redis, prefix)
    sent = 0

    async def chunks():
        nonlocal sent
        for _ in range(1000):  # 1 MB if nobody stopped reading
            sent += 1
            yield b"y" * 1000

    async with running(app) as client:
        r = await client.post("/api/v1/webhook", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert "content-length" not in r.request.headers and sent < 10


async def test_bodies_read_at_once_share_a_byte_budget(fake_graph, redis, prefix):
    """Many connections each holding a body under the cap are refused (503, Meta retries) past the budget."""
    app = make_app(make_settings(fake_graph.url, webhook_max_body=10_000, webhook_body_budget=10_000),
                   EchoEngine(), redis, prefix)
    both_started = asyncio.Event()
    started = 0

    async def slow_body():
        nonlocal started
        started += 1
        yield b"x" * 4000
        if started == 2:
            both_started.set()
        await asyncio.wait_for(both_started.wait(), 5)
        yield b"y" * 4000

    async with running(app) as client:
        first, second = await asyncio.gather(*(client.post("/api/v1/webhook", content=slow_body()) for _ in range(2)))
        statuses = sorted([first.status_code, second.status_code])
        assert statuses == [401, 503]  # one read in full (then unsigned: 401), the other refused past 10,000 bytes
        ok = await post_signed(client, p.body([p.text(U1, "after")], [p.contact(U1)]))
        assert ok.status_code == 200  # the budget was given back


async def test_deep_nesting_is_never_a_5xx_and_the_messages_beside_it_are_kept(fake_graph, redis, prefix):
    engine = EchoEngine()
    app = make_app(make_settings(fake_graph.url), engine, redis, prefix)
    async with running(app) as client:
        top = await post_signed(client, dumps(deep(5000)))
        assert top.status_code in (200, 400)
        for depth in (500, 950, 990, 5000):
            m = p.text(U1, f"depth {depth}")
            m["context"] = {"id": "x", "deep": deep(depth)}
            other = p.message(U1, "unsupported", None, errors=[{"code": 1, "error_data": deep(depth)}])
            r = await post_signed(client, dumps(p.body([m, other, p.text(U2, f"beside {depth}")],
                                                       [p.contact(U1)])))
            assert r.status_code == 200, (depth, r.text)
        await settle(app)
    assert engine.by_phone[U2] == ["beside 500", "beside 950", "beside 990", "beside 5000"]
    assert [t for t in engine.by_phone[U1] if t.startswith("depth")] == [
        "depth 500", "depth 950", "depth 990", "depth 5000"]
    assert app.state.stats.dropped["too_deep"] >= 8


async def test_malformed_signed_fields_are_normalised_or_dropped_never_retried(fake_graph, redis, prefix):
    engine, seen = EchoEngine(), []
    app = make_app(make_settings(fake_graph.url), engine, redis, prefix, on_inbound=strict_inbound(seen))
    not_a_phone = p.text("+234 (801) 234-5673", "formatted phone")
    garbage_sender = p.text("robert'); DROP TABLE users;--", "bad sender")
    huge_time = p.text(U1, "late", timestamp="1e300")
    surrogate = p.text(U2, "hi \ud800 there")
    long_text = p.text(U2, "z" * 10_000)
    body = p.body([not_a_phone, garbage_sender, huge_time, surrogate, long_text],
                  [p.contact(U1, "Ada"), p.contact(U2, "Bad \udc00 name")])
    raw = json.dumps(body).encode()  # ensure_ascii: lone surrogates travel as \ud800 escapes, as Meta's would
    async with running(app) as client:
        r = await client.post("/api/v1/webhook", content=raw,
                              headers={"X-Hub-Signature-256": sign(raw, SECRET), "Content-Type": "application/json"})
        assert r.status_code == 200
        await settle(app)
    assert engine.by_phone["2348012345673"] == ["formatted phone"]
    assert engine.by_phone[U1] == ["late"]
    assert [e.timestamp for e in engine.events if e.phone == U1] == [None]
    assert engine.by_phone[U2] == ["hi \ufffd there", "z" * 4096]
    assert {e.profile_name for e in engine.events if e.phone == U2} == {"Bad \ufffd name"}
    assert {e.phone for e in seen} == {"2348012345673", U1, U2}  # the hook took every user's fields as they are
    assert app.state.stats.failed == 0 and app.state.stats.retried == 0
    assert app.state.stats.dropped["message:sender"] == 1


async def test_a_body_for_another_object_is_ignored_with_200_and_counted(fake_graph, redis, prefix):
    engine = EchoEngine()
    app = make_app(make_settings(fake_graph.url), engine, redis, prefix)
    body = p.body([p.text(U1, "from a page")], [p.contact(U1)])
    body["object"] = "page"
    async with running(app) as client:
        r = await post_signed(client, body)
        assert r.status_code == 200
        await settle(app)
        status = (await client.get("/api/v1/status")).json()
    assert engine.events == []
    assert status["counters"]["dropped"] == {"object": 1}


def test_parse_body_says_what_it_dropped_and_why():
    bad_id = p.text(U1, "x")
    bad_id["id"] = {"nested": "id"}
    body = p.body([p.text("not-a-phone", "a"), {"type": "text"}, bad_id, p.text(U2, "kept")],
                  statuses=[{"id": "w"}])
    out = parse_body(body)
    assert [e.text for e in out.events] == ["kept"]
    assert out.dropped == {"message:sender": 1, "message:incomplete": 1, "message:id": 1, "status:invalid": 1}
    other = parse_body({**body, "object": "instagram"})
    assert other.events == [] and other.dropped == {"object": 1}


def test_pruning_keeps_strings_and_shallow_parts():
    text = json.dumps({"a": "[[[[{{{{", "b": nested(MAX_DEPTH + 3), "c": ["\\\"[", 2]})
    pruned, count = prune_depth(text, MAX_DEPTH)
    value = json.loads(pruned)
    assert count == 1 and value["a"] == "[[[[{{{{" and value["c"] == ["\\\"[", 2]
    assert decode_json(b'{"n": ' + b"9" * 5000 + b"}")[0]["n"] == float("inf")


def _cut(value, depth: int, limit: int):
    """What pruning at `limit` should leave: containers opening deeper than `limit` become None."""
    if isinstance(value, list | dict):
        if depth + 1 > limit:
            return None
        if isinstance(value, list):
            return [_cut(v, depth + 1, limit) for v in value]
        return {k: _cut(v, depth + 1, limit) for k, v in value.items()}
    return value


json_docs = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(alphabet='ab"\\[]{}, ', max_size=6),
                         lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                             st.text(alphabet='k"\\[{', max_size=3), inner, max_size=3), max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(doc=json_docs, limit=st.integers(1, 6))
def test_pruning_is_exactly_a_cut_at_the_depth_whatever_the_strings_hold(doc, limit):
    pruned, _ = prune_depth(json.dumps(doc), limit)
    assert json.loads(pruned) == _cut(doc, 0, limit)


# -- fuzz: hostile bodies around one valid message ----------------------------------------------------

scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
           | st.text(max_size=30) | st.sampled_from(["\ud800", "\x00", "1e300", "9" * 400, "𝔘𝔫𝔦", ""]))


def _containers(inner: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)


junk = st.recursive(scalars, _containers, max_leaves=25)
FIELDS = ["from", "id", "timestamp", "type", "text", "interactive", "context", "errors", "contacts", "profile"]


@st.composite
def hostile_body(draw):
    """A valid text message from U1, and around it hostile messages, contacts, fields, nesting and sizes."""
    good = p.text(U1, draw(st.text(min_size=1, max_size=50).filter(lambda t: t.strip() and "\ud800" not in t)))
    others = []
    for _ in range(draw(st.integers(0, 4))):
        bad = copy.deepcopy(p.text(draw(st.sampled_from([U2, "x", "", "+" + "1" * 30])), "bad"))
        for field in draw(st.lists(st.sampled_from(FIELDS), max_size=3)):
            bad[field] = draw(junk)
        others.append(bad)
    if draw(st.booleans()):
        others.append(p.text(U2, draw(st.sampled_from(["a" * 70_000, "\u202e" * 5000, "\U0001f600" * 3000]))))
    if draw(st.booleans()):
        others.append({"deep": deep(draw(st.sampled_from([40, 500, 999, 3000])))})
    messages = others + [good]
    draw(st.randoms()).shuffle(messages)
    body = p.body(messages, [p.contact(U1, draw(st.text(max_size=20)))])
    value = body["entry"][0]["changes"][0]["value"]
    for key in draw(st.lists(st.sampled_from(["metadata", "statuses", "errors", "extra"]), max_size=2)):
        value[key] = draw(junk)
    return body, good


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=hostile_body())
async def test_fuzz_hostile_bodies_never_5xx_never_stall_and_keep_the_valid_message(fake_graph, redis, prefix, case):
    body, good = case
    engine = EchoEngine()
    app = make_app(make_settings(fake_graph.url), engine, redis, prefix)
    raw = dumps(body)
    async with running(app) as client:
        started = time.perf_counter()
        r = await client.post("/api/v1/webhook", content=raw,
                              headers={"X-Hub-Signature-256": sign(raw, SECRET), "Content-Type": "application/json"})
        assert time.perf_counter() - started < 1.0
        assert r.status_code == 200, r.text
        await settle(app)
    expected = re.sub("[\ud800-\udfff\x00]", "\ufffd", good["text"]["body"][:4096])  # NULs, lone surrogates
    assert expected in engine.by_phone[U1]
    assert app.state.stats.failed == 0
