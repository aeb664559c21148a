"""A broadcast's state in Redis: what to send, to whom, and what became of each recipient.

Keys under `inspector:broadcast:{id}`:
  (hash)      id, status (queued, running, done, interrupted), message (JSON), totals and timestamps
  `:todo`     (list) recipients not yet attempted, in order
  `:claimed`  (set) recipients whose send was started: the claim is taken *before* the send, so a restart
              never sends to them again (nobody twice)
  `:errors`   (hash) failures by Meta error code (or our reason: outside_window, interrupted)

Sent/failed counters are HINCRBY'd on the hash when a send's outcome is known, so progress is exact across
restarts. A recipient claimed but never counted was cut off mid-send by a hard kill: `finish` counts them as
failed with code `interrupted` (reported, not resent).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

PREFIX = "inspector:broadcast"
KEEP_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True)
class BroadcastMessage:
    """Text inside the 24-hour window, the template outside it (either may be missing)."""

    text: str = ""
    template: str = ""
    language: str = "en"
    params: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps({"text": self.text, "template": self.template, "language": self.language,
                           "params": self.params})

    @classmethod
    def from_json(cls, raw: str | bytes) -> BroadcastMessage:
        return cls(**json.loads(raw))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


_CLAIM = """
local phone = redis.call('LPOP', KEYS[1])
if not phone then return false end
local fresh = redis.call('SADD', KEYS[2], phone)
redis.call('EXPIRE', KEYS[2], ARGV[1])
return {phone, fresh}
"""


class BroadcastStore:
    def __init__(self, redis: Any, prefix: str = PREFIX) -> None:
        self.redis = redis
        self.prefix = prefix
        self._claim: Any = None

    def key(self, broadcast_id: str, part: str = "") -> str:
        return f"{self.prefix}:{{{broadcast_id}}}" + (f":{part}" if part else "")

    async def create(self, message: BroadcastMessage, recipients: list[str], *, audience: dict[str, Any]) -> str:
        broadcast_id = uuid.uuid4().hex[:16]
        info = {"id": broadcast_id, "status": "queued", "message": message.to_json(), "total": len(recipients),
                "sent": 0, "failed": 0, "created_at": time.time(), "audience": json.dumps(audience)}
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.key(broadcast_id), mapping=info)
            if recipients:
                pipe.rpush(self.key(broadcast_id, "todo"), *recipients)
            for part in ("", "todo"):
                pipe.expire(self.key(broadcast_id, part), KEEP_SECONDS)
            await pipe.execute()
        return broadcast_id

    async def exists(self, broadcast_id: str) -> bool:
        return bool(await self.redis.exists(self.key(broadcast_id)))

    async def message(self, broadcast_id: str) -> BroadcastMessage:
        return BroadcastMessage.from_json(await self.redis.hget(self.key(broadcast_id), "message"))

    async def set_status(self, broadcast_id: str, status: str) -> None:
        await self.redis.hset(self.key(broadcast_id), mapping={"status": status, f"{status}_at": time.time()})

    async def next_recipient(self, broadcast_id: str) -> str | None:
        """The next recipient nobody claimed, claimed now (pop and claim are one atomic step, so a crash
        between them cannot skip anyone); None when the list is done."""
        if self._claim is None:
            self._claim = self.redis.register_script(_CLAIM)
        while True:
            found = await self._claim(keys=[self.key(broadcast_id, "todo"), self.key(broadcast_id, "claimed")],
                                      args=[KEEP_SECONDS])
            if not found:
                return None
            phone, fresh = found
            if int(fresh):
                return _text(phone)

    async def lease(self, broadcast_id: str, owner: str, ttl_ms: int) -> bool:
        """One runner per broadcast: take or renew the lease (False: another runner holds it)."""
        key = self.key(broadcast_id, "lease")
        if await self.redis.set(key, owner, nx=True, px=ttl_ms):
            return True
        if _text(await self.redis.get(key) or b"") == owner:
            await self.redis.pexpire(key, ttl_ms)
            return True
        return False

    async def release(self, broadcast_id: str, owner: str) -> None:
        key = self.key(broadcast_id, "lease")
        if _text(await self.redis.get(key) or b"") == owner:
            await self.redis.delete(key)

    async def record(self, broadcast_id: str, ok: bool, code: str = "") -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hincrby(self.key(broadcast_id), "sent" if ok else "failed", 1)
            if not ok:
                pipe.hincrby(self.key(broadcast_id, "errors"), code or "unknown", 1)
                pipe.expire(self.key(broadcast_id, "errors"), KEEP_SECONDS)
            await pipe.execute()

    async def finish(self, broadcast_id: str) -> None:
        """Done: claimed recipients with no outcome (a hard kill mid-send) are counted as interrupted."""
        progress = await self.progress(broadcast_id)
        lost = progress["claimed"] - progress["sent"] - progress["failed"]
        if lost > 0:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hincrby(self.key(broadcast_id), "failed", lost)
                pipe.hincrby(self.key(broadcast_id, "errors"), "interrupted", lost)
                await pipe.execute()
        await self.set_status(broadcast_id, "done")

    async def progress(self, broadcast_id: str) -> dict[str, Any]:
        info = {_text(k): _text(v) for k, v in (await self.redis.hgetall(self.key(broadcast_id))).items()}
        if not info:
            raise KeyError(broadcast_id)
        errors = {_text(k): int(v) for k, v in (await self.redis.hgetall(self.key(broadcast_id, "errors"))).items()}
        claimed = int(await self.redis.scard(self.key(broadcast_id, "claimed")))
        total, sent, failed = int(info["total"]), int(info["sent"]), int(info["failed"])
        return {"id": broadcast_id, "status": info["status"], "total": total, "queued": total - claimed,
                "claimed": claimed, "sent": sent, "failed": failed, "failures_by_code": errors,
                "audience": json.loads(info.get("audience") or "{}")}
