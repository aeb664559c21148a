"""Counters for /api/v1/status, per process."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class WebhookStats:
    started_at: float = field(default_factory=time.time)
    received: int = 0
    processed: int = 0
    duplicates: int = 0
    failed: int = 0
    retried: int = 0
    rate_limited: int = 0
    rejected: int = 0
    sent: int = 0
    send_failed: int = 0
    send_timeouts: int = 0
    retried_sends: int = 0
    resent: int = 0
    ignored: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    send_errors: Counter[str] = field(default_factory=Counter)

    def uptime(self) -> float:
        return time.time() - self.started_at

    def to_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "processed": self.processed,
            "duplicates": self.duplicates,
            "failed": self.failed,
            "retried": self.retried,
            "rate_limited": self.rate_limited,
            "rejected": self.rejected,
            "sent": self.sent,
            "send_failed": self.send_failed,
            "send_timeouts": self.send_timeouts,
            "retried_sends": self.retried_sends,
            "resent": self.resent,
            "ignored": self.ignored,
            "statuses": dict(self.statuses),
            "send_errors": dict(self.send_errors),
        }
