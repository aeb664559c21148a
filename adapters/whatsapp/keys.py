"""Every Redis key of the WhatsApp pipeline, named in one place, with Redis Cluster hash tags.

Two families, so every atomic step touches one slot:
  per partition `{ns:p<n>}`: the inbound stream, its dedupe claims, its lease and its dead letters;
  per user `{<phone>}`: the conversation hash (state, version, last applied event id, last inbound time),
  the outbox list and the rate-limit counter. `conv:{phone}` is the engine store's own key, so `chat`,
  `diff` and the pipeline share conversations.

A user's partition is `crc32(phone) % partitions`: stable across processes and restarts. Changing the
partition count moves users to other streams; do it only with the streams drained (README).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PipelineKeys:
    namespace: str = "wa"
    partitions: int = 16
    conversation_prefix: str = "conv"
    group: str = "turns"  # the consumer group on every partition stream

    def partition(self, phone: str) -> int:
        return zlib.crc32(phone.encode()) % self.partitions

    def _tag(self, partition: int) -> str:
        return f"{{{self.namespace}:p{partition}}}"

    def stream(self, partition: int) -> str:
        return f"{self._tag(partition)}:in"

    def seen(self, partition: int, wamid: str) -> str:
        return f"{self._tag(partition)}:seen:{wamid}"

    def lease(self, partition: int) -> str:
        return f"{self._tag(partition)}:lease"

    def dead(self, partition: int) -> str:
        return f"{self._tag(partition)}:dead"

    def conversation(self, phone: str) -> str:
        return f"{self.conversation_prefix}:{{{phone}}}"

    def outbox(self, phone: str) -> str:
        return f"{self.namespace}:out:{{{phone}}}"

    def rate(self, phone: str) -> str:
        """Prefix of the per-minute counters (`<prefix>:<minute>` is appended in the load script)."""
        return f"{self.namespace}:rate:{{{phone}}}"

    @property
    def members(self) -> str:
        return f"{self.namespace}:members"
