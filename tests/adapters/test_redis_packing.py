"""The process's Redis client packs commands with hiredis: the same bytes as redis-py's own packer, and it
talks to a real Redis as before."""

from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st
from redis.asyncio.connection import Connection

from adapters.redis import connect_redis
from adapters.settings import Settings
from tests.services import TEST_REDIS_URL

arguments = st.lists(st.text().filter(lambda t: not any(0xD800 <= ord(c) <= 0xDFFF for c in t))
                     | st.binary() | st.integers() | st.floats(allow_nan=False), max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["EVALSHA", "XGROUP CREATE", "SET", b"SCRIPT LOAD"]), arguments)
def test_commands_pack_to_the_same_bytes_as_redis_py(command, args):
    client, _ = connect_redis(Settings(redis_url=TEST_REDIS_URL))
    packed = client.connection_pool.connection_class()
    assert packed.packs_with_hiredis
    ours = b"".join(packed.pack_command(command, *args))
    theirs = b"".join(bytes(part) for part in Connection().pack_command(command, *args))
    assert ours == theirs


async def test_the_client_still_talks_to_redis():
    client, embedded = connect_redis(Settings(redis_url=TEST_REDIS_URL))
    key = f"test:packing:{uuid.uuid4().hex}"
    try:
        assert not embedded
        await client.set(key, "é" * 7000)  # past redis-py's buffer cutoff
        assert await client.get(key) == ("é" * 7000).encode()
        async with client.pipeline(transaction=True) as pipe:
            pipe.append(key, b"!")
            pipe.strlen(key)
            assert await pipe.execute() == [14001, 14001]
    finally:
        await client.delete(key)
        await client.aclose()
