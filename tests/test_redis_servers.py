"""The helpers that give a test its own redis-server or Redis Cluster really do what they say."""

from __future__ import annotations

import redis
from redis.asyncio import RedisCluster

from tests.redis_servers import redis_cluster, redis_server

# Two keys of one user: the hash tag puts them in one slot, so one script may touch both on a cluster.
MOVE = """
local n = redis.call('INCR', KEYS[1])
redis.call('RPUSH', KEYS[2], ARGV[1] .. ':' .. n)
return {n, redis.call('LLEN', KEYS[2])}
"""


def test_aof_always_keeps_every_write_through_a_crash_and_restart_keeps_the_port():
    with redis_server(aof=True, appendfsync="always") as (url, server):
        client = redis.Redis.from_url(url)
        client.rpush("inbox", *range(100))
        server.kill()
        assert not server.running
        server.restart()
        assert server.url == url
        assert client.llen("inbox") == 100  # the client reconnects to the same port
        client.close()


def test_without_aof_a_crash_loses_everything_and_a_clean_stop_also_keeps_nothing():
    with redis_server(aof=False) as server:
        client = redis.Redis.from_url(server.url)
        client.set("state", "x")
        server.kill()
        server.restart()
        assert client.get("state") is None
        client.set("state", "y")
        server.stop()
        server.restart()
        assert client.get("state") is None  # no RDB snapshot either: `--save ""`
        client.close()


def test_a_clean_stop_flushes_an_everysec_aof():
    with redis_server(aof=True) as server:
        client = redis.Redis.from_url(server.url)
        client.set("state", "kept")
        server.stop()
        server.start()
        assert client.get("state") == b"kept"
        assert client.config_get("appendfsync") == {"appendfsync": "everysec"}
        client.close()


async def test_a_three_master_cluster_runs_a_script_over_hash_tagged_keys():
    with redis_cluster(masters=3) as cluster:
        client = await RedisCluster.from_url(cluster.urls[0]).initialize()
        try:
            masters = [n for n in client.get_nodes() if n.server_type == "primary"]
            assert len(masters) == 3
            script = client.register_script(MOVE)
            keys = ["wa:{2348010000001}:seq", "wa:{2348010000001}:outbox"]
            assert client.keyslot(keys[0]) == client.keyslot(keys[1])
            assert await script(keys=keys, args=["hi"]) == [1, 1]
            assert await script(keys=keys, args=["again"]) == [2, 2]
            assert await client.lrange(keys[1], 0, -1) == [b"hi:1", b"again:2"]
            # Users spread over the masters: different tags land on different nodes.
            owners = {client.get_node_from_key(f"wa:{{user{i}}}:seq").name for i in range(30)}
            assert len(owners) == 3
        finally:
            await client.aclose()
